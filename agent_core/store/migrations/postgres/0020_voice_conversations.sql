-- 0020: the conversation log's channel is `voice` for a conversation whose first message was
-- spoken (issue 29): its turns keep the channel they came through (api, dashboard) and their
-- spoken mark (migration 0019); the summary says how the conversation began.

CREATE OR REPLACE FUNCTION public.app_summarise_conversation(p_tenant uuid, p_conversation uuid)
RETURNS void LANGUAGE sql AS $$
    UPDATE public.conversations c SET
        turn_count = s.turn_count, unanswered = s.unanswered, tokens = s.tokens,
        duration_ms = s.duration_ms,
        channel = COALESCE((SELECT CASE WHEN f.spoken THEN 'voice' ELSE f.channel END FROM public.turns f
                            WHERE f.tenant_id = p_tenant AND f.conversation_id = p_conversation
                            ORDER BY f.started_at, f.id LIMIT 1),
                           'unknown'),
        started_by = (SELECT f.started_by FROM public.turns f WHERE f.tenant_id = p_tenant
                      AND f.conversation_id = p_conversation ORDER BY f.started_at, f.id LIMIT 1)
    FROM (
        SELECT count(*) AS turn_count,
               count(*) FILTER (WHERE t.status = 'failed' AND NOT EXISTS (
                   SELECT 1 FROM public.turns r WHERE r.tenant_id = t.tenant_id
                   AND r.conversation_id = t.conversation_id AND r.retry_of = t.id)) AS unanswered,
               COALESCE(sum(COALESCE(t.prompt_tokens, 0) + COALESCE(t.completion_tokens, 0)), 0) AS tokens,
               COALESCE(sum(t.latency_ms), 0) AS duration_ms
        FROM public.turns t WHERE t.tenant_id = p_tenant AND t.conversation_id = p_conversation
    ) s
    WHERE c.tenant_id = p_tenant AND c.id = p_conversation;
$$;

UPDATE public.conversations c SET channel = 'voice'
WHERE (SELECT f.spoken FROM public.turns f WHERE f.tenant_id = c.tenant_id AND f.conversation_id = c.id
       ORDER BY f.started_at, f.id LIMIT 1);
