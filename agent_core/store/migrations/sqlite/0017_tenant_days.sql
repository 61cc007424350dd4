-- 0017: Analytics count in the business's own days (issue 28; see the PostgreSQL migration of
-- the same number). A turn keeps the day it started on where its tenant is (`day`, written by
-- the store from the tenant's timezone), and the rollup triggers count the turn and its tool
-- calls on that day. Turns from before keep their UTC day (`day` is NULL), as they were counted.

ALTER TABLE turns ADD COLUMN day TEXT;

DROP TRIGGER turns_tally_start;
DROP TRIGGER turns_tally_end;
DROP TRIGGER tool_calls_tally;
DROP TRIGGER tool_calls_tally_end;

-- A turn counts on the day it started; a conversation once per day it had a turn. One
-- trigger, so its statements run in this order (a turn may be inserted finished).
CREATE TRIGGER turns_tally_start AFTER INSERT ON turns BEGIN
    INSERT INTO activity_days (tenant_id, day, conversations, turns, failed_turns, tokens)
    VALUES (NEW.tenant_id, COALESCE(NEW.day, substr(NEW.started_at, 1, 10)),
            NOT EXISTS (SELECT 1 FROM turns t WHERE t.tenant_id = NEW.tenant_id
                        AND t.conversation_id = NEW.conversation_id AND t.id <> NEW.id
                        AND COALESCE(t.day, substr(t.started_at, 1, 10))
                            = COALESCE(NEW.day, substr(NEW.started_at, 1, 10))),
            1, NEW.status = 'failed', COALESCE(NEW.prompt_tokens, 0) + COALESCE(NEW.completion_tokens, 0))
    ON CONFLICT (tenant_id, day) DO UPDATE SET
        conversations = conversations + excluded.conversations, turns = turns + 1,
        failed_turns = failed_turns + excluded.failed_turns, tokens = tokens + excluded.tokens;
    INSERT INTO model_days (tenant_id, day, model, prompt_tokens, completion_tokens)
    SELECT NEW.tenant_id, COALESCE(NEW.day, substr(NEW.started_at, 1, 10)), COALESCE(NEW.model, 'unknown'),
           COALESCE(NEW.prompt_tokens, 0), COALESCE(NEW.completion_tokens, 0)
    WHERE NEW.status <> 'running'
    ON CONFLICT (tenant_id, day, model) DO UPDATE SET
        prompt_tokens = prompt_tokens + excluded.prompt_tokens,
        completion_tokens = completion_tokens + excluded.completion_tokens;
    INSERT INTO latency_days (tenant_id, day, metric, bucket, count)
    SELECT NEW.tenant_id, COALESCE(NEW.day, substr(NEW.started_at, 1, 10)), metric,
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
        tokens = tokens + COALESCE(NEW.prompt_tokens, 0) + COALESCE(NEW.completion_tokens, 0),
        withheld_claims = withheld_claims + COALESCE(json_array_length(NEW.withheld_claims), 0)
    WHERE tenant_id = NEW.tenant_id AND day = COALESCE(NEW.day, substr(NEW.started_at, 1, 10));
    INSERT INTO model_days (tenant_id, day, model, prompt_tokens, completion_tokens)
    VALUES (NEW.tenant_id, COALESCE(NEW.day, substr(NEW.started_at, 1, 10)), COALESCE(NEW.model, 'unknown'),
            COALESCE(NEW.prompt_tokens, 0), COALESCE(NEW.completion_tokens, 0))
    ON CONFLICT (tenant_id, day, model) DO UPDATE SET
        prompt_tokens = prompt_tokens + excluded.prompt_tokens,
        completion_tokens = completion_tokens + excluded.completion_tokens;
    INSERT INTO latency_days (tenant_id, day, metric, bucket, count)
    SELECT NEW.tenant_id, COALESCE(NEW.day, substr(NEW.started_at, 1, 10)), metric,
           CAST(floor(ln(max(ms, 0.01)) * 23.083120654223414) AS INTEGER), 1
    FROM (SELECT 'turn' AS metric, NEW.latency_ms AS ms
          UNION ALL SELECT 'model', NEW.model_ms WHERE NEW.tools_ms IS NOT NULL
          UNION ALL SELECT 'tools', NEW.tools_ms WHERE NEW.model_ms IS NOT NULL
          UNION ALL SELECT 'store', NEW.latency_ms - NEW.model_ms - NEW.tools_ms)
    WHERE ms IS NOT NULL
    ON CONFLICT (tenant_id, day, metric, bucket) DO UPDATE SET count = count + 1;
END;

-- A tool call counts on its turn's day; its failure and duration when it ends.
CREATE TRIGGER tool_calls_tally AFTER INSERT ON tool_calls BEGIN
    INSERT INTO tool_days (tenant_id, day, name, calls, failed)
    VALUES (NEW.tenant_id,
            COALESCE((SELECT day FROM turns WHERE id = NEW.turn_id), substr(NEW.created_at, 1, 10)),
            NEW.name, 1, NEW.status = 'failed')
    ON CONFLICT (tenant_id, day, name) DO UPDATE SET calls = calls + 1, failed = failed + excluded.failed;
    INSERT INTO latency_days (tenant_id, day, metric, bucket, count)
    SELECT NEW.tenant_id,
           COALESCE((SELECT day FROM turns WHERE id = NEW.turn_id), substr(NEW.created_at, 1, 10)),
           'tool_call', CAST(floor(ln(max(NEW.duration_ms, 0.01)) * 23.083120654223414) AS INTEGER), 1
    WHERE NEW.status <> 'running' AND NEW.duration_ms IS NOT NULL
    ON CONFLICT (tenant_id, day, metric, bucket) DO UPDATE SET count = count + 1;
END;

CREATE TRIGGER tool_calls_tally_end AFTER UPDATE OF status ON tool_calls
WHEN OLD.status = 'running' AND NEW.status <> 'running' BEGIN
    UPDATE tool_days SET failed = failed + (NEW.status = 'failed')
    WHERE tenant_id = NEW.tenant_id AND name = NEW.name
      AND day = COALESCE((SELECT day FROM turns WHERE id = NEW.turn_id), substr(NEW.created_at, 1, 10));
    INSERT INTO latency_days (tenant_id, day, metric, bucket, count)
    SELECT NEW.tenant_id,
           COALESCE((SELECT day FROM turns WHERE id = NEW.turn_id), substr(NEW.created_at, 1, 10)),
           'tool_call', CAST(floor(ln(max(NEW.duration_ms, 0.01)) * 23.083120654223414) AS INTEGER), 1
    WHERE NEW.duration_ms IS NOT NULL
    ON CONFLICT (tenant_id, day, metric, bucket) DO UPDATE SET count = count + 1;
END;
