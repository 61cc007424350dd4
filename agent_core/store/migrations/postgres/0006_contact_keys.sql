-- 0006: one person is one contact. Names match without regard to accents ("José" =
-- "Jose") as well as case and spacing, and an email or phone number already on file finds
-- its contact. The keys are computed by the application (agent_core/store/matching.py) and
-- stored, never recomputed in SQL, so every backend matches alike whatever the database's
-- locale or extensions; the migration's Python step `rekey_contacts` fills the keys of the
-- rows already here. The duplicate checks of concurrent bookings no longer compare names
-- in SQL either: they compare the bookings the application saw with those there are now.

ALTER TABLE public.contacts ADD COLUMN email_key text, ADD COLUMN phone_key text;
CREATE INDEX contacts_email_key ON public.contacts (tenant_id, email_key);
CREATE INDEX contacts_phone_key ON public.contacts (tenant_id, phone_key);

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
        -- The tool looked at the day's live bookings before this call (`seen`); bookings of
        -- one day take turns here, and one made since means its answer may be stale: the
        -- caller runs the tool again (and finds that booking if it is the same).
        PERFORM pg_advisory_xact_lock(hashtextextended('tours:' || p_tenant || ':' || (w->>'tour_date'), 0))
        FROM jsonb_array_elements(COALESCE(p_writes->'tours', '[]'::jsonb)) w;
        IF EXISTS (
            SELECT FROM public.tours t, jsonb_array_elements(COALESCE(p_writes->'tours', '[]'::jsonb)) w
            WHERE t.tenant_id = p_tenant AND t.tour_date = (w->>'tour_date')::date AND t.status = 'booked'
              AND NOT (COALESCE(w->'seen', '[]'::jsonb) ? t.id::text)
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
        -- Contacts likewise: saves of a tenant's contacts take turns, and a contact matching
        -- the details given (`lookup`) that the tool did not see makes it run again.
        PERFORM pg_advisory_xact_lock(hashtextextended('contacts:' || p_tenant, 0))
        WHERE jsonb_array_length(COALESCE(p_writes->'contacts', '[]'::jsonb)) > 0;
        IF EXISTS (
            SELECT FROM public.contacts c, jsonb_array_elements(COALESCE(p_writes->'contacts', '[]'::jsonb)) w
            WHERE c.tenant_id = p_tenant
              AND (c.name_key = w->'lookup'->>'name_key' OR c.email_key = w->'lookup'->>'email_key'
                   OR c.phone_key = w->'lookup'->>'phone_key')
              AND NOT (COALESCE(w->'seen', '[]'::jsonb) ? c.id::text)
        ) THEN
            RAISE EXCEPTION 'a contact with these details was just saved' USING ERRCODE = 'VA412';
        END IF;
        INSERT INTO public.contacts (id, tenant_id, name, name_key, email, email_key, phone, phone_key)
        SELECT (w->>'id')::uuid, p_tenant, w->>'name', w->>'name_key', w->>'email', w->>'email_key',
               w->>'phone', w->>'phone_key'
        FROM jsonb_array_elements(COALESCE(p_writes->'contacts', '[]'::jsonb)) w
        ON CONFLICT (id) DO UPDATE SET
            -- A name left as it is keeps its key (a contact kept apart by migration 6 keeps its own).
            name = excluded.name,
            name_key = CASE WHEN public.contacts.name = excluded.name THEN public.contacts.name_key
                            ELSE excluded.name_key END,
            email = excluded.email,
            email_key = excluded.email_key, phone = excluded.phone, phone_key = excluded.phone_key,
            updated_at = now()
        WHERE public.contacts.tenant_id = p_tenant;
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

CREATE OR REPLACE FUNCTION public.app_change_tour(p_tenant uuid, p_change jsonb, p_audit jsonb, p_events jsonb)
RETURNS SETOF public.tours LANGUAGE plpgsql AS $$
BEGIN
    IF p_change->>'kind' = 'rescheduled' THEN
        PERFORM pg_advisory_xact_lock(hashtextextended('tours:' || p_tenant || ':' || (p_change->>'to_date'), 0));
        -- The app checked the day's live bookings (`seen`) for one the move would duplicate;
        -- one booked since it looked means it must look again.
        IF EXISTS (
            SELECT FROM public.tours t
            WHERE t.tenant_id = p_tenant AND t.id <> (p_change->>'tour_id')::uuid AND t.status = 'booked'
              AND t.tour_date = (p_change->>'to_date')::date
              AND NOT (COALESCE(p_change->'seen', '[]'::jsonb) ? t.id::text)
        ) THEN
            RAISE EXCEPTION 'that day''s bookings changed in the meantime: try again' USING ERRCODE = 'VA422';
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
CREATE OR REPLACE FUNCTION public.app_update_contact(p_tenant uuid, p_contact jsonb, p_audit jsonb, p_events jsonb)
RETURNS SETOF public.contacts LANGUAGE plpgsql AS $$
BEGIN
    UPDATE public.contacts SET name = p_contact->>'name',
        name_key = CASE WHEN name = p_contact->>'name' THEN name_key ELSE p_contact->>'name_key' END,
        email = p_contact->>'email', email_key = p_contact->>'email_key',
        phone = p_contact->>'phone', phone_key = p_contact->>'phone_key', updated_at = now()
    WHERE tenant_id = p_tenant AND id = (p_contact->>'id')::uuid;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown contact %', p_contact->>'id' USING ERRCODE = 'P0002';
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
        RAISE EXCEPTION 'unknown contact %', p_drop USING ERRCODE = 'P0002';
    END IF;
    -- A detail and its match key are null together, so they are taken over together.
    UPDATE public.contacts SET email = COALESCE(email, v_drop.email), email_key = COALESCE(email_key, v_drop.email_key),
        phone = COALESCE(phone, v_drop.phone), phone_key = COALESCE(phone_key, v_drop.phone_key), updated_at = now()
    WHERE tenant_id = p_tenant AND id = p_keep;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown contact %', p_keep USING ERRCODE = 'P0002';
    END IF;
    PERFORM public.app_write_audit(p_audit);
    PERFORM public.app_save_events(p_events);
    RETURN QUERY SELECT * FROM public.contacts WHERE tenant_id = p_tenant AND id = p_keep;
END
$$;

