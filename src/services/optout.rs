//! "Never again": a resident stops survey emails from the link in any of them. The address is
//! kept only as a keyed hash.

use chrono::{DateTime, Utc};

use crate::db::interactions::InvitationView;
use crate::db::{self, DbConnection, DbError};
use crate::domain::language::Language;
use crate::domain::token::{hash_secret, looks_like_survey_token};

#[derive(Debug, thiserror::Error)]
pub enum OptOutError {
    #[error("no such link")]
    NotFound,
    #[error(transparent)]
    Db(DbError),
}
super::db_error_from!(OptOutError);

/// The invitation behind an unsubscribe link, whatever its state (answered or expired links
/// still unsubscribe).
fn invitation(conn: &mut DbConnection, token: &str) -> Result<InvitationView, OptOutError> {
    if !looks_like_survey_token(token) {
        return Err(OptOutError::NotFound);
    }
    db::interactions::find_view_by_token_hash(conn, &hash_secret(token))?
        .ok_or(OptOutError::NotFound)
}

/// The language of the invitation behind an unsubscribe link (for its page).
pub fn language(conn: &mut DbConnection, token: &str) -> Result<Language, OptOutError> {
    let view = invitation(conn, token)?;
    Ok(Language::parse(&view.language).unwrap_or_default())
}

/// Suppresses, at once, the address the link reached its person by: the email address when the
/// request carried one (mashov emailed the link), otherwise the phone number (the CRM texted
/// it). Only that one: a CRM does not check that a request's email and phone belong to one
/// person, and a link must not silence someone else's number. Later requests for that address
/// are answered `suppressed` / `opted_out`, and queued emails are cancelled when their turn
/// comes. A resident reached only by phone opts out from the survey page's link, which leads
/// here.
pub fn opt_out(
    conn: &mut DbConnection,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Language, OptOutError> {
    let view = invitation(conn, token)?;
    db::write_transaction(conn, |c| {
        let delivered_to = match &view.contact_email_hash {
            Some(email) => vec![email.clone()],
            // No email: its only key is its phone number's.
            None => db::outbox::contact_keys_of_invitation(c, &view.invitation_id)?,
        };
        for hash in &delivered_to {
            db::outbox::suppress(c, hash, "opted_out", now.naive_utc())?;
        }
        Ok::<_, diesel::result::Error>(())
    })?;
    Ok(Language::parse(&view.language).unwrap_or_default())
}
