-- People who manage: admins see everything, managers and viewers their departments
-- (department codes, comma-separated; never empty for them). Passwords as argon2id PHC strings.
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    departments TEXT NOT NULL,
    language TEXT NOT NULL,
    disabled_at TIMESTAMP NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Signed-in sessions: only the SHA-256 of the cookie's random id is stored.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Failed sign-ins per account and per client address (both as keyed hashes), for throttling.
CREATE TABLE login_failures (
    subject TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_start TIMESTAMP NOT NULL,
    locked_until TIMESTAMP NULL
);

-- Who took a follow-up case, and who wrote each note.
ALTER TABLE followups ADD COLUMN assignee_id TEXT NULL;
ALTER TABLE followup_notes ADD COLUMN author_id TEXT NULL;
