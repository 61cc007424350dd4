-- 0005: the life of a booking (see the PostgreSQL migration of the same number).

ALTER TABLE tours ADD COLUMN status TEXT NOT NULL DEFAULT 'booked' CHECK (status IN ('booked', 'cancelled'));

CREATE TABLE tour_changes (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    tour_id         TEXT NOT NULL REFERENCES tours (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('cancelled', 'rescheduled')),
    from_date       TEXT NOT NULL,
    from_location   TEXT NOT NULL,
    to_date         TEXT,
    to_location     TEXT,
    by_kind         TEXT NOT NULL CHECK (by_kind IN ('agent', 'operator')),
    by_label        TEXT NOT NULL,
    conversation_id TEXT,
    created_at      TEXT NOT NULL
);
CREATE INDEX tour_changes_tour ON tour_changes (tenant_id, tour_id, created_at);

ALTER TABLE tenants ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
