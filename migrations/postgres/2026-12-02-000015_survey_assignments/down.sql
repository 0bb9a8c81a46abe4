DROP TABLE survey_assignments;
