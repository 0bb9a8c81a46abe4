//! Signing in and out of the management app, and the sessions in between.
//!
//! A session id is 128 random bits in a cookie; only its SHA-256 is stored, so a copy of the
//! database opens no session. It lives at most [`ABSOLUTE`] from sign-in and [`IDLE`] from its
//! last use. Failed sign-ins are counted per account and per client address, both as keyed
//! hashes: past the limit, that account or address waits (`429`), whatever the password.
//!
//! The steps are split by what they cost: [`check`] reads (is either subject locked? who is
//! this?), the caller verifies the password off the request thread (argon2id), and
//! [`record_failure`] or [`start`] write through the writer.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use rand::rngs::OsRng;
use rand::RngCore;

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

/// How many failures lock an account, and an address (an office behind one address has many
/// people), within [`WINDOW`]; a lock lasts [`LOCK`].
const ACCOUNT_FAILURES: i32 = 5;
const ADDRESS_FAILURES: i32 = 20;
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
    subjects: Vec<String>,
}

impl Attempt {
    pub fn new(key: &ServerKey, email: &str, client: &str) -> Attempt {
        let email = normalize_email(email);
        // Text that is no address at all counts against one shared "account".
        let account = email.clone().unwrap_or_default();
        Attempt {
            subjects: vec![
                format!("account:{}", key.keyed_hash("sign-in-account", &account)),
                format!("address:{}", key.keyed_hash("sign-in-address", client)),
            ],
            email,
        }
    }
}

/// What a sign-in attempt found: the stored user (if any) whose hash the caller verifies.
pub struct Checked {
    pub user: Option<UserRow>,
}

/// Refuses at once when the account or the address is locked; otherwise finds the user.
pub fn check(
    conn: &mut DbConnection,
    attempt: &Attempt,
    now: DateTime<Utc>,
) -> Result<Checked, SignInError> {
    let now = now.naive_utc();
    let locked = db::users::failures(conn, &attempt.subjects)?
        .into_iter()
        .filter_map(|f| f.locked_until.filter(|t| *t > now))
        .max();
    if let Some(until) = locked {
        return Err(SignInError::Throttled(until - now));
    }
    let user = match &attempt.email {
        Some(email) => db::users::by_email(conn, email)?,
        None => None,
    };
    Ok(Checked { user })
}

/// Counts a failure against the account and the address; locks either past its limit.
pub fn record_failure(
    conn: &mut DbConnection,
    attempt: &Attempt,
    now: DateTime<Utc>,
) -> Result<(), SignInError> {
    let now = now.naive_utc();
    db::write_transaction(conn, |conn| {
        let known = db::users::failures(conn, &attempt.subjects)?;
        for subject in &attempt.subjects {
            let limit = if subject.starts_with("account:") {
                ACCOUNT_FAILURES
            } else {
                ADDRESS_FAILURES
            };
            let mut row = known
                .iter()
                .find(|f| &f.subject == subject)
                .filter(|f| f.window_start + WINDOW > now)
                .cloned()
                .unwrap_or(FailureRow {
                    subject: subject.clone(),
                    failures: 0,
                    window_start: now,
                    locked_until: None,
                });
            row.failures += 1;
            if row.failures >= limit {
                row.locked_until = Some(now + LOCK);
                // A fresh window after the lock: five more tries, not one.
                row.failures = 0;
                row.window_start = now + LOCK;
            }
            db::users::save_failure(conn, &row)?;
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
        if let Some(account) = attempt.subjects.first() {
            db::users::clear_failures(conn, account)?;
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

/// Ends a session at once (sign out); also sweeps sessions that expired unused.
pub fn end(conn: &mut DbConnection, session_id: &str, now: DateTime<Utc>) -> Result<(), DbError> {
    let now = now.naive_utc();
    db::write_transaction(conn, |conn| {
        db::users::delete_session(conn, &hash_secret(session_id))?;
        db::users::delete_stale_sessions(conn, now - ABSOLUTE, now - IDLE)?;
        Ok::<_, DbError>(())
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
