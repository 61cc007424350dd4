-- 0028: two indexes nothing reads are dropped (issue 26). turns_tenant_started and
-- tool_calls_tenant_created served analytics when they read a tenant's turns and tool calls
-- by time (migration 0008); since migration 0010 analytics read the daily rollups, and every
-- read of turns or tool calls goes by conversation, id or lease. Each turn paid for the one,
-- each tool call for the other, in CPU and in a page written with its commit.

DROP INDEX public.turns_tenant_started;
DROP INDEX public.tool_calls_tenant_created;
