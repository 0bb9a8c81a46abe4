//! What `/metrics` reads from the database when scraped: emails by kind and state, the oldest
//! one waiting, and employees' sealed answers waiting for their group.

use chrono::NaiveDateTime;

use crate::db::{self, outbox::KindStatusCount, DbConnection, DbError};

pub struct Backlog {
    pub emails: Vec<KindStatusCount>,
    pub oldest_waiting: Option<NaiveDateTime>,
    pub inbox_waiting: i64,
}

pub fn backlog(conn: &mut DbConnection) -> Result<Backlog, DbError> {
    Ok(Backlog {
        emails: db::outbox::counts_by_kind(conn)?,
        oldest_waiting: db::outbox::oldest_pending(conn)?,
        inbox_waiting: db::inbox::waiting(conn)?,
    })
}
