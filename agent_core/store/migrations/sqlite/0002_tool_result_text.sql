-- 0002: keep the exact text the model read as a tool call's result; a replayed call returns
-- these bytes, so the model sees the same text on every backend. (SQLite cannot add the
-- CHECK that PostgreSQL gets without rebuilding the table; the store always sets it.)

ALTER TABLE tool_calls ADD COLUMN model_content TEXT;

-- Calls made before this release: the text is the result message stored with the call.
UPDATE tool_calls SET model_content = COALESCE(
    (SELECT m.content FROM messages m
      WHERE m.tenant_id = tool_calls.tenant_id AND m.conversation_id = tool_calls.conversation_id
        AND m.role = 'tool' AND m.tool_call_id = tool_calls.call_id
      ORDER BY m.id LIMIT 1),
    CASE WHEN status = 'succeeded' THEN json_object('ok', json('true'), 'result', json(result))
         ELSE json_object('ok', json('false'), 'error', error) END)
WHERE status <> 'running';
