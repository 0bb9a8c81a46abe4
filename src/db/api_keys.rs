//! API keys for CRMs and scripts; only their SHA-256 is stored.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::api_keys;
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_keys)]
pub struct ApiKeyRow {
    pub id: String,
    pub name: String,
    pub key_hash: String,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    /// Scope names, comma-separated (`domain::api_scope`).
    pub scopes: String,
    /// Department codes, comma-separated; empty: every department.
    pub departments: String,
    pub last_used_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConnection, row: &ApiKeyRow) -> QueryResult<()> {
    diesel::insert_into(api_keys::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn list(conn: &mut DbConnection) -> QueryResult<Vec<ApiKeyRow>> {
    api_keys::table
        .order((api_keys::name.asc(), api_keys::created_at.asc()))
        .select(ApiKeyRow::as_select())
        .load(conn)
}

/// Revokes the active key of that name; returns how many were revoked (0 or 1).
pub fn revoke(conn: &mut DbConnection, name: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        api_keys::table
            .filter(api_keys::name.eq(name))
            .filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(now))
    .execute(conn)
}

/// The active (not revoked) key with this hash.
pub fn find_active(conn: &mut DbConnection, key_hash: &str) -> QueryResult<Option<ApiKeyRow>> {
    api_keys::table
        .filter(api_keys::key_hash.eq(key_hash))
        .filter(api_keys::revoked_at.is_null())
        .select(ApiKeyRow::as_select())
        .first(conn)
        .optional()
}

/// Records a key's use, at most once a minute (`seen_before` is a minute ago).
pub fn touch(
    conn: &mut DbConnection,
    id: &str,
    now: NaiveDateTime,
    seen_before: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        api_keys::table.filter(api_keys::id.eq(id)).filter(
            api_keys::last_used_at
                .is_null()
                .or(api_keys::last_used_at.lt(seen_before)),
        ),
    )
    .set(api_keys::last_used_at.eq(now))
    .execute(conn)
}
