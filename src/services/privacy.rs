//! Privacy retention: residents' contact details are kept while they serve their purpose (the
//! survey and its reminders, the follow-up case) and then erased, a set period after; a person
//! may have theirs erased everywhere at once. Answers stay (they hold no contact), and so does
//! the opt-out list (keyed hashes, which name nobody without the server key).

use chrono::{DateTime, Utc};

use super::audit::{self, Action, Actor};
use crate::db::{self, privacy::Erased, DbConnection, DbError};
use crate::domain::period::{day_key, local_day};

/// Erases what is past `retention` as of `now`: requests whose invitation closed before, cases
/// closed before, and finished emails. With `dry_run`, only counts.
pub fn purge(
    conn: &mut DbConnection,
    retention: chrono::Duration,
    now: DateTime<Utc>,
    dry_run: bool,
) -> Result<Erased, DbError> {
    let cutoff = now - retention;
    let day = day_key(local_day(cutoff));
    db::write_transaction(conn, |conn| {
        db::privacy::purge(conn, cutoff.naive_utc(), &day, dry_run)
    })
    .map_err(DbError::Query)
}

/// Who to erase: an email address, a phone number, or both.
pub struct Person<'a> {
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
}

/// Erases one person's contact details everywhere, in one transaction with its entry in the
/// audit log (which names what was erased, never the person).
pub fn erase(
    conn: &mut DbConnection,
    person: &Person<'_>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Erased, DbError> {
    let email = person.email.map(str::trim).filter(|e| !e.is_empty());
    let phone = person.phone.map(str::trim).filter(|p| !p.is_empty());
    db::write_transaction(conn, |conn| {
        let erased = db::privacy::erase_person(conn, email, phone)?;
        let change = audit::Change {
            action: Action::PersonErased,
            target: "a person's contact details",
            before: None,
            after: Some(serde_json::json!({
                "requests": erased.interactions,
                "cases": erased.cases,
                "emails": erased.emails,
                "campaign_recipients": erased.campaign_recipients,
            })),
        };
        audit::record(conn, actor, change, now)?;
        Ok::<_, DbError>(erased)
    })
}
