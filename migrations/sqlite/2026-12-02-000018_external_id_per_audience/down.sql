-- Back to one external id across audiences (fails if two audiences now share one).
CREATE TABLE interactions_rebuilt (
    id TEXT PRIMARY KEY,
    external_id TEXT NOT NULL,
    audience TEXT NOT NULL,
    service_code TEXT NOT NULL REFERENCES services (code),
    channel TEXT NULL,
    opened_at TIMESTAMP NULL,
    closed_at TIMESTAMP NOT NULL,
    resolution TEXT NULL,
    contact_email TEXT NULL,
    contact_phone TEXT NULL,
    contact_name TEXT NULL,
    language TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    status TEXT NOT NULL DEFAULT 'scheduled',
    status_reason TEXT NULL,
    contact_email_hash TEXT NULL,
    UNIQUE (external_id)
);
INSERT INTO interactions_rebuilt (id, external_id, audience, service_code, channel, opened_at, closed_at, resolution, contact_email, contact_phone, contact_name, language, created_at, status, status_reason, contact_email_hash)
    SELECT id, external_id, audience, service_code, channel, opened_at, closed_at, resolution, contact_email, contact_phone, contact_name, language, created_at, status, status_reason, contact_email_hash FROM interactions;
DROP TABLE interactions;
ALTER TABLE interactions_rebuilt RENAME TO interactions;
CREATE INDEX interactions_service_code_idx ON interactions (service_code);
CREATE INDEX interactions_closed_at_idx ON interactions (closed_at);
CREATE INDEX interactions_email_hash_idx ON interactions (contact_email_hash, created_at);
