-- 0009: each conversation keeps its summary — turns, unanswered messages, tokens, duration,
-- channel and first sender, first message, and what it did — recomputed by triggers from the
-- conversation's own rows, so the log lists and filters a tenant's conversations without
-- reading their turns (every store, Supabase's RPCs included, gets it from the same triggers).
-- A trigram index (pg_trgm, in the `extensions` schema as on Supabase) finds the messages
-- that contain a text.

ALTER TABLE public.conversations ADD COLUMN turn_count integer NOT NULL DEFAULT 0;
ALTER TABLE public.conversations ADD COLUMN unanswered integer NOT NULL DEFAULT 0;
ALTER TABLE public.conversations ADD COLUMN tokens bigint NOT NULL DEFAULT 0;
ALTER TABLE public.conversations ADD COLUMN duration_ms double precision NOT NULL DEFAULT 0;
ALTER TABLE public.conversations ADD COLUMN channel text NOT NULL DEFAULT 'unknown';
ALTER TABLE public.conversations ADD COLUMN started_by text;
ALTER TABLE public.conversations ADD COLUMN first_message text NOT NULL DEFAULT '';
ALTER TABLE public.conversations ADD COLUMN booked boolean NOT NULL DEFAULT false;
ALTER TABLE public.conversations ADD COLUMN cancelled boolean NOT NULL DEFAULT false;
ALTER TABLE public.conversations ADD COLUMN moved boolean NOT NULL DEFAULT false;
ALTER TABLE public.conversations ADD COLUMN noted boolean NOT NULL DEFAULT false;
ALTER TABLE public.conversations ADD COLUMN updated boolean NOT NULL DEFAULT false;

-- The tool filters read a tenant's calls of one tool, or all of its calls' arguments.
CREATE INDEX tool_calls_tenant_name ON public.tool_calls (tenant_id, name, conversation_id);
CREATE INDEX tool_calls_conversation ON public.tool_calls (tenant_id, conversation_id);

-- Recomputed, not incremented: a trigger that runs twice, or a turn closed by the reaper,
-- still leaves exactly what the turns say.
CREATE FUNCTION public.app_summarise_conversation(p_tenant uuid, p_conversation uuid)
RETURNS void LANGUAGE sql AS $$
    UPDATE public.conversations c SET
        turn_count = s.turn_count, unanswered = s.unanswered, tokens = s.tokens,
        duration_ms = s.duration_ms,
        channel = COALESCE((SELECT f.channel FROM public.turns f WHERE f.tenant_id = p_tenant
                            AND f.conversation_id = p_conversation ORDER BY f.started_at, f.id LIMIT 1),
                           'unknown'),
        started_by = (SELECT f.started_by FROM public.turns f WHERE f.tenant_id = p_tenant
                      AND f.conversation_id = p_conversation ORDER BY f.started_at, f.id LIMIT 1)
    FROM (
        SELECT count(*) AS turn_count,
               count(*) FILTER (WHERE t.status = 'failed' AND NOT EXISTS (
                   SELECT 1 FROM public.turns r WHERE r.tenant_id = t.tenant_id
                   AND r.conversation_id = t.conversation_id AND r.retry_of = t.id)) AS unanswered,
               COALESCE(sum(COALESCE(t.prompt_tokens, 0) + COALESCE(t.completion_tokens, 0)), 0) AS tokens,
               COALESCE(sum(t.latency_ms), 0) AS duration_ms
        FROM public.turns t WHERE t.tenant_id = p_tenant AND t.conversation_id = p_conversation
    ) s
    WHERE c.tenant_id = p_tenant AND c.id = p_conversation;
$$;
REVOKE ALL ON FUNCTION public.app_summarise_conversation(uuid, uuid) FROM PUBLIC, anon, authenticated;

CREATE FUNCTION public.app_turns_summarise() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM public.app_summarise_conversation(NEW.tenant_id, NEW.conversation_id);
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION public.app_turns_summarise() FROM PUBLIC, anon, authenticated;
CREATE TRIGGER turns_summarise
    AFTER INSERT OR UPDATE OF status, prompt_tokens, completion_tokens, latency_ms, retry_of ON public.turns
    FOR EACH ROW EXECUTE FUNCTION public.app_turns_summarise();

CREATE FUNCTION public.app_tool_calls_summarise() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'succeeded' THEN
        UPDATE public.conversations SET
            booked = booked OR NEW.name = 'book_tour',
            cancelled = cancelled OR NEW.name = 'cancel_tour',
            moved = moved OR NEW.name = 'reschedule_tour',
            noted = noted OR NEW.name = 'take_note',
            updated = updated OR NEW.name = 'update_contact_info'
        WHERE tenant_id = NEW.tenant_id AND id = NEW.conversation_id;
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION public.app_tool_calls_summarise() FROM PUBLIC, anon, authenticated;
CREATE TRIGGER tool_calls_summarise AFTER INSERT OR UPDATE OF status ON public.tool_calls
    FOR EACH ROW EXECUTE FUNCTION public.app_tool_calls_summarise();

CREATE FUNCTION public.app_messages_first_user_message() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.role = 'user' THEN
        UPDATE public.conversations SET first_message = NEW.content
        WHERE tenant_id = NEW.tenant_id AND id = NEW.conversation_id AND first_message = '';
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION public.app_messages_first_user_message() FROM PUBLIC, anon, authenticated;
CREATE TRIGGER messages_first_user_message AFTER INSERT ON public.messages
    FOR EACH ROW EXECUTE FUNCTION public.app_messages_first_user_message();

-- The conversations that exist: the same summary, computed once.
UPDATE public.conversations c SET
    turn_count = s.turn_count, unanswered = s.unanswered, tokens = s.tokens, duration_ms = s.duration_ms,
    channel = s.channel, started_by = s.started_by
FROM (
    SELECT t.tenant_id, t.conversation_id, count(*) AS turn_count,
           count(*) FILTER (WHERE t.status = 'failed' AND NOT EXISTS (
               SELECT 1 FROM public.turns r WHERE r.tenant_id = t.tenant_id
               AND r.conversation_id = t.conversation_id AND r.retry_of = t.id)) AS unanswered,
           COALESCE(sum(COALESCE(t.prompt_tokens, 0) + COALESCE(t.completion_tokens, 0)), 0) AS tokens,
           COALESCE(sum(t.latency_ms), 0) AS duration_ms,
           (array_agg(t.channel ORDER BY t.started_at, t.id))[1] AS channel,
           (array_agg(t.started_by ORDER BY t.started_at, t.id))[1] AS started_by
    FROM public.turns t GROUP BY t.tenant_id, t.conversation_id
) s
WHERE c.tenant_id = s.tenant_id AND c.id = s.conversation_id;
UPDATE public.conversations c SET first_message = f.content
FROM (
    SELECT DISTINCT ON (m.tenant_id, m.conversation_id) m.tenant_id, m.conversation_id, m.content
    FROM public.messages m WHERE m.role = 'user' ORDER BY m.tenant_id, m.conversation_id, m.id
) f
WHERE c.tenant_id = f.tenant_id AND c.id = f.conversation_id;
UPDATE public.conversations c SET
    booked = k.booked, cancelled = k.cancelled, moved = k.moved, noted = k.noted, updated = k.updated
FROM (
    SELECT tenant_id, conversation_id,
           bool_or(name = 'book_tour') AS booked, bool_or(name = 'cancel_tour') AS cancelled,
           bool_or(name = 'reschedule_tour') AS moved, bool_or(name = 'take_note') AS noted,
           bool_or(name = 'update_contact_info') AS updated
    FROM public.tool_calls WHERE status = 'succeeded' GROUP BY tenant_id, conversation_id
) k
WHERE c.tenant_id = k.tenant_id AND c.id = k.conversation_id;

-- Messages that contain a text: trigrams of their case-folded content.
CREATE SCHEMA IF NOT EXISTS extensions;
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA extensions;
CREATE INDEX messages_content_trigrams ON public.messages USING gin (lower(content) extensions.gin_trgm_ops);

-- The log for the Supabase store, now on the summary (the query of conversation_log.py).
CREATE OR REPLACE FUNCTION public.app_search_conversations(
    p_tenant uuid, p_text text, p_customer text, p_low timestamptz, p_high timestamptz, p_outcome text,
    p_tool text, p_channel text, p_limit integer, p_offset integer
) RETURNS TABLE (
    id uuid, created_at timestamptz, updated_at timestamptz, channel text, started_by text,
    first_message text, turns bigint,
    failed_turns bigint, tokens bigint, duration_ms double precision, booked boolean, cancelled boolean,
    moved boolean, noted boolean, updated boolean, total bigint
) LANGUAGE sql STABLE AS $$
    SELECT c.id, c.created_at, c.updated_at, c.channel, COALESCE(c.started_by, ''), c.first_message,
           c.turn_count::bigint, c.unanswered::bigint, c.tokens, c.duration_ms,
           c.booked, c.cancelled, c.moved, c.noted, c.updated, count(*) OVER ()
    FROM public.conversations c
    WHERE c.tenant_id = p_tenant
      AND (p_text IS NULL OR c.id IN (
          SELECT m.conversation_id FROM public.messages m WHERE m.tenant_id = p_tenant
            AND m.role IN ('user', 'assistant') AND lower(m.content) LIKE p_text ESCAPE '\'))
      AND (p_customer IS NULL OR c.id IN (
          SELECT k.conversation_id FROM public.tool_calls k WHERE k.tenant_id = p_tenant
            AND lower(k.arguments) LIKE p_customer ESCAPE '\'))
      AND (p_tool IS NULL OR c.id IN (
          SELECT k.conversation_id FROM public.tool_calls k WHERE k.tenant_id = p_tenant AND k.name = p_tool))
      AND (p_channel IS NULL OR c.channel = p_channel)
      AND (p_low IS NULL OR c.created_at >= p_low)
      AND (p_high IS NULL OR c.created_at < p_high)
      AND (p_outcome IS NULL OR CASE p_outcome
          WHEN 'failed' THEN c.unanswered > 0 WHEN 'booked' THEN c.booked WHEN 'cancelled' THEN c.cancelled
          WHEN 'moved' THEN c.moved WHEN 'noted' THEN c.noted WHEN 'updated' THEN c.updated END)
    ORDER BY c.updated_at DESC, c.id LIMIT p_limit OFFSET p_offset;
$$;
