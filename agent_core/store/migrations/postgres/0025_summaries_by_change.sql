-- 0025: a conversation's summary is changed by what each turn changes, not recounted from
-- all of its turns (issue 26; SQLite's migration of the same number does the same). Every
-- insert and finish of a turn used to count and sum the conversation's turns again, so a
-- turn cost more the longer its conversation was, and read every one of its turns. The
-- summary still equals what the turns say: turns are only ever inserted and updated (deleted
-- only with their conversation), each case below adds exactly its difference, and the row
-- lock of the UPDATE makes concurrent turns add up rather than overwrite each other.

CREATE OR REPLACE FUNCTION public.app_turns_summarise() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- One more turn, its tokens and time; a retry answers the failed turn it retries;
        -- the first turn (by start, then id) says how the conversation began.
        UPDATE public.conversations c SET
            turn_count = c.turn_count + 1,
            unanswered = c.unanswered + (NEW.status = 'failed')::integer
                - (NEW.retry_of IS NOT NULL AND EXISTS (
                    SELECT 1 FROM public.turns o WHERE o.id = NEW.retry_of AND o.tenant_id = NEW.tenant_id
                    AND o.conversation_id = NEW.conversation_id AND o.status = 'failed'
                    AND NOT EXISTS (SELECT 1 FROM public.turns r WHERE r.tenant_id = o.tenant_id
                                    AND r.conversation_id = o.conversation_id AND r.retry_of = o.id
                                    AND r.id <> NEW.id)))::integer,
            tokens = c.tokens + COALESCE(NEW.prompt_tokens, 0) + COALESCE(NEW.completion_tokens, 0),
            duration_ms = c.duration_ms + COALESCE(NEW.latency_ms, 0),
            channel = CASE WHEN f.first THEN (CASE WHEN NEW.spoken THEN 'voice' ELSE NEW.channel END)
                           ELSE c.channel END,
            started_by = CASE WHEN f.first THEN NEW.started_by ELSE c.started_by END
        FROM (SELECT NOT EXISTS (SELECT 1 FROM public.turns e WHERE e.tenant_id = NEW.tenant_id
                                 AND e.conversation_id = NEW.conversation_id
                                 AND (e.started_at, e.id) < (NEW.started_at, NEW.id)) AS first) f
        WHERE c.tenant_id = NEW.tenant_id AND c.id = NEW.conversation_id;
    ELSIF OLD.retry_of IS DISTINCT FROM NEW.retry_of THEN
        -- Which turn retries which is set when a turn is added; should it ever change, the
        -- summary is counted again from the turns.
        PERFORM public.app_summarise_conversation(NEW.tenant_id, NEW.conversation_id);
    ELSE
        -- It finished, or the reaper closed it: the difference in its tokens and time; it
        -- becomes or stops being unanswered only when its failure changes and no turn
        -- retried it.
        UPDATE public.conversations c SET
            unanswered = c.unanswered + CASE
                WHEN (NEW.status = 'failed') = (OLD.status = 'failed') THEN 0
                WHEN EXISTS (SELECT 1 FROM public.turns r WHERE r.tenant_id = NEW.tenant_id
                             AND r.conversation_id = NEW.conversation_id AND r.retry_of = NEW.id) THEN 0
                ELSE (NEW.status = 'failed')::integer - (OLD.status = 'failed')::integer END,
            tokens = c.tokens + COALESCE(NEW.prompt_tokens, 0) + COALESCE(NEW.completion_tokens, 0)
                - COALESCE(OLD.prompt_tokens, 0) - COALESCE(OLD.completion_tokens, 0),
            duration_ms = c.duration_ms + COALESCE(NEW.latency_ms, 0) - COALESCE(OLD.latency_ms, 0)
        WHERE c.tenant_id = NEW.tenant_id AND c.id = NEW.conversation_id;
    END IF;
    RETURN NULL;
END
$$;
