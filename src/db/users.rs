//! Management users, their sessions, and failed sign-ins.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{login_failures, sessions, users};
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub role: String,
    /// Department codes, comma-separated; empty for an admin.
    pub departments: String,
    pub language: String,
    pub disabled_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, row: &UserRow) -> QueryResult<()> {
    diesel::insert_into(users::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::email.eq(email))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn by_id(conn: &mut DbConnection, id: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<UserRow>> {
    users::table
        .order(users::email.asc())
        .select(UserRow::as_select())
        .load(conn)
}

/// Disables an enabled user; returns how many rows changed (0 or 1).
pub fn disable(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(users::table.find(id).filter(users::disabled_at.is_null()))
        .set((users::disabled_at.eq(now), users::updated_at.eq(now)))
        .execute(conn)
}

pub fn set_password(
    conn: &mut DbConnection,
    id: &str,
    hash: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((users::password_hash.eq(hash), users::updated_at.eq(now)))
        .execute(conn)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id_hash: String,
    pub user_id: String,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
}

pub fn insert_session(conn: &mut DbConnection, row: &SessionRow) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// A session with its user.
pub fn session(
    conn: &mut DbConnection,
    id_hash: &str,
) -> QueryResult<Option<(SessionRow, UserRow)>> {
    sessions::table
        .inner_join(users::table)
        .filter(sessions::id_hash.eq(id_hash))
        .select((SessionRow::as_select(), UserRow::as_select()))
        .first(conn)
        .optional()
}

/// Moves a live session's idle clock, only if it is still there.
pub fn touch_session(
    conn: &mut DbConnection,
    id_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(sessions::table.find(id_hash))
        .set(sessions::last_seen_at.eq(now))
        .execute(conn)
}

pub fn delete_session(conn: &mut DbConnection, id_hash: &str) -> QueryResult<usize> {
    diesel::delete(sessions::table.find(id_hash)).execute(conn)
}

pub fn delete_sessions_of(conn: &mut DbConnection, user_id: &str) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)
}

/// Sessions that ended (absolute or idle) before they were used again.
pub fn delete_stale_sessions(
    conn: &mut DbConnection,
    created_before: NaiveDateTime,
    seen_before: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::delete(
        sessions::table.filter(
            sessions::created_at
                .lt(created_before)
                .or(sessions::last_seen_at.lt(seen_before)),
        ),
    )
    .execute(conn)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = login_failures)]
#[diesel(treat_none_as_null = true)]
pub struct FailureRow {
    pub subject: String,
    pub failures: i32,
    pub window_start: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
}

pub fn failures(conn: &mut DbConnection, subjects: &[String]) -> QueryResult<Vec<FailureRow>> {
    login_failures::table
        .filter(login_failures::subject.eq_any(subjects))
        .select(FailureRow::as_select())
        .load(conn)
}

/// Stores a subject's count (insert or replace: two statements, as the derived connection has
/// no upsert; the caller runs them in one write transaction).
pub fn save_failure(conn: &mut DbConnection, row: &FailureRow) -> QueryResult<()> {
    let changed = diesel::update(login_failures::table.find(&row.subject))
        .set(row)
        .execute(conn)?;
    if changed == 0 {
        diesel::insert_into(login_failures::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

pub fn clear_failures(conn: &mut DbConnection, subject: &str) -> QueryResult<usize> {
    diesel::delete(login_failures::table.find(subject)).execute(conn)
}
