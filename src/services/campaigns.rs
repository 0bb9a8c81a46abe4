//! Periodic employee campaigns: create, add recipients, launch (links and emails), list links,
//! close (links expire, addresses deleted, counts kept).

use crate::domain::email_job::EmailJob;
use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::db::campaigns::{self as store, CampaignRow, Counts, RecipientRow};
use crate::db::outbox::OutboxRow;
use crate::db::{self, DbConnection, DbError};
use crate::domain::period::{day_begins, local_day};
use crate::domain::recipients::RecipientList;
use crate::domain::schedule::{next_allowed, SendRules};
use crate::domain::sealed::InboxKey;
use crate::domain::token::{hash_secret, ServerKey};

use super::inbox::Drained;

use crate::domain::interaction::Audience;

#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    #[error("no campaign has the id {0:?} (see `mashov campaign list`)")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("campaign {id} is {status}: {why}")]
    State {
        id: String,
        status: String,
        why: &'static str,
    },
    #[error("no internal-service survey is stored; run `mashov migrate`")]
    NoSurvey,
    #[error(transparent)]
    Db(DbError),
}
super::db_error_from!(CampaignError);

/// Checks a name and dates, and stores a draft campaign.
pub fn create(
    conn: &mut DbConnection,
    name: &str,
    opens: Option<NaiveDate>,
    closes: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Result<CampaignRow, CampaignError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(CampaignError::Invalid(
            "--name must be 1 to 200 characters".into(),
        ));
    }
    if let (Some(o), Some(c)) = (opens, closes) {
        if c < o {
            return Err(CampaignError::Invalid(
                "--closes must not be before --opens".into(),
            ));
        }
    }
    if closes.is_some_and(|c| c < local_day(now)) {
        return Err(CampaignError::Invalid("--closes is in the past".into()));
    }
    // A campaign asks about many units: the employees' questionnaire as set for the whole
    // audience (or the built-in one).
    let survey = super::survey_setup::for_interaction(conn, Audience::Employee, "", "")?
        .ok_or(CampaignError::NoSurvey)?;
    // Short enough to type; 48 random bits, and a clash only fails the insert.
    let id = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
    let row = CampaignRow {
        id,
        name: name.to_string(),
        survey_id: survey.id,
        opens_on: opens.map(|d| d.to_string()),
        closes_on: closes.map(|d| d.to_string()),
        status: "draft".into(),
        created_at: now.naive_utc(),
        launched_at: None,
        closed_at: None,
    };
    store::insert(conn, &row)?;
    Ok(row)
}

fn open_campaign(conn: &mut DbConnection, id: &str) -> Result<CampaignRow, CampaignError> {
    let campaign = store::find(conn, id)?.ok_or_else(|| CampaignError::NotFound(id.into()))?;
    if campaign.status == "closed" {
        return Err(CampaignError::State {
            id: campaign.id,
            status: campaign.status,
            why: "a closed campaign cannot change",
        });
    }
    Ok(campaign)
}

/// What adding a file changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Added {
    pub added: usize,
    /// Lines of the file that repeated an address in it.
    pub merged_in_file: usize,
    /// Addresses that were already in the campaign.
    pub already_in_campaign: usize,
}

/// Adds a checked file's recipients in one transaction.
pub fn add_recipients(
    conn: &mut DbConnection,
    id: &str,
    list: &RecipientList,
    now: DateTime<Utc>,
) -> Result<Added, CampaignError> {
    db::write_transaction(conn, |conn| {
        let campaign = open_campaign(conn, id)?;
        let existing = store::emails(conn, &campaign.id)?;
        let mut summary = Added {
            merged_in_file: list.duplicates,
            ..Added::default()
        };
        let rows: Vec<RecipientRow> = list
            .recipients
            .iter()
            .filter(|r| {
                let known = existing.contains(&r.email);
                summary.already_in_campaign += usize::from(known);
                !known
            })
            .map(|r| RecipientRow {
                id: uuid::Uuid::new_v4().to_string(),
                campaign_id: campaign.id.clone(),
                email: Some(r.email.clone()),
                department_code: r.department_code.clone(),
                language: r.language.code().to_string(),
                token_hash: None,
                expires_at: None,
                answered: false,
                created_at: now.naive_utc(),
            })
            .collect();
        store::insert_recipients(conn, &rows)?;
        summary.added = rows.len();
        Ok(summary)
    })
}

/// What launching needs besides the campaign.
pub struct LaunchContext<'a> {
    pub key: &'a ServerKey,
    pub link_ttl: Duration,
    pub rules: &'a SendRules,
    pub message_domain: &'a str,
    /// Queue emails (only where SMTP is configured; otherwise the city distributes links).
    pub email: bool,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Launched {
    pub invited: usize,
    pub emails: usize,
}

/// Gives every recipient without a link one, and queues their emails. Running it again after
/// adding recipients invites only the new ones.
pub fn launch(
    conn: &mut DbConnection,
    ctx: &LaunchContext<'_>,
    id: &str,
) -> Result<Launched, CampaignError> {
    db::write_transaction(conn, |conn| {
        let campaign = open_campaign(conn, id)?;
        let recipients = store::uninvited(conn, &campaign.id)?;
        if recipients.is_empty() && campaign.status == "launched" {
            return Ok(Launched::default());
        }
        if recipients.is_empty() {
            return Err(CampaignError::State {
                id: campaign.id,
                status: campaign.status,
                why: "it has no recipients yet (campaign add-recipients)",
            });
        }
        let closes: Option<NaiveDate> = campaign.closes_on.as_deref().and_then(|d| d.parse().ok());
        let expires_at = match closes {
            Some(day) => day_begins(day + Duration::days(1)),
            None => ctx.now + ctx.link_ttl,
        };
        let opens: Option<NaiveDate> = campaign.opens_on.as_deref().and_then(|d| d.parse().ok());
        // Emails go out when the campaign opens (at 08:00), within the sending rules.
        let send_from = opens
            .map(|d| day_begins(d) + Duration::hours(8))
            .filter(|t| *t > ctx.now)
            .unwrap_or(ctx.now);
        let first = next_allowed(send_from, ctx.rules);
        let mut emails = Vec::new();
        for r in &recipients {
            let token = ctx.key.survey_token(&r.id);
            store::set_link(
                conn,
                &r.id,
                &hash_secret(token.expose()),
                expires_at.naive_utc(),
            )?;
            if let (true, Some(email)) = (ctx.email, &r.email) {
                emails.push(outbox_row(ctx, &campaign.id, r, email, first));
            }
        }
        for chunk in emails.chunks(500) {
            db::outbox::insert_new(conn, chunk)?;
        }
        if campaign.status == "draft" {
            store::set_status(conn, &campaign.id, "launched", ctx.now.naive_utc())?;
        }
        Ok(Launched {
            invited: recipients.len(),
            emails: emails.len(),
        })
    })
}

fn outbox_row(
    ctx: &LaunchContext<'_>,
    campaign_id: &str,
    recipient: &RecipientRow,
    email: &str,
    at: DateTime<Utc>,
) -> OutboxRow {
    OutboxRow::pending(
        &EmailJob::Campaign {
            recipient: recipient.id.clone(),
        },
        format!("{}{}", store::outbox_key_prefix(campaign_id), recipient.id),
        email,
        at.naive_utc(),
        ctx.now.naive_utc(),
        ctx.message_domain,
    )
}

/// Every invited recipient's address and link, for cities that send links themselves.
pub fn links(
    conn: &mut DbConnection,
    key: &ServerKey,
    base_url: &str,
    id: &str,
) -> Result<Vec<(String, String)>, CampaignError> {
    let campaign = open_campaign(conn, id)?;
    if campaign.status == "draft" {
        return Err(CampaignError::State {
            id: campaign.id,
            status: campaign.status,
            why: "launch it first (campaign launch)",
        });
    }
    Ok(store::invited(conn, &campaign.id)?
        .into_iter()
        .filter_map(|r| {
            let url = format!("{base_url}/s/{}", key.survey_token(&r.id).expose());
            Some((r.email?, url))
        })
        .collect())
}

/// Expires every link, deletes every address (also from the outbox) and keeps the counts;
/// then, the campaign's groups being complete, moves its answers out of the inbox. (Were the
/// process to stop in between, the next report or the serve loop's drain moves them.)
pub fn close(
    conn: &mut DbConnection,
    id: &str,
    inbox: &InboxKey,
    now: DateTime<Utc>,
) -> Result<(Counts, Drained), CampaignError> {
    let counts = db::write_transaction(conn, |conn| {
        let campaign = open_campaign(conn, id)?;
        store::forget_addresses(conn, &campaign.id)?;
        store::set_status(conn, &campaign.id, "closed", now.naive_utc())?;
        Ok::<_, CampaignError>(store::counts(conn, &campaign.id)?)
    })?;
    let drained = super::inbox::drain_frozen(conn, inbox, now)?;
    Ok((counts, drained))
}

/// Closes every launched campaign whose closing date is over (its links expired at the end of
/// that day), exactly as `campaign close` would, so that a campaign given `--closes` needs
/// nobody to remember to close it. Returns the campaigns closed.
pub fn close_due(
    conn: &mut DbConnection,
    inbox: &InboxKey,
    now: DateTime<Utc>,
) -> Result<Vec<(String, Counts)>, CampaignError> {
    let today = local_day(now).to_string();
    let due: Vec<String> = store::all(conn)?
        .into_iter()
        .filter(|c| c.status == "launched")
        .filter(|c| c.closes_on.as_deref().is_some_and(|d| d < today.as_str()))
        .map(|c| c.id)
        .collect();
    let mut closed = Vec::new();
    for id in due {
        match close(conn, &id, inbox, now) {
            Ok((counts, _)) => closed.push((id, counts)),
            // Another instance closed it first.
            Err(CampaignError::State { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(closed)
}

pub fn list(conn: &mut DbConnection) -> Result<Vec<(CampaignRow, Counts)>, CampaignError> {
    let mut out = Vec::new();
    for c in store::all(conn)? {
        let counts = store::counts(conn, &c.id)?;
        out.push((c, counts));
    }
    Ok(out)
}
