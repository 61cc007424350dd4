-- Publishing names the version it replaces: on SQLite the store checks it in Python, in the
-- transaction that writes the version (see the PostgreSQL migration for Supabase).
SELECT 1;
