-- Email: the outbox, opt-outs, and what an interaction's email status is.
-- An outbox row never holds a survey link: the worker derives it when it renders the message.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    invitation_id TEXT NULL REFERENCES invitations (id),
    recipient TEXT NOT NULL,
    message_id TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP NULL,
    last_error TEXT NULL,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP NULL
);
CREATE INDEX outbox_due_idx ON outbox (status, next_attempt_at);

-- Addresses that asked for no more surveys, as keyed hashes (never in clear).
CREATE TABLE suppressions (
    address_hash TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

ALTER TABLE interactions ADD COLUMN status TEXT NOT NULL DEFAULT 'scheduled';
ALTER TABLE interactions ADD COLUMN status_reason TEXT NULL;
-- Keyed hash of the contact address, for the frequency cap without scanning addresses.
ALTER TABLE interactions ADD COLUMN contact_email_hash TEXT NULL;
CREATE INDEX interactions_email_hash_idx ON interactions (contact_email_hash, created_at);
