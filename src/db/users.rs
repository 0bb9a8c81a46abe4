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

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = login_failures)]
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

pub fn clear_failures(conn: &mut DbConnection, subject: &str) -> QueryResult<usize> {
    diesel::delete(login_failures::table.find(subject)).execute(conn)
}

/// Failure counts whose window and lock are both over.
pub fn delete_stale_failures(
    conn: &mut DbConnection,
    window_began_before: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::delete(
        login_failures::table
            .filter(login_failures::window_start.lt(window_began_before))
            .filter(
                login_failures::locked_until
                    .is_null()
                    .or(login_failures::locked_until.lt(now)),
            ),
    )
    .execute(conn)
}

/// Counts one more attempt for a subject whose window is open, if it is under its limit and
/// not locked: one conditional statement, so that attempts racing on PostgreSQL's parallel
/// writers are each counted (the row lock serialises them and the condition is re-read).
pub fn count_attempt(
    conn: &mut DbConnection,
    subject: &str,
    limit: i32,
    window_began_after: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    use login_failures::dsl as f;
    let n = diesel::update(
        f::login_failures
            .filter(f::subject.eq(subject))
            .filter(f::window_start.gt(window_began_after))
            .filter(f::window_start.le(now))
            .filter(f::failures.lt(limit))
            .filter(f::locked_until.is_null().or(f::locked_until.le(now))),
    )
    .set(f::failures.eq(f::failures + 1))
    .execute(conn)?;
    Ok(n == 1)
}

/// Starts a new window with this attempt, where the old one is over and no lock holds.
pub fn restart_window(
    conn: &mut DbConnection,
    subject: &str,
    window_began_before: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    use login_failures::dsl as f;
    let n = diesel::update(
        f::login_failures
            .filter(f::subject.eq(subject))
            .filter(f::window_start.le(window_began_before))
            .filter(f::locked_until.is_null().or(f::locked_until.le(now))),
    )
    .set((
        f::failures.eq(1),
        f::window_start.eq(now),
        f::locked_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn insert_failure(conn: &mut DbConnection, row: &FailureRow) -> QueryResult<()> {
    diesel::insert_into(login_failures::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Locks a subject that has reached its limit, and opens a fresh window after the lock.
pub fn lock_if_full(
    conn: &mut DbConnection,
    subject: &str,
    limit: i32,
    until: NaiveDateTime,
) -> QueryResult<usize> {
    use login_failures::dsl as f;
    diesel::update(
        f::login_failures
            .filter(f::subject.eq(subject))
            .filter(f::failures.ge(limit)),
    )
    .set((
        f::locked_until.eq(Some(until)),
        f::failures.eq(0),
        f::window_start.eq(until),
    ))
    .execute(conn)
}

/// Takes one attempt back (a successful sign-in is no failure).
pub fn forgive_one(conn: &mut DbConnection, subject: &str) -> QueryResult<usize> {
    use login_failures::dsl as f;
    diesel::update(
        f::login_failures
            .filter(f::subject.eq(subject))
            .filter(f::failures.gt(0)),
    )
    .set(f::failures.eq(f::failures - 1))
    .execute(conn)
}
