-- 0010: analytics read daily rollups instead of every turn (see the PostgreSQL migration of the
-- same number). Triggers add each turn and tool call to its tenant's UTC day when it starts
-- and when it ends; latencies go into log-scale buckets, 16 per doubling, so a percentile is
-- read from at most a few hundred rows whatever the number of turns.
--
-- A latency's bucket is floor(log2(max(ms, 0.01)) * 16): 23.083120654223414 = 16 / ln 2.

CREATE TABLE activity_days (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    day           TEXT NOT NULL,
    conversations INTEGER NOT NULL DEFAULT 0,
    turns         INTEGER NOT NULL DEFAULT 0,
    failed_turns  INTEGER NOT NULL DEFAULT 0,
    tokens        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day)
);

CREATE TABLE model_days (
    tenant_id         TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    day               TEXT NOT NULL,
    model             TEXT NOT NULL,
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, model)
);

CREATE TABLE tool_days (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    day       TEXT NOT NULL,
    name      TEXT NOT NULL,
    calls     INTEGER NOT NULL DEFAULT 0,
    failed    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, name)
);

CREATE TABLE latency_days (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    day       TEXT NOT NULL,
    metric    TEXT NOT NULL CHECK (metric IN ('turn', 'model', 'tools', 'store', 'tool_call')),
    bucket    INTEGER NOT NULL,
    count     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, metric, bucket)
);

-- A turn counts on the day it started; a conversation once per day it had a turn. One
-- trigger, so its statements run in this order (a turn may be inserted finished).
CREATE TRIGGER turns_tally_start AFTER INSERT ON turns BEGIN
    INSERT INTO activity_days (tenant_id, day, conversations, turns, failed_turns, tokens)
    VALUES (NEW.tenant_id, substr(NEW.started_at, 1, 10),
            NOT EXISTS (SELECT 1 FROM turns t WHERE t.tenant_id = NEW.tenant_id
                        AND t.conversation_id = NEW.conversation_id AND t.id <> NEW.id
                        AND substr(t.started_at, 1, 10) = substr(NEW.started_at, 1, 10)),
            1, NEW.status = 'failed', COALESCE(NEW.prompt_tokens, 0) + COALESCE(NEW.completion_tokens, 0))
    ON CONFLICT (tenant_id, day) DO UPDATE SET
        conversations = conversations + excluded.conversations, turns = turns + 1,
        failed_turns = failed_turns + excluded.failed_turns, tokens = tokens + excluded.tokens;
    INSERT INTO model_days (tenant_id, day, model, prompt_tokens, completion_tokens)
    SELECT NEW.tenant_id, substr(NEW.started_at, 1, 10), COALESCE(NEW.model, 'unknown'),
           COALESCE(NEW.prompt_tokens, 0), COALESCE(NEW.completion_tokens, 0)
    WHERE NEW.status <> 'running'
    ON CONFLICT (tenant_id, day, model) DO UPDATE SET
        prompt_tokens = prompt_tokens + excluded.prompt_tokens,
        completion_tokens = completion_tokens + excluded.completion_tokens;
    INSERT INTO latency_days (tenant_id, day, metric, bucket, count)
    SELECT NEW.tenant_id, substr(NEW.started_at, 1, 10), metric,
           CAST(floor(ln(max(ms, 0.01)) * 23.083120654223414) AS INTEGER), 1
    FROM (SELECT 'turn' AS metric, NEW.latency_ms AS ms
          UNION ALL SELECT 'model', NEW.model_ms WHERE NEW.tools_ms IS NOT NULL
          UNION ALL SELECT 'tools', NEW.tools_ms WHERE NEW.model_ms IS NOT NULL
          UNION ALL SELECT 'store', NEW.latency_ms - NEW.model_ms - NEW.tools_ms)
    WHERE ms IS NOT NULL AND NEW.status <> 'running'
    ON CONFLICT (tenant_id, day, metric, bucket) DO UPDATE SET count = count + 1;
END;

-- What a turn adds when it ends.
CREATE TRIGGER turns_tally_end AFTER UPDATE OF status ON turns
WHEN OLD.status = 'running' AND NEW.status <> 'running' BEGIN
    UPDATE activity_days SET
        failed_turns = failed_turns + (NEW.status = 'failed'),
        tokens = tokens + COALESCE(NEW.prompt_tokens, 0) + COALESCE(NEW.completion_tokens, 0)
    WHERE tenant_id = NEW.tenant_id AND day = substr(NEW.started_at, 1, 10);
    INSERT INTO model_days (tenant_id, day, model, prompt_tokens, completion_tokens)
    VALUES (NEW.tenant_id, substr(NEW.started_at, 1, 10), COALESCE(NEW.model, 'unknown'),
            COALESCE(NEW.prompt_tokens, 0), COALESCE(NEW.completion_tokens, 0))
    ON CONFLICT (tenant_id, day, model) DO UPDATE SET
        prompt_tokens = prompt_tokens + excluded.prompt_tokens,
        completion_tokens = completion_tokens + excluded.completion_tokens;
    INSERT INTO latency_days (tenant_id, day, metric, bucket, count)
    SELECT NEW.tenant_id, substr(NEW.started_at, 1, 10), metric,
           CAST(floor(ln(max(ms, 0.01)) * 23.083120654223414) AS INTEGER), 1
    FROM (SELECT 'turn' AS metric, NEW.latency_ms AS ms
          UNION ALL SELECT 'model', NEW.model_ms WHERE NEW.tools_ms IS NOT NULL
          UNION ALL SELECT 'tools', NEW.tools_ms WHERE NEW.model_ms IS NOT NULL
          UNION ALL SELECT 'store', NEW.latency_ms - NEW.model_ms - NEW.tools_ms)
    WHERE ms IS NOT NULL
    ON CONFLICT (tenant_id, day, metric, bucket) DO UPDATE SET count = count + 1;
END;

-- A tool call counts on the day it was made; its failure and duration when it ends.
CREATE TRIGGER tool_calls_tally AFTER INSERT ON tool_calls BEGIN
    INSERT INTO tool_days (tenant_id, day, name, calls, failed)
    VALUES (NEW.tenant_id, substr(NEW.created_at, 1, 10), NEW.name, 1, NEW.status = 'failed')
    ON CONFLICT (tenant_id, day, name) DO UPDATE SET calls = calls + 1, failed = failed + excluded.failed;
    INSERT INTO latency_days (tenant_id, day, metric, bucket, count)
    SELECT NEW.tenant_id, substr(NEW.created_at, 1, 10), 'tool_call',
           CAST(floor(ln(max(NEW.duration_ms, 0.01)) * 23.083120654223414) AS INTEGER), 1
    WHERE NEW.status <> 'running' AND NEW.duration_ms IS NOT NULL
    ON CONFLICT (tenant_id, day, metric, bucket) DO UPDATE SET count = count + 1;
END;

CREATE TRIGGER tool_calls_tally_end AFTER UPDATE OF status ON tool_calls
WHEN OLD.status = 'running' AND NEW.status <> 'running' BEGIN
    UPDATE tool_days SET failed = failed + (NEW.status = 'failed')
    WHERE tenant_id = NEW.tenant_id AND day = substr(NEW.created_at, 1, 10) AND name = NEW.name;
    INSERT INTO latency_days (tenant_id, day, metric, bucket, count)
    SELECT NEW.tenant_id, substr(NEW.created_at, 1, 10), 'tool_call',
           CAST(floor(ln(max(NEW.duration_ms, 0.01)) * 23.083120654223414) AS INTEGER), 1
    WHERE NEW.duration_ms IS NOT NULL
    ON CONFLICT (tenant_id, day, metric, bucket) DO UPDATE SET count = count + 1;
END;

-- What exists: the same rollups, computed once.
INSERT INTO activity_days (tenant_id, day, conversations, turns, failed_turns, tokens)
SELECT tenant_id, substr(started_at, 1, 10), count(DISTINCT conversation_id), count(*),
       sum(status = 'failed'), sum(COALESCE(prompt_tokens, 0) + COALESCE(completion_tokens, 0))
FROM turns GROUP BY 1, 2;
INSERT INTO model_days (tenant_id, day, model, prompt_tokens, completion_tokens)
SELECT tenant_id, substr(started_at, 1, 10), COALESCE(model, 'unknown'), sum(COALESCE(prompt_tokens, 0)),
       sum(COALESCE(completion_tokens, 0))
FROM turns WHERE status <> 'running' GROUP BY 1, 2, 3;
INSERT INTO tool_days (tenant_id, day, name, calls, failed)
SELECT tenant_id, substr(created_at, 1, 10), name, count(*), sum(status = 'failed') FROM tool_calls GROUP BY 1, 2, 3;
INSERT INTO latency_days (tenant_id, day, metric, bucket, count)
SELECT tenant_id, day, metric, CAST(floor(ln(max(ms, 0.01)) * 23.083120654223414) AS INTEGER), count(*)
FROM (SELECT tenant_id, substr(started_at, 1, 10) AS day, 'turn' AS metric, latency_ms AS ms
      FROM turns WHERE status <> 'running'
      UNION ALL SELECT tenant_id, substr(started_at, 1, 10), 'model', model_ms
      FROM turns WHERE status <> 'running' AND tools_ms IS NOT NULL
      UNION ALL SELECT tenant_id, substr(started_at, 1, 10), 'tools', tools_ms
      FROM turns WHERE status <> 'running' AND model_ms IS NOT NULL
      UNION ALL SELECT tenant_id, substr(started_at, 1, 10), 'store', latency_ms - model_ms - tools_ms
      FROM turns WHERE status <> 'running'
      UNION ALL SELECT tenant_id, substr(created_at, 1, 10), 'tool_call', duration_ms
      FROM tool_calls WHERE status <> 'running')
WHERE ms IS NOT NULL
GROUP BY 1, 2, 3, 4;
