//! Creating, listing and revoking API keys.

use chrono::{DateTime, Utc};

use crate::db::{self, api_keys::ApiKeyRow, DbConnection, DbError};
use crate::domain::secret::Secret;
use crate::domain::token::{generate_api_key, hash_secret};

#[derive(Debug, thiserror::Error)]
pub enum ApiKeyError {
    #[error("an active key named {0:?} already exists; revoke it first or pick another name")]
    NameTaken(String),
    #[error("a key name must have 1 to 64 printable characters")]
    BadName,
    #[error("no active key is named {0:?}")]
    NotFound(String),
    #[error(transparent)]
    Db(DbError),
}
super::db_error_from!(ApiKeyError);

/// Creates a key and returns it in clear, the only time it exists outside the caller's hands.
pub fn create(
    conn: &mut DbConnection,
    name: &str,
    now: DateTime<Utc>,
) -> Result<Secret<String>, ApiKeyError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(ApiKeyError::BadName);
    }
    let key = generate_api_key();
    let row = ApiKeyRow {
        id: uuid::Uuid::new_v4().to_string(),
        name: name.to_string(),
        key_hash: hash_secret(key.expose()),
        created_at: now.naive_utc(),
        revoked_at: None,
    };
    match db::write_transaction(conn, |c| db::api_keys::insert(c, &row)) {
        Ok(()) => Ok(key),
        Err(e) if db::connection::is_unique_violation(&e) => {
            Err(ApiKeyError::NameTaken(name.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}

pub fn list(conn: &mut DbConnection) -> Result<Vec<ApiKeyRow>, ApiKeyError> {
    Ok(db::api_keys::list(conn)?)
}

pub fn revoke(conn: &mut DbConnection, name: &str, now: DateTime<Utc>) -> Result<(), ApiKeyError> {
    let n = db::write_transaction(conn, |c| db::api_keys::revoke(c, name, now.naive_utc()))?;
    if n == 0 {
        return Err(ApiKeyError::NotFound(name.to_string()));
    }
    Ok(())
}

/// True when the presented key is known and not revoked.
pub fn authenticate(conn: &mut DbConnection, presented: &str) -> Result<bool, DbError> {
    Ok(db::api_keys::is_active(conn, &hash_secret(presented))?)
}
