//! Management users: created, listed, disabled and given new passwords by `mashov user …` (and
//! later the admin pages). Hashing is the caller's, outside the transaction: argon2id takes tens
//! of milliseconds of CPU that no write lock should wait for.

use chrono::{DateTime, Utc};

use crate::db::users::UserRow;
use crate::db::{self, DbConnection, DbError};
use crate::domain::account::{normalize_email, parse_departments, Account, Role, Scope};
use crate::domain::language::Language;
use crate::services::audit::{self, Action, Actor, Change};

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0:?} is not an email address")]
    Email(String),
    #[error("a {0} needs --departments (one or more department codes)")]
    NoDepartments(Role),
    #[error("an admin sees every department: leave out --departments")]
    AdminDepartments,
    #[error("not in the catalog: {0} (see `mashov catalog import`)")]
    UnknownDepartments(String),
    #[error("a user with the address {0} already exists")]
    Exists(String),
    #[error("no user has the address {0}")]
    NotFound(String),
    #[error(transparent)]
    Db(DbError),
}
super::db_error_from!(AccountError);

/// A user to create, checked but for the catalog (which the transaction reads).
pub struct NewUser {
    pub email: String,
    pub role: Role,
    pub departments: Vec<String>,
    pub language: Language,
    /// The argon2id PHC string (`domain::password::hash`).
    pub password_hash: String,
}

impl NewUser {
    pub fn new(
        email: &str,
        role: Role,
        departments: &str,
        language: Language,
        password_hash: String,
    ) -> Result<NewUser, AccountError> {
        let email = normalize_email(email).ok_or_else(|| AccountError::Email(email.into()))?;
        let departments = parse_departments(departments);
        match role {
            Role::Admin if !departments.is_empty() => return Err(AccountError::AdminDepartments),
            Role::Manager | Role::Viewer if departments.is_empty() => {
                return Err(AccountError::NoDepartments(role))
            }
            _ => {}
        }
        Ok(NewUser {
            email,
            role,
            departments,
            language,
            password_hash,
        })
    }
}

/// Stores a new user; their departments must be in the catalog.
pub fn create(
    conn: &mut DbConnection,
    user: &NewUser,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<UserRow, AccountError> {
    db::write_transaction(conn, |conn| {
        let unknown = super::catalog::unknown_departments(conn, &user.departments)?;
        if !unknown.is_empty() {
            return Err(AccountError::UnknownDepartments(unknown));
        }
        if db::users::by_email(conn, &user.email)?.is_some() {
            return Err(AccountError::Exists(user.email.clone()));
        }
        let row = UserRow {
            id: uuid::Uuid::new_v4().to_string(),
            email: user.email.clone(),
            password_hash: user.password_hash.clone(),
            role: user.role.as_str().to_string(),
            departments: user.departments.join(","),
            language: user.language.code().to_string(),
            disabled_at: None,
            created_at: now.naive_utc(),
            updated_at: now.naive_utc(),
        };
        db::users::insert(conn, &row)?;
        let after = serde_json::json!({
            "role": row.role,
            "departments": user.departments,
            "language": row.language,
        });
        let change = Change {
            action: Action::UserCreated,
            target: &row.email,
            before: None,
            after: Some(after),
        };
        audit::record(conn, actor, change, now)?;
        Ok(row)
    })
}

pub fn list(conn: &mut DbConnection) -> Result<Vec<UserRow>, AccountError> {
    Ok(db::users::all(conn)?)
}

fn find(conn: &mut DbConnection, email: &str) -> Result<UserRow, AccountError> {
    let normal = normalize_email(email).ok_or_else(|| AccountError::Email(email.into()))?;
    db::users::by_email(conn, &normal)?.ok_or(AccountError::NotFound(normal))
}

/// Disables a user and ends every session of theirs at once. Disabling twice is not an error.
pub fn disable(
    conn: &mut DbConnection,
    email: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), AccountError> {
    db::write_transaction(conn, |conn| {
        let user = find(conn, email)?;
        db::users::disable(conn, &user.id, now.naive_utc())?;
        db::users::delete_sessions_of(conn, &user.id)?;
        if user.disabled_at.is_none() {
            let change = Change {
                action: Action::UserDisabled,
                target: &user.email,
                before: Some(serde_json::json!({ "disabled": false })),
                after: Some(serde_json::json!({ "disabled": true })),
            };
            audit::record(conn, actor, change, now)?;
        }
        Ok(())
    })
}

/// Gives a user a new password; their sessions end, so a stolen session dies with the old
/// password.
pub fn set_password(
    conn: &mut DbConnection,
    email: &str,
    password_hash: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), AccountError> {
    db::write_transaction(conn, |conn| {
        let user = find(conn, email)?;
        db::users::set_password(conn, &user.id, password_hash, now.naive_utc())?;
        db::users::delete_sessions_of(conn, &user.id)?;
        // Only that it happened: never the hash.
        let change = Change {
            action: Action::PasswordSet,
            target: &user.email,
            before: None,
            after: None,
        };
        audit::record(conn, actor, change, now)?;
        Ok(())
    })
}

/// The account a stored user is, or None when it cannot sign in (disabled, or its row no
/// longer makes sense: an unknown role, a manager without departments).
pub fn account_of(row: &UserRow) -> Option<Account> {
    if row.disabled_at.is_some() {
        return None;
    }
    let role = Role::parse(&row.role)?;
    let scope = Scope::of(role, &parse_departments(&row.departments))?;
    Some(Account {
        id: row.id.clone(),
        email: row.email.clone(),
        role,
        scope,
        language: Language::parse(&row.language).unwrap_or_default(),
    })
}
