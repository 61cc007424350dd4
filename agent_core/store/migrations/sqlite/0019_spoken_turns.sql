-- 0019: a turn whose message was said aloud (push-to-talk, a live call, /api/voice) is marked
-- so (issue 29; see the PostgreSQL migration of the same number): the transcript shows it.
ALTER TABLE turns ADD COLUMN spoken INTEGER NOT NULL DEFAULT 0 CHECK (spoken IN (0, 1));
