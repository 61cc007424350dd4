-- 0023: a tool call keeps the outcome its tool declares (booked, cancelled, moved, noted,
-- updated; none for a tool that only reads), and the conversation summary reads that instead
-- of knowing tool names (issue 27: a tool is declared in one place). Calls made before keep
-- the outcome their tool had then.

ALTER TABLE tool_calls ADD COLUMN outcome TEXT;

UPDATE tool_calls SET outcome = CASE name
    WHEN 'book_tour' THEN 'booked'
    WHEN 'cancel_tour' THEN 'cancelled'
    WHEN 'reschedule_tour' THEN 'moved'
    WHEN 'take_note' THEN 'noted'
    WHEN 'update_contact_info' THEN 'updated'
END;

DROP TRIGGER tool_calls_summarise_insert;
CREATE TRIGGER tool_calls_summarise_insert AFTER INSERT ON tool_calls
WHEN NEW.status = 'succeeded' AND NEW.outcome IS NOT NULL BEGIN
    UPDATE conversations SET
        booked = booked OR NEW.outcome = 'booked',
        cancelled = cancelled OR NEW.outcome = 'cancelled',
        moved = moved OR NEW.outcome = 'moved',
        noted = noted OR NEW.outcome = 'noted',
        updated = updated OR NEW.outcome = 'updated'
    WHERE tenant_id = NEW.tenant_id AND id = NEW.conversation_id;
END;

DROP TRIGGER tool_calls_summarise_update;
CREATE TRIGGER tool_calls_summarise_update AFTER UPDATE OF status ON tool_calls
WHEN NEW.status = 'succeeded' AND NEW.outcome IS NOT NULL BEGIN
    UPDATE conversations SET
        booked = booked OR NEW.outcome = 'booked',
        cancelled = cancelled OR NEW.outcome = 'cancelled',
        moved = moved OR NEW.outcome = 'moved',
        noted = noted OR NEW.outcome = 'noted',
        updated = updated OR NEW.outcome = 'updated'
    WHERE tenant_id = NEW.tenant_id AND id = NEW.conversation_id;
END;
