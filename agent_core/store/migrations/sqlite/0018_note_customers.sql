-- 0018: a note shows whose it is (issue 28; see the PostgreSQL migration of the same
-- number): the customer of its conversation's latest booking when it was taken.

ALTER TABLE notes ADD COLUMN customer_name TEXT;
CREATE INDEX tours_conversation ON tours (tenant_id, conversation_id, created_at);

UPDATE notes SET customer_name = (
    SELECT t.customer_name FROM tours t
    WHERE t.tenant_id = notes.tenant_id AND t.conversation_id = notes.conversation_id
      AND t.created_at <= notes.created_at
    ORDER BY t.created_at DESC LIMIT 1)
WHERE conversation_id IS NOT NULL;
