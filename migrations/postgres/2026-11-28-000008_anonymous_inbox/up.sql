-- Employees' answers wait here, sealed, until their group is complete (its month is over or its
-- campaign closed); then the whole group moves into `responses` in one transaction, in shuffled
-- order, so that the rows' system columns (xmin, ctid) say nothing about who answered when.
-- `sealed` is the submission encrypted with a key derived from the server key (never stored
-- in the database) and padded to a fixed size, so that neither its content nor its length can
-- be matched with the invitation marked answered in the same transaction. Only the group's
-- cohort and month are in clear: the drain needs them, and they say nothing about the person.
CREATE TABLE anonymous_inbox (
    id TEXT PRIMARY KEY NOT NULL,
    cohort TEXT NOT NULL,
    month TEXT NOT NULL,
    sealed BYTEA NOT NULL
);
CREATE INDEX anonymous_inbox_cell_idx ON anonymous_inbox (cohort, month);

-- Employee answers stored before this version were written with their invitation's flag (same
-- xmin) and lie in arrival order: rewrite them all in this one transaction, in random order.
-- (The old row versions stay as dead tuples until VACUUM; autovacuum removes them, or run
-- `VACUUM responses; VACUUM answers;` after upgrading.)
CREATE TEMPORARY TABLE employee_responses_before AS
    SELECT * FROM responses WHERE audience = 'employee';
CREATE TEMPORARY TABLE employee_answers_before AS
    SELECT a.* FROM answers a JOIN employee_responses_before r ON r.id = a.response_id;
DELETE FROM answers WHERE response_id IN (SELECT id FROM employee_responses_before);
DELETE FROM responses WHERE audience = 'employee';
INSERT INTO responses SELECT * FROM employee_responses_before ORDER BY random();
INSERT INTO answers SELECT * FROM employee_answers_before ORDER BY random();
DROP TABLE employee_responses_before;
DROP TABLE employee_answers_before;
