//! Signing in and out of the management app, and the sessions in between.
//!
//! A session id is 128 random bits in a cookie; only its SHA-256 is stored, so a copy of the
//! database opens no session. It lives at most [`ABSOLUTE`] from sign-in and [`IDLE`] from its
//! last use. Failed sign-ins are counted per account and per client address, both as keyed
//! hashes: past the limit, that account or address waits (`429`), whatever the password.
//!
//! The steps are split by what they cost: [`begin`] counts the attempt and finds the user, the
//! caller verifies the password off the request thread (argon2id, a bounded number at once),
//! and [`fail`] or [`start`] settle the count; all three write through the writer.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use rand::rngs::OsRng;
use rand::RngCore;

use diesel::Connection;

use crate::db::users::{FailureRow, SessionRow, UserRow};
use crate::db::{self, DbConnection, DbError};
use crate::domain::account::{normalize_email, Account};
use crate::domain::secret::Secret;
use crate::domain::token::{hash_secret, ServerKey};

/// A session ends this long after sign-in, whatever happens.
pub const ABSOLUTE: Duration = Duration::hours(12);
/// A session ends after this long without a request.
pub const IDLE: Duration = Duration::minutes(30);
/// The idle clock moves at most this often (a write per page view would be waste).
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// How many failed sign-ins within [`WINDOW`] lock a subject for [`LOCK`]: one account from one
/// address (someone guessing), one address whatever the accounts (someone spraying; an office
/// behind one address has many people), one account from anywhere (a distributed guess; high,
/// so that one address cannot lock somebody else out: it meets its own limits first).
const PAIR_FAILURES: i32 = 5;
const ADDRESS_FAILURES: i32 = 20;
const ACCOUNT_FAILURES: i32 = 50;
const WINDOW: Duration = Duration::minutes(15);
const LOCK: Duration = Duration::minutes(15);

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// The same for an unknown address, a wrong password and a disabled account.
    #[error("the address or the password is not right")]
    Invalid,
    #[error("too many failed sign-ins; try again in {} seconds", .0.num_seconds())]
    Throttled(Duration),
    #[error(transparent)]
    Db(DbError),
}
super::db_error_from!(SignInError);

/// Who is trying to sign in, as keyed hashes (never the address in clear).
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The address as typed, normalised (None when it is not an address at all).
    pub email: Option<String>,
    /// (subject, limit): the pair, the account, the client address.
    subjects: Vec<(String, i32)>,
}

impl Attempt {
    pub fn new(key: &ServerKey, email: &str, client: &str) -> Attempt {
        let email = normalize_email(email);
        // Text that is no address at all counts against one shared "account".
        let account = email.clone().unwrap_or_default();
        let hash = |purpose: &str, text: &str| key.keyed_hash(purpose, text);
        Attempt {
            subjects: vec![
                (
                    format!(
                        "pair:{}",
                        hash("sign-in-pair", &format!("{account}\n{client}"))
                    ),
                    PAIR_FAILURES,
                ),
                (
                    format!("account:{}", hash("sign-in-account", &account)),
                    ACCOUNT_FAILURES,
                ),
                (
                    format!("address:{}", hash("sign-in-address", client)),
                    ADDRESS_FAILURES,
                ),
            ],
            email,
        }
    }
}

/// What a sign-in attempt found: the stored user (if any) whose hash the caller verifies.
pub struct Checked {
    pub user: Option<UserRow>,
}

/// Counts the attempt before its password is checked (so that a burst of parallel guesses is
/// counted one by one, and the ones past the limit never reach the password check), refusing
/// at once where a subject is locked or already has its limit of attempts in this window; then
/// finds the user. Runs through the writer; every count is one conditional statement, so it
/// holds on PostgreSQL's parallel writers too.
pub fn begin(
    conn: &mut DbConnection,
    attempt: &Attempt,
    now: DateTime<Utc>,
) -> Result<Checked, SignInError> {
    let now = now.naive_utc();
    db::write_transaction(conn, |conn| {
        for (subject, limit) in &attempt.subjects {
            if let Some(wait) = count(conn, subject, *limit, now)? {
                // The transaction backs out: no subject is counted for a refused attempt.
                return Err(SignInError::Throttled(wait));
            }
        }
        let user = match &attempt.email {
            Some(email) => db::users::by_email(conn, email)?,
            None => None,
        };
        Ok(Checked { user })
    })
}

/// Counts one attempt for a subject; `Some(wait)` when it may not try now.
fn count(
    conn: &mut DbConnection,
    subject: &str,
    limit: i32,
    now: NaiveDateTime,
) -> Result<Option<Duration>, SignInError> {
    let window_from = now - WINDOW;
    for _ in 0..3 {
        if db::users::count_attempt(conn, subject, limit, window_from, now)? {
            return Ok(None);
        }
        let stored = db::users::failures(conn, &[subject.to_string()])?.pop();
        match stored {
            Some(f) if f.locked_until.is_some_and(|t| t > now) => {
                return Ok(f.locked_until.map(|t| t - now))
            }
            Some(f) if f.window_start > window_from && f.failures >= limit => {
                return Ok(Some(f.window_start + WINDOW - now))
            }
            Some(_) => {
                if db::users::restart_window(conn, subject, window_from, now)? {
                    return Ok(None);
                }
            }
            None => {
                let row = FailureRow {
                    subject: subject.to_string(),
                    failures: 1,
                    window_start: now,
                    locked_until: None,
                };
                // In a savepoint: on PostgreSQL a clash with a racing insert must not abort
                // the whole transaction; the next round counts on the row that won.
                match conn.transaction(|c| db::users::insert_failure(c, &row)) {
                    Ok(()) => return Ok(None),
                    Err(e) if db::connection::is_unique_violation(&e) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    // Three rounds lost to racing attempts: this one waits its turn.
    Ok(Some(Duration::seconds(1)))
}

/// The attempt failed: a subject that reached its limit is locked for [`LOCK`].
pub fn fail(
    conn: &mut DbConnection,
    attempt: &Attempt,
    now: DateTime<Utc>,
) -> Result<(), SignInError> {
    let until = now.naive_utc() + LOCK;
    db::write_transaction(conn, |conn| {
        for (subject, limit) in &attempt.subjects {
            db::users::lock_if_full(conn, subject, *limit, until)?;
        }
        Ok(())
    })
}

/// A session's plain id: shown once, in the cookie.
pub type SessionId = Secret<String>;

/// Starts a session for a user who proved their password: a new id every time (no fixation),
/// and the account's failure count forgotten.
pub fn start(
    conn: &mut DbConnection,
    attempt: &Attempt,
    user_id: &str,
    now: DateTime<Utc>,
) -> Result<SessionId, SignInError> {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    let id = URL_SAFE_NO_PAD.encode(bytes);
    db::write_transaction(conn, |conn| {
        // The attempt was counted in `begin`: the pair's and the account's counts are
        // forgotten, the address's loses this attempt (its other people's failures stay).
        for (subject, _) in &attempt.subjects {
            if subject.starts_with("address:") {
                db::users::forgive_one(conn, subject)?;
            } else {
                db::users::clear_failures(conn, subject)?;
            }
        }
        db::users::insert_session(
            conn,
            &SessionRow {
                id_hash: hash_secret(&id),
                user_id: user_id.to_string(),
                created_at: now.naive_utc(),
                last_seen_at: now.naive_utc(),
            },
        )?;
        Ok::<_, SignInError>(())
    })?;
    Ok(Secret::new(id))
}

/// A live session's account, and whether its idle clock should be moved.
pub struct Live {
    pub account: Account,
    pub touch: bool,
}

/// The account behind a session cookie, if the session is live and its user may sign in.
pub fn find(
    conn: &mut DbConnection,
    session_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<Live>, DbError> {
    if session_id.is_empty() || session_id.len() > 64 {
        return Ok(None);
    }
    let now = now.naive_utc();
    let Some((session, user)) = db::users::session(conn, &hash_secret(session_id))? else {
        return Ok(None);
    };
    if !alive(&session, now) {
        return Ok(None);
    }
    Ok(super::accounts::account_of(&user).map(|account| Live {
        account,
        touch: session.last_seen_at + TOUCH_EVERY <= now,
    }))
}

fn alive(session: &SessionRow, now: NaiveDateTime) -> bool {
    session.created_at + ABSOLUTE > now && session.last_seen_at + IDLE > now
}

/// Moves a session's idle clock.
pub fn touch(conn: &mut DbConnection, session_id: &str, now: DateTime<Utc>) -> Result<(), DbError> {
    db::users::touch_session(conn, &hash_secret(session_id), now.naive_utc())?;
    Ok(())
}

/// Ends a session at once (sign out, or a new sign-in in the same browser).
pub fn end(conn: &mut DbConnection, session_id: &str) -> Result<(), DbError> {
    db::users::delete_session(conn, &hash_secret(session_id))?;
    Ok(())
}

/// Forgets sessions that have ended and failure counts that no longer matter (housekeeping),
/// so that neither table grows with time or with guesses at made-up addresses.
pub fn sweep(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<usize, DbError> {
    let now = now.naive_utc();
    db::write_transaction(conn, |conn| {
        let sessions = db::users::delete_stale_sessions(conn, now - ABSOLUTE, now - IDLE)?;
        let failures = db::users::delete_stale_failures(conn, now - WINDOW - LOCK, now)?;
        Ok::<_, DbError>(sessions + failures)
    })
}

/// The token every form of a session carries: derived from the session id with the server
/// key, so it needs no storage and dies with the session.
pub fn csrf_token(key: &ServerKey, session_id: &str) -> String {
    key.keyed_hash("csrf", session_id)
}

/// The sign-in form's token, tied to the pre-session cookie the form was served with.
pub fn login_csrf_token(key: &ServerKey, login_cookie: &str) -> String {
    key.keyed_hash("login-csrf", login_cookie)
}

/// A fresh random value for the pre-session cookie.
pub fn new_login_cookie() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Constant-time comparison of two tokens.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
