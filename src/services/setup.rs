//! What `migrate` and `serve` do before anything else: schema, then the default surveys.

use chrono::{DateTime, Utc};

use crate::db::{migrations, DbConnection, DbError};

/// Applies pending migrations and stores the default questionnaires (a new version only when
/// their text changed). Returns the number of migrations applied.
pub fn migrate(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<usize, DbError> {
    let applied = migrations::run_pending(conn)?;
    super::surveys::ensure_defaults(conn, now)?;
    Ok(applied)
}
