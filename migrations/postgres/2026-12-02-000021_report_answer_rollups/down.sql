DELETE FROM report_rollup_state WHERE name IN ('report_answer_days', 'report_answer_months');
DROP TABLE report_answer_months;
DROP TABLE report_answer_days;
