-- 0024 (SQLite's; see its migration of the same number): SQLite keeps its text search's
-- index in batches. PostgreSQL's trigram index (a GIN index, migration 0009) already defers
-- its upkeep to its pending list, so nothing changes here but the note on the table.

COMMENT ON TABLE public.messages IS
    'Every message of every conversation; user and assistant text is found through messages_content_trigrams.';
