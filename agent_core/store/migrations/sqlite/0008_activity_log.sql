-- 0008: the conversation log and analytics; a failed turn can be retried (see the PostgreSQL migration of
-- the same number).

ALTER TABLE turns ADD COLUMN retry_of TEXT;
