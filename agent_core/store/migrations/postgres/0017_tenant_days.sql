-- 0017: Analytics count in the business's own days (issue 28). A turn keeps the day it
-- started on where its tenant is (`day`: the application knows the tenant's timezone and its
-- default, so it writes the day; app_start_turn takes it as p_day), and the rollup triggers
-- count the turn and its tool calls on that day. Turns from before keep their UTC day (`day`
-- is NULL), as they were counted.

ALTER TABLE public.turns ADD COLUMN day date;

CREATE OR REPLACE FUNCTION public.app_turns_tally() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_day date := COALESCE(NEW.day, (NEW.started_at AT TIME ZONE 'UTC')::date);
    -- The conversation's slot of its tenant's day (hashtext, as any hash, spreads them).
    v_slot smallint := (hashtext(NEW.conversation_id::text) & 15)::smallint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- A turn counts on the day it started; a conversation once per day it had a turn.
        INSERT INTO public.activity_days AS d (tenant_id, day, slot, conversations, turns)
        VALUES (NEW.tenant_id, v_day, v_slot,
                CASE WHEN EXISTS (SELECT 1 FROM public.turns t WHERE t.tenant_id = NEW.tenant_id
                                  AND t.conversation_id = NEW.conversation_id AND t.id <> NEW.id
                                  AND COALESCE(t.day, (t.started_at AT TIME ZONE 'UTC')::date) = v_day) THEN 0 ELSE 1 END, 1)
        ON CONFLICT (tenant_id, day, slot) DO UPDATE SET conversations = d.conversations + excluded.conversations,
                                                   turns = d.turns + 1;
    END IF;
    IF NEW.status <> 'running' AND (TG_OP = 'INSERT' OR OLD.status = 'running') THEN
        -- What a turn adds when it ends (inserted finished, or updated from running).
        UPDATE public.activity_days SET
            failed_turns = failed_turns + CASE WHEN NEW.status = 'failed' THEN 1 ELSE 0 END,
            tokens = tokens + COALESCE(NEW.prompt_tokens, 0) + COALESCE(NEW.completion_tokens, 0),
            withheld_claims = withheld_claims + COALESCE(jsonb_array_length(NEW.withheld_claims), 0)
        WHERE tenant_id = NEW.tenant_id AND day = v_day AND slot = v_slot;
        INSERT INTO public.model_days AS m (tenant_id, day, slot, model, prompt_tokens, completion_tokens)
        VALUES (NEW.tenant_id, v_day, v_slot, COALESCE(NEW.model, 'unknown'), COALESCE(NEW.prompt_tokens, 0),
                COALESCE(NEW.completion_tokens, 0))
        ON CONFLICT (tenant_id, day, slot, model) DO UPDATE SET
            prompt_tokens = m.prompt_tokens + excluded.prompt_tokens,
            completion_tokens = m.completion_tokens + excluded.completion_tokens;
        INSERT INTO public.latency_days AS l (tenant_id, day, slot, metric, bucket, count)
        SELECT NEW.tenant_id, v_day, v_slot, v.metric, floor(ln(greatest(v.ms, 0.01)) * 23.083120654223414)::integer, 1
        FROM (VALUES ('turn', NEW.latency_ms),
                     ('model', CASE WHEN NEW.tools_ms IS NOT NULL THEN NEW.model_ms END),
                     ('tools', CASE WHEN NEW.model_ms IS NOT NULL THEN NEW.tools_ms END),
                     ('store', NEW.latency_ms - NEW.model_ms - NEW.tools_ms)) AS v (metric, ms)
        WHERE v.ms IS NOT NULL
        ON CONFLICT (tenant_id, day, slot, metric, bucket) DO UPDATE SET count = l.count + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION public.app_tool_calls_tally() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    -- A tool call counts on its turn's day.
    v_day date := COALESCE((SELECT t.day FROM public.turns t WHERE t.id = NEW.turn_id),
                           (NEW.created_at AT TIME ZONE 'UTC')::date);
    -- The conversation's slot of its tenant's day (hashtext, as any hash, spreads them).
    v_slot smallint := (hashtext(NEW.conversation_id::text) & 15)::smallint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO public.tool_days AS k (tenant_id, day, slot, name, calls)
        VALUES (NEW.tenant_id, v_day, v_slot, NEW.name, 1)
        ON CONFLICT (tenant_id, day, slot, name) DO UPDATE SET calls = k.calls + 1;
    END IF;
    IF NEW.status <> 'running' AND (TG_OP = 'INSERT' OR OLD.status = 'running') THEN
        UPDATE public.tool_days SET failed = failed + CASE WHEN NEW.status = 'failed' THEN 1 ELSE 0 END
        WHERE tenant_id = NEW.tenant_id AND day = v_day AND slot = v_slot AND name = NEW.name;
        IF NEW.duration_ms IS NOT NULL THEN
            INSERT INTO public.latency_days AS l (tenant_id, day, slot, metric, bucket, count)
            VALUES (NEW.tenant_id, v_day, v_slot, 'tool_call',
                    floor(ln(greatest(NEW.duration_ms, 0.01)) * 23.083120654223414)::integer, 1)
            ON CONFLICT (tenant_id, day, slot, metric, bucket) DO UPDATE SET count = l.count + 1;
        END IF;
    END IF;
    RETURN NULL;
END
$$;

-- A new parameter makes a new function: drop the old one, or PostgREST could not choose.
DROP FUNCTION public.app_start_turn(uuid, uuid, uuid, uuid, text, float8, jsonb, uuid, text, text);
CREATE OR REPLACE FUNCTION public.app_start_turn(
    p_tenant uuid, p_conversation uuid, p_new_conversation uuid, p_turn uuid, p_message text,
    p_lease_seconds float8, p_events jsonb, p_retry_of uuid DEFAULT NULL, p_channel text DEFAULT 'unknown',
    p_started_by text DEFAULT NULL, p_day date DEFAULT NULL
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
            RAISE EXCEPTION 'conversation % not found for this tenant', v_conversation USING ERRCODE = 'PT404';
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
                              channel, started_by, day)
        VALUES (p_turn, p_tenant, v_conversation, 'running', p_message,
                now() + make_interval(secs => p_lease_seconds), p_retry_of, p_channel, p_started_by, p_day);
    IF p_retry_of IS NULL THEN
        INSERT INTO public.messages (tenant_id, conversation_id, turn_id, role, content)
            VALUES (p_tenant, v_conversation, p_turn, 'user', p_message);
    END IF;
    PERFORM public.app_save_events(p_events);
    RETURN v_conversation;
END
$$;

REVOKE ALL ON FUNCTION public.app_start_turn(uuid, uuid, uuid, uuid, text, float8, jsonb, uuid, text, text, date)
    FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.app_start_turn(uuid, uuid, uuid, uuid, text, float8, jsonb, uuid, text, text, date)
    TO service_role;
