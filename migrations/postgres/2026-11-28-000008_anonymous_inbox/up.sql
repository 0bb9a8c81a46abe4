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
