-- 0007: safe prompt changes (see the PostgreSQL migration of the same number). The Python
-- step `seed_demo_scenarios` gives the demo tenants their scenarios.

CREATE TABLE prompt_drafts (
    tenant_id    TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    prompt       TEXT NOT NULL,
    base_version INTEGER NOT NULL,
    author       TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

CREATE TABLE scenarios (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    spec       TEXT NOT NULL,
    author     TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (tenant_id, name)
);

CREATE TABLE scenario_runs (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    target     TEXT NOT NULL,
    model      TEXT NOT NULL,
    passed     INTEGER NOT NULL,
    summary    TEXT NOT NULL,
    report     TEXT NOT NULL,
    started_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX scenario_runs_recent ON scenario_runs (tenant_id, created_at DESC);
