-- 0027: the daily rollups are kept in batches (issue 26; nothing changes on PostgreSQL, whose
-- rollups are split per slot: migration 0015). Each turn used to upsert some nine rollup rows
-- as it started, ran its tools and ended: about 55 µs of its CPU, a tenth of a one-tool turn
-- on `:memory:`. Now a turn or tool call that starts or ends leaves one row in
-- `tallies_pending`, and the store folds them into the rollups many at a time (with the
-- text index: every 64 finished turns, `SqliteStore`) and before every read of analytics, so
-- Analytics still count every turn. What is counted, and on which day, is as before.

CREATE TABLE tallies_pending (
    seq         INTEGER PRIMARY KEY,
    turn_id     TEXT NOT NULL,
    started     INTEGER NOT NULL CHECK (started IN (0, 1)),
    ended       INTEGER NOT NULL CHECK (ended IN (0, 1)),
    -- A tool call's (NULL for the turn itself): what its turn's row does not hold.
    tool        TEXT,
    failed      INTEGER,
    duration_ms REAL,
    created_day TEXT
);

DROP TRIGGER turns_tally_start;
DROP TRIGGER turns_tally_end;
DROP TRIGGER tool_calls_tally;
DROP TRIGGER tool_calls_tally_end;

CREATE TRIGGER turns_tally_start AFTER INSERT ON turns BEGIN
    INSERT INTO tallies_pending (turn_id, started, ended) VALUES (NEW.id, 1, NEW.status <> 'running');
END;

CREATE TRIGGER turns_tally_end AFTER UPDATE OF status ON turns
WHEN OLD.status = 'running' AND NEW.status <> 'running' BEGIN
    INSERT INTO tallies_pending (turn_id, started, ended) VALUES (NEW.id, 0, 1);
END;

CREATE TRIGGER tool_calls_tally AFTER INSERT ON tool_calls BEGIN
    INSERT INTO tallies_pending (turn_id, started, ended, tool, failed, duration_ms, created_day)
    VALUES (NEW.turn_id, 1, NEW.status <> 'running', NEW.name, NEW.status = 'failed', NEW.duration_ms,
            substr(NEW.created_at, 1, 10));
END;

CREATE TRIGGER tool_calls_tally_end AFTER UPDATE OF status ON tool_calls
WHEN OLD.status = 'running' AND NEW.status <> 'running' BEGIN
    INSERT INTO tallies_pending (turn_id, started, ended, tool, failed, duration_ms, created_day)
    VALUES (NEW.turn_id, 0, 1, NEW.name, NEW.status = 'failed', NEW.duration_ms,
            substr(NEW.created_at, 1, 10));
END;
