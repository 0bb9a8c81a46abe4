DROP INDEX invitations_open_idx;
DROP TABLE report_rollup_state;
DROP TABLE report_invitation_months;
DROP TABLE report_response_months;
DROP TABLE report_invitation_days;
DROP TABLE report_response_days;
