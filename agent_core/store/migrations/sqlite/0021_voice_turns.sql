-- 0021: a spoken turn's timings and recordings (issue 29; see the PostgreSQL migration of the
-- same number). SQLite cannot change a CHECK in place: latency_days is copied into a table
-- with the new metrics and takes its name back (legacy_alter_table, so the triggers that
-- write to latency_days are left as they are and find it again).

CREATE TABLE voice_turns (
    tenant_id       TEXT NOT NULL,
    turn_id         TEXT NOT NULL REFERENCES turns (id) ON DELETE CASCADE,
    conversation_id TEXT NOT NULL,
    listening_ms    REAL NOT NULL CHECK (listening_ms >= 0),
    transcribing_ms REAL NOT NULL CHECK (transcribing_ms >= 0),
    answering_ms    REAL CHECK (answering_ms >= 0),
    first_audio_ms  REAL CHECK (first_audio_ms >= 0),
    audio_type      TEXT CHECK (audio_type IN ('audio/ogg', 'audio/wav')),
    caller_audio    BLOB,
    reply_audio     BLOB,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (tenant_id, turn_id),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX voice_turns_conversation ON voice_turns (tenant_id, conversation_id);
CREATE INDEX voice_turns_recorded ON voice_turns (tenant_id, created_at) WHERE audio_type IS NOT NULL;

PRAGMA legacy_alter_table = ON;
CREATE TABLE latency_days_new (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    day       TEXT NOT NULL,
    metric    TEXT NOT NULL CHECK (metric IN ('turn', 'model', 'tools', 'store', 'tool_call',
                                              'listening', 'transcribing', 'answering', 'first_audio')),
    bucket    INTEGER NOT NULL,
    count     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, metric, bucket)
);
INSERT INTO latency_days_new (tenant_id, day, metric, bucket, count)
SELECT tenant_id, day, metric, bucket, count FROM latency_days;
DROP TABLE latency_days;
ALTER TABLE latency_days_new RENAME TO latency_days;
PRAGMA legacy_alter_table = OFF;

CREATE TRIGGER voice_turns_tally AFTER INSERT ON voice_turns BEGIN
    INSERT INTO latency_days (tenant_id, day, metric, bucket, count)
    SELECT NEW.tenant_id, (SELECT COALESCE(t.day, substr(t.started_at, 1, 10)) FROM turns t WHERE t.id = NEW.turn_id),
           metric, CAST(floor(ln(max(ms, 0.01)) * 23.083120654223414) AS INTEGER), 1
    FROM (SELECT 'listening' AS metric, NEW.listening_ms AS ms
          UNION ALL SELECT 'transcribing', NEW.transcribing_ms
          UNION ALL SELECT 'answering', NEW.answering_ms
          UNION ALL SELECT 'first_audio', NEW.first_audio_ms)
    WHERE ms IS NOT NULL
    ON CONFLICT (tenant_id, day, metric, bucket) DO UPDATE SET count = count + 1;
END;
