-- 0015: a turn as light as before its features, and several processes on one database
-- (issue 26).
--
-- * Finding a customer's booking of a day is one indexed look-up: tours keep the folded
--   customer name (`name_key`, computed by the application like the contacts' keys; the
--   Python step `key_tours` fills it for the tours already here). The duplicate checks of
--   app_run_tool_call and app_change_tour compare only that customer's bookings with those
--   the application saw (`seen`), so they no longer read the whole day.
-- * The daily rollups stop serialising a tenant's turns across processes: every turn used to
--   update the same (tenant, day) rows inside its transaction. Each row is now split in 16
--   slots by conversation (a conversation's turns already take turns), and the readers sum
--   the slots (app_analytics and the SQL store's queries already group by day).
-- * The trigram index covers what the text search reads (user and assistant messages), not
--   tool calls and their JSON results, which were most of its upkeep.

ALTER TABLE public.tours ADD COLUMN name_key text;
CREATE INDEX tours_booked_by_name ON public.tours (tenant_id, name_key, tour_date) WHERE status = 'booked';

ALTER TABLE public.activity_days ADD COLUMN slot smallint NOT NULL DEFAULT 0,
    DROP CONSTRAINT activity_days_pkey, ADD PRIMARY KEY (tenant_id, day, slot);
ALTER TABLE public.model_days ADD COLUMN slot smallint NOT NULL DEFAULT 0,
    DROP CONSTRAINT model_days_pkey, ADD PRIMARY KEY (tenant_id, day, slot, model);
ALTER TABLE public.tool_days ADD COLUMN slot smallint NOT NULL DEFAULT 0,
    DROP CONSTRAINT tool_days_pkey, ADD PRIMARY KEY (tenant_id, day, slot, name);
ALTER TABLE public.latency_days ADD COLUMN slot smallint NOT NULL DEFAULT 0,
    DROP CONSTRAINT latency_days_pkey, ADD PRIMARY KEY (tenant_id, day, slot, metric, bucket);

DROP INDEX public.messages_content_trigrams;
CREATE INDEX messages_content_trigrams ON public.messages USING gin (lower(content) extensions.gin_trgm_ops)
    WHERE role IN ('user', 'assistant');

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
        -- The app checked the day's live bookings of this customer (`seen`) for one the move
        -- would duplicate; one booked since it looked means it must look again.
        IF EXISTS (
            SELECT FROM public.tours t
            WHERE t.tenant_id = p_tenant AND t.id <> (p_change->>'tour_id')::uuid AND t.status = 'booked'
              AND t.tour_date = (p_change->>'to_date')::date AND t.name_key = p_change->>'name_key'
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
CREATE OR REPLACE FUNCTION public.app_turns_tally() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_day date := (NEW.started_at AT TIME ZONE 'UTC')::date;
    -- The conversation's slot of its tenant's day (hashtext, as any hash, spreads them).
    v_slot smallint := (hashtext(NEW.conversation_id::text) & 15)::smallint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- A turn counts on the day it started; a conversation once per day it had a turn.
        INSERT INTO public.activity_days AS d (tenant_id, day, slot, conversations, turns)
        VALUES (NEW.tenant_id, v_day, v_slot,
                CASE WHEN EXISTS (SELECT 1 FROM public.turns t WHERE t.tenant_id = NEW.tenant_id
                                  AND t.conversation_id = NEW.conversation_id AND t.id <> NEW.id
                                  AND (t.started_at AT TIME ZONE 'UTC')::date = v_day) THEN 0 ELSE 1 END, 1)
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
    v_day date := (NEW.created_at AT TIME ZONE 'UTC')::date;
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
