-- 0003: exactly once, nothing lost (see the PostgreSQL migration of the same number).
-- SQLite cannot change a primary key in place, so tool_calls is rebuilt; `sha256` is the
-- store's own SQL function (the same fingerprint the code computes).

CREATE TABLE tool_calls_0003 (
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    call_id         TEXT NOT NULL,
    turn_id         TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    name            TEXT NOT NULL,
    arguments       TEXT NOT NULL,
    arguments_hash  TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    result          TEXT,
    error           TEXT,
    duration_ms     REAL,
    created_at      TEXT NOT NULL,
    model_content   TEXT,
    PRIMARY KEY (tenant_id, conversation_id, call_id, arguments_hash)
);
INSERT INTO tool_calls_0003 (tenant_id, call_id, turn_id, conversation_id, name, arguments, arguments_hash,
                             status, result, error, duration_ms, created_at, model_content)
SELECT tenant_id, call_id, turn_id, conversation_id, name, arguments, sha256(arguments),
       status, result, error, duration_ms, created_at, model_content
FROM tool_calls;
DROP TABLE tool_calls;
ALTER TABLE tool_calls_0003 RENAME TO tool_calls;
CREATE INDEX tool_calls_turn ON tool_calls (tenant_id, turn_id);

ALTER TABLE turns ADD COLUMN lease_expires_at TEXT;
CREATE INDEX turns_running_lease ON turns (lease_expires_at) WHERE status = 'running';

CREATE TABLE idempotency_keys (
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key              TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    fingerprint      TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('running', 'done')),
    response_status  INTEGER,
    response         TEXT,
    lease_expires_at TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, key)
);
