-- The audit log also records every read of personal data and every export (who, what, when and
-- from which address), kept 24 months as Israel's Privacy Protection (Data Security)
-- Regulations ask; set-up changes have no address where they came from the command line.
ALTER TABLE audit_log ADD COLUMN address TEXT NULL;
