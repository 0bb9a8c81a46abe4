-- What each response counts towards is decided in Rust when it is stored
-- (domain::metrics::ResponseFigures): `satisfied` is 1 for CSAT's 4 or 5 and 0 otherwise;
-- `nps_group` is 1 for a promoter (9-10), -1 for a detractor (0-6), 0 for a passive. Both are
-- NULL where the question was not answered. Reports only count and add them up.
ALTER TABLE responses ADD COLUMN satisfied INTEGER NULL;
ALTER TABLE responses ADD COLUMN nps_group INTEGER NULL;
-- Rows stored before this migration, classified once by the rule they were counted by (the
-- thresholds of domain::metrics), so that no report changes.
UPDATE responses SET
    satisfied = CASE WHEN overall IS NULL THEN NULL WHEN overall >= 4 THEN 1 ELSE 0 END,
    nps_group = CASE WHEN nps IS NULL THEN NULL WHEN nps >= 9 THEN 1 WHEN nps <= 6 THEN -1
        ELSE 0 END;
-- The reports' covering index, with the new columns.
DROP INDEX responses_report_idx;
CREATE INDEX responses_report_idx ON responses
    (audience, day, service_code, channel, overall, satisfied, effort, nps, nps_group, resolved);
