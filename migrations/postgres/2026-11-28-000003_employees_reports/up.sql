-- Reports and employees (see the SQLite migration for the reasons). PostgreSQL keeps heap
-- order, which the README's anonymity section states.
ALTER TABLE responses ADD COLUMN day TEXT NOT NULL DEFAULT '';
ALTER TABLE responses ADD COLUMN overall INTEGER NULL;
ALTER TABLE responses ADD COLUMN effort INTEGER NULL;
ALTER TABLE responses ADD COLUMN nps INTEGER NULL;
ALTER TABLE responses ADD COLUMN resolved INTEGER NULL;
ALTER TABLE responses ADD COLUMN cohort TEXT NULL;
UPDATE responses r SET
    day = to_char((r.submitted_at AT TIME ZONE 'UTC') AT TIME ZONE 'Asia/Jerusalem', 'YYYY-MM-DD'),
    overall = (SELECT int_value FROM answers a WHERE a.response_id = r.id AND a.question_id = 'overall'),
    effort = (SELECT int_value FROM answers a WHERE a.response_id = r.id AND a.question_id = 'effort'),
    nps = (SELECT int_value FROM answers a WHERE a.response_id = r.id AND a.question_id = 'nps'),
    resolved = (SELECT CASE text_value WHEN 'resolved' THEN 1 ELSE 0 END FROM answers a
                 WHERE a.response_id = r.id AND a.question_id = 'resolved');
ALTER TABLE responses ALTER COLUMN day DROP DEFAULT;
CREATE INDEX responses_report_idx ON responses
    (audience, day, service_code, channel, overall, effort, nps, resolved);

ALTER TABLE invitations ADD COLUMN answered BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE invitations ADD COLUMN audience TEXT NOT NULL DEFAULT 'resident';
ALTER TABLE invitations ADD COLUMN service_code TEXT NOT NULL DEFAULT '';
ALTER TABLE invitations ADD COLUMN channel TEXT NULL;
ALTER TABLE invitations ADD COLUMN day TEXT NOT NULL DEFAULT '';
UPDATE invitations v SET
    answered = (v.answered_at IS NOT NULL),
    audience = i.audience,
    service_code = i.service_code,
    channel = i.channel,
    day = to_char((v.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'Asia/Jerusalem', 'YYYY-MM-DD')
FROM interactions i WHERE i.id = v.interaction_id;
CREATE INDEX invitations_report_idx ON invitations
    (audience, day, service_code, channel, answered);

CREATE TABLE campaigns (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    survey_id TEXT NOT NULL REFERENCES surveys (id),
    opens_on TEXT NULL,
    closes_on TEXT NULL,
    status TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    launched_at TIMESTAMP NULL,
    closed_at TIMESTAMP NULL
);

CREATE TABLE campaign_recipients (
    id TEXT PRIMARY KEY,
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    email TEXT NULL,
    department_code TEXT NOT NULL REFERENCES departments (code),
    language TEXT NOT NULL,
    token_hash TEXT NULL UNIQUE,
    expires_at TIMESTAMP NULL,
    answered BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (campaign_id, email)
);
