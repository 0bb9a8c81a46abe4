//! Keeping the rollups current: residents' frozen days, counted once.

use chrono::{DateTime, Utc};

use crate::db::{self, DbConnection, DbError};
use crate::domain::period::{day_key, local_day, month_end, month_start, parse_day};
use crate::domain::sealed::InboxKey;

/// Brings what reports read up to date: the settled days into the rollups, the complete
/// employee groups out of the anonymous inbox. It writes, so reads alone never do: `serve` runs
/// it through the writer before a report's (long) reads, and one-off commands on their own
/// connection. Cheap when there is nothing to do.
pub fn refresh(
    conn: &mut DbConnection,
    inbox: &InboxKey,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    keep_rollups_current(conn, now)?;
    crate::services::inbox::drain_frozen(conn, inbox, now)?;
    Ok(())
}

/// Residents' days freeze into the rollups: answers two days after their day (a margin for
/// clocks and transactions in flight), invitations once none of their day can still be
/// answered. The first report after a long time (or over a big import) pays for the catch-up.
pub fn keep_rollups_current(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<(), DbError> {
    let settled = local_day(now) - chrono::Duration::days(2);
    let responses_through = day_key(settled);
    let open = db::reports::oldest_open_invitation_day(conn, now.naive_utc())?;
    let invitations_through = match open.as_deref().and_then(parse_day) {
        Some(first_open) => day_key((first_open - chrono::Duration::days(1)).min(settled)),
        None => responses_through.clone(),
    };
    let [responses, invitations, answers] = db::reports::ROLLUPS;
    for ((days, months), through) in [
        (responses, responses_through.clone()),
        (invitations, invitations_through),
        // Answers are stored with their response, and freeze with it.
        (answers, responses_through),
    ] {
        db::reports::roll_up(conn, days, &through)?;
        // Months roll up from the daily table once the whole month is in it.
        let through = db::reports::rolled_through(conn, days)?;
        if let Some(day) = parse_day(&through) {
            let complete = if month_end(day) == day {
                day
            } else {
                month_start(day) - chrono::Duration::days(1)
            };
            db::reports::roll_up(conn, months, &day_key(complete))?;
        }
    }
    Ok(())
}
