-- 0024: the text search's index is kept in batches (issue 26). A message used to enter the
-- trigram index as it was written, and every commit that wrote one made the index a new
-- segment: a fifth of the pages a turn writes and of its CPU. Now messages up to
-- `message_text_indexed.up_to` are in the index, later ones are added many at a time (every
-- 64 finished turns: `SqliteStore`), and a search reads the index for those and the newer
-- messages directly, so it still finds every message.

CREATE TABLE message_text_indexed (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    up_to INTEGER NOT NULL
);
INSERT INTO message_text_indexed (id, up_to) VALUES (1, coalesce((SELECT max(id) FROM messages), 0));

DROP TRIGGER messages_text_insert;
DROP TRIGGER messages_text_delete;
DROP TRIGGER messages_text_update;
-- Only a message within the indexed range is in the index (a new message takes the id of a
-- deleted last one when it is written right after it: that one goes in at once).
CREATE TRIGGER messages_text_insert AFTER INSERT ON messages
WHEN NEW.role IN ('user', 'assistant') AND NEW.content <> ''
    AND NEW.id <= (SELECT up_to FROM message_text_indexed) BEGIN
    INSERT INTO message_text (rowid, content) VALUES (NEW.id, NEW.content);
END;
CREATE TRIGGER messages_text_delete AFTER DELETE ON messages
WHEN OLD.role IN ('user', 'assistant') AND OLD.content <> ''
    AND OLD.id <= (SELECT up_to FROM message_text_indexed) BEGIN
    INSERT INTO message_text (message_text, rowid, content) VALUES ('delete', OLD.id, OLD.content);
END;
CREATE TRIGGER messages_text_update AFTER UPDATE OF content, role ON messages
WHEN OLD.id <= (SELECT up_to FROM message_text_indexed) BEGIN
    INSERT INTO message_text (message_text, rowid, content)
    SELECT 'delete', OLD.id, OLD.content WHERE OLD.role IN ('user', 'assistant') AND OLD.content <> '';
    INSERT INTO message_text (rowid, content)
    SELECT NEW.id, NEW.content WHERE NEW.role IN ('user', 'assistant') AND NEW.content <> '';
END;
