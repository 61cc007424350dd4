-- 0025: a conversation's summary is changed by what each turn changes, not recounted from
-- all of its turns (issue 26; see the PostgreSQL migration of the same number). Every insert
-- and finish of a turn used to count and sum the conversation's turns again, so a turn cost
-- more the longer its conversation was. The summary still equals what the turns say: turns
-- are only ever inserted and updated (deleted only with their conversation), and each case
-- below adds exactly its difference.

DROP TRIGGER turns_summarise_insert;
DROP TRIGGER turns_summarise_update;

-- A turn is added: one more turn, its tokens and time; a retry answers the failed turn it
-- retries; the first turn (by start, then id) says how the conversation began.
CREATE TRIGGER turns_summarise_insert AFTER INSERT ON turns BEGIN
    UPDATE conversations SET
        turn_count = turn_count + 1,
        unanswered = unanswered + (NEW.status = 'failed')
            - (NEW.retry_of IS NOT NULL AND EXISTS (
                SELECT 1 FROM turns o WHERE o.id = NEW.retry_of AND o.tenant_id = NEW.tenant_id
                AND o.conversation_id = NEW.conversation_id AND o.status = 'failed'
                AND NOT EXISTS (SELECT 1 FROM turns r WHERE r.tenant_id = o.tenant_id
                                AND r.conversation_id = o.conversation_id AND r.retry_of = o.id
                                AND r.id <> NEW.id))),
        tokens = tokens + COALESCE(NEW.prompt_tokens, 0) + COALESCE(NEW.completion_tokens, 0),
        duration_ms = duration_ms + COALESCE(NEW.latency_ms, 0),
        channel = CASE WHEN first THEN (CASE WHEN NEW.spoken THEN 'voice' ELSE NEW.channel END) ELSE channel END,
        started_by = CASE WHEN first THEN NEW.started_by ELSE started_by END
    FROM (SELECT NOT EXISTS (SELECT 1 FROM turns f WHERE f.tenant_id = NEW.tenant_id
                             AND f.conversation_id = NEW.conversation_id
                             AND (f.started_at < NEW.started_at
                                  OR (f.started_at = NEW.started_at AND f.id < NEW.id))) AS first)
    WHERE tenant_id = NEW.tenant_id AND id = NEW.conversation_id;
END;

-- A turn changes (it finishes, or the reaper closes it): the difference in its tokens and
-- time; it becomes or stops being unanswered only when its failure changes and no turn
-- retried it (the look for a retry runs only then).
CREATE TRIGGER turns_summarise_update
AFTER UPDATE OF status, prompt_tokens, completion_tokens, latency_ms ON turns
WHEN OLD.retry_of IS NEW.retry_of BEGIN
    UPDATE conversations SET
        unanswered = unanswered + CASE
            WHEN (NEW.status = 'failed') = (OLD.status = 'failed') THEN 0
            WHEN EXISTS (SELECT 1 FROM turns r WHERE r.tenant_id = NEW.tenant_id
                         AND r.conversation_id = NEW.conversation_id AND r.retry_of = NEW.id) THEN 0
            ELSE (NEW.status = 'failed') - (OLD.status = 'failed') END,
        tokens = tokens + COALESCE(NEW.prompt_tokens, 0) + COALESCE(NEW.completion_tokens, 0)
            - COALESCE(OLD.prompt_tokens, 0) - COALESCE(OLD.completion_tokens, 0),
        duration_ms = duration_ms + COALESCE(NEW.latency_ms, 0) - COALESCE(OLD.latency_ms, 0)
    WHERE tenant_id = NEW.tenant_id AND id = NEW.conversation_id;
END;

-- Which turn retries which is set when a turn is added; should it ever change, the summary
-- is counted again from the turns, as it was before.
CREATE TRIGGER turns_summarise_retry AFTER UPDATE OF retry_of ON turns
WHEN OLD.retry_of IS NOT NEW.retry_of BEGIN
    UPDATE conversations SET
        turn_count = (SELECT count(*) FROM turns t WHERE t.tenant_id = NEW.tenant_id
                      AND t.conversation_id = NEW.conversation_id),
        unanswered = (SELECT count(*) FROM turns t WHERE t.tenant_id = NEW.tenant_id
                      AND t.conversation_id = NEW.conversation_id AND t.status = 'failed'
                      AND NOT EXISTS (SELECT 1 FROM turns r WHERE r.tenant_id = t.tenant_id
                                      AND r.conversation_id = t.conversation_id AND r.retry_of = t.id)),
        tokens = (SELECT COALESCE(sum(COALESCE(t.prompt_tokens, 0) + COALESCE(t.completion_tokens, 0)), 0)
                  FROM turns t WHERE t.tenant_id = NEW.tenant_id AND t.conversation_id = NEW.conversation_id),
        duration_ms = (SELECT COALESCE(sum(t.latency_ms), 0) FROM turns t WHERE t.tenant_id = NEW.tenant_id
                       AND t.conversation_id = NEW.conversation_id)
    WHERE tenant_id = NEW.tenant_id AND id = NEW.conversation_id;
END;
