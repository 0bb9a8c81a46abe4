//! The delivery worker inside `mashov serve`: claims due emails from the outbox, renders and sends
//! them concurrently over the pooled SMTP transport, and records each outcome. Transient
//! failures (connection errors, time-outs, 4xx) are retried with exponential backoff and jitter,
//! the first within a minute, for 48 hours; a permanent 5xx fails the email with the reply.

use crate::domain::email_job::EmailJob;
use chrono::{DateTime, Duration, Utc};
use futures_util::stream::{self, StreamExt};
use lettre::AsyncTransport;
use rand::Rng;

use super::message::{self, MessageError};
use super::transport::Mailer;
use crate::db::outbox::{self, OutboxRow};
use crate::db::{self, DbConnection, DbError};
use crate::state::AppState;

/// Emails claimed at once; also how many are in flight.
const BATCH: i64 = 200;
const IN_FLIGHT: usize = 64;
/// How long transient failures are retried.
const GIVE_UP_AFTER: i64 = 48;

/// What to do with one claimed email.
enum Plan {
    Send(Box<lettre::Message>),
    Cancel(&'static str),
    Fail(String),
}

impl Plan {
    /// A message that could be built is sent; one that could not fails with the reason.
    fn from_built(built: Result<lettre::Message, String>) -> Plan {
        match built {
            Ok(m) => Plan::Send(Box::new(m)),
            Err(e) => Plan::Fail(e),
        }
    }
}

/// What happened to it.
enum Outcome {
    Sent,
    Retry(DateTime<Utc>, String),
    Failed(String),
    Cancelled(&'static str),
}

/// Runs until `serve` stops: the batch being sent is finished (under `state.sending`, which
/// `serve` waits for), and no new one is claimed.
pub async fn run(state: actix_web::web::Data<AppState>, mailer: &'static Mailer) {
    while !state.stopping() {
        let sending = state.sending.read().await;
        let claimed = match deliver_batch(&state, mailer).await {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(error = %e, "outbox delivery failed");
                0
            }
        };
        drop(sending);
        if claimed < BATCH as usize {
            tokio::time::sleep(state.settings.outbox_poll).await;
        }
    }
}

/// Claims, sends and records one batch; returns how many emails it claimed.
pub async fn deliver_batch(
    state: &actix_web::web::Data<AppState>,
    mailer: &Mailer,
) -> Result<usize, DbError> {
    let now = state.clock.now();
    let lease = now + state.settings.outbox_lease;
    let rows = state
        .db
        .write(move |conn| {
            outbox::claim(conn, now.naive_utc(), lease.naive_utc(), BATCH).map_err(DbError::Query)
        })
        .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let claimed = rows.len();
    // Digests are reports: their figures need the rollups and the inbox brought up to date,
    // which writes, before the plans (reads, some long) are made.
    let is_digest = |r: &OutboxRow| {
        matches!(
            EmailJob::read(&r.kind, &r.payload),
            Ok(EmailJob::Digest { .. })
        )
    };
    if rows.iter().any(is_digest) {
        let (inbox, now) = (state.key.inbox_key(), state.clock.now());
        state
            .db
            .write(move |conn| crate::services::reports::refresh(conn, &inbox, now))
            .await?;
    }
    let st = state.clone();
    let plans = state
        .db
        .scan(move |conn| {
            Ok::<_, DbError>(
                rows.into_iter()
                    .map(|row| {
                        let plan = plan(conn, &st, &row, now);
                        (row, plan)
                    })
                    .collect::<Vec<_>>(),
            )
        })
        .await?;
    // Outcomes are recorded as they come in, so that a crash resends only what was in flight.
    let mut outcomes = stream::iter(plans)
        .map(|(row, plan)| async move {
            let outcome = match plan {
                Plan::Send(msg) => match mailer.send(*msg).await {
                    Ok(_) => Outcome::Sent,
                    Err(e) if e.is_permanent() => Outcome::Failed(e.to_string()),
                    Err(e) => retry(&row, now, e.to_string()),
                },
                Plan::Cancel(why) => Outcome::Cancelled(why),
                Plan::Fail(why) => Outcome::Failed(why),
            };
            (row, outcome)
        })
        .buffer_unordered(IN_FLIGHT)
        .ready_chunks(IN_FLIGHT);
    let mut sent = 0;
    while let Some(chunk) = outcomes.next().await {
        sent += chunk
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Sent))
            .count();
        let recorded_at = state.clock.now().naive_utc();
        state
            .db
            .write(move |conn| record(conn, &chunk, recorded_at))
            .await?;
    }
    tracing::info!(claimed, sent, "outbox batch delivered");
    Ok(claimed)
}

fn plan(conn: &mut DbConnection, state: &AppState, row: &OutboxRow, now: DateTime<Utc>) -> Plan {
    let reminder = match EmailJob::read(&row.kind, &row.payload) {
        Ok(EmailJob::Campaign { recipient }) => {
            return plan_campaign(conn, state, row, &recipient, now)
        }
        Ok(EmailJob::Digest { recipient, week }) => {
            return plan_digest(conn, state, row, (&recipient, week), now)
        }
        Ok(EmailJob::Invitation) => false,
        Ok(EmailJob::Reminder) => true,
        Err(e) => return Plan::Fail(e.to_string()),
    };
    let Some(invitation_id) = row.invitation_id.as_deref() else {
        return Plan::Fail(format!("a {} email without its invitation", row.kind));
    };
    let view = match db::interactions::mail_view(conn, invitation_id) {
        Ok(Some(v)) => v,
        Ok(None) => return Plan::Cancel("invitation_missing"),
        Err(e) => return Plan::Fail(format!("database: {e}")),
    };
    if let Some(hash) = &view.contact_email_hash {
        // Not knowing whether the address opted out is no reason to mail it.
        match outbox::is_suppressed(conn, hash) {
            Ok(true) => return Plan::Cancel("opted_out"),
            Ok(false) => {}
            Err(e) => return Plan::Fail(format!("database: {e}")),
        }
    }
    if view.answered {
        return Plan::Cancel("answered");
    }
    if view.expires_at <= now.naive_utc() {
        return Plan::Cancel("expired");
    }
    let survey = match state.surveys.get(conn, &view.survey_id) {
        Ok(s) => s,
        Err(e) => return Plan::Fail(format!("survey: {e}")),
    };
    let built = message::render(state, reminder, &view, &survey)
        .map_err(MessageError::from)
        .and_then(|r| {
            message::build(
                state,
                row,
                r,
                Some(&message::unsubscribe_url(state, invitation_id)),
            )
        });
    Plan::from_built(built.map_err(|e| e.to_string()))
}

/// A campaign invitation: its recipient is named in the payload; a closed campaign deleted the
/// row, an answered or expired link needs no email.
fn plan_campaign(
    conn: &mut DbConnection,
    state: &AppState,
    row: &OutboxRow,
    recipient_id: &str,
    now: DateTime<Utc>,
) -> Plan {
    let found = db::campaigns::find_recipient(conn, recipient_id).and_then(|r| match r {
        Some(r) => Ok(db::campaigns::find(conn, &r.campaign_id)?.map(|c| (r, c))),
        None => Ok(None),
    });
    let (recipient, campaign) = match found {
        Ok(Some(found)) => found,
        Ok(None) => return Plan::Cancel("recipient_missing"),
        Err(e) => return Plan::Fail(format!("database: {e}")),
    };
    if recipient.answered {
        return Plan::Cancel("answered");
    }
    if campaign.status != "launched" || recipient.expires_at.is_none_or(|e| e <= now.naive_utc()) {
        return Plan::Cancel("expired");
    }
    let built = message::render_campaign(state, &recipient, &campaign)
        .map_err(MessageError::from)
        .and_then(|r| message::build(state, row, r, None));
    Plan::from_built(built.map_err(|e| e.to_string()))
}

/// A weekly digest: gathered and drawn when it is sent, from the same reports as the API.
fn plan_digest(
    conn: &mut DbConnection,
    state: &AppState,
    row: &OutboxRow,
    (recipient_id, week): (&str, chrono::NaiveDate),
    now: DateTime<Utc>,
) -> Plan {
    let recipient = match db::digest::find(conn, recipient_id) {
        Ok(Some(r)) => r,
        Ok(None) => return Plan::Cancel("recipient_removed"),
        Err(e) => return Plan::Fail(format!("database: {e}")),
    };
    let ctx = crate::services::reports::ReportContext {
        min_group_size: state.policy().min_group_size,
        now,
        questions: true,
    };
    let scope = crate::services::digest::scope_of(&recipient);
    let lang = crate::domain::language::Language::parse(&recipient.language).unwrap_or_default();
    let built = crate::services::digest::gather(conn, &ctx, &scope, week, lang)
        .map_err(|e| e.to_string())
        .and_then(|data| {
            super::digest::render(
                &state.templates,
                &data,
                lang,
                &format!("cid:{}", super::digest::CHART_CID),
            )
            .map_err(|e| e.to_string())
        })
        .and_then(|r| {
            super::digest::build(
                state.settings.mail_from.clone(),
                &row.recipient,
                &row.message_id,
                r,
            )
        });
    Plan::from_built(built)
}

/// The next attempt: 36–54 s after the first failure, doubling up to an hour, each ±20%.
fn retry(row: &OutboxRow, now: DateTime<Utc>, error: String) -> Outcome {
    if now.naive_utc() - row.created_at > Duration::hours(GIVE_UP_AFTER) {
        return Outcome::Failed(format!("gave up after {} attempts: {error}", row.attempts));
    }
    Outcome::Retry(now + backoff(row.attempts), error)
}

/// Delay after the `attempts`-th failed attempt.
pub fn backoff(attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.clamp(1, 12) - 1).unwrap_or(0);
    let base = (45_i64 << exponent).min(3600) as f64;
    let jitter = rand::thread_rng().gen_range(0.8..1.2);
    Duration::milliseconds((base * jitter * 1000.0) as i64)
}

fn record(
    conn: &mut DbConnection,
    outcomes: &[(OutboxRow, Outcome)],
    now: chrono::NaiveDateTime,
) -> Result<(), DbError> {
    db::write_transaction(conn, |conn| {
        for (row, outcome) in outcomes {
            match outcome {
                Outcome::Sent => outbox::mark_sent(conn, &row.id, now)?,
                Outcome::Retry(at, e) => outbox::mark_retry(conn, &row.id, at.naive_utc(), e)?,
                Outcome::Failed(e) => outbox::mark_final(conn, &row.id, "failed", e)?,
                Outcome::Cancelled(why) => outbox::mark_final(conn, &row.id, "cancelled", why)?,
            };
        }
        Ok::<_, diesel::result::Error>(())
    })
    .map_err(DbError::Query)
}

#[cfg(test)]
mod tests {
    use super::backoff;
    use chrono::Duration;

    #[test]
    fn the_first_retry_comes_within_a_minute_and_later_ones_grow_to_an_hour() {
        for _ in 0..100 {
            let first = backoff(1);
            assert!(first >= Duration::seconds(36) && first <= Duration::seconds(54));
            let fifth = backoff(5);
            assert!(fifth >= Duration::seconds(576) && fifth <= Duration::seconds(864));
            assert!(backoff(40) <= Duration::seconds(4320));
        }
    }

    #[test]
    fn retries_cover_more_than_a_day_before_giving_up() {
        let total: i64 = (1..=40).map(|n| backoff(n).num_seconds()).sum();
        assert!(total > 24 * 3600);
    }
}
