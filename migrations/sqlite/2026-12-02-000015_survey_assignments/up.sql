-- Which questionnaire an audience gets, and optionally a department's or a service's own:
-- the most specific assignment wins when an interaction is recorded (a service's, then its
-- department's, then the audience's); with none, the built-in questionnaire. target_kind is
-- 'audience' (target_code ''), 'department' or 'service'.
CREATE TABLE survey_assignments (
    audience TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_code TEXT NOT NULL,
    survey_key TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (audience, target_kind, target_code)
);
