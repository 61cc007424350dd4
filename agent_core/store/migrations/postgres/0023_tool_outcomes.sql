-- 0023: a tool call keeps the outcome its tool declares (booked, cancelled, moved, noted,
-- updated; none for a tool that only reads), and the conversation summary reads that instead
-- of knowing tool names (issue 27: a tool is declared in one place). app_run_tool_call takes
-- it as p_call's `outcome`. Calls made before keep the outcome their tool had then.

ALTER TABLE public.tool_calls ADD COLUMN outcome text;

UPDATE public.tool_calls SET outcome = CASE name
    WHEN 'book_tour' THEN 'booked'
    WHEN 'cancel_tour' THEN 'cancelled'
    WHEN 'reschedule_tour' THEN 'moved'
    WHEN 'take_note' THEN 'noted'
    WHEN 'update_contact_info' THEN 'updated'
END;

CREATE OR REPLACE FUNCTION public.app_tool_calls_summarise() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'succeeded' AND NEW.outcome IS NOT NULL THEN
        UPDATE public.conversations SET
            booked = booked OR NEW.outcome = 'booked',
            cancelled = cancelled OR NEW.outcome = 'cancelled',
            moved = moved OR NEW.outcome = 'moved',
            noted = noted OR NEW.outcome = 'noted',
            updated = updated OR NEW.outcome = 'updated'
        WHERE tenant_id = NEW.tenant_id AND id = NEW.conversation_id;
    END IF;
    RETURN NULL;
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
                                   status, result, error, duration_ms, model_content, outcome)
    VALUES (p_tenant, p_call->>'id', p_turn, p_conversation, p_call->>'name', p_call->>'arguments',
            p_call->>'arguments_hash', p_outcome->>'status', p_outcome->'result', p_outcome->>'error',
            (p_outcome->>'duration_ms')::float8, p_outcome->>'model_content', p_call->>'outcome')
    ON CONFLICT (tenant_id, conversation_id, call_id, arguments_hash) DO NOTHING;
    GET DIAGNOSTICS v_claimed = ROW_COUNT;
    IF v_claimed = 1 AND p_outcome->>'status' = 'succeeded' THEN
        -- The tool looked at the day's live bookings of this customer before this call
        -- (`seen`, found by the folded name); bookings of one day take turns here, and one
        -- made since means its answer may be stale: the caller runs the tool again (and finds
        -- that booking if it is the same).
        PERFORM pg_advisory_xact_lock(hashtextextended('tours:' || p_tenant || ':' || (w->>'tour_date'), 0))
        FROM jsonb_array_elements(COALESCE(p_writes->'tours', '[]'::jsonb)) w;
        IF EXISTS (
            SELECT FROM public.tours t, jsonb_array_elements(COALESCE(p_writes->'tours', '[]'::jsonb)) w
            WHERE t.tenant_id = p_tenant AND t.tour_date = (w->>'tour_date')::date AND t.status = 'booked'
              AND t.name_key = w->>'name_key' AND NOT (COALESCE(w->'seen', '[]'::jsonb) ? t.id::text)
        ) THEN
            RAISE EXCEPTION 'a booking of the same customer, day and place was just made'
                USING ERRCODE = 'VA412';
        END IF;
        INSERT INTO public.tours (id, tenant_id, customer_name, name_key, tour_date, location, conversation_id)
        SELECT (w->>'id')::uuid, p_tenant, w->>'customer_name', w->>'name_key', (w->>'tour_date')::date,
               w->>'location', p_conversation
        FROM jsonb_array_elements(COALESCE(p_writes->'tours', '[]'::jsonb)) w;
        -- A cancellation or move applies to the booking as the tool saw it; if another turn
        -- changed it since, the tool runs again on what it is now.
        FOR v_change IN SELECT * FROM jsonb_array_elements(COALESCE(p_writes->'tour_changes', '[]'::jsonb)) LOOP
            IF NOT public.app_apply_tour_change(p_tenant, v_change) THEN
                RAISE EXCEPTION 'the booking changed since the tool looked' USING ERRCODE = 'VA412';
            END IF;
        END LOOP;
        INSERT INTO public.notes (id, tenant_id, content, conversation_id, customer_name)
        SELECT (w->>'id')::uuid, p_tenant, w->>'content', p_conversation, w->>'customer_name'
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
