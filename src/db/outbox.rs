//! The outbox: emails to send, written in the same transaction as what causes them, claimed by
//! delivery workers with a lease (and `FOR UPDATE SKIP LOCKED` on PostgreSQL, so that any number
//! of instances can share it).

use crate::domain::email_job::EmailJob;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use super::schema::{outbox, suppressions};
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, QueryableByName)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: String,
    pub kind: String,
    pub idempotency_key: String,
    pub invitation_id: Option<String>,
    pub recipient: String,
    pub message_id: String,
    pub payload: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

impl OutboxRow {
    /// A new email waiting to be sent at `at`; its Message-ID is fixed now, so that a resend
    /// after a crash carries the same one.
    pub fn pending(
        job: &EmailJob,
        idempotency_key: String,
        recipient: &str,
        at: NaiveDateTime,
        now: NaiveDateTime,
        message_domain: &str,
    ) -> OutboxRow {
        let id = uuid::Uuid::new_v4().to_string();
        OutboxRow {
            message_id: format!("<{id}@{message_domain}>"),
            id,
            kind: job.kind().to_string(),
            idempotency_key,
            invitation_id: None,
            recipient: recipient.to_string(),
            payload: job.payload(),
            status: "pending".to_string(),
            attempts: 0,
            next_attempt_at: at,
            locked_until: None,
            last_error: None,
            created_at: now,
            sent_at: None,
        }
    }
}

/// Inserts rows that cannot exist yet (their keys name an invitation made in the same
/// transaction), in one statement on each backend's own connection.
pub fn insert_new(conn: &mut DbConnection, rows: &[OutboxRow]) -> QueryResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let insert = diesel::insert_into(outbox::table).values(rows);
    match conn {
        DbConnection::Postgres(c) => insert.execute(c)?,
        DbConnection::Sqlite(c) => insert.execute(c)?,
    };
    Ok(())
}

const COLUMNS: &str = "id, kind, idempotency_key, invitation_id, recipient, message_id, payload, \
    status, attempts, next_attempt_at, locked_until, last_error, created_at, sent_at";

/// Claims up to `limit` due emails (pending and due, or sending with an expired lease) until
/// `lease_until`, counting the attempt. A claim whose holder died runs out and is claimed again:
/// at worst one resend, with the same Message-ID.
pub fn claim(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<OutboxRow>> {
    match conn {
        // Several instances may claim at once: SKIP LOCKED hands each its own rows.
        DbConnection::Postgres(c) => diesel::sql_query(format!(
            "UPDATE outbox SET status = 'sending', locked_until = $1, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM outbox \
               WHERE (status = 'pending' AND next_attempt_at <= $2) \
                  OR (status = 'sending' AND locked_until <= $2) \
               ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
             RETURNING {COLUMNS}"
        ))
        .bind::<Timestamp, _>(lease_until)
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(limit)
        .load(c),
        // One writer at a time on SQLite: the claim cannot race.
        DbConnection::Sqlite(c) => diesel::sql_query(format!(
            "UPDATE outbox SET status = 'sending', locked_until = ?1, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM outbox \
               WHERE (status = 'pending' AND next_attempt_at <= ?2) \
                  OR (status = 'sending' AND locked_until <= ?2) \
               ORDER BY next_attempt_at LIMIT ?3) \
             RETURNING {COLUMNS}"
        ))
        .bind::<Timestamp, _>(lease_until)
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(limit)
        .load(c),
    }
}

pub fn mark_sent(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq("sent"),
            outbox::sent_at.eq(now),
            outbox::locked_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)
}

/// Back to pending for another attempt at `next`.
pub fn mark_retry(
    conn: &mut DbConnection,
    id: &str,
    next: NaiveDateTime,
    error: &str,
) -> QueryResult<usize> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq("pending"),
            outbox::next_attempt_at.eq(next),
            outbox::locked_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(error),
        ))
        .execute(conn)
}

/// A final state without sending: `failed` (with the server's reply) or `cancelled` (why).
pub fn mark_final(
    conn: &mut DbConnection,
    id: &str,
    status: &str,
    reason: &str,
) -> QueryResult<usize> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq(status),
            outbox::locked_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(reason),
        ))
        .execute(conn)
}

#[derive(Debug, QueryableByName)]
pub struct StatusCount {
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

pub fn counts(conn: &mut DbConnection) -> QueryResult<Vec<StatusCount>> {
    diesel::sql_query("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status ORDER BY status")
        .load(conn)
}

#[derive(QueryableByName, Debug)]
pub struct KindStatusCount {
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

/// Emails by kind (invitation, reminder, digest, …) and state.
pub fn counts_by_kind(conn: &mut DbConnection) -> QueryResult<Vec<KindStatusCount>> {
    diesel::sql_query(
        "SELECT kind, status, COUNT(*) AS n FROM outbox GROUP BY kind, status ORDER BY kind, status",
    )
    .load(conn)
}

pub fn oldest_pending(conn: &mut DbConnection) -> QueryResult<Option<NaiveDateTime>> {
    outbox::table
        .filter(outbox::status.eq_any(["pending", "sending"]))
        .select(diesel::dsl::min(outbox::created_at))
        .first(conn)
}

/// Re-queues failed emails for now; returns how many.
pub fn retry_failed(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(outbox::table.filter(outbox::status.eq("failed")))
        .set((
            outbox::status.eq("pending"),
            outbox::next_attempt_at.eq(now),
            outbox::attempts.eq(0),
        ))
        .execute(conn)
}

pub fn suppress(
    conn: &mut DbConnection,
    address_hash: &str,
    reason: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    // Two opt-outs at once (a double click, a mail provider's one-click request beside the
    // person's own) both succeed: the second finds the row there.
    let insert = diesel::insert_into(suppressions::table)
        .values((
            suppressions::address_hash.eq(address_hash),
            suppressions::reason.eq(reason),
            suppressions::created_at.eq(now),
        ))
        .on_conflict_do_nothing();
    match conn {
        DbConnection::Postgres(c) => insert.execute(c)?,
        DbConnection::Sqlite(c) => insert.execute(c)?,
    };
    Ok(())
}

/// Whether the address a link would reach (`delivery`) opted out, and whether any of the
/// person's keys (email, phone) was invited since `since` (one round trip).
pub fn contact_state(
    conn: &mut DbConnection,
    delivery: &str,
    hashes: &[String],
    since: NaiveDateTime,
) -> QueryResult<(bool, bool)> {
    use super::schema::{contact_keys, interactions};
    diesel::select((
        diesel::dsl::exists(suppressions::table.find(delivery)),
        diesel::dsl::exists(
            contact_keys::table
                .inner_join(interactions::table)
                .filter(contact_keys::hash.eq_any(hashes))
                .filter(interactions::status.eq("scheduled"))
                .filter(interactions::created_at.gt(since)),
        ),
    ))
    .get_result(conn)
}

/// Records the keys a later request can recognise this interaction's person by.
pub fn insert_contact_keys(
    conn: &mut DbConnection,
    interaction_id: &str,
    hashes: &[String],
) -> QueryResult<()> {
    use super::schema::contact_keys;
    for hash in hashes {
        diesel::insert_into(contact_keys::table)
            .values((
                contact_keys::hash.eq(hash),
                contact_keys::interaction_id.eq(interaction_id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The keys of the person an invitation was sent to (their email's and phone's hashes).
pub fn contact_keys_of_invitation(
    conn: &mut DbConnection,
    invitation_id: &str,
) -> QueryResult<Vec<String>> {
    use super::schema::{contact_keys, invitations};
    contact_keys::table
        .inner_join(
            invitations::table.on(invitations::interaction_id.eq(contact_keys::interaction_id)),
        )
        .filter(invitations::id.eq(invitation_id))
        .select(contact_keys::hash)
        .load(conn)
}

pub fn is_suppressed(conn: &mut DbConnection, address_hash: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(suppressions::table.find(address_hash))).get_result(conn)
}

/// Whether an email with this idempotency key was ever queued.
pub fn key_exists(conn: &mut DbConnection, key: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        outbox::table.filter(outbox::idempotency_key.eq(key)),
    ))
    .get_result(conn)
}
