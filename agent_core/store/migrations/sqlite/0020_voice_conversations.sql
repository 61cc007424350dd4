-- 0020: the conversation log's channel is `voice` for a conversation whose first message was
-- spoken (issue 29; see the PostgreSQL migration of the same number).

DROP TRIGGER turns_summarise_insert;
-- Recomputed, not incremented: a trigger that runs twice, or a turn closed by the reaper,
-- still leaves exactly what the turns say.
CREATE TRIGGER turns_summarise_insert AFTER INSERT ON turns BEGIN
    UPDATE conversations SET
        turn_count = (SELECT count(*) FROM turns t WHERE t.tenant_id = NEW.tenant_id
                      AND t.conversation_id = NEW.conversation_id),
        unanswered = (SELECT count(*) FROM turns t WHERE t.tenant_id = NEW.tenant_id
                      AND t.conversation_id = NEW.conversation_id AND t.status = 'failed'
                      AND NOT EXISTS (SELECT 1 FROM turns r WHERE r.tenant_id = t.tenant_id
                                      AND r.conversation_id = t.conversation_id AND r.retry_of = t.id)),
        tokens = (SELECT COALESCE(sum(COALESCE(t.prompt_tokens, 0) + COALESCE(t.completion_tokens, 0)), 0)
                  FROM turns t WHERE t.tenant_id = NEW.tenant_id AND t.conversation_id = NEW.conversation_id),
        duration_ms = (SELECT COALESCE(sum(t.latency_ms), 0) FROM turns t WHERE t.tenant_id = NEW.tenant_id
                       AND t.conversation_id = NEW.conversation_id),
        channel = COALESCE((SELECT CASE WHEN f.spoken THEN 'voice' ELSE f.channel END FROM turns f
                            WHERE f.tenant_id = NEW.tenant_id AND f.conversation_id = NEW.conversation_id
                            ORDER BY f.started_at, f.id LIMIT 1),
                           'unknown'),
        started_by = (SELECT f.started_by FROM turns f WHERE f.tenant_id = NEW.tenant_id
                      AND f.conversation_id = NEW.conversation_id ORDER BY f.started_at, f.id LIMIT 1)
    WHERE tenant_id = NEW.tenant_id AND id = NEW.conversation_id;
END;

UPDATE conversations SET channel = 'voice'
WHERE (SELECT f.spoken FROM turns f WHERE f.tenant_id = conversations.tenant_id
       AND f.conversation_id = conversations.id ORDER BY f.started_at, f.id LIMIT 1) = 1;
