-- 0026: a tool call's row is written to one index fewer (issue 26). tool_calls_conversation
-- (tenant_id, conversation_id) is the start of the key every call already has (tenant_id,
-- conversation_id, call_id, arguments_hash), which serves the same look-ups; each tool call
-- paid for the second copy in CPU and in a page written with every commit.

DROP INDEX public.tool_calls_conversation;
