-- Employees' answers wait here, sealed, until their group is complete (its month is over or its
-- campaign closed); then the whole group moves into `responses` at once, in shuffled order.
-- `sealed` is the submission encrypted with a key derived from the server key (never stored
-- in the database) and padded to a fixed size, so that neither its content nor its length can
-- be matched with the invitation marked answered in the same transaction. Only the group's
-- cohort and month are in clear: the drain needs them, and they say nothing about the person.
-- WITHOUT ROWID: the random id orders the rows, not their arrival.
CREATE TABLE anonymous_inbox (
    id TEXT PRIMARY KEY NOT NULL,
    cohort TEXT NOT NULL,
    month TEXT NOT NULL,
    sealed BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX anonymous_inbox_cell_idx ON anonymous_inbox (cohort, month);
