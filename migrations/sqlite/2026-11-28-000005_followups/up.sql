-- Follow-up cases: every bad experience becomes a case for the service's department, due in the
-- service's SLA in business days (Sunday to Thursday). Contact details are copied only when the
-- resident consented to be contacted.
CREATE TABLE followups (
    id TEXT PRIMARY KEY,
    response_id TEXT NOT NULL UNIQUE REFERENCES responses (id),
    department_code TEXT NOT NULL REFERENCES departments (code),
    service_code TEXT NOT NULL REFERENCES services (code),
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    opened_on TEXT NOT NULL,
    due_on TEXT NOT NULL,
    closed_on TEXT NULL,
    contact_name TEXT NULL,
    contact_email TEXT NULL,
    contact_phone TEXT NULL,
    opened_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX followups_department_idx ON followups (department_code, status, due_on);
CREATE INDEX followups_opened_idx ON followups (opened_on);

-- What was done, in order: every change of status, with its note.
CREATE TABLE followup_notes (
    id TEXT PRIMARY KEY,
    followup_id TEXT NOT NULL REFERENCES followups (id),
    status TEXT NOT NULL,
    note TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX followup_notes_followup_idx ON followup_notes (followup_id, created_at);
