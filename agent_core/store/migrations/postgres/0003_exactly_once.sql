-- 0003: exactly once, nothing lost.
-- * A tool call is known by its conversation, its call id and the fingerprint (SHA-256) of its
--   arguments: servers that number calls call_0, call_1… per response no longer make one
--   customer's call replay another's.
-- * A running turn holds a lease that its process renews; an expired lease means the
--   process died, and the turn is closed as failed by the next process. A conversation runs
--   one turn at a time.
-- * Events are written in the transaction of the change they describe (p_events).
-- * Idempotency keys of POST /api/chat, with the request's fingerprint and the response.

ALTER TABLE public.tool_calls ADD COLUMN arguments_hash text;
UPDATE public.tool_calls SET arguments_hash = encode(sha256(convert_to(arguments, 'UTF8')), 'hex');
ALTER TABLE public.tool_calls ALTER COLUMN arguments_hash SET NOT NULL;
ALTER TABLE public.tool_calls DROP CONSTRAINT tool_calls_pkey;
ALTER TABLE public.tool_calls ADD CONSTRAINT tool_calls_pkey
    PRIMARY KEY (tenant_id, conversation_id, call_id, arguments_hash);

ALTER TABLE public.turns ADD COLUMN lease_expires_at timestamptz;
CREATE INDEX turns_running_lease ON public.turns (lease_expires_at) WHERE status = 'running';

CREATE TABLE public.idempotency_keys (
    tenant_id        uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    key              text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    fingerprint      text NOT NULL,
    status           text NOT NULL CHECK (status IN ('running', 'done')),
    response_status  integer,
    response         jsonb,
    lease_expires_at timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key)
);
ALTER TABLE public.idempotency_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.idempotency_keys FOR ALL TO authenticated
    USING (tenant_id = public.app_tenant_id()) WITH CHECK (tenant_id = public.app_tenant_id());
REVOKE ALL ON public.idempotency_keys FROM anon;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.idempotency_keys TO authenticated;
GRANT ALL ON public.idempotency_keys TO service_role;

DROP FUNCTION public.app_start_turn(uuid, uuid, uuid, uuid, text);
CREATE FUNCTION public.app_start_turn(
    p_tenant uuid, p_conversation uuid, p_new_conversation uuid, p_turn uuid, p_message text,
    p_lease_seconds float8, p_events jsonb
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
    INSERT INTO public.turns (id, tenant_id, conversation_id, status, user_message, lease_expires_at)
        VALUES (p_turn, p_tenant, v_conversation, 'running', p_message,
                now() + make_interval(secs => p_lease_seconds));
    INSERT INTO public.messages (tenant_id, conversation_id, turn_id, role, content)
        VALUES (p_tenant, v_conversation, p_turn, 'user', p_message);
    PERFORM public.app_save_events(p_events);
    RETURN v_conversation;
END
$$;

DROP FUNCTION public.app_run_tool_call(uuid, uuid, uuid, jsonb, jsonb, jsonb);
CREATE FUNCTION public.app_run_tool_call(
    p_tenant uuid, p_conversation uuid, p_turn uuid, p_call jsonb, p_outcome jsonb, p_writes jsonb,
    p_events jsonb
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_claimed integer;
    v_record public.tool_calls;
BEGIN
    INSERT INTO public.tool_calls (tenant_id, call_id, turn_id, conversation_id, name, arguments, arguments_hash,
                                   status, result, error, duration_ms, model_content)
    VALUES (p_tenant, p_call->>'id', p_turn, p_conversation, p_call->>'name', p_call->>'arguments',
            p_call->>'arguments_hash', p_outcome->>'status', p_outcome->'result', p_outcome->>'error',
            (p_outcome->>'duration_ms')::float8, p_outcome->>'model_content')
    ON CONFLICT (tenant_id, conversation_id, call_id, arguments_hash) DO NOTHING;
    GET DIAGNOSTICS v_claimed = ROW_COUNT;
    IF v_claimed = 1 AND p_outcome->>'status' = 'succeeded' THEN
        -- The tool looked for a live booking of the same customer, day and place before this
        -- call; bookings of one day take turns here, and one made since means its answer is
        -- stale: the caller runs the tool again (and finds that booking).
        PERFORM pg_advisory_xact_lock(hashtextextended('tours:' || p_tenant || ':' || (w->>'tour_date'), 0))
        FROM jsonb_array_elements(COALESCE(p_writes->'tours', '[]'::jsonb)) w;
        IF EXISTS (
            SELECT FROM public.tours t, jsonb_array_elements(COALESCE(p_writes->'tours', '[]'::jsonb)) w
            WHERE t.tenant_id = p_tenant AND t.tour_date = (w->>'tour_date')::date
              AND lower(regexp_replace(btrim(t.customer_name), '\s+', ' ', 'g')) = w->>'customer_key'
              AND lower(regexp_replace(btrim(t.location), '\s+', ' ', 'g')) = w->>'location_key'
        ) THEN
            RAISE EXCEPTION 'a booking of the same customer, day and place was just made'
                USING ERRCODE = 'VA412';
        END IF;
        INSERT INTO public.tours (id, tenant_id, customer_name, tour_date, location, conversation_id)
        SELECT (w->>'id')::uuid, p_tenant, w->>'customer_name', (w->>'tour_date')::date, w->>'location', p_conversation
        FROM jsonb_array_elements(COALESCE(p_writes->'tours', '[]'::jsonb)) w;
        INSERT INTO public.notes (id, tenant_id, content, conversation_id)
        SELECT (w->>'id')::uuid, p_tenant, w->>'content', p_conversation
        FROM jsonb_array_elements(COALESCE(p_writes->'notes', '[]'::jsonb)) w;
        INSERT INTO public.contacts (id, tenant_id, name, name_key, email, phone)
        SELECT (w->>'id')::uuid, p_tenant, w->>'name', w->>'name_key', w->>'email', w->>'phone'
        FROM jsonb_array_elements(COALESCE(p_writes->'contacts', '[]'::jsonb)) w
        ON CONFLICT (tenant_id, name_key) DO UPDATE SET
            name = excluded.name,
            email = COALESCE(excluded.email, public.contacts.email),
            phone = COALESCE(excluded.phone, public.contacts.phone),
            updated_at = now();
    END IF;
    IF v_claimed = 1 THEN
        PERFORM public.app_save_events(p_events);
    END IF;
    SELECT * INTO v_record FROM public.tool_calls
    WHERE tenant_id = p_tenant AND conversation_id = p_conversation AND call_id = p_call->>'id'
      AND arguments_hash = p_call->>'arguments_hash';
    INSERT INTO public.messages (tenant_id, conversation_id, turn_id, role, content, tool_call_id)
    VALUES (p_tenant, p_conversation, p_turn, 'tool', v_record.model_content, p_call->>'id');
    RETURN to_jsonb(v_record) || jsonb_build_object('replayed', v_claimed = 0);
END
$$;

DROP FUNCTION public.app_finish_turn(uuid, uuid, uuid, text, jsonb);
CREATE FUNCTION public.app_finish_turn(
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
        finished_at = now(),
        lease_expires_at = NULL
    WHERE tenant_id = p_tenant AND id = p_turn;
    PERFORM public.app_save_events(p_events);
END
$$;

-- The running process extends the leases of its turns.
CREATE FUNCTION public.app_renew_turns(p_turns uuid[], p_lease_seconds float8)
RETURNS integer LANGUAGE sql AS $$
    WITH renewed AS (
        UPDATE public.turns SET lease_expires_at = now() + make_interval(secs => p_lease_seconds)
        WHERE id = ANY(p_turns) AND status = 'running' RETURNING 1
    )
    SELECT count(*)::integer FROM renewed;
$$;

-- Turns whose process stopped renewing their lease: closed as failed, each with its
-- chat.turn.failed event (and a pending run for each listener named), in one transaction.
CREATE FUNCTION public.app_fail_expired_turns(p_error text, p_listeners text[])
RETURNS TABLE (tenant_id uuid, conversation_id uuid, turn_id uuid) LANGUAGE plpgsql AS $$
DECLARE
    v_turn record;
    v_event uuid;
BEGIN
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

-- Pending listener runs of every tenant: all runs of the first p_limit events after an event
-- seq, in event order (the bus picks them up at start and periodically, page by page).
CREATE FUNCTION public.app_pending_runs(p_after_seq bigint, p_limit integer)
RETURNS TABLE (seq bigint, id uuid, tenant_id uuid, name text, payload jsonb, created_at timestamptz,
               listener text)
LANGUAGE sql STABLE AS $$
    SELECT e.seq, e.id, e.tenant_id, e.name, e.payload, e.created_at, r.listener
    FROM public.listener_runs r JOIN public.events e ON e.id = r.event_id
    WHERE r.status = 'pending' AND e.seq IN (
        SELECT DISTINCT e2.seq FROM public.listener_runs r2 JOIN public.events e2 ON e2.id = r2.event_id
        WHERE r2.status = 'pending' AND e2.seq > p_after_seq ORDER BY e2.seq LIMIT p_limit)
    ORDER BY e.seq, r.listener;
$$;

-- An idempotency key presented: claimed (inserted, or taken over from a holder whose lease
-- ran out), running, done with the stored answer, or a mismatch (another request's key).
CREATE FUNCTION public.app_claim_idempotency_key(
    p_tenant uuid, p_key text, p_fingerprint text, p_lease_seconds float8
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_row public.idempotency_keys;
BEGIN
    INSERT INTO public.idempotency_keys (tenant_id, key, fingerprint, status, lease_expires_at)
    VALUES (p_tenant, p_key, p_fingerprint, 'running', now() + make_interval(secs => p_lease_seconds))
    ON CONFLICT (tenant_id, key) DO NOTHING;
    IF FOUND THEN
        RETURN jsonb_build_object('state', 'claimed');
    END IF;
    SELECT * INTO v_row FROM public.idempotency_keys WHERE tenant_id = p_tenant AND key = p_key FOR UPDATE;
    IF v_row.fingerprint <> p_fingerprint THEN
        RETURN jsonb_build_object('state', 'mismatch');
    END IF;
    IF v_row.status = 'done' THEN
        RETURN jsonb_build_object('state', 'done', 'status', v_row.response_status, 'response', v_row.response);
    END IF;
    IF v_row.lease_expires_at < now() THEN
        UPDATE public.idempotency_keys SET lease_expires_at = now() + make_interval(secs => p_lease_seconds)
        WHERE tenant_id = p_tenant AND key = p_key;
        RETURN jsonb_build_object('state', 'claimed');
    END IF;
    RETURN jsonb_build_object('state', 'running');
END
$$;

DO $$
DECLARE
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY[
        'app_start_turn(uuid, uuid, uuid, uuid, text, float8, jsonb)',
        'app_run_tool_call(uuid, uuid, uuid, jsonb, jsonb, jsonb, jsonb)',
        'app_finish_turn(uuid, uuid, uuid, text, jsonb, jsonb)',
        'app_renew_turns(uuid[], float8)',
        'app_fail_expired_turns(text, text[])',
        'app_pending_runs(bigint, integer)',
        'app_claim_idempotency_key(uuid, text, text, float8)']
    LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION public.%s FROM PUBLIC, anon, authenticated', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION public.%s TO service_role', f);
    END LOOP;
END
$$;
