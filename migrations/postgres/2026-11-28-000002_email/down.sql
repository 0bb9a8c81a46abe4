DROP INDEX interactions_email_hash_idx;
ALTER TABLE interactions DROP COLUMN contact_email_hash;
ALTER TABLE interactions DROP COLUMN status_reason;
ALTER TABLE interactions DROP COLUMN status;
DROP TABLE suppressions;
DROP TABLE outbox;
