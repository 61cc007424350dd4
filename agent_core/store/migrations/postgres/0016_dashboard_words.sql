-- 0016: what the dashboard shows (issue 28). A conversation's outcome "failed" also finds
-- the ones where a tool call failed (a refused booking the caller was told about), not only
-- those with a message left unanswered: the log's query for the Supabase store, as
-- conversation_log.py asks it. And the demo clinic speaks of appointments (its settings, when
-- nobody has changed them yet).

CREATE OR REPLACE FUNCTION public.app_search_conversations(
    p_tenant uuid, p_text text, p_customer text, p_low timestamptz, p_high timestamptz, p_outcome text,
    p_tool text, p_channel text, p_limit integer, p_offset integer
) RETURNS TABLE (
    id uuid, created_at timestamptz, updated_at timestamptz, channel text, started_by text,
    first_message text, turns bigint,
    failed_turns bigint, tokens bigint, duration_ms double precision, booked boolean, cancelled boolean,
    moved boolean, noted boolean, updated boolean, total bigint
) LANGUAGE sql STABLE AS $$
    SELECT c.id, c.created_at, c.updated_at, c.channel, COALESCE(c.started_by, ''), c.first_message,
           c.turn_count::bigint, c.unanswered::bigint, c.tokens, c.duration_ms,
           c.booked, c.cancelled, c.moved, c.noted, c.updated, count(*) OVER ()
    FROM public.conversations c
    WHERE c.tenant_id = p_tenant
      AND (p_text IS NULL OR c.id IN (
          SELECT m.conversation_id FROM public.messages m WHERE m.tenant_id = p_tenant
            AND m.role IN ('user', 'assistant') AND lower(m.content) LIKE p_text ESCAPE '\'))
      AND (p_customer IS NULL OR c.id IN (
          SELECT k.conversation_id FROM public.tool_calls k WHERE k.tenant_id = p_tenant
            AND lower(k.arguments) LIKE p_customer ESCAPE '\'))
      AND (p_tool IS NULL OR c.id IN (
          SELECT k.conversation_id FROM public.tool_calls k WHERE k.tenant_id = p_tenant AND k.name = p_tool))
      AND (p_channel IS NULL OR c.channel = p_channel)
      AND (p_low IS NULL OR c.created_at >= p_low)
      AND (p_high IS NULL OR c.created_at < p_high)
      AND (p_outcome IS NULL OR CASE p_outcome
          WHEN 'failed' THEN c.unanswered > 0 OR EXISTS (
              SELECT 1 FROM public.tool_calls k WHERE k.tenant_id = p_tenant AND k.conversation_id = c.id
                AND k.status = 'failed')
          WHEN 'booked' THEN c.booked WHEN 'cancelled' THEN c.cancelled
          WHEN 'moved' THEN c.moved WHEN 'noted' THEN c.noted WHEN 'updated' THEN c.updated END)
    ORDER BY c.updated_at DESC, c.id LIMIT p_limit OFFSET p_offset;
$$;

UPDATE public.tenants SET settings = '{"booking_noun": "appointment", "booking_noun_plural": "appointments", "example": "Book an appointment for Ana Silva on 2027-03-15 in Porto."}'::jsonb
WHERE id = '00000000-0000-0000-0000-000000000002' AND settings = '{}'::jsonb;
