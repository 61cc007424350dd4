-- 0008: the conversation log and analytics; a failed turn can be retried (see the PostgreSQL migration of
-- the same number).

ALTER TABLE turns ADD COLUMN retry_of TEXT;
ALTER TABLE turns ADD COLUMN channel TEXT NOT NULL DEFAULT 'unknown'
    CHECK (channel IN ('dashboard', 'api', 'cli', 'unknown'));
ALTER TABLE turns ADD COLUMN started_by TEXT;
ALTER TABLE turns ADD COLUMN model_ms REAL;
ALTER TABLE turns ADD COLUMN tools_ms REAL;
-- Analytics read a tenant's turns and tool calls by time.
CREATE INDEX turns_tenant_started ON turns (tenant_id, started_at);
CREATE INDEX tool_calls_tenant_created ON tool_calls (tenant_id, created_at);
