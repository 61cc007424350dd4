-- 0010: analytics read daily rollups instead of every turn. Triggers add each turn and tool
-- call to its tenant's UTC day when it starts and when it ends; latencies go into log-scale
-- buckets, 16 per doubling (a bucket's value is within 2.2% of any latency in it), so a
-- percentile over any range is read from a few hundred rows whatever the number of turns.
-- app_analytics (the Supabase store's query) now reads the rollups too.
--
-- A latency's bucket is floor(log2(greatest(ms, 0.01)) * 16): 23.083120654223414 = 16 / ln 2.
-- Lock order: a conversation's row (the summary triggers, named *_summarise) before its
-- tenant's day (these, named *_tally, fire after them), and the reaper locks the
-- conversations of the turns it closes first.

CREATE TABLE public.activity_days (
    tenant_id     uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    day           date NOT NULL,
    conversations integer NOT NULL DEFAULT 0,
    turns         integer NOT NULL DEFAULT 0,
    failed_turns  integer NOT NULL DEFAULT 0,
    tokens        bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day)
);

CREATE TABLE public.model_days (
    tenant_id         uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    day               date NOT NULL,
    model             text NOT NULL,
    prompt_tokens     bigint NOT NULL DEFAULT 0,
    completion_tokens bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, model)
);

CREATE TABLE public.tool_days (
    tenant_id uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    day       date NOT NULL,
    name      text NOT NULL,
    calls     integer NOT NULL DEFAULT 0,
    failed    integer NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, name)
);

CREATE TABLE public.latency_days (
    tenant_id uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    day       date NOT NULL,
    metric    text NOT NULL CHECK (metric IN ('turn', 'model', 'tools', 'store', 'tool_call')),
    bucket    integer NOT NULL,
    count     bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, metric, bucket)
);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['activity_days', 'model_days', 'tool_days', 'latency_days'] LOOP
        EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON public.%I FOR ALL TO authenticated'
            ' USING (tenant_id = public.app_tenant_id()) WITH CHECK (tenant_id = public.app_tenant_id())', t);
        EXECUTE format('REVOKE ALL ON public.%I FROM anon', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON public.%I TO authenticated', t);
        EXECUTE format('GRANT ALL ON public.%I TO service_role', t);
    END LOOP;
END
$$;

CREATE FUNCTION public.app_turns_tally() RETURNS trigger LANGUAGE plpgsql AS $$
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
            tokens = tokens + COALESCE(NEW.prompt_tokens, 0) + COALESCE(NEW.completion_tokens, 0)
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
REVOKE ALL ON FUNCTION public.app_turns_tally() FROM PUBLIC, anon, authenticated;
CREATE TRIGGER turns_tally AFTER INSERT OR UPDATE OF status ON public.turns
    FOR EACH ROW EXECUTE FUNCTION public.app_turns_tally();

CREATE FUNCTION public.app_tool_calls_tally() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_day date := (NEW.created_at AT TIME ZONE 'UTC')::date;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO public.tool_days AS k (tenant_id, day, name, calls) VALUES (NEW.tenant_id, v_day, NEW.name, 1)
        ON CONFLICT (tenant_id, day, name) DO UPDATE SET calls = k.calls + 1;
    END IF;
    IF NEW.status <> 'running' AND (TG_OP = 'INSERT' OR OLD.status = 'running') THEN
        UPDATE public.tool_days SET failed = failed + CASE WHEN NEW.status = 'failed' THEN 1 ELSE 0 END
        WHERE tenant_id = NEW.tenant_id AND day = v_day AND name = NEW.name;
        IF NEW.duration_ms IS NOT NULL THEN
            INSERT INTO public.latency_days AS l (tenant_id, day, metric, bucket, count)
            VALUES (NEW.tenant_id, v_day, 'tool_call',
                    floor(ln(greatest(NEW.duration_ms, 0.01)) * 23.083120654223414)::integer, 1)
            ON CONFLICT (tenant_id, day, metric, bucket) DO UPDATE SET count = l.count + 1;
        END IF;
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION public.app_tool_calls_tally() FROM PUBLIC, anon, authenticated;
CREATE TRIGGER tool_calls_tally AFTER INSERT OR UPDATE OF status ON public.tool_calls
    FOR EACH ROW EXECUTE FUNCTION public.app_tool_calls_tally();

-- What exists: the same rollups, computed once.
INSERT INTO public.activity_days (tenant_id, day, conversations, turns, failed_turns, tokens)
SELECT tenant_id, (started_at AT TIME ZONE 'UTC')::date, count(DISTINCT conversation_id), count(*),
       count(*) FILTER (WHERE status = 'failed'),
       sum(COALESCE(prompt_tokens, 0) + COALESCE(completion_tokens, 0))
FROM public.turns GROUP BY 1, 2;
INSERT INTO public.model_days (tenant_id, day, model, prompt_tokens, completion_tokens)
SELECT tenant_id, (started_at AT TIME ZONE 'UTC')::date, COALESCE(model, 'unknown'),
       sum(COALESCE(prompt_tokens, 0)), sum(COALESCE(completion_tokens, 0))
FROM public.turns WHERE status <> 'running' GROUP BY 1, 2, 3;
INSERT INTO public.tool_days (tenant_id, day, name, calls, failed)
SELECT tenant_id, (created_at AT TIME ZONE 'UTC')::date, name, count(*), count(*) FILTER (WHERE status = 'failed')
FROM public.tool_calls GROUP BY 1, 2, 3;
INSERT INTO public.latency_days (tenant_id, day, metric, bucket, count)
SELECT tenant_id, day, metric, floor(ln(greatest(ms, 0.01)) * 23.083120654223414)::integer, count(*)
FROM (SELECT tenant_id, (started_at AT TIME ZONE 'UTC')::date AS day, v.metric, v.ms
      FROM public.turns,
           LATERAL (VALUES ('turn', latency_ms),
                           ('model', CASE WHEN tools_ms IS NOT NULL THEN model_ms END),
                           ('tools', CASE WHEN model_ms IS NOT NULL THEN tools_ms END),
                           ('store', latency_ms - model_ms - tools_ms)) AS v (metric, ms)
      WHERE status <> 'running'
      UNION ALL
      SELECT tenant_id, (created_at AT TIME ZONE 'UTC')::date, 'tool_call', duration_ms
      FROM public.tool_calls WHERE status <> 'running') AS x
WHERE ms IS NOT NULL
GROUP BY 1, 2, 3, 4;

-- Analytics for the Supabase store: the rollups of the days, summed over tenants and days
-- as agent_core/store/analytics.py sums them; the percentiles are computed from the buckets
-- there. p_tenant NULL means every tenant (the app allows it to admins only).
CREATE OR REPLACE FUNCTION public.app_analytics(p_tenant uuid, p_low timestamptz, p_high timestamptz)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'days', COALESCE((SELECT jsonb_agg(d ORDER BY d.day) FROM (
            SELECT day, sum(conversations) AS conversations, sum(turns) AS turns,
                   sum(failed_turns) AS failed_turns, sum(tokens) AS tokens
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

-- The reaper locks the conversations of the turns it closes before it closes them (see above).
CREATE OR REPLACE FUNCTION public.app_fail_expired_turns(p_error text, p_listeners text[])
RETURNS TABLE (tenant_id uuid, conversation_id uuid, turn_id uuid) LANGUAGE plpgsql AS $$
DECLARE
    v_turn record;
    v_event uuid;
BEGIN
    PERFORM 1 FROM public.conversations c
    WHERE (c.tenant_id, c.id) IN (
        SELECT t.tenant_id, t.conversation_id FROM public.turns t
        WHERE t.status = 'running' AND (t.lease_expires_at IS NULL OR t.lease_expires_at < now()))
    ORDER BY c.id FOR UPDATE;
    FOR v_turn IN
        SELECT t.id, t.tenant_id, t.conversation_id FROM public.turns t
        WHERE t.status = 'running' AND (t.lease_expires_at IS NULL OR t.lease_expires_at < now())
        ORDER BY t.started_at FOR UPDATE SKIP LOCKED
    LOOP
        UPDATE public.turns SET status = 'failed', error = p_error, finished_at = now(), lease_expires_at = NULL
        WHERE id = v_turn.id;
        v_event := gen_random_uuid();
        INSERT INTO public.events (id, tenant_id, name, payload)
        VALUES (v_event, v_turn.tenant_id, 'chat.turn.failed', jsonb_build_object(
            'conversation_id', v_turn.conversation_id::text, 'turn_id', v_turn.id::text, 'error', p_error));
        INSERT INTO public.listener_runs (event_id, listener, tenant_id, status, attempts)
        SELECT v_event, l, v_turn.tenant_id, 'pending', 0 FROM unnest(p_listeners) l;
        tenant_id := v_turn.tenant_id;
        conversation_id := v_turn.conversation_id;
        turn_id := v_turn.id;
        RETURN NEXT;
    END LOOP;
END
$$;
