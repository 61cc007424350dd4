-- 0009: each conversation keeps its summary (see the PostgreSQL migration of the same number):
-- triggers recompute it from the conversation's own turns, tool calls and first message, so
-- the log lists and filters 250,000 conversations without reading their turns. A trigram
-- full-text index finds the messages that contain a text.

ALTER TABLE conversations ADD COLUMN turn_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN unanswered INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN duration_ms REAL NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN channel TEXT NOT NULL DEFAULT 'unknown';
ALTER TABLE conversations ADD COLUMN started_by TEXT;
ALTER TABLE conversations ADD COLUMN first_message TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN booked INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN cancelled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN moved INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN noted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN updated INTEGER NOT NULL DEFAULT 0;

-- The tool filters read a tenant's calls of one tool, or all of its calls' arguments.
CREATE INDEX tool_calls_tenant_name ON tool_calls (tenant_id, name, conversation_id);
CREATE INDEX tool_calls_conversation ON tool_calls (tenant_id, conversation_id);

-- Recomputed, not incremented: a trigger that runs twice, or a turn closed by the reaper,
-- still leaves exactly what the turns say.
CREATE TRIGGER turns_summarise_insert AFTER INSERT ON turns BEGIN
    UPDATE conversations SET
        turn_count = (SELECT count(*) FROM turns t WHERE t.tenant_id = NEW.tenant_id
                      AND t.conversation_id = NEW.conversation_id),
        unanswered = (SELECT count(*) FROM turns t WHERE t.tenant_id = NEW.tenant_id
                      AND t.conversation_id = NEW.conversation_id AND t.status = 'failed'
                      AND NOT EXISTS (SELECT 1 FROM turns r WHERE r.tenant_id = t.tenant_id
                                      AND r.conversation_id = t.conversation_id AND r.retry_of = t.id)),
        tokens = (SELECT COALESCE(sum(COALESCE(t.prompt_tokens, 0) + COALESCE(t.completion_tokens, 0)), 0)
                  FROM turns t WHERE t.tenant_id = NEW.tenant_id AND t.conversation_id = NEW.conversation_id),
        duration_ms = (SELECT COALESCE(sum(t.latency_ms), 0) FROM turns t WHERE t.tenant_id = NEW.tenant_id
                       AND t.conversation_id = NEW.conversation_id),
        channel = COALESCE((SELECT f.channel FROM turns f WHERE f.tenant_id = NEW.tenant_id
                            AND f.conversation_id = NEW.conversation_id ORDER BY f.started_at, f.id LIMIT 1),
                           'unknown'),
        started_by = (SELECT f.started_by FROM turns f WHERE f.tenant_id = NEW.tenant_id
                      AND f.conversation_id = NEW.conversation_id ORDER BY f.started_at, f.id LIMIT 1)
    WHERE tenant_id = NEW.tenant_id AND id = NEW.conversation_id;
END;

CREATE TRIGGER turns_summarise_update
AFTER UPDATE OF status, prompt_tokens, completion_tokens, latency_ms, retry_of ON turns BEGIN
    UPDATE conversations SET
        turn_count = (SELECT count(*) FROM turns t WHERE t.tenant_id = NEW.tenant_id
                      AND t.conversation_id = NEW.conversation_id),
        unanswered = (SELECT count(*) FROM turns t WHERE t.tenant_id = NEW.tenant_id
                      AND t.conversation_id = NEW.conversation_id AND t.status = 'failed'
                      AND NOT EXISTS (SELECT 1 FROM turns r WHERE r.tenant_id = t.tenant_id
                                      AND r.conversation_id = t.conversation_id AND r.retry_of = t.id)),
        tokens = (SELECT COALESCE(sum(COALESCE(t.prompt_tokens, 0) + COALESCE(t.completion_tokens, 0)), 0)
                  FROM turns t WHERE t.tenant_id = NEW.tenant_id AND t.conversation_id = NEW.conversation_id),
        duration_ms = (SELECT COALESCE(sum(t.latency_ms), 0) FROM turns t WHERE t.tenant_id = NEW.tenant_id
                       AND t.conversation_id = NEW.conversation_id)
    WHERE tenant_id = NEW.tenant_id AND id = NEW.conversation_id;
END;

CREATE TRIGGER tool_calls_summarise_insert AFTER INSERT ON tool_calls WHEN NEW.status = 'succeeded' BEGIN
    UPDATE conversations SET
        booked = booked OR NEW.name = 'book_tour',
        cancelled = cancelled OR NEW.name = 'cancel_tour',
        moved = moved OR NEW.name = 'reschedule_tour',
        noted = noted OR NEW.name = 'take_note',
        updated = updated OR NEW.name = 'update_contact_info'
    WHERE tenant_id = NEW.tenant_id AND id = NEW.conversation_id;
END;

CREATE TRIGGER tool_calls_summarise_update AFTER UPDATE OF status ON tool_calls
WHEN NEW.status = 'succeeded' BEGIN
    UPDATE conversations SET
        booked = booked OR NEW.name = 'book_tour',
        cancelled = cancelled OR NEW.name = 'cancel_tour',
        moved = moved OR NEW.name = 'reschedule_tour',
        noted = noted OR NEW.name = 'take_note',
        updated = updated OR NEW.name = 'update_contact_info'
    WHERE tenant_id = NEW.tenant_id AND id = NEW.conversation_id;
END;

CREATE TRIGGER messages_first_user_message AFTER INSERT ON messages
WHEN NEW.role = 'user' BEGIN
    UPDATE conversations SET first_message = NEW.content
    WHERE tenant_id = NEW.tenant_id AND id = NEW.conversation_id AND first_message = '';
END;

-- The conversations that exist: the same summary, computed once.
UPDATE conversations SET
    turn_count = (SELECT count(*) FROM turns t WHERE t.tenant_id = conversations.tenant_id
                  AND t.conversation_id = conversations.id),
    unanswered = (SELECT count(*) FROM turns t WHERE t.tenant_id = conversations.tenant_id
                  AND t.conversation_id = conversations.id AND t.status = 'failed'
                  AND NOT EXISTS (SELECT 1 FROM turns r WHERE r.tenant_id = t.tenant_id
                                  AND r.conversation_id = t.conversation_id AND r.retry_of = t.id)),
    tokens = (SELECT COALESCE(sum(COALESCE(t.prompt_tokens, 0) + COALESCE(t.completion_tokens, 0)), 0)
              FROM turns t WHERE t.tenant_id = conversations.tenant_id AND t.conversation_id = conversations.id),
    duration_ms = (SELECT COALESCE(sum(t.latency_ms), 0) FROM turns t WHERE t.tenant_id = conversations.tenant_id
                   AND t.conversation_id = conversations.id),
    channel = COALESCE((SELECT f.channel FROM turns f WHERE f.tenant_id = conversations.tenant_id
                        AND f.conversation_id = conversations.id ORDER BY f.started_at, f.id LIMIT 1), 'unknown'),
    started_by = (SELECT f.started_by FROM turns f WHERE f.tenant_id = conversations.tenant_id
                  AND f.conversation_id = conversations.id ORDER BY f.started_at, f.id LIMIT 1),
    first_message = COALESCE((SELECT m.content FROM messages m WHERE m.tenant_id = conversations.tenant_id
                              AND m.conversation_id = conversations.id AND m.role = 'user'
                              ORDER BY m.id LIMIT 1), ''),
    booked = EXISTS (SELECT 1 FROM tool_calls k WHERE k.tenant_id = conversations.tenant_id
                     AND k.conversation_id = conversations.id AND k.name = 'book_tour' AND k.status = 'succeeded'),
    cancelled = EXISTS (SELECT 1 FROM tool_calls k WHERE k.tenant_id = conversations.tenant_id
                        AND k.conversation_id = conversations.id AND k.name = 'cancel_tour'
                        AND k.status = 'succeeded'),
    moved = EXISTS (SELECT 1 FROM tool_calls k WHERE k.tenant_id = conversations.tenant_id
                    AND k.conversation_id = conversations.id AND k.name = 'reschedule_tour'
                    AND k.status = 'succeeded'),
    noted = EXISTS (SELECT 1 FROM tool_calls k WHERE k.tenant_id = conversations.tenant_id
                    AND k.conversation_id = conversations.id AND k.name = 'take_note' AND k.status = 'succeeded'),
    updated = EXISTS (SELECT 1 FROM tool_calls k WHERE k.tenant_id = conversations.tenant_id
                      AND k.conversation_id = conversations.id AND k.name = 'update_contact_info'
                      AND k.status = 'succeeded');

-- Messages that contain a text, by trigrams (case-insensitive); kept by the triggers below.
CREATE VIRTUAL TABLE message_text USING fts5(content, content = 'messages', content_rowid = 'id',
                                             tokenize = 'trigram');
INSERT INTO message_text (message_text) VALUES ('rebuild');
CREATE TRIGGER messages_text_insert AFTER INSERT ON messages BEGIN
    INSERT INTO message_text (rowid, content) VALUES (NEW.id, NEW.content);
END;
CREATE TRIGGER messages_text_delete AFTER DELETE ON messages BEGIN
    INSERT INTO message_text (message_text, rowid, content) VALUES ('delete', OLD.id, OLD.content);
END;
CREATE TRIGGER messages_text_update AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO message_text (message_text, rowid, content) VALUES ('delete', OLD.id, OLD.content);
    INSERT INTO message_text (rowid, content) VALUES (NEW.id, NEW.content);
END;
