//! The anonymous inbox: employees' sealed answers waiting for their group to complete.

use diesel::prelude::*;

use super::schema::anonymous_inbox;
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = anonymous_inbox)]
pub struct InboxRow {
    pub id: String,
    /// `tickets` or `campaign:ID`.
    pub cohort: String,
    /// The month's first day, `YYYY-MM-01`.
    pub month: String,
    pub sealed: Vec<u8>,
}

/// How many rows one statement reads or deletes: under every backend's parameter limit, and
/// at most 4 MiB of sealed rows in memory at once.
pub const CHUNK: usize = 500;

pub fn insert(conn: &mut DbConnection, row: &InboxRow) -> QueryResult<()> {
    diesel::insert_into(anonymous_inbox::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// The groups that have answers waiting: (cohort, month).
pub fn cells(conn: &mut DbConnection) -> QueryResult<Vec<(String, String)>> {
    anonymous_inbox::table
        .select((anonymous_inbox::cohort, anonymous_inbox::month))
        .distinct()
        .load(conn)
}

/// The ids of one group's rows (small, unlike the rows: those are read a chunk at a time).
pub fn cell_ids(conn: &mut DbConnection, cohort: &str, month: &str) -> QueryResult<Vec<String>> {
    anonymous_inbox::table
        .filter(anonymous_inbox::cohort.eq(cohort))
        .filter(anonymous_inbox::month.eq(month))
        .select(anonymous_inbox::id)
        .load(conn)
}

/// Rows by id; at most [`CHUNK`] ids at a time.
pub fn load(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<InboxRow>> {
    anonymous_inbox::table
        .filter(anonymous_inbox::id.eq_any(ids))
        .select(InboxRow::as_select())
        .load(conn)
}

/// Deletes rows by id (in chunks that stay under every backend's parameter limit); returns how
/// many were there to delete.
pub fn delete(conn: &mut DbConnection, ids: &[String]) -> QueryResult<usize> {
    let mut deleted = 0;
    for chunk in ids.chunks(CHUNK) {
        deleted += diesel::delete(anonymous_inbox::table.filter(anonymous_inbox::id.eq_any(chunk)))
            .execute(conn)?;
    }
    Ok(deleted)
}

pub fn count(conn: &mut DbConnection) -> QueryResult<i64> {
    anonymous_inbox::table.count().get_result(conn)
}

/// Sealed answers waiting in the inbox for their group to be complete.
pub fn waiting(conn: &mut DbConnection) -> QueryResult<i64> {
    super::schema::anonymous_inbox::table
        .count()
        .get_result(conn)
}
