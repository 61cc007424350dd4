-- 0008: the conversation log and analytics. A failed turn can be retried: the retry is a new turn that
-- answers the stored user message again (it stores no second copy of it) and names the turn
-- it retries. The log is searched by app_search_conversations and analytics computed by
-- app_analytics (the Supabase store's queries).

ALTER TABLE public.turns ADD COLUMN retry_of uuid;
-- Where each turn came from and who started it; older turns are 'unknown'.
ALTER TABLE public.turns ADD COLUMN channel text NOT NULL DEFAULT 'unknown'
    CHECK (channel IN ('dashboard', 'api', 'cli', 'unknown'));
ALTER TABLE public.turns ADD COLUMN started_by text;
-- Of latency_ms, the model's and the tools' time; the rest is the store and the loop.
ALTER TABLE public.turns ADD COLUMN model_ms double precision;
ALTER TABLE public.turns ADD COLUMN tools_ms double precision;

-- Analytics read a tenant's turns and tool calls by time.
CREATE INDEX turns_tenant_started ON public.turns (tenant_id, started_at);
CREATE INDEX tool_calls_tenant_created ON public.tool_calls (tenant_id, created_at);

DROP FUNCTION public.app_start_turn(uuid, uuid, uuid, uuid, text, float8, jsonb);
CREATE FUNCTION public.app_start_turn(
    p_tenant uuid, p_conversation uuid, p_new_conversation uuid, p_turn uuid, p_message text,
    p_lease_seconds float8, p_events jsonb, p_retry_of uuid DEFAULT NULL, p_channel text DEFAULT 'unknown',
    p_started_by text DEFAULT NULL
) RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    v_conversation uuid := p_conversation;
BEGIN
    IF v_conversation IS NULL THEN
        v_conversation := p_new_conversation;
        INSERT INTO public.conversations (id, tenant_id) VALUES (v_conversation, p_tenant);
    ELSE
        -- The row lock this takes makes concurrent starts on one conversation take turns.
        UPDATE public.conversations SET updated_at = now() WHERE tenant_id = p_tenant AND id = v_conversation;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'conversation % not found for this tenant', v_conversation USING ERRCODE = 'P0002';
        END IF;
        IF EXISTS (SELECT FROM public.turns WHERE tenant_id = p_tenant AND conversation_id = v_conversation
                   AND status = 'running' AND lease_expires_at > now()) THEN
            RAISE EXCEPTION 'conversation % is answering another message', v_conversation USING ERRCODE = 'VA409';
        END IF;
    END IF;
    IF p_retry_of IS NOT NULL THEN
        -- A retry answers the stored message again: only the conversation's last turn, failed.
        IF NOT EXISTS (SELECT FROM (SELECT id, status, user_message FROM public.turns
                                    WHERE tenant_id = p_tenant AND conversation_id = v_conversation
                                    ORDER BY started_at DESC, id DESC LIMIT 1) AS latest
                       WHERE latest.id = p_retry_of AND latest.status = 'failed'
                         AND latest.user_message = p_message) THEN
            RAISE EXCEPTION 'only the last message of a conversation can be retried, once it failed'
                USING ERRCODE = 'VA422';
        END IF;
    END IF;
    INSERT INTO public.turns (id, tenant_id, conversation_id, status, user_message, lease_expires_at, retry_of,
                              channel, started_by)
        VALUES (p_turn, p_tenant, v_conversation, 'running', p_message,
                now() + make_interval(secs => p_lease_seconds), p_retry_of, p_channel, p_started_by);
    IF p_retry_of IS NULL THEN
        INSERT INTO public.messages (tenant_id, conversation_id, turn_id, role, content)
            VALUES (p_tenant, v_conversation, p_turn, 'user', p_message);
    END IF;
    PERFORM public.app_save_events(p_events);
    RETURN v_conversation;
END
$$;
REVOKE ALL ON FUNCTION public.app_start_turn(uuid, uuid, uuid, uuid, text, float8, jsonb, uuid, text, text)
    FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.app_start_turn(uuid, uuid, uuid, uuid, text, float8, jsonb, uuid, text, text) TO service_role;

-- The conversation log for the Supabase store: the query of agent_core/store/conversation_log.py.
-- p_text and p_customer are LIKE patterns of case-folded text; every filter is optional.
CREATE FUNCTION public.app_search_conversations(
    p_tenant uuid, p_text text, p_customer text, p_low timestamptz, p_high timestamptz, p_outcome text,
    p_tool text, p_channel text, p_limit integer, p_offset integer
) RETURNS TABLE (
    id uuid, created_at timestamptz, updated_at timestamptz, channel text, started_by text,
    first_message text, turns bigint,
    failed_turns bigint, tokens bigint, duration_ms double precision, booked boolean, cancelled boolean,
    moved boolean, noted boolean, updated boolean, total bigint
) LANGUAGE sql STABLE AS $$
    WITH matching AS (
        SELECT c.* FROM public.conversations c
        WHERE c.tenant_id = p_tenant
          AND (p_text IS NULL OR EXISTS (
              SELECT 1 FROM public.messages m WHERE m.tenant_id = c.tenant_id AND m.conversation_id = c.id
                AND m.role IN ('user', 'assistant') AND lower(m.content) LIKE p_text ESCAPE '\'))
          AND (p_customer IS NULL OR EXISTS (
              SELECT 1 FROM public.tool_calls k WHERE k.tenant_id = c.tenant_id AND k.conversation_id = c.id
                AND lower(k.arguments) LIKE p_customer ESCAPE '\'))
          AND (p_channel IS NULL OR COALESCE((SELECT f.channel FROM public.turns f WHERE f.tenant_id = c.tenant_id
                                     AND f.conversation_id = c.id ORDER BY f.started_at, f.id LIMIT 1),
                                    'unknown') = p_channel)
          AND (p_low IS NULL OR c.created_at >= p_low)
          AND (p_high IS NULL OR c.created_at < p_high)
          AND (p_tool IS NULL OR EXISTS (
              SELECT 1 FROM public.tool_calls k WHERE k.tenant_id = c.tenant_id AND k.conversation_id = c.id
                AND k.name = p_tool))
          AND (p_outcome IS NULL OR CASE p_outcome
              WHEN 'failed' THEN EXISTS (SELECT 1 FROM public.turns t WHERE t.tenant_id = c.tenant_id
                                         AND t.conversation_id = c.id AND t.status = 'failed'
                                         AND NOT EXISTS (SELECT 1 FROM public.turns r WHERE r.tenant_id = t.tenant_id
                                                         AND r.conversation_id = t.conversation_id AND r.retry_of = t.id))
              ELSE EXISTS (SELECT 1 FROM public.tool_calls k WHERE k.tenant_id = c.tenant_id
                           AND k.conversation_id = c.id AND k.status = 'succeeded'
                           AND k.name = CASE p_outcome WHEN 'booked' THEN 'book_tour'
                               WHEN 'cancelled' THEN 'cancel_tour' WHEN 'moved' THEN 'reschedule_tour'
                               WHEN 'noted' THEN 'take_note' WHEN 'updated' THEN 'update_contact_info' END)
          END)
    ), page AS (
        SELECT c.*, count(*) OVER () AS total FROM matching c
        ORDER BY c.updated_at DESC, c.id LIMIT p_limit OFFSET p_offset
    )
    SELECT c.id, c.created_at, c.updated_at,
        COALESCE((SELECT f.channel FROM public.turns f WHERE f.tenant_id = c.tenant_id AND f.conversation_id = c.id
                  ORDER BY f.started_at, f.id LIMIT 1), 'unknown'),
        COALESCE((SELECT f.started_by FROM public.turns f WHERE f.tenant_id = c.tenant_id
                  AND f.conversation_id = c.id ORDER BY f.started_at, f.id LIMIT 1), ''),
        COALESCE((SELECT m.content FROM public.messages m WHERE m.tenant_id = c.tenant_id
                  AND m.conversation_id = c.id AND m.role = 'user' ORDER BY m.id LIMIT 1), ''),
        (SELECT count(*) FROM public.turns t WHERE t.tenant_id = c.tenant_id AND t.conversation_id = c.id),
        (SELECT count(*) FROM public.turns t WHERE t.tenant_id = c.tenant_id AND t.conversation_id = c.id
         AND t.status = 'failed' AND NOT EXISTS (SELECT 1 FROM public.turns r WHERE r.tenant_id = t.tenant_id
             AND r.conversation_id = t.conversation_id AND r.retry_of = t.id)),
        (SELECT COALESCE(sum(COALESCE(t.prompt_tokens, 0) + COALESCE(t.completion_tokens, 0)), 0)::bigint
         FROM public.turns t WHERE t.tenant_id = c.tenant_id AND t.conversation_id = c.id),
        (SELECT COALESCE(sum(t.latency_ms), 0) FROM public.turns t WHERE t.tenant_id = c.tenant_id
         AND t.conversation_id = c.id),
        EXISTS (SELECT 1 FROM public.tool_calls k WHERE k.tenant_id = c.tenant_id AND k.conversation_id = c.id
                AND k.name = 'book_tour' AND k.status = 'succeeded'),
        EXISTS (SELECT 1 FROM public.tool_calls k WHERE k.tenant_id = c.tenant_id AND k.conversation_id = c.id
                AND k.name = 'cancel_tour' AND k.status = 'succeeded'),
        EXISTS (SELECT 1 FROM public.tool_calls k WHERE k.tenant_id = c.tenant_id AND k.conversation_id = c.id
                AND k.name = 'reschedule_tour' AND k.status = 'succeeded'),
        EXISTS (SELECT 1 FROM public.tool_calls k WHERE k.tenant_id = c.tenant_id AND k.conversation_id = c.id
                AND k.name = 'take_note' AND k.status = 'succeeded'),
        EXISTS (SELECT 1 FROM public.tool_calls k WHERE k.tenant_id = c.tenant_id AND k.conversation_id = c.id
                AND k.name = 'update_contact_info' AND k.status = 'succeeded'),
        c.total
    FROM page c ORDER BY c.updated_at DESC, c.id;
$$;
REVOKE ALL ON FUNCTION public.app_search_conversations(uuid, text, text, timestamptz, timestamptz, text, text, text, integer, integer)
    FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.app_search_conversations(uuid, text, text, timestamptz, timestamptz, text, text, text, integer, integer)
    TO service_role;

-- Analytics for the Supabase store: the queries of agent_core/store/analytics.py. p_tenant
-- NULL means every tenant (the app allows it to admins only). Percentiles are the value at
-- rank ceil(p x n), as there (percentile_disc).
CREATE FUNCTION public.app_analytics(p_tenant uuid, p_low timestamptz, p_high timestamptz)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    WITH t AS (
        SELECT * FROM public.turns
        WHERE started_at >= p_low AND started_at < p_high AND (p_tenant IS NULL OR tenant_id = p_tenant)
    ), k AS (
        SELECT * FROM public.tool_calls
        WHERE created_at >= p_low AND created_at < p_high AND (p_tenant IS NULL OR tenant_id = p_tenant)
    )
    SELECT jsonb_build_object(
        'days', COALESCE((SELECT jsonb_agg(d ORDER BY d.day) FROM (
            SELECT to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
                   count(DISTINCT conversation_id) AS conversations, count(*) AS turns,
                   sum(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed_turns,
                   sum(COALESCE(prompt_tokens, 0) + COALESCE(completion_tokens, 0)) AS tokens
            FROM t GROUP BY 1) d), '[]'::jsonb),
        'tools', COALESCE((SELECT jsonb_agg(x ORDER BY x.name) FROM (
            SELECT name, count(*) AS calls, sum(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed
            FROM k GROUP BY name) x), '[]'::jsonb),
        'models', COALESCE((SELECT jsonb_agg(m) FROM (
            SELECT COALESCE(model, 'unknown') AS model, sum(prompt_tokens) AS prompt,
                   sum(completion_tokens) AS completion
            FROM t GROUP BY 1) m), '[]'::jsonb),
        'turn_latency', (SELECT jsonb_build_object(
            '50', percentile_disc(0.5) WITHIN GROUP (ORDER BY latency_ms),
            '90', percentile_disc(0.9) WITHIN GROUP (ORDER BY latency_ms),
            '99', percentile_disc(0.99) WITHIN GROUP (ORDER BY latency_ms))
            FROM t WHERE latency_ms IS NOT NULL HAVING count(*) > 0),
        'tool_latency', (SELECT jsonb_build_object(
            '50', percentile_disc(0.5) WITHIN GROUP (ORDER BY duration_ms),
            '90', percentile_disc(0.9) WITHIN GROUP (ORDER BY duration_ms),
            '99', percentile_disc(0.99) WITHIN GROUP (ORDER BY duration_ms))
            FROM k WHERE duration_ms IS NOT NULL HAVING count(*) > 0),
        'model_latency', (SELECT jsonb_build_object(
            '50', percentile_disc(0.5) WITHIN GROUP (ORDER BY model_ms),
            '90', percentile_disc(0.9) WITHIN GROUP (ORDER BY model_ms),
            '99', percentile_disc(0.99) WITHIN GROUP (ORDER BY model_ms))
            FROM t WHERE model_ms IS NOT NULL AND tools_ms IS NOT NULL HAVING count(*) > 0),
        'tools_latency', (SELECT jsonb_build_object(
            '50', percentile_disc(0.5) WITHIN GROUP (ORDER BY tools_ms),
            '90', percentile_disc(0.9) WITHIN GROUP (ORDER BY tools_ms),
            '99', percentile_disc(0.99) WITHIN GROUP (ORDER BY tools_ms))
            FROM t WHERE model_ms IS NOT NULL AND tools_ms IS NOT NULL HAVING count(*) > 0),
        'store_latency', (SELECT jsonb_build_object(
            '50', percentile_disc(0.5) WITHIN GROUP (ORDER BY latency_ms - model_ms - tools_ms),
            '90', percentile_disc(0.9) WITHIN GROUP (ORDER BY latency_ms - model_ms - tools_ms),
            '99', percentile_disc(0.99) WITHIN GROUP (ORDER BY latency_ms - model_ms - tools_ms))
            FROM t WHERE model_ms IS NOT NULL AND tools_ms IS NOT NULL HAVING count(*) > 0)
    );
$$;
REVOKE ALL ON FUNCTION public.app_analytics(uuid, timestamptz, timestamptz) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.app_analytics(uuid, timestamptz, timestamptz) TO service_role;

CREATE OR REPLACE FUNCTION public.app_finish_turn(
    p_tenant uuid, p_conversation uuid, p_turn uuid, p_reply text, p_outcome jsonb, p_events jsonb
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF p_reply IS NOT NULL THEN
        INSERT INTO public.messages (tenant_id, conversation_id, turn_id, role, content)
        VALUES (p_tenant, p_conversation, p_turn, 'assistant', p_reply);
    END IF;
    UPDATE public.turns SET
        status = p_outcome->>'status',
        reply = p_outcome->>'reply',
        model = p_outcome->>'model',
        prompt_tokens = (p_outcome->>'prompt_tokens')::integer,
        completion_tokens = (p_outcome->>'completion_tokens')::integer,
        model_calls = (p_outcome->>'model_calls')::integer,
        latency_ms = (p_outcome->>'latency_ms')::float8,
        error = p_outcome->>'error',
        model_ms = (p_outcome->>'model_ms')::float8,
        tools_ms = (p_outcome->>'tools_ms')::float8,
        finished_at = now(),
        lease_expires_at = NULL
    WHERE tenant_id = p_tenant AND id = p_turn;
    PERFORM public.app_save_events(p_events);
END
$$;
