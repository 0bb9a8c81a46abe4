-- Who changed what in the city's set-up (users, API keys, digest recipients, …), with the value
-- before and after as JSON (never a password or a key), and when. Read by admins at /admin/audit.
CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    at TIMESTAMP NOT NULL,
    -- The user who did it; NULL for the command line.
    actor_id TEXT NULL,
    -- Their address at the time (users can be renamed or removed; the log stays readable).
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    before_value TEXT NULL,
    after_value TEXT NULL
);
CREATE INDEX audit_log_at_idx ON audit_log (at, id);
