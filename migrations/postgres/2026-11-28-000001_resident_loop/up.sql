-- The resident loop: catalog, API keys, versioned surveys, interactions, one-time invitations,
-- responses and their answers. Times are UTC, without a zone, on both backends.
CREATE TABLE departments (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    names_i18n TEXT NOT NULL DEFAULT '{}',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE services (
    code TEXT PRIMARY KEY,
    department_code TEXT NOT NULL REFERENCES departments (code),
    name TEXT NOT NULL,
    names_i18n TEXT NOT NULL DEFAULT '{}',
    sla_days INTEGER NOT NULL,
    audience TEXT NOT NULL DEFAULT 'residents',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX services_department_code_idx ON services (department_code);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP NULL
);
CREATE UNIQUE INDEX api_keys_active_name_idx ON api_keys (name) WHERE revoked_at IS NULL;

CREATE TABLE surveys (
    id TEXT PRIMARY KEY,
    survey_key TEXT NOT NULL,
    version INTEGER NOT NULL,
    audience TEXT NOT NULL,
    definition TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (survey_key, version)
);

CREATE TABLE interactions (
    id TEXT PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
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
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX interactions_service_code_idx ON interactions (service_code);
CREATE INDEX interactions_closed_at_idx ON interactions (closed_at);

CREATE TABLE invitations (
    id TEXT PRIMARY KEY,
    interaction_id TEXT NOT NULL UNIQUE REFERENCES interactions (id),
    survey_id TEXT NOT NULL REFERENCES surveys (id),
    token_hash TEXT NOT NULL UNIQUE,
    language TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    answered_at TIMESTAMP NULL,
    created_at TIMESTAMP NOT NULL
);

-- A response carries the facts reports need (audience, service, channel) so that reports never
-- have to join back to a person; invitation_id is NULL where anonymity requires it.
CREATE TABLE responses (
    id TEXT PRIMARY KEY,
    invitation_id TEXT NULL UNIQUE REFERENCES invitations (id),
    survey_id TEXT NOT NULL REFERENCES surveys (id),
    audience TEXT NOT NULL,
    service_code TEXT NOT NULL REFERENCES services (code),
    channel TEXT NULL,
    language TEXT NOT NULL,
    submitted_at TIMESTAMP NOT NULL
);
CREATE INDEX responses_submitted_at_idx ON responses (submitted_at);

CREATE TABLE answers (
    response_id TEXT NOT NULL REFERENCES responses (id),
    question_id TEXT NOT NULL,
    int_value INTEGER NULL,
    text_value TEXT NULL,
    PRIMARY KEY (response_id, question_id)
);
