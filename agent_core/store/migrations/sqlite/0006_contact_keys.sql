-- 0006: one person is one contact (see the PostgreSQL migration of the same number). The
-- Python step `rekey_contacts` then fills the keys of the rows already here.

ALTER TABLE contacts ADD COLUMN email_key TEXT;
ALTER TABLE contacts ADD COLUMN phone_key TEXT;
CREATE INDEX contacts_email_key ON contacts (tenant_id, email_key);
CREATE INDEX contacts_phone_key ON contacts (tenant_id, phone_key);
