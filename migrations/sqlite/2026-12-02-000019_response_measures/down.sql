DROP INDEX responses_report_idx;
CREATE INDEX responses_report_idx ON responses
    (audience, day, service_code, channel, overall, effort, nps, resolved);
ALTER TABLE responses DROP COLUMN nps_group;
ALTER TABLE responses DROP COLUMN satisfied;
