-- Grants and PostgREST's error statuses for Supabase projects (see the PostgreSQL migration);
-- SQLite has neither roles nor REST, so nothing changes here.
SELECT 1;
