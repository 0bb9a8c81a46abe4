//! Interactions and their one-time invitations.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{interactions, invitations, services};
use super::DbConnection;
use crate::domain::interaction::Audience;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = interactions)]
pub struct InteractionRow {
    pub id: String,
    pub external_id: String,
    pub audience: String,
    pub service_code: String,
    pub channel: Option<String>,
    pub opened_at: Option<NaiveDateTime>,
    pub closed_at: NaiveDateTime,
    pub resolution: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_name: Option<String>,
    pub language: String,
    pub created_at: NaiveDateTime,
    /// `scheduled`, or `suppressed` with `status_reason` (`opted_out`, `frequency_cap`).
    pub status: String,
    pub status_reason: Option<String>,
    pub contact_email_hash: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = invitations)]
pub struct InvitationRow {
    pub id: String,
    pub interaction_id: String,
    pub survey_id: String,
    pub token_hash: String,
    pub language: String,
    pub expires_at: NaiveDateTime,
    pub answered_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    /// Answered; employees' invitations keep only this, never a time.
    pub answered: bool,
    pub audience: String,
    pub service_code: String,
    pub channel: Option<String>,
    /// The local day it was issued, for response rates.
    pub day: String,
}

/// What the survey page needs about an invitation, in one query.
#[derive(Debug, Clone, Queryable)]
pub struct InvitationView {
    pub invitation_id: String,
    pub survey_id: String,
    pub language: String,
    pub expires_at: NaiveDateTime,
    pub answered: bool,
    pub audience: String,
    pub channel: Option<String>,
    pub closed_at: NaiveDateTime,
    pub service_code: String,
    pub service_name: String,
    pub service_names_i18n: String,
    pub contact_email_hash: Option<String>,
}

/// Stores an interaction and, unless it was suppressed, its invitation.
pub fn insert(
    conn: &mut DbConnection,
    interaction: &InteractionRow,
    invitation: Option<&InvitationRow>,
) -> QueryResult<()> {
    diesel::insert_into(interactions::table)
        .values(interaction)
        .execute(conn)?;
    if let Some(invitation) = invitation {
        diesel::insert_into(invitations::table)
            .values(invitation)
            .execute(conn)?;
    }
    Ok(())
}

/// The interaction with this external id in this audience (ids are the CRM's, per audience) and
/// its invitation, if it was already reported.
pub fn find_by_external_id(
    conn: &mut DbConnection,
    audience: &str,
    external_id: &str,
) -> QueryResult<Option<(InteractionRow, Option<InvitationRow>)>> {
    interactions::table
        .left_join(invitations::table)
        .filter(interactions::audience.eq(audience))
        .filter(interactions::external_id.eq(external_id))
        .select((
            InteractionRow::as_select(),
            Option::<InvitationRow>::as_select(),
        ))
        .first(conn)
        .optional()
}

/// What an email about an invitation needs, in one query.
#[derive(Debug, Clone, Queryable)]
pub struct MailView {
    pub invitation_id: String,
    pub survey_id: String,
    pub language: String,
    pub expires_at: NaiveDateTime,
    pub answered: bool,
    pub closed_at: NaiveDateTime,
    pub contact_email_hash: Option<String>,
    pub service_name: String,
    pub service_names_i18n: String,
    /// `employee` invitations get the internal wording and the anonymity line.
    pub audience: String,
}

pub fn mail_view(conn: &mut DbConnection, invitation_id: &str) -> QueryResult<Option<MailView>> {
    invitations::table
        .inner_join(interactions::table.inner_join(services::table))
        .filter(invitations::id.eq(invitation_id))
        .select((
            invitations::id,
            invitations::survey_id,
            invitations::language,
            invitations::expires_at,
            invitations::answered,
            interactions::closed_at,
            interactions::contact_email_hash,
            services::name,
            services::names_i18n,
            invitations::audience,
        ))
        .first(conn)
        .optional()
}

pub fn find_view_by_token_hash(
    conn: &mut DbConnection,
    token_hash: &str,
) -> QueryResult<Option<InvitationView>> {
    invitations::table
        .inner_join(interactions::table.inner_join(services::table))
        .filter(invitations::token_hash.eq(token_hash))
        .select((
            invitations::id,
            invitations::survey_id,
            invitations::language,
            invitations::expires_at,
            invitations::answered,
            interactions::audience,
            interactions::channel,
            interactions::closed_at,
            services::code,
            services::name,
            services::names_i18n,
            interactions::contact_email_hash,
        ))
        .first(conn)
        .optional()
}

/// Marks an open invitation answered (with the time for residents, without for employees).
/// Touches one row only if it was still unanswered and not expired: the statement itself is the
/// guard against double and late submissions.
pub fn mark_answered(
    conn: &mut DbConnection,
    invitation_id: &str,
    now: NaiveDateTime,
    answered_at: Option<NaiveDateTime>,
) -> QueryResult<usize> {
    diesel::update(
        invitations::table
            .filter(invitations::id.eq(invitation_id))
            .filter(invitations::answered.eq(false))
            .filter(invitations::expires_at.gt(now)),
    )
    .set((
        invitations::answered.eq(true),
        invitations::answered_at.eq(answered_at),
    ))
    .execute(conn)
}

/// Whether this employee address was invited about this unit since `since`.
pub fn employee_invited_since(
    conn: &mut DbConnection,
    keys: &[String],
    service_code: &str,
    since: NaiveDateTime,
) -> QueryResult<bool> {
    use super::schema::contact_keys;
    diesel::select(diesel::dsl::exists(
        contact_keys::table
            .inner_join(interactions::table)
            .filter(contact_keys::hash.eq_any(keys))
            .filter(interactions::audience.eq(Audience::Employee.as_str()))
            .filter(interactions::service_code.eq(service_code))
            .filter(interactions::status.ne("suppressed"))
            .filter(interactions::created_at.ge(since)),
    ))
    .get_result(conn)
}
