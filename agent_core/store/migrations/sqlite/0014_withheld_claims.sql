-- 0014: a reply's claims that no tool of its turn backed (issue 24) are kept with the turn
-- (a JSON array of the sentences held back, NULL when none) and counted per day, so the
-- transcript marks them and Analytics counts them (see the PostgreSQL migration of the same
-- number). Only a finished turn can have them, so only the end-of-turn trigger changes.
ALTER TABLE turns ADD COLUMN withheld_claims TEXT;
ALTER TABLE activity_days ADD COLUMN withheld_claims INTEGER NOT NULL DEFAULT 0;

DROP TRIGGER turns_tally_end;
-- What a turn adds when it ends.
CREATE TRIGGER turns_tally_end AFTER UPDATE OF status ON turns
WHEN OLD.status = 'running' AND NEW.status <> 'running' BEGIN
    UPDATE activity_days SET
        failed_turns = failed_turns + (NEW.status = 'failed'),
        tokens = tokens + COALESCE(NEW.prompt_tokens, 0) + COALESCE(NEW.completion_tokens, 0),
        withheld_claims = withheld_claims + COALESCE(json_array_length(NEW.withheld_claims), 0)
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
