-- Supabase as it is today (issue 22).
--
-- 1. Grants stated, not assumed. Supabase projects created since 2026-05-30 (and every project
--    since 2026-10-30) no longer grant what their owner creates in `public` to the API roles:
--    what the requesting role runs must be granted here. The summary triggers call
--    app_summarise_conversation as the role that wrote the row, and the RLS policies call
--    app_tenant_id as `authenticated`.
GRANT EXECUTE ON FUNCTION public.app_summarise_conversation(uuid, uuid) TO authenticated, service_role;
REVOKE ALL ON FUNCTION public.app_tenant_id() FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION public.app_tenant_id() TO authenticated, service_role;
-- Exactly these grants on the version table and the tenants, whatever the project grants on
-- its own: a project created before 2026-05-30 gives every API role everything on new tables.
REVOKE ALL ON public.schema_migrations FROM anon, authenticated, service_role;
GRANT SELECT ON public.schema_migrations TO service_role;
REVOKE ALL ON public.tenants FROM authenticated;
GRANT SELECT ON public.tenants TO authenticated;

-- 2. "Not found" is SQLSTATE PT404, which PostgREST answers with HTTP 404; P0002 was a 500,
--    which Supabase logs as the server failing.

CREATE OR REPLACE FUNCTION public.app_start_turn(
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

CREATE OR REPLACE FUNCTION public.app_update_contact(p_tenant uuid, p_contact jsonb, p_audit jsonb, p_events jsonb)
RETURNS SETOF public.contacts LANGUAGE plpgsql AS $$
BEGIN
    UPDATE public.contacts SET name = p_contact->>'name',
        name_key = CASE WHEN name = p_contact->>'name' THEN name_key ELSE p_contact->>'name_key' END,
        email = p_contact->>'email', email_key = p_contact->>'email_key',
        phone = p_contact->>'phone', phone_key = p_contact->>'phone_key', updated_at = now()
    WHERE tenant_id = p_tenant AND id = (p_contact->>'id')::uuid;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown contact %', p_contact->>'id' USING ERRCODE = 'PT404';
    END IF;
    PERFORM public.app_write_audit(p_audit);
    PERFORM public.app_save_events(p_events);
    RETURN QUERY SELECT * FROM public.contacts WHERE tenant_id = p_tenant AND id = (p_contact->>'id')::uuid;
END
$$;

CREATE OR REPLACE FUNCTION public.app_merge_contacts(p_tenant uuid, p_keep uuid, p_drop uuid, p_audit jsonb, p_events jsonb)
RETURNS SETOF public.contacts LANGUAGE plpgsql AS $$
DECLARE
    v_drop public.contacts;
BEGIN
    DELETE FROM public.contacts WHERE tenant_id = p_tenant AND id = p_drop AND id <> p_keep RETURNING * INTO v_drop;
    IF v_drop.id IS NULL THEN
        RAISE EXCEPTION 'unknown contact %', p_drop USING ERRCODE = 'PT404';
    END IF;
    -- A detail and its match key are null together, so they are taken over together.
    UPDATE public.contacts SET email = COALESCE(email, v_drop.email), email_key = COALESCE(email_key, v_drop.email_key),
        phone = COALESCE(phone, v_drop.phone), phone_key = COALESCE(phone_key, v_drop.phone_key), updated_at = now()
    WHERE tenant_id = p_tenant AND id = p_keep;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown contact %', p_keep USING ERRCODE = 'PT404';
    END IF;
    PERFORM public.app_write_audit(p_audit);
    PERFORM public.app_save_events(p_events);
    RETURN QUERY SELECT * FROM public.contacts WHERE tenant_id = p_tenant AND id = p_keep;
END
$$;

CREATE OR REPLACE FUNCTION public.app_delete_note(p_tenant uuid, p_note uuid, p_audit jsonb)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM public.notes WHERE tenant_id = p_tenant AND id = p_note;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown note %', p_note USING ERRCODE = 'PT404';
    END IF;
    PERFORM public.app_write_audit(p_audit);
END
$$;

CREATE OR REPLACE FUNCTION public.app_update_tenant_settings(p_tenant uuid, p_settings jsonb, p_audit jsonb)
RETURNS SETOF public.tenants LANGUAGE plpgsql AS $$
BEGIN
    UPDATE public.tenants SET settings = p_settings WHERE id = p_tenant;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown tenant %', p_tenant USING ERRCODE = 'PT404';
    END IF;
    PERFORM public.app_write_audit(p_audit);
    RETURN QUERY SELECT * FROM public.tenants WHERE id = p_tenant;
END
$$;

CREATE OR REPLACE FUNCTION public.app_update_prompt(p_tenant uuid, p_prompt text, p_author text, p_audit jsonb)
RETURNS SETOF public.prompt_versions LANGUAGE plpgsql AS $$
DECLARE
    v_version integer;
BEGIN
    UPDATE public.tenants SET system_prompt = p_prompt WHERE id = p_tenant;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown tenant %', p_tenant USING ERRCODE = 'PT404';
    END IF;
    SELECT COALESCE(MAX(version), 0) + 1 INTO v_version FROM public.prompt_versions WHERE tenant_id = p_tenant;
    PERFORM public.app_write_audit(jsonb_set(p_audit, '{after,version}', to_jsonb(v_version)));
    DELETE FROM public.prompt_drafts WHERE tenant_id = p_tenant AND prompt = p_prompt;
    RETURN QUERY INSERT INTO public.prompt_versions (tenant_id, version, prompt, author)
        VALUES (p_tenant, v_version, p_prompt, p_author) RETURNING *;
END
$$;

CREATE OR REPLACE FUNCTION public.app_delete_scenario(p_tenant uuid, p_scenario uuid, p_audit jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM public.scenarios WHERE tenant_id = p_tenant AND id = p_scenario;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown scenario %', p_scenario USING ERRCODE = 'PT404';
    END IF;
    PERFORM public.app_write_audit(p_audit);
END
$$;

-- 3. The reaper closes expired turns a page at a time: a REST answer stops at the server's
--    max rows, so the store asks again until a call closes fewer than it asked for.
DROP FUNCTION IF EXISTS public.app_fail_expired_turns(text, text[]);
CREATE OR REPLACE FUNCTION public.app_fail_expired_turns(p_error text, p_listeners text[], p_limit integer)
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
        ORDER BY t.started_at LIMIT p_limit FOR UPDATE SKIP LOCKED
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

REVOKE ALL ON FUNCTION public.app_fail_expired_turns(text, text[], integer) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.app_fail_expired_turns(text, text[], integer) TO service_role;
