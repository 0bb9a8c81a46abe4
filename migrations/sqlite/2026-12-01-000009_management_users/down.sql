ALTER TABLE followup_notes DROP COLUMN author_id;
ALTER TABLE followups DROP COLUMN assignee_id;
DROP TABLE login_failures;
DROP TABLE sessions;
DROP TABLE users;
