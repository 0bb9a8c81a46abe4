DROP TABLE campaign_recipients;
DROP TABLE campaigns;
DROP INDEX invitations_report_idx;
ALTER TABLE invitations DROP COLUMN day, DROP COLUMN channel, DROP COLUMN service_code,
    DROP COLUMN audience, DROP COLUMN answered;
DROP INDEX responses_report_idx;
ALTER TABLE responses DROP COLUMN cohort, DROP COLUMN resolved, DROP COLUMN nps, DROP COLUMN effort,
    DROP COLUMN overall, DROP COLUMN day;
