-- Residents' report counts per day, service and channel ('' for none), for days that can no
-- longer change: a report over three years then reads a few hundred thousand rows at most
-- instead of millions. Responses and invitations freeze at different times (an invitation can
-- still be answered until its link expires), so each has its table and its frozen-through day.
CREATE TABLE report_response_days (
    audience TEXT NOT NULL,
    day TEXT NOT NULL,
    service_code TEXT NOT NULL,
    channel TEXT NOT NULL,
    responses BIGINT NOT NULL,
    overall_n BIGINT NOT NULL,
    overall_satisfied BIGINT NOT NULL,
    effort_n BIGINT NOT NULL,
    effort_sum BIGINT NOT NULL,
    nps_n BIGINT NOT NULL,
    promoters BIGINT NOT NULL,
    detractors BIGINT NOT NULL,
    resolved_n BIGINT NOT NULL,
    resolved_yes BIGINT NOT NULL,
    PRIMARY KEY (audience, day, service_code, channel)
);

CREATE TABLE report_invitation_days (
    audience TEXT NOT NULL,
    day TEXT NOT NULL,
    service_code TEXT NOT NULL,
    channel TEXT NOT NULL,
    invitations BIGINT NOT NULL,
    answered BIGINT NOT NULL,
    PRIMARY KEY (audience, day, service_code, channel)
);

-- The same per month (day = the month's first day), built from the daily tables once a month is
-- wholly frozen: a three-year report reads 36 months of these and a few days.
CREATE TABLE report_response_months (
    audience TEXT NOT NULL,
    day TEXT NOT NULL,
    service_code TEXT NOT NULL,
    channel TEXT NOT NULL,
    responses BIGINT NOT NULL,
    overall_n BIGINT NOT NULL,
    overall_satisfied BIGINT NOT NULL,
    effort_n BIGINT NOT NULL,
    effort_sum BIGINT NOT NULL,
    nps_n BIGINT NOT NULL,
    promoters BIGINT NOT NULL,
    detractors BIGINT NOT NULL,
    resolved_n BIGINT NOT NULL,
    resolved_yes BIGINT NOT NULL,
    PRIMARY KEY (audience, day, service_code, channel)
);

CREATE TABLE report_invitation_months (
    audience TEXT NOT NULL,
    day TEXT NOT NULL,
    service_code TEXT NOT NULL,
    channel TEXT NOT NULL,
    invitations BIGINT NOT NULL,
    answered BIGINT NOT NULL,
    PRIMARY KEY (audience, day, service_code, channel)
);

-- Every day up to and including through_day is in the table of that name.
CREATE TABLE report_rollup_state (
    name TEXT PRIMARY KEY,
    through_day TEXT NOT NULL
);
INSERT INTO report_rollup_state (name, through_day) VALUES
    ('report_response_days', '0000-00-00'), ('report_invitation_days', '0000-00-00'),
    ('report_response_months', '0000-00-00'), ('report_invitation_months', '0000-00-00');

-- Finds the oldest invitation that can still be answered (its day is not frozen yet).
CREATE INDEX invitations_open_idx ON invitations (expires_at, day) WHERE answered = FALSE;
