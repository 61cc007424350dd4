-- 0002: keep the exact text the model read as a tool call's result. A replayed call returns
-- these bytes, so the model sees the same text on every backend (jsonb reorders keys, and
-- the Supabase function used to format the text itself). The version table gets the same
-- protection as every other table.

ALTER TABLE public.tool_calls ADD COLUMN model_content text;

-- Calls made before this release: the text is the result message stored with the call.
UPDATE public.tool_calls t SET model_content = COALESCE(
    (SELECT m.content FROM public.messages m
      WHERE m.tenant_id = t.tenant_id AND m.conversation_id = t.conversation_id
        AND m.role = 'tool' AND m.tool_call_id = t.call_id
      ORDER BY m.id LIMIT 1),
    CASE WHEN t.status = 'succeeded' THEN jsonb_build_object('ok', true, 'result', t.result)::text
         ELSE jsonb_build_object('ok', false, 'error', t.error)::text END)
WHERE t.status <> 'running';

ALTER TABLE public.tool_calls ADD CONSTRAINT tool_calls_finished_have_content
    CHECK (status = 'running' OR model_content IS NOT NULL);

CREATE OR REPLACE FUNCTION public.app_run_tool_call(
    p_tenant uuid, p_conversation uuid, p_turn uuid, p_call jsonb, p_outcome jsonb, p_writes jsonb
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_claimed integer;
    v_record public.tool_calls;
BEGIN
    INSERT INTO public.tool_calls (tenant_id, call_id, turn_id, conversation_id, name, arguments,
                                   status, result, error, duration_ms, model_content)
    VALUES (p_tenant, p_call->>'id', p_turn, p_conversation, p_call->>'name', p_call->>'arguments',
            p_outcome->>'status', p_outcome->'result', p_outcome->>'error',
            (p_outcome->>'duration_ms')::float8, p_outcome->>'model_content')
    ON CONFLICT (tenant_id, call_id) DO NOTHING;
    GET DIAGNOSTICS v_claimed = ROW_COUNT;
    IF v_claimed = 1 AND p_outcome->>'status' = 'succeeded' THEN
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
    SELECT * INTO v_record FROM public.tool_calls WHERE tenant_id = p_tenant AND call_id = p_call->>'id';
    INSERT INTO public.messages (tenant_id, conversation_id, turn_id, role, content, tool_call_id)
    VALUES (p_tenant, p_conversation, p_turn, 'tool', v_record.model_content, p_call->>'id');
    RETURN to_jsonb(v_record) || jsonb_build_object('replayed', v_claimed = 0);
END
$$;

ALTER TABLE public.schema_migrations ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON public.schema_migrations FROM anon, authenticated;
GRANT SELECT ON public.schema_migrations TO service_role;
