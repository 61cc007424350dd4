-- 0015: a turn as light as before its features (issue 26; see the PostgreSQL migration of
-- the same number). Tours keep the folded customer name, so finding a customer's booking of
-- a day is one indexed look-up (the Python step `key_tours` fills it for the tours already
-- here). The trigram index covers only what the text search reads, user and assistant
-- messages with text: tool calls and their JSON results were most of its upkeep. (SQLite has
-- one writer at a time, so its daily rollups keep one row per tenant and day.)

ALTER TABLE tours ADD COLUMN name_key TEXT;
CREATE INDEX tours_booked_by_name ON tours (tenant_id, name_key, tour_date) WHERE status = 'booked';

DROP TRIGGER messages_text_insert;
DROP TRIGGER messages_text_delete;
DROP TRIGGER messages_text_update;
INSERT INTO message_text (message_text) VALUES ('delete-all');
INSERT INTO message_text (rowid, content)
SELECT id, content FROM messages WHERE role IN ('user', 'assistant') AND content <> '';
CREATE TRIGGER messages_text_insert AFTER INSERT ON messages
WHEN NEW.role IN ('user', 'assistant') AND NEW.content <> '' BEGIN
    INSERT INTO message_text (rowid, content) VALUES (NEW.id, NEW.content);
END;
CREATE TRIGGER messages_text_delete AFTER DELETE ON messages
WHEN OLD.role IN ('user', 'assistant') AND OLD.content <> '' BEGIN
    INSERT INTO message_text (message_text, rowid, content) VALUES ('delete', OLD.id, OLD.content);
END;
CREATE TRIGGER messages_text_update AFTER UPDATE OF content, role ON messages BEGIN
    INSERT INTO message_text (message_text, rowid, content)
    SELECT 'delete', OLD.id, OLD.content WHERE OLD.role IN ('user', 'assistant') AND OLD.content <> '';
    INSERT INTO message_text (rowid, content)
    SELECT NEW.id, NEW.content WHERE NEW.role IN ('user', 'assistant') AND NEW.content <> '';
END;
