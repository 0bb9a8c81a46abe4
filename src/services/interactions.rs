//! A CRM reports a closed request: store it, issue its one-time survey link and queue its
//! emails, exactly once per external id, also when retries race.

use crate::domain::email_job::EmailJob;
use chrono::{DateTime, Duration, DurationRound, NaiveDateTime, Utc};
use serde_json::Value;

use crate::db::outbox::OutboxRow;
use crate::db::{
    self, interactions::InteractionRow, interactions::InvitationRow, DbConnection, DbError,
};
use crate::domain::interaction::{parse_interaction, Audience, NewInteraction};
use crate::domain::schedule::{next_allowed, SendRules};
use crate::domain::token::{hash_secret, ServerKey};
use crate::domain::FieldErrors;

use crate::domain::period::{day_begins, day_key, local_day, month_start};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("invalid fields")]
    Invalid(FieldErrors),
    #[error("no resident survey is stored; run `mashov migrate`")]
    NoSurvey,
    /// The external id was reported before for another audience or service: the earlier
    /// report's link is never handed out for a different request.
    #[error("external_id was already reported with a different {0}")]
    ExternalIdTaken(String),
    #[error(transparent)]
    Db(DbError),
}
super::db_error_from!(ReportError);

/// What the CRM gets back, the same for the first report and every retry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Receipt {
    pub id: String,
    /// `scheduled`, or `suppressed` (no link, no email) with a `reason`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub survey_url: Option<String>,
    pub expires_at: Option<String>,
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
    pub rules: &'a SendRules,
    /// The domain of Message-IDs (the From address's).
    pub message_domain: &'a str,
    pub now: DateTime<Utc>,
}

/// Checks a report against the rules and the catalog; reads only, so that it can run where
/// reads are cheap and leave the writer only the writes.
pub fn validate(
    conn: &mut DbConnection,
    body: &Value,
    now: DateTime<Utc>,
) -> Result<NewInteraction, ReportError> {
    let mut lookup_error = None;
    let parsed = parse_interaction(body, now, |code, audience| {
        let serves = match audience {
            Audience::Resident => "residents",
            Audience::Employee => "employees",
        };
        db::catalog::service_serves(conn, code, serves).unwrap_or_else(|e| {
            lookup_error = Some(e);
            true
        })
    });
    if let Some(e) = lookup_error {
        return Err(e.into());
    }
    parsed.map_err(ReportError::Invalid)
}

/// Validates and records a report on one connection.
pub fn report(
    conn: &mut DbConnection,
    ctx: &ReportContext<'_>,
    body: &Value,
) -> Result<Reported, ReportError> {
    let new = validate(conn, body, ctx.now)?;
    record(conn, ctx, &new)
}

/// Records a validated report: the interaction, its invitation and its emails, or the earlier
/// record of the same external id.
pub fn record(
    conn: &mut DbConnection,
    ctx: &ReportContext<'_>,
    new: &NewInteraction,
) -> Result<Reported, ReportError> {
    let attempt = db::write_transaction(conn, |conn| {
        if let Some((i, inv)) =
            db::interactions::find_by_external_id(conn, new.audience.as_str(), &new.external_id)?
        {
            same_request(&i, new)?;
            return Ok(Reported::Existing(receipt(ctx, &i, inv.as_ref())));
        }
        // A service the city stopped offering takes no new request (a retry of one recorded
        // before is answered above, as always).
        let (department, active) =
            db::catalog::standing(conn, &new.service_code)?.unwrap_or((String::new(), true));
        if !active {
            return Err(ReportError::Invalid(
                [(
                    "service_code".to_string(),
                    "is no longer offered (deactivated in the catalog)".to_string(),
                )]
                .into(),
            ));
        }
        let survey = super::survey_setup::for_interaction(
            conn,
            new.audience,
            &department,
            &new.service_code,
        )?
        .ok_or(ReportError::NoSurvey)?;
        let address_hash = new
            .contact
            .email
            .as_deref()
            .map(|e| ctx.key.address_hash(e));
        // The person is recognised by their email or their phone number, whichever they gave:
        // a resident reached only by phone is capped and can opt out too.
        let phone_hash = new
            .contact
            .phone
            .as_deref()
            .and_then(|p| ctx.key.phone_hash(p));
        let keys: Vec<String> = address_hash.iter().chain(&phone_hash).cloned().collect();
        // The link reaches its person by email when the request has one, else by the text
        // message the CRM sends: only that address's opt-out applies (a CRM does not check that
        // a request's email and phone belong to one person).
        let delivery = address_hash.as_ref().or(phone_hash.as_ref());
        let suppressed = match delivery {
            None => None,
            Some(delivery) => {
                // Without a cap, "invited since now" never matches.
                let since = ctx.now - ctx.rules.frequency_cap.unwrap_or(Duration::zero());
                match db::outbox::contact_state(conn, delivery, &keys, since.naive_utc())? {
                    (true, _) => Some("opted_out"),
                    (false, true) => Some("frequency_cap"),
                    // One survey per employee, unit and month, known by email or phone: a
                    // unit's monthly group then counts people, not tickets, and the minimum
                    // group size means people.
                    (false, false) if new.audience == Audience::Employee => {
                        let month = day_begins(month_start(local_day(ctx.now)));
                        db::interactions::employee_invited_since(
                            conn,
                            &keys,
                            &new.service_code,
                            month.naive_utc(),
                        )?
                        .then_some("once_a_month")
                    }
                    (false, false) => None,
                }
            }
        };
        let interaction = interaction_row(ctx, new, address_hash, suppressed);
        if suppressed.is_some() {
            db::interactions::insert(conn, &interaction, None)?;
            db::outbox::insert_contact_keys(conn, &interaction.id, &keys)?;
            return Ok(Reported::Created(receipt(ctx, &interaction, None)));
        }
        let invitation = invitation_row(ctx, &interaction, &survey.id);
        db::interactions::insert(conn, &interaction, Some(&invitation))?;
        db::outbox::insert_contact_keys(conn, &interaction.id, &keys)?;
        if let Some(email) = &new.contact.email {
            db::outbox::insert_new(conn, &emails(ctx, &invitation, new.closed_at, email))?;
        }
        Ok(Reported::Created(receipt(
            ctx,
            &interaction,
            Some(&invitation),
        )))
    });
    match attempt {
        // A concurrent retry inserted it first (PostgreSQL): answer with what it stored.
        Err(ReportError::Db(DbError::Query(e))) if db::connection::is_unique_violation(&e) => {
            let (i, inv) = db::interactions::find_by_external_id(
                conn,
                new.audience.as_str(),
                &new.external_id,
            )?
            .ok_or(ReportError::Db(DbError::Query(e)))?;
            same_request(&i, new)?;
            Ok(Reported::Existing(receipt(ctx, &i, inv.as_ref())))
        }
        other => other,
    }
}

/// A retry must be the same request: any field that differs is named in a `409`, so that a known
/// external id never hands out the link of a request it does not describe (nor, for a key
/// limited to some departments, another department's). The audience is part of the id.
fn same_request(stored: &InteractionRow, new: &NewInteraction) -> Result<(), ReportError> {
    let fields: [(&str, bool); 9] = [
        ("service_code", stored.service_code == new.service_code),
        (
            "channel",
            stored.channel.as_deref() == new.channel.map(|c| c.as_str()),
        ),
        ("opened_at", stored.opened_at == new.opened_at),
        ("closed_at", stored.closed_at == new.closed_at),
        (
            "resolution",
            stored.resolution.as_deref() == new.resolution.map(|r| r.as_str()),
        ),
        ("contact.email", stored.contact_email == new.contact.email),
        ("contact.phone", stored.contact_phone == new.contact.phone),
        ("contact.name", stored.contact_name == new.contact.name),
        (
            "contact.language",
            stored.language == new.contact.language.code(),
        ),
    ];
    let differs: Vec<&str> = fields
        .iter()
        .filter(|(_, same)| !same)
        .map(|(name, _)| *name)
        .collect();
    if differs.is_empty() {
        Ok(())
    } else {
        Err(ReportError::ExternalIdTaken(differs.join(", ")))
    }
}

fn interaction_row(
    ctx: &ReportContext<'_>,
    new: &NewInteraction,
    contact_email_hash: Option<String>,
    suppressed: Option<&str>,
) -> InteractionRow {
    InteractionRow {
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
        created_at: ctx.now.naive_utc(),
        status: if suppressed.is_some() {
            "suppressed"
        } else {
            "scheduled"
        }
        .to_string(),
        status_reason: suppressed.map(str::to_string),
        contact_email_hash,
    }
}

fn invitation_row(
    ctx: &ReportContext<'_>,
    interaction: &InteractionRow,
    survey_id: &str,
) -> InvitationRow {
    let invitation_id = uuid::Uuid::new_v4().to_string();
    let token = ctx.key.survey_token(&invitation_id);
    let expires_at = (ctx.now + ctx.link_ttl)
        .duration_trunc(Duration::seconds(1))
        .unwrap_or(ctx.now + ctx.link_ttl);
    InvitationRow {
        id: invitation_id,
        interaction_id: interaction.id.clone(),
        survey_id: survey_id.to_string(),
        token_hash: hash_secret(token.expose()),
        language: interaction.language.clone(),
        expires_at: expires_at.naive_utc(),
        answered_at: None,
        created_at: ctx.now.naive_utc(),
        answered: false,
        audience: interaction.audience.clone(),
        service_code: interaction.service_code.clone(),
        channel: interaction.channel.clone(),
        day: day_key(local_day(ctx.now)),
    }
}

/// The invitation email (after the delay, outside quiet hours and the rest window) and, when
/// reminders are on and it falls before the link expires, its reminder.
fn emails(
    ctx: &ReportContext<'_>,
    invitation: &InvitationRow,
    closed_at: NaiveDateTime,
    email: &str,
) -> Vec<OutboxRow> {
    let first = next_allowed(
        (closed_at.and_utc() + ctx.rules.delay).max(ctx.now),
        ctx.rules,
    );
    let mut rows = vec![outbox_row(
        ctx,
        &EmailJob::Invitation,
        invitation,
        email,
        first,
    )];
    if let Some(after) = ctx.rules.reminder_after {
        let at = next_allowed(first + after, ctx.rules);
        if at.naive_utc() < invitation.expires_at {
            rows.push(outbox_row(ctx, &EmailJob::Reminder, invitation, email, at));
        }
    }
    rows
}

fn outbox_row(
    ctx: &ReportContext<'_>,
    job: &EmailJob,
    invitation: &InvitationRow,
    email: &str,
    at: DateTime<Utc>,
) -> OutboxRow {
    OutboxRow {
        invitation_id: Some(invitation.id.clone()),
        ..OutboxRow::pending(
            job,
            format!("{}:{}", job.kind(), invitation.id),
            email,
            at.naive_utc(),
            ctx.now.naive_utc(),
            ctx.message_domain,
        )
    }
}

fn receipt(ctx: &ReportContext<'_>, i: &InteractionRow, inv: Option<&InvitationRow>) -> Receipt {
    Receipt {
        id: i.id.clone(),
        status: i.status.clone(),
        reason: i.status_reason.clone(),
        survey_url: inv.map(|inv| survey_url(ctx.base_url, ctx.key, &inv.id)),
        expires_at: inv.map(|inv| rfc3339(inv.expires_at)),
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
