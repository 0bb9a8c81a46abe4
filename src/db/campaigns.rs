//! Employee campaigns and their recipients. A recipient row is the campaign's invitation: it
//! holds the address until the campaign closes, and then only counts remain.

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{campaign_recipients, campaigns, outbox};
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = campaigns)]
pub struct CampaignRow {
    pub id: String,
    pub name: String,
    pub survey_id: String,
    pub opens_on: Option<String>,
    pub closes_on: Option<String>,
    /// `draft`, `launched` or `closed`.
    pub status: String,
    pub created_at: NaiveDateTime,
    pub launched_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = campaign_recipients)]
pub struct RecipientRow {
    pub id: String,
    pub campaign_id: String,
    pub email: Option<String>,
    pub department_code: String,
    pub language: String,
    pub token_hash: Option<String>,
    pub expires_at: Option<NaiveDateTime>,
    pub answered: bool,
    pub created_at: NaiveDateTime,
}

/// A campaign's counts, kept after its addresses are deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub recipients: i64,
    pub invited: i64,
    pub answered: i64,
}

pub fn insert(conn: &mut DbConnection, row: &CampaignRow) -> QueryResult<()> {
    diesel::insert_into(campaigns::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<CampaignRow>> {
    campaigns::table
        .find(id)
        .select(CampaignRow::as_select())
        .first(conn)
        .optional()
}

pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<CampaignRow>> {
    campaigns::table
        .order(campaigns::created_at.asc())
        .select(CampaignRow::as_select())
        .load(conn)
}

pub fn closed_ids(conn: &mut DbConnection) -> QueryResult<Vec<String>> {
    campaigns::table
        .filter(campaigns::status.eq("closed"))
        .select(campaigns::id)
        .load(conn)
}

pub fn counts(conn: &mut DbConnection, campaign_id: &str) -> QueryResult<Counts> {
    let in_campaign = campaign_recipients::campaign_id.eq(campaign_id);
    Ok(Counts {
        recipients: campaign_recipients::table
            .filter(in_campaign)
            .count()
            .get_result(conn)?,
        invited: campaign_recipients::table
            .filter(campaign_recipients::campaign_id.eq(campaign_id))
            .filter(campaign_recipients::token_hash.is_not_null())
            .count()
            .get_result(conn)?,
        answered: campaign_recipients::table
            .filter(campaign_recipients::campaign_id.eq(campaign_id))
            .filter(campaign_recipients::answered.eq(true))
            .count()
            .get_result(conn)?,
    })
}

/// The addresses already in a campaign.
pub fn emails(conn: &mut DbConnection, campaign_id: &str) -> QueryResult<HashSet<String>> {
    Ok(campaign_recipients::table
        .filter(campaign_recipients::campaign_id.eq(campaign_id))
        .filter(campaign_recipients::email.is_not_null())
        .select(campaign_recipients::email)
        .load::<Option<String>>(conn)?
        .into_iter()
        .flatten()
        .collect())
}

/// Inserts new recipients in multi-row statements on each backend's own connection.
pub fn insert_recipients(conn: &mut DbConnection, rows: &[RecipientRow]) -> QueryResult<()> {
    // 9 values a row: 500 rows stay under both backends' bound-parameter limits.
    for chunk in rows.chunks(500) {
        let insert = diesel::insert_into(campaign_recipients::table).values(chunk);
        match conn {
            DbConnection::Postgres(c) => insert.execute(c)?,
            DbConnection::Sqlite(c) => insert.execute(c)?,
        };
    }
    Ok(())
}

/// Recipients not yet given a link.
pub fn uninvited(conn: &mut DbConnection, campaign_id: &str) -> QueryResult<Vec<RecipientRow>> {
    campaign_recipients::table
        .filter(campaign_recipients::campaign_id.eq(campaign_id))
        .filter(campaign_recipients::token_hash.is_null())
        .filter(campaign_recipients::email.is_not_null())
        .order(campaign_recipients::email.asc())
        .select(RecipientRow::as_select())
        .load(conn)
}

pub fn set_link(
    conn: &mut DbConnection,
    recipient_id: &str,
    token_hash: &str,
    expires_at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(campaign_recipients::table.find(recipient_id))
        .set((
            campaign_recipients::token_hash.eq(token_hash),
            campaign_recipients::expires_at.eq(expires_at),
        ))
        .execute(conn)
}

/// Recipients with a link, by address.
pub fn invited(conn: &mut DbConnection, campaign_id: &str) -> QueryResult<Vec<RecipientRow>> {
    campaign_recipients::table
        .filter(campaign_recipients::campaign_id.eq(campaign_id))
        .filter(campaign_recipients::token_hash.is_not_null())
        .filter(campaign_recipients::email.is_not_null())
        .order(campaign_recipients::email.asc())
        .select(RecipientRow::as_select())
        .load(conn)
}

pub fn find_recipient(conn: &mut DbConnection, id: &str) -> QueryResult<Option<RecipientRow>> {
    campaign_recipients::table
        .find(id)
        .select(RecipientRow::as_select())
        .first(conn)
        .optional()
}

/// A recipient and their campaign by the hash of their link's token.
pub fn find_by_token_hash(
    conn: &mut DbConnection,
    token_hash: &str,
) -> QueryResult<Option<(RecipientRow, CampaignRow)>> {
    campaign_recipients::table
        .inner_join(campaigns::table)
        .filter(campaign_recipients::token_hash.eq(token_hash))
        .select((RecipientRow::as_select(), CampaignRow::as_select()))
        .first(conn)
        .optional()
}

/// Marks a recipient answered, only if the link is still open: the statement is the guard
/// against double and late submissions.
pub fn mark_answered(
    conn: &mut DbConnection,
    recipient_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        campaign_recipients::table
            .filter(campaign_recipients::id.eq(recipient_id))
            .filter(campaign_recipients::answered.eq(false))
            .filter(campaign_recipients::expires_at.gt(now)),
    )
    .set(campaign_recipients::answered.eq(true))
    .execute(conn)
}

pub fn set_status(
    conn: &mut DbConnection,
    id: &str,
    status: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    let target = campaigns::table.find(id);
    match status {
        "launched" => diesel::update(target)
            .set((
                campaigns::status.eq(status),
                campaigns::launched_at.eq(Some(at)),
            ))
            .execute(conn),
        _ => diesel::update(target)
            .set((
                campaigns::status.eq(status),
                campaigns::closed_at.eq(Some(at)),
            ))
            .execute(conn),
    }
}

/// Closes a campaign's links and deletes its addresses, here and in the outbox. The links lose
/// their expiry altogether, so that a submission racing the close cannot mark its recipient
/// (and reach the inbox) once the close has committed.
pub fn forget_addresses(conn: &mut DbConnection, campaign_id: &str) -> QueryResult<()> {
    diesel::update(
        campaign_recipients::table.filter(campaign_recipients::campaign_id.eq(campaign_id)),
    )
    .set((
        campaign_recipients::email.eq(None::<String>),
        campaign_recipients::expires_at.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    diesel::delete(
        outbox::table
            .filter(outbox::idempotency_key.like(format!("{}%", outbox_key_prefix(campaign_id)))),
    )
    .execute(conn)?;
    Ok(())
}

/// Campaign emails' idempotency keys start with this, so that closing can find them.
pub fn outbox_key_prefix(campaign_id: &str) -> String {
    format!("campaign:{campaign_id}:")
}
