-- SQLite schema of the embedded default store; mirrors schema.sql (PostgreSQL) table by table.
PRAGMA foreign_keys = ON;

CREATE TABLE IF NOT EXISTS tenants (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 100),
    system_prompt TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS tenants_name_key ON tenants (lower(name));

CREATE TABLE IF NOT EXISTS conversations (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (tenant_id, id)
);
CREATE INDEX IF NOT EXISTS conversations_tenant_recent ON conversations (tenant_id, updated_at);

CREATE TABLE IF NOT EXISTS turns (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL,
    conversation_id   TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    user_message      TEXT NOT NULL,
    reply             TEXT,
    model             TEXT,
    prompt_tokens     INTEGER,
    completion_tokens INTEGER,
    model_calls       INTEGER,
    latency_ms        REAL,
    error             TEXT,
    started_at        TEXT NOT NULL,
    finished_at       TEXT,
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS turns_conversation ON turns (tenant_id, conversation_id, started_at);

CREATE TABLE IF NOT EXISTS messages (
    id              INTEGER PRIMARY KEY,
    tenant_id       TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    turn_id         TEXT,
    role            TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'tool')),
    content         TEXT NOT NULL,
    tool_calls      TEXT,
    tool_call_id    TEXT,
    created_at      TEXT NOT NULL,
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS messages_conversation ON messages (tenant_id, conversation_id, id);

CREATE TABLE IF NOT EXISTS tool_calls (
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    call_id         TEXT NOT NULL,
    turn_id         TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    name            TEXT NOT NULL,
    arguments       TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    result          TEXT,
    error           TEXT,
    duration_ms     REAL,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (tenant_id, call_id)
);
CREATE INDEX IF NOT EXISTS tool_calls_turn ON tool_calls (tenant_id, turn_id);

CREATE TABLE IF NOT EXISTS tours (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    customer_name   TEXT NOT NULL,
    tour_date       TEXT NOT NULL,
    location        TEXT NOT NULL,
    conversation_id TEXT,
    created_at      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tours_tenant_date ON tours (tenant_id, tour_date, created_at);

CREATE TABLE IF NOT EXISTS notes (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    content         TEXT NOT NULL,
    conversation_id TEXT,
    created_at      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notes_tenant_recent ON notes (tenant_id, created_at);

CREATE TABLE IF NOT EXISTS contacts (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL,
    email      TEXT,
    phone      TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (tenant_id, name_key)
);

CREATE TABLE IF NOT EXISTS prompt_versions (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    prompt     TEXT NOT NULL,
    author     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, version)
);

CREATE TABLE IF NOT EXISTS events (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_tenant_seq ON events (tenant_id, seq);

CREATE TABLE IF NOT EXISTS listener_runs (
    event_id    TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    listener    TEXT NOT NULL,
    tenant_id   TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    duration_ms REAL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (event_id, listener)
);
CREATE INDEX IF NOT EXISTS listener_runs_status ON listener_runs (status, updated_at);

CREATE TABLE IF NOT EXISTS outbox (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (event_id, kind)
);
CREATE INDEX IF NOT EXISTS outbox_tenant_recent ON outbox (tenant_id, created_at);
