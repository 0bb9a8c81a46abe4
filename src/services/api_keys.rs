//! Creating, listing and revoking API keys.

use chrono::{DateTime, Utc};

use crate::db::{self, api_keys::ApiKeyRow, DbConnection, DbError};
use crate::domain::account::parse_departments;
use crate::domain::api_scope::{ApiScope, Grant};
use crate::domain::secret::Secret;
use crate::domain::token::{generate_api_key, hash_secret};
use crate::services::audit::{self, Action, Actor, Change};

#[derive(Debug, thiserror::Error)]
pub enum ApiKeyError {
    #[error("an active key named {0:?} already exists; revoke it first or pick another name")]
    NameTaken(String),
    #[error("a key name must have 1 to 64 printable characters")]
    BadName,
    #[error("no active key is named {0:?}")]
    NotFound(String),
    #[error("not in the catalog: {0} (see `mashov catalog import`)")]
    UnknownDepartments(String),
    #[error(transparent)]
    Db(DbError),
}
super::db_error_from!(ApiKeyError);

/// Creates a key with every scope and every department (what keys were before scopes).
pub fn create(
    conn: &mut DbConnection,
    name: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Secret<String>, ApiKeyError> {
    create_scoped(conn, name, &ApiScope::ALL, &[], actor, now)
}

/// Creates a key and returns it in clear, the only time it exists outside the caller's hands.
/// Its departments, if any, must be in the catalog.
pub fn create_scoped(
    conn: &mut DbConnection,
    name: &str,
    scopes: &[ApiScope],
    departments: &[String],
    actor: &Actor,
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
        scopes: ApiScope::join(scopes),
        departments: departments.join(","),
        last_used_at: None,
    };
    let stored = db::write_transaction(conn, |c| {
        let unknown = super::catalog::unknown_departments(c, departments)?;
        if !unknown.is_empty() {
            return Err(ApiKeyError::UnknownDepartments(unknown));
        }
        db::api_keys::insert(c, &row).map_err(|e| {
            if db::connection::is_unique_violation(&e) {
                ApiKeyError::NameTaken(name.to_string())
            } else {
                e.into()
            }
        })?;
        let after = serde_json::json!({ "scopes": row.scopes, "departments": departments });
        let change = Change {
            action: Action::KeyCreated,
            target: &row.name,
            before: None,
            after: Some(after),
        };
        Ok::<_, ApiKeyError>(audit::record(c, actor, change, now)?)
    });
    stored.map(|()| key)
}

pub fn list(conn: &mut DbConnection) -> Result<Vec<ApiKeyRow>, ApiKeyError> {
    Ok(db::api_keys::list(conn)?)
}

pub fn revoke(
    conn: &mut DbConnection,
    name: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), ApiKeyError> {
    db::write_transaction(conn, |c| {
        if db::api_keys::revoke(c, name, now.naive_utc())? == 0 {
            return Err(ApiKeyError::NotFound(name.to_string()));
        }
        let change = Change {
            action: Action::KeyRevoked,
            target: name,
            before: Some(serde_json::json!({ "revoked": false })),
            after: Some(serde_json::json!({ "revoked": true })),
        };
        Ok(audit::record(c, actor, change, now)?)
    })
}

/// What the presented key may do, if it is known and not revoked, and whether its last use
/// should be recorded (at most once a minute).
pub fn authenticate(
    conn: &mut DbConnection,
    presented: &str,
    now: DateTime<Utc>,
) -> Result<Option<(Grant, bool)>, DbError> {
    let Some(row) = db::api_keys::find_active(conn, &hash_secret(presented))? else {
        return Ok(None);
    };
    let stale = row
        .last_used_at
        .is_none_or(|t| t < now.naive_utc() - chrono::Duration::minutes(1));
    // A stored list this version cannot read grants nothing rather than everything.
    let scopes = ApiScope::parse_list(&row.scopes).unwrap_or_default();
    Ok(Some((
        Grant {
            name: row.name,
            key_id: row.id,
            scopes,
            departments: parse_departments(&row.departments),
        },
        stale,
    )))
}

/// Records that a key was used now.
pub fn touch(conn: &mut DbConnection, key_id: &str, now: DateTime<Utc>) -> Result<(), DbError> {
    let now = now.naive_utc();
    db::api_keys::touch(conn, key_id, now, now - chrono::Duration::minutes(1))?;
    Ok(())
}
