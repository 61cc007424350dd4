-- Sign-in attempts taken before the password check, under hashed keys (see the PostgreSQL
-- migration of the same number); the failures counted after the check go.
CREATE TABLE sign_in_attempts (
    key      TEXT PRIMARY KEY,
    attempts INTEGER NOT NULL,
    since    TEXT NOT NULL
);
DROP TABLE sign_in_failures;
