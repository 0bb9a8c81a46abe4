//! The city's settings, one row per name.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::city_settings;
use super::DbConnection;

pub fn get(conn: &mut DbConnection, name: &str) -> QueryResult<Option<String>> {
    city_settings::table
        .find(name)
        .select(city_settings::value)
        .first(conn)
        .optional()
}

/// Stores a value under `name`, replacing the one there.
pub fn put(
    conn: &mut DbConnection,
    name: &str,
    value: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let updated = diesel::update(city_settings::table.find(name))
        .set((
            city_settings::value.eq(value),
            city_settings::updated_at.eq(now),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(city_settings::table)
            .values((
                city_settings::name.eq(name),
                city_settings::value.eq(value),
                city_settings::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn delete(conn: &mut DbConnection, name: &str) -> QueryResult<usize> {
    diesel::delete(city_settings::table.find(name)).execute(conn)
}
