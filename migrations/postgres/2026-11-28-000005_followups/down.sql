DROP TABLE followup_notes;
DROP TABLE followups;
