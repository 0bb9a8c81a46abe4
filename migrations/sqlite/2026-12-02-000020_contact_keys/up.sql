-- Every way an interaction's person can be recognised again, as keyed hashes: the email's, and
-- the phone number's (in E.164). The frequency cap and opt-outs match on any of them, so that
-- residents reached only by phone are capped and can opt out too.
CREATE TABLE contact_keys (
    hash TEXT NOT NULL,
    interaction_id TEXT NOT NULL REFERENCES interactions (id),
    PRIMARY KEY (hash, interaction_id)
);
CREATE INDEX contact_keys_interaction_idx ON contact_keys (interaction_id);
-- Email hashes were kept before; phone numbers were not hashed, and their hash needs the
-- server key, so phone-only requests before this version are not capped.
INSERT INTO contact_keys (hash, interaction_id)
    SELECT contact_email_hash, id FROM interactions WHERE contact_email_hash IS NOT NULL;
