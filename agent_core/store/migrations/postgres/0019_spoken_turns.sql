-- 0019: a turn whose message was said aloud (push-to-talk, a live call, /api/voice) is marked
-- so (issue 29): the transcript shows it. app_start_turn takes it as p_spoken.

ALTER TABLE public.turns ADD COLUMN spoken boolean NOT NULL DEFAULT false;

-- A new parameter makes a new function: drop the old one, or PostgREST could not choose.
DROP FUNCTION public.app_start_turn(uuid, uuid, uuid, uuid, text, float8, jsonb, uuid, text, text, date);
CREATE OR REPLACE FUNCTION public.app_start_turn(
    p_tenant uuid, p_conversation uuid, p_new_conversation uuid, p_turn uuid, p_message text,
    p_lease_seconds float8, p_events jsonb, p_retry_of uuid DEFAULT NULL, p_channel text DEFAULT 'unknown',
    p_started_by text DEFAULT NULL, p_day date DEFAULT NULL,
    p_spoken boolean DEFAULT false
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
                              channel, started_by, day, spoken)
        VALUES (p_turn, p_tenant, v_conversation, 'running', p_message,
                now() + make_interval(secs => p_lease_seconds), p_retry_of, p_channel, p_started_by, p_day,
                p_spoken);
    IF p_retry_of IS NULL THEN
        INSERT INTO public.messages (tenant_id, conversation_id, turn_id, role, content)
            VALUES (p_tenant, v_conversation, p_turn, 'user', p_message);
    END IF;
    PERFORM public.app_save_events(p_events);
    RETURN v_conversation;
END
$$;

REVOKE ALL ON FUNCTION public.app_start_turn(uuid, uuid, uuid, uuid, text, float8, jsonb, uuid, text, text, date, boolean) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.app_start_turn(uuid, uuid, uuid, uuid, text, float8, jsonb, uuid, text, text, date, boolean) TO service_role;
