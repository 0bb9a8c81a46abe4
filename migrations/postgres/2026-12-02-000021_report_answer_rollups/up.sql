-- Every scale question's answers per day (and month), service and channel ('' for none), for
-- residents' frozen days: reports give each question its mean and top-two share without
-- reading millions of answers. The first report after this migration builds them.
CREATE TABLE report_answer_days (
    audience TEXT NOT NULL,
    day TEXT NOT NULL,
    service_code TEXT NOT NULL,
    channel TEXT NOT NULL,
    question_id TEXT NOT NULL,
    value INTEGER NOT NULL,
    answers BIGINT NOT NULL,
    PRIMARY KEY (audience, day, service_code, channel, question_id, value)
);

CREATE TABLE report_answer_months (
    audience TEXT NOT NULL,
    day TEXT NOT NULL,
    service_code TEXT NOT NULL,
    channel TEXT NOT NULL,
    question_id TEXT NOT NULL,
    value INTEGER NOT NULL,
    answers BIGINT NOT NULL,
    PRIMARY KEY (audience, day, service_code, channel, question_id, value)
);

INSERT INTO report_rollup_state (name, through_day) VALUES
    ('report_answer_days', '0000-00-00'), ('report_answer_months', '0000-00-00');
