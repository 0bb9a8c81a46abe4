//! The health check's write probe: one row, rewritten.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::heartbeats;
use super::{DbConnection, DbError};

/// Records a beat under `name` (update, then insert the first time), in its own transaction.
pub fn beat(conn: &mut DbConnection, name: &str, at: NaiveDateTime) -> Result<(), DbError> {
    super::write_transaction(conn, |conn| {
        let updated = diesel::update(heartbeats::table.find(name))
            .set(heartbeats::beat_at.eq(at))
            .execute(conn)?;
        if updated == 0 {
            diesel::insert_into(heartbeats::table)
                .values((heartbeats::name.eq(name), heartbeats::beat_at.eq(at)))
                .execute(conn)?;
        }
        Ok::<_, diesel::result::Error>(())
    })
    .map_err(DbError::Query)
}
