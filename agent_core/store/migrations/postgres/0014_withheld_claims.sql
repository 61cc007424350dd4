-- A reply's claims that no tool of its turn backed (issue 24: "I've noted that…" with no note
-- taken) were held back from the caller but kept nowhere. They are now kept with the turn (the
-- sentences, as a JSON array; NULL when none) and counted per day, so the transcript marks them
-- and Analytics counts them. app_finish_turn stores them from the outcome, the end-of-turn
-- tally counts them, app_analytics sums them; each is otherwise as in migration 0010/0008.
ALTER TABLE public.turns ADD COLUMN withheld_claims jsonb;
ALTER TABLE public.activity_days ADD COLUMN withheld_claims integer NOT NULL DEFAULT 0;

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
        withheld_claims = NULLIF(p_outcome->'withheld_claims', 'null'::jsonb),
        finished_at = now(),
        lease_expires_at = NULL
    WHERE tenant_id = p_tenant AND id = p_turn;
    PERFORM public.app_save_events(p_events);
END
$$;

CREATE OR REPLACE FUNCTION public.app_turns_tally() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_day date := (NEW.started_at AT TIME ZONE 'UTC')::date;
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- A turn counts on the day it started; a conversation once per day it had a turn.
        INSERT INTO public.activity_days AS d (tenant_id, day, conversations, turns)
        VALUES (NEW.tenant_id, v_day,
                CASE WHEN EXISTS (SELECT 1 FROM public.turns t WHERE t.tenant_id = NEW.tenant_id
                                  AND t.conversation_id = NEW.conversation_id AND t.id <> NEW.id
                                  AND (t.started_at AT TIME ZONE 'UTC')::date = v_day) THEN 0 ELSE 1 END, 1)
        ON CONFLICT (tenant_id, day) DO UPDATE SET conversations = d.conversations + excluded.conversations,
                                                   turns = d.turns + 1;
    END IF;
    IF NEW.status <> 'running' AND (TG_OP = 'INSERT' OR OLD.status = 'running') THEN
        -- What a turn adds when it ends (inserted finished, or updated from running).
        UPDATE public.activity_days SET
            failed_turns = failed_turns + CASE WHEN NEW.status = 'failed' THEN 1 ELSE 0 END,
            tokens = tokens + COALESCE(NEW.prompt_tokens, 0) + COALESCE(NEW.completion_tokens, 0),
            withheld_claims = withheld_claims + COALESCE(jsonb_array_length(NEW.withheld_claims), 0)
        WHERE tenant_id = NEW.tenant_id AND day = v_day;
        INSERT INTO public.model_days AS m (tenant_id, day, model, prompt_tokens, completion_tokens)
        VALUES (NEW.tenant_id, v_day, COALESCE(NEW.model, 'unknown'), COALESCE(NEW.prompt_tokens, 0),
                COALESCE(NEW.completion_tokens, 0))
        ON CONFLICT (tenant_id, day, model) DO UPDATE SET
            prompt_tokens = m.prompt_tokens + excluded.prompt_tokens,
            completion_tokens = m.completion_tokens + excluded.completion_tokens;
        INSERT INTO public.latency_days AS l (tenant_id, day, metric, bucket, count)
        SELECT NEW.tenant_id, v_day, v.metric, floor(ln(greatest(v.ms, 0.01)) * 23.083120654223414)::integer, 1
        FROM (VALUES ('turn', NEW.latency_ms),
                     ('model', CASE WHEN NEW.tools_ms IS NOT NULL THEN NEW.model_ms END),
                     ('tools', CASE WHEN NEW.model_ms IS NOT NULL THEN NEW.tools_ms END),
                     ('store', NEW.latency_ms - NEW.model_ms - NEW.tools_ms)) AS v (metric, ms)
        WHERE v.ms IS NOT NULL
        ON CONFLICT (tenant_id, day, metric, bucket) DO UPDATE SET count = l.count + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION public.app_analytics(p_tenant uuid, p_low timestamptz, p_high timestamptz)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'days', COALESCE((SELECT jsonb_agg(d ORDER BY d.day) FROM (
            SELECT day, sum(conversations) AS conversations, sum(turns) AS turns,
                   sum(failed_turns) AS failed_turns, sum(tokens) AS tokens,
                   sum(withheld_claims) AS withheld_claims
            FROM public.activity_days
            WHERE day >= (p_low AT TIME ZONE 'UTC')::date AND day < (p_high AT TIME ZONE 'UTC')::date
              AND (p_tenant IS NULL OR tenant_id = p_tenant)
            GROUP BY day) d), '[]'::jsonb),
        'tools', COALESCE((SELECT jsonb_agg(x ORDER BY x.name) FROM (
            SELECT name, sum(calls) AS calls, sum(failed) AS failed
            FROM public.tool_days
            WHERE day >= (p_low AT TIME ZONE 'UTC')::date AND day < (p_high AT TIME ZONE 'UTC')::date
              AND (p_tenant IS NULL OR tenant_id = p_tenant)
            GROUP BY name) x), '[]'::jsonb),
        'models', COALESCE((SELECT jsonb_agg(m ORDER BY m.model) FROM (
            SELECT model, sum(prompt_tokens) AS prompt, sum(completion_tokens) AS completion
            FROM public.model_days
            WHERE day >= (p_low AT TIME ZONE 'UTC')::date AND day < (p_high AT TIME ZONE 'UTC')::date
              AND (p_tenant IS NULL OR tenant_id = p_tenant)
            GROUP BY model) m), '[]'::jsonb),
        'latency', COALESCE((SELECT jsonb_agg(b ORDER BY b.metric, b.bucket) FROM (
            SELECT metric, bucket, sum(count) AS count
            FROM public.latency_days
            WHERE day >= (p_low AT TIME ZONE 'UTC')::date AND day < (p_high AT TIME ZONE 'UTC')::date
              AND (p_tenant IS NULL OR tenant_id = p_tenant)
            GROUP BY metric, bucket) b), '[]'::jsonb)
    );
$$;
