//! The audit log's rows: appended, never changed; read newest first.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::audit_log;
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub id: String,
    pub at: NaiveDateTime,
    pub actor_id: Option<String>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub before_value: Option<String>,
    pub after_value: Option<String>,
    /// Where a read of personal data came from (the client's address); none for changes.
    pub address: Option<String>,
}

pub fn insert(conn: &mut DbConnection, row: &AuditRow) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// A page of the log, newest first.
pub fn newest(conn: &mut DbConnection, limit: i64, offset: i64) -> QueryResult<Vec<AuditRow>> {
    audit_log::table
        .order((audit_log::at.desc(), audit_log::id.desc()))
        .limit(limit)
        .offset(offset)
        .load(conn)
}

/// Removes the entries of reads of personal data made before `before` (set-up changes stay).
pub fn purge_reads(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(
        audit_log::table
            .filter(audit_log::action.like("data.%"))
            .filter(audit_log::at.lt(before)),
    )
    .execute(conn)
}

/// The newest `limit` entries, only reads of personal data when `reads_only`.
pub fn newest_filtered(
    conn: &mut DbConnection,
    limit: i64,
    reads_only: bool,
) -> QueryResult<Vec<AuditRow>> {
    let mut q = audit_log::table.into_boxed();
    if reads_only {
        q = q.filter(audit_log::action.like("data.%"));
    }
    q.order((audit_log::at.desc(), audit_log::id.desc()))
        .limit(limit)
        .load(conn)
}
