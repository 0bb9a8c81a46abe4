//! A CRM reports a closed request: store it and issue its one-time survey link, exactly once per
//! external id, also when retries race.

use chrono::{DateTime, Duration, DurationRound, NaiveDateTime, Utc};
use serde_json::Value;

use crate::db::{
    self, interactions::InteractionRow, interactions::InvitationRow, DbConnection, DbError,
};
use crate::domain::interaction::{parse_interaction, NewInteraction};
use crate::domain::token::{hash_secret, ServerKey};
use crate::domain::FieldErrors;

use super::surveys::RESIDENT_SURVEY_KEY;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("invalid fields")]
    Invalid(FieldErrors),
    #[error("no resident survey is stored; run `mashov migrate`")]
    NoSurvey,
    #[error(transparent)]
    Db(DbError),
}
super::db_error_from!(ReportError);

/// What the CRM gets back, the same for the first report and every retry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Receipt {
    pub id: String,
    pub status: &'static str,
    pub survey_url: String,
    pub expires_at: String,
}

/// Whether this call created the interaction or found it from an earlier call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reported {
    Created(Receipt),
    Existing(Receipt),
}

/// Everything a report needs besides the request body.
pub struct ReportContext<'a> {
    pub key: &'a ServerKey,
    pub base_url: &'a str,
    pub link_ttl: Duration,
    pub now: DateTime<Utc>,
}

pub fn report(
    conn: &mut DbConnection,
    ctx: &ReportContext<'_>,
    body: &Value,
) -> Result<Reported, ReportError> {
    let mut lookup_error = None;
    let parsed = parse_interaction(body, ctx.now, |code| {
        db::catalog::service_serves(conn, code, "residents").unwrap_or_else(|e| {
            lookup_error = Some(e);
            true
        })
    });
    if let Some(e) = lookup_error {
        return Err(e.into());
    }
    let new = parsed.map_err(ReportError::Invalid)?;

    let attempt = db::write_transaction(conn, |conn| {
        if let Some(found) = db::interactions::find_by_external_id(conn, &new.external_id)? {
            return Ok(Reported::Existing(receipt(ctx, &found.0, &found.1)));
        }
        let survey =
            db::surveys::latest(conn, RESIDENT_SURVEY_KEY)?.ok_or(ReportError::NoSurvey)?;
        let (interaction, invitation) = rows(ctx, &new, &survey.id);
        db::interactions::insert(conn, &interaction, &invitation)?;
        Ok(Reported::Created(receipt(ctx, &interaction, &invitation)))
    });
    match attempt {
        // A concurrent retry inserted it first (PostgreSQL): answer with what it stored.
        Err(ReportError::Db(DbError::Query(e))) if db::connection::is_unique_violation(&e) => {
            let found = db::interactions::find_by_external_id(conn, &new.external_id)?
                .ok_or(ReportError::Db(DbError::Query(e)))?;
            Ok(Reported::Existing(receipt(ctx, &found.0, &found.1)))
        }
        other => other,
    }
}

fn rows(
    ctx: &ReportContext<'_>,
    new: &NewInteraction,
    survey_id: &str,
) -> (InteractionRow, InvitationRow) {
    let now = ctx.now.naive_utc();
    let interaction = InteractionRow {
        id: uuid::Uuid::new_v4().to_string(),
        external_id: new.external_id.clone(),
        audience: new.audience.as_str().to_string(),
        service_code: new.service_code.clone(),
        channel: new.channel.map(|c| c.as_str().to_string()),
        opened_at: new.opened_at,
        closed_at: new.closed_at,
        resolution: new.resolution.map(|r| r.as_str().to_string()),
        contact_email: new.contact.email.clone(),
        contact_phone: new.contact.phone.clone(),
        contact_name: new.contact.name.clone(),
        language: new.contact.language.code().to_string(),
        created_at: now,
    };
    let invitation_id = uuid::Uuid::new_v4().to_string();
    let token = ctx.key.survey_token(&invitation_id);
    let expires_at = (ctx.now + ctx.link_ttl)
        .duration_trunc(Duration::seconds(1))
        .unwrap_or(ctx.now + ctx.link_ttl);
    let invitation = InvitationRow {
        id: invitation_id,
        interaction_id: interaction.id.clone(),
        survey_id: survey_id.to_string(),
        token_hash: hash_secret(token.expose()),
        language: interaction.language.clone(),
        expires_at: expires_at.naive_utc(),
        answered_at: None,
        created_at: now,
    };
    (interaction, invitation)
}

fn receipt(ctx: &ReportContext<'_>, i: &InteractionRow, inv: &InvitationRow) -> Receipt {
    Receipt {
        id: i.id.clone(),
        status: "scheduled",
        survey_url: survey_url(ctx.base_url, ctx.key, &inv.id),
        expires_at: rfc3339(inv.expires_at),
    }
}

/// The public link of an invitation.
pub fn survey_url(base_url: &str, key: &ServerKey, invitation_id: &str) -> String {
    format!("{base_url}/s/{}", key.survey_token(invitation_id).expose())
}

fn rfc3339(t: NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
