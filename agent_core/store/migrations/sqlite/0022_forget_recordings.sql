-- Forgetting a conversation's recordings as one function for Supabase (see the PostgreSQL
-- migration); the SQLite store does it in one transaction of its own, so nothing changes here.
SELECT 1;
