-- 0005: the life of a booking, and each tenant's settings. A tour is booked or cancelled (never deleted), and every
-- cancellation or move is kept in tour_changes: from which date and place, to which, when,
-- and by whom (the agent in a conversation, or an operator). app_run_tool_call applies a
-- tool's changes (p_writes->'tour_changes') only to a booking still as the tool saw it.

ALTER TABLE public.tours ADD COLUMN status text NOT NULL DEFAULT 'booked'
    CHECK (status IN ('booked', 'cancelled'));

CREATE TABLE public.tour_changes (
    id              uuid PRIMARY KEY,
    tenant_id       uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    tour_id         uuid NOT NULL REFERENCES public.tours (id) ON DELETE CASCADE,
    kind            text NOT NULL CHECK (kind IN ('cancelled', 'rescheduled')),
    from_date       date NOT NULL,
    from_location   text NOT NULL,
    to_date         date,
    to_location     text,
    by_kind         text NOT NULL CHECK (by_kind IN ('agent', 'operator')),
    by_label        text NOT NULL,
    conversation_id uuid,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tour_changes_tour ON public.tour_changes (tenant_id, tour_id, created_at);
ALTER TABLE public.tour_changes ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.tour_changes FOR ALL TO authenticated
    USING (tenant_id = public.app_tenant_id()) WITH CHECK (tenant_id = public.app_tenant_id());
REVOKE ALL ON public.tour_changes FROM anon;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.tour_changes TO authenticated;
GRANT ALL ON public.tour_changes TO service_role;

CREATE FUNCTION public.app_apply_tour_change(p_tenant uuid, p_change jsonb) RETURNS boolean
LANGUAGE plpgsql AS $$
-- Cancel or move a booking only as the change saw it, and keep the change in its history;
-- false (nothing written) when the booking is no longer booked there and then.
BEGIN
    UPDATE public.tours SET
        status = CASE WHEN p_change->>'kind' = 'cancelled' THEN 'cancelled' ELSE status END,
        tour_date = COALESCE((p_change->>'to_date')::date, tour_date),
        location = COALESCE(p_change->>'to_location', location)
    WHERE tenant_id = p_tenant AND id = (p_change->>'tour_id')::uuid AND status = 'booked'
      AND tour_date = (p_change->>'from_date')::date AND location = p_change->>'from_location';
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    INSERT INTO public.tour_changes (id, tenant_id, tour_id, kind, from_date, from_location, to_date, to_location,
                                     by_kind, by_label, conversation_id, created_at)
    VALUES ((p_change->>'id')::uuid, p_tenant, (p_change->>'tour_id')::uuid, p_change->>'kind',
            (p_change->>'from_date')::date, p_change->>'from_location', (p_change->>'to_date')::date,
            p_change->>'to_location', p_change->>'by_kind', p_change->>'by_label',
            (p_change->>'conversation_id')::uuid, (p_change->>'created_at')::timestamptz);
    RETURN true;
END
$$;

CREATE OR REPLACE FUNCTION public.app_run_tool_call(
    p_tenant uuid, p_conversation uuid, p_turn uuid, p_call jsonb, p_outcome jsonb, p_writes jsonb,
    p_events jsonb
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_claimed integer;
    v_record public.tool_calls;
    v_change jsonb;
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
            WHERE t.tenant_id = p_tenant AND t.tour_date = (w->>'tour_date')::date AND t.status = 'booked'
              AND lower(regexp_replace(btrim(t.customer_name), '\s+', ' ', 'g')) = w->>'customer_key'
              AND lower(regexp_replace(btrim(t.location), '\s+', ' ', 'g')) = w->>'location_key'
        ) THEN
            RAISE EXCEPTION 'a booking of the same customer, day and place was just made'
                USING ERRCODE = 'VA412';
        END IF;
        INSERT INTO public.tours (id, tenant_id, customer_name, tour_date, location, conversation_id)
        SELECT (w->>'id')::uuid, p_tenant, w->>'customer_name', (w->>'tour_date')::date, w->>'location', p_conversation
        FROM jsonb_array_elements(COALESCE(p_writes->'tours', '[]'::jsonb)) w;
        -- A cancellation or move applies to the booking as the tool saw it; if another turn
        -- changed it since, the tool runs again on what it is now.
        FOR v_change IN SELECT * FROM jsonb_array_elements(COALESCE(p_writes->'tour_changes', '[]'::jsonb)) LOOP
            IF NOT public.app_apply_tour_change(p_tenant, v_change) THEN
                RAISE EXCEPTION 'the booking changed since the tool looked' USING ERRCODE = 'VA412';
            END IF;
        END LOOP;
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

-- An operator's correction of a booking: the change (only to the booking as the operator
-- saw it), its history row, its audit entry and its events, together.
CREATE FUNCTION public.app_change_tour(p_tenant uuid, p_change jsonb, p_audit jsonb, p_events jsonb)
RETURNS SETOF public.tours LANGUAGE plpgsql AS $$
BEGIN
    IF p_change->>'kind' = 'rescheduled' THEN
        PERFORM pg_advisory_xact_lock(hashtextextended('tours:' || p_tenant || ':' || (p_change->>'to_date'), 0));
        IF EXISTS (
            SELECT FROM public.tours t, public.tours moving
            WHERE moving.tenant_id = p_tenant AND moving.id = (p_change->>'tour_id')::uuid
              AND t.tenant_id = p_tenant AND t.id <> moving.id AND t.status = 'booked'
              AND t.tour_date = (p_change->>'to_date')::date
              AND lower(regexp_replace(btrim(t.customer_name), '\s+', ' ', 'g'))
                  = lower(regexp_replace(btrim(moving.customer_name), '\s+', ' ', 'g'))
              AND lower(regexp_replace(btrim(t.location), '\s+', ' ', 'g'))
                  = lower(regexp_replace(btrim(p_change->>'to_location'), '\s+', ' ', 'g'))
        ) THEN
            RAISE EXCEPTION 'the customer already has a booking on that day at that place' USING ERRCODE = 'VA422';
        END IF;
    END IF;
    IF NOT public.app_apply_tour_change(p_tenant, p_change) THEN
        RAISE EXCEPTION 'the booking was cancelled or changed in the meantime' USING ERRCODE = 'VA422';
    END IF;
    PERFORM public.app_write_audit(p_audit);
    PERFORM public.app_save_events(p_events);
    RETURN QUERY SELECT * FROM public.tours WHERE tenant_id = p_tenant AND id = (p_change->>'tour_id')::uuid;
END
$$;
REVOKE ALL ON FUNCTION public.app_change_tour(uuid, jsonb, jsonb, jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.app_change_tour(uuid, jsonb, jsonb, jsonb) TO service_role;

-- An operator's corrections of contacts and notes, each with its audit entry (and, for a
-- contact, its events: the CRM learns of the change), together.
CREATE FUNCTION public.app_update_contact(p_tenant uuid, p_contact jsonb, p_audit jsonb, p_events jsonb)
RETURNS SETOF public.contacts LANGUAGE plpgsql AS $$
BEGIN
    UPDATE public.contacts SET name = p_contact->>'name', name_key = p_contact->>'name_key',
        email = p_contact->>'email', phone = p_contact->>'phone', updated_at = now()
    WHERE tenant_id = p_tenant AND id = (p_contact->>'id')::uuid;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown contact %', p_contact->>'id' USING ERRCODE = 'P0002';
    END IF;
    PERFORM public.app_write_audit(p_audit);
    PERFORM public.app_save_events(p_events);
    RETURN QUERY SELECT * FROM public.contacts WHERE tenant_id = p_tenant AND id = (p_contact->>'id')::uuid;
END
$$;

CREATE FUNCTION public.app_merge_contacts(p_tenant uuid, p_keep uuid, p_drop uuid, p_audit jsonb, p_events jsonb)
RETURNS SETOF public.contacts LANGUAGE plpgsql AS $$
DECLARE
    v_drop public.contacts;
BEGIN
    DELETE FROM public.contacts WHERE tenant_id = p_tenant AND id = p_drop AND id <> p_keep RETURNING * INTO v_drop;
    IF v_drop.id IS NULL THEN
        RAISE EXCEPTION 'unknown contact %', p_drop USING ERRCODE = 'P0002';
    END IF;
    UPDATE public.contacts SET email = COALESCE(email, v_drop.email), phone = COALESCE(phone, v_drop.phone),
        updated_at = now()
    WHERE tenant_id = p_tenant AND id = p_keep;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown contact %', p_keep USING ERRCODE = 'P0002';
    END IF;
    PERFORM public.app_write_audit(p_audit);
    PERFORM public.app_save_events(p_events);
    RETURN QUERY SELECT * FROM public.contacts WHERE tenant_id = p_tenant AND id = p_keep;
END
$$;

CREATE FUNCTION public.app_delete_note(p_tenant uuid, p_note uuid, p_audit jsonb)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM public.notes WHERE tenant_id = p_tenant AND id = p_note;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown note %', p_note USING ERRCODE = 'P0002';
    END IF;
    PERFORM public.app_write_audit(p_audit);
END
$$;
REVOKE ALL ON FUNCTION public.app_update_contact(uuid, jsonb, jsonb, jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.app_update_contact(uuid, jsonb, jsonb, jsonb) TO service_role;
REVOKE ALL ON FUNCTION public.app_merge_contacts(uuid, uuid, uuid, jsonb, jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.app_merge_contacts(uuid, uuid, uuid, jsonb, jsonb) TO service_role;
REVOKE ALL ON FUNCTION public.app_delete_note(uuid, uuid, jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.app_delete_note(uuid, uuid, jsonb) TO service_role;

-- Per-tenant settings (timezone, date order, enabled tools, what a booking is called, the
-- example hint), validated by the app; {} means every default.
ALTER TABLE public.tenants ADD COLUMN settings jsonb NOT NULL DEFAULT '{}'::jsonb;

CREATE FUNCTION public.app_update_tenant_settings(p_tenant uuid, p_settings jsonb, p_audit jsonb)
RETURNS SETOF public.tenants LANGUAGE plpgsql AS $$
BEGIN
    UPDATE public.tenants SET settings = p_settings WHERE id = p_tenant;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown tenant %', p_tenant USING ERRCODE = 'P0002';
    END IF;
    PERFORM public.app_write_audit(p_audit);
    RETURN QUERY SELECT * FROM public.tenants WHERE id = p_tenant;
END
$$;
REVOKE ALL ON FUNCTION public.app_update_tenant_settings(uuid, jsonb, jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.app_update_tenant_settings(uuid, jsonb, jsonb) TO service_role;
REVOKE ALL ON FUNCTION public.app_apply_tour_change(uuid, jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.app_apply_tour_change(uuid, jsonb) TO service_role;
