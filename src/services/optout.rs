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

/// Suppresses the invitation's address at once; later interactions for it are answered
/// `suppressed` / `opted_out`, and its queued emails are cancelled when their turn comes.
pub fn opt_out(
    conn: &mut DbConnection,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Language, OptOutError> {
    let view = invitation(conn, token)?;
    if let Some(hash) = &view.contact_email_hash {
        db::write_transaction(conn, |c| {
            db::outbox::suppress(c, hash, "opted_out", now.naive_utc())
        })?;
    }
    Ok(Language::parse(&view.language).unwrap_or_default())
}
