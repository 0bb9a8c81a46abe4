//! The audit log: every change to the city's set-up (users, API keys, digest recipients),
//! written in the same transaction as the change itself, so that a change without its entry
//! cannot exist. Entries name the actor, the action, what it touched and the value before and
//! after; they never hold a password, a key or a hash of one.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::db::audit::AuditRow;
use crate::db::{self, DbConnection, DbError};
use crate::domain::account::Account;

/// Who made a change: a signed-in user, or someone at the server's command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Option<String>,
    pub label: String,
    /// The client's address, where the actor came over the network.
    pub address: Option<String>,
}

/// How an API key is named in the log's actor id (`key:ID`).
pub const KEY_PREFIX: &str = "key:";

/// How the command line is named in the log (its readers see it translated).
pub const COMMAND_LINE: &str = "command line";

impl Actor {
    pub fn command_line() -> Actor {
        Actor {
            user_id: None,
            label: COMMAND_LINE.to_string(),
            address: None,
        }
    }

    pub fn user(account: &Account) -> Actor {
        Actor {
            user_id: Some(account.id.clone()),
            label: account.email.clone(),
            address: None,
        }
    }

    /// An API key, by its id and name.
    pub fn key(id: &str, name: &str) -> Actor {
        Actor {
            user_id: Some(format!("{KEY_PREFIX}{id}")),
            label: name.to_string(),
            address: None,
        }
    }

    /// The same actor, coming from `address`.
    pub fn from(mut self, address: String) -> Actor {
        self.address = (!address.is_empty()).then_some(address);
        self
    }
}

/// What was done; stored by its dotted name, shown translated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    UserCreated,
    UserDisabled,
    PasswordSet,
    KeyCreated,
    KeyRevoked,
    RecipientAdded,
    RecipientRemoved,
    CityChanged,
    CatalogImported,
    DepartmentSaved,
    ServiceSaved,
    ServiceDeactivated,
    ServiceReactivated,
    RulesChanged,
    LogoChanged,
    SurveySaved,
    SurveyCreated,
    SurveyAssigned,
    SurveyUnassigned,
    /// Reads of personal data and exports (kept 24 months, then purged).
    CasesRead,
    CaseRead,
    Exported,
    PersonErased,
}

impl Action {
    pub const ALL: [Action; 23] = [
        Action::UserCreated,
        Action::UserDisabled,
        Action::PasswordSet,
        Action::KeyCreated,
        Action::KeyRevoked,
        Action::RecipientAdded,
        Action::RecipientRemoved,
        Action::CityChanged,
        Action::CatalogImported,
        Action::DepartmentSaved,
        Action::ServiceSaved,
        Action::ServiceDeactivated,
        Action::ServiceReactivated,
        Action::RulesChanged,
        Action::LogoChanged,
        Action::SurveySaved,
        Action::SurveyCreated,
        Action::SurveyAssigned,
        Action::SurveyUnassigned,
        Action::CasesRead,
        Action::CaseRead,
        Action::Exported,
        Action::PersonErased,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::UserCreated => "user.create",
            Action::UserDisabled => "user.disable",
            Action::PasswordSet => "user.password",
            Action::KeyCreated => "key.create",
            Action::KeyRevoked => "key.revoke",
            Action::RecipientAdded => "digest.add",
            Action::RecipientRemoved => "digest.remove",
            Action::CityChanged => "settings.city",
            Action::CatalogImported => "catalog.import",
            Action::DepartmentSaved => "catalog.department",
            Action::ServiceSaved => "catalog.service",
            Action::ServiceDeactivated => "catalog.deactivate",
            Action::ServiceReactivated => "catalog.reactivate",
            Action::RulesChanged => "settings.rules",
            Action::LogoChanged => "settings.logo",
            Action::SurveySaved => "survey.save",
            Action::SurveyCreated => "survey.create",
            Action::SurveyAssigned => "survey.assign",
            Action::SurveyUnassigned => "survey.unassign",
            Action::CasesRead => "data.cases",
            Action::CaseRead => "data.case",
            Action::Exported => "data.export",
            Action::PersonErased => "privacy.erase",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// One change to record.
pub struct Change<'a> {
    pub action: Action,
    pub target: &'a str,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Appends an entry; call it inside the transaction that makes the change.
pub fn record(
    conn: &mut DbConnection,
    actor: &Actor,
    change: Change<'_>,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let row = AuditRow {
        id: uuid::Uuid::new_v4().to_string(),
        at: now.naive_utc(),
        actor_id: actor.user_id.clone(),
        actor: actor.label.clone(),
        action: change.action.as_str().to_string(),
        target: change.target.to_string(),
        before_value: change.before.map(|v| v.to_string()),
        after_value: change.after.map(|v| v.to_string()),
        address: actor.address.clone(),
    };
    db::audit::insert(conn, &row)?;
    Ok(())
}

/// How long entries of reads of personal data are kept: 24 months.
pub const READS_KEPT_DAYS: i64 = 730;

/// Records a read of personal data or an export, in a transaction of its own (written before
/// the data is handed out: no log entry, no data).
pub fn record_read(
    conn: &mut DbConnection,
    actor: &Actor,
    action: Action,
    target: &str,
    what: Value,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    db::write_transaction(conn, |conn| {
        let change = Change {
            action,
            target,
            before: None,
            after: Some(what),
        };
        record(conn, actor, change, now)
    })
}

/// Removes the entries of reads older than [`READS_KEPT_DAYS`]; returns how many.
pub fn purge_reads(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<usize, DbError> {
    let before = (now - chrono::Duration::days(READS_KEPT_DAYS)).naive_utc();
    Ok(db::audit::purge_reads(conn, before)?)
}

/// Page `page` (from 1) of the entries, newest first, `per_page` to a page, and whether an
/// older page follows.
pub fn page(
    conn: &mut DbConnection,
    page: i64,
    per_page: i64,
) -> Result<(Vec<AuditRow>, bool), DbError> {
    let offset = page.saturating_sub(1).saturating_mul(per_page);
    // One more than a page tells whether there is an older one.
    let mut rows = db::audit::newest(conn, per_page.saturating_add(1), offset)?;
    let more = rows.len() as i64 > per_page;
    rows.truncate(usize::try_from(per_page).unwrap_or(0));
    Ok((rows, more))
}

#[cfg(test)]
mod tests {
    use super::Action;

    #[test]
    fn every_action_reads_back_from_its_name() {
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(a));
        }
        assert_eq!(Action::parse("user.delete"), None);
    }
}
