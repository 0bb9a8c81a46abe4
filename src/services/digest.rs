//! The weekly digest: for one recipient's scope and one week (Sunday to Saturday), the headline
//! figures against the week before and the 12 weeks to it, the best and worst services, the
//! follow-up cases, a few comments and the 12-week CSAT trend. Every figure comes from the same
//! report functions as the reports API, so the two always agree.

use crate::domain::email_job::EmailJob;
use chrono::{Duration, NaiveDate};
use validator::ValidateEmail;

use crate::db::digest::DigestRecipientRow;
use crate::db::{self, DbConnection, DbError};
use crate::domain::followup::{Cases, Status};
use crate::domain::interaction::Audience;
use crate::domain::language::Language;
use crate::domain::metrics::{Figures, QuestionFigure};
use crate::domain::period::{day_key, week_start};
use crate::domain::report::{By, ReportParams};
use crate::services::audit::{self, Action, Actor, Change};

use super::followups;
use super::reports::{self, ReportContext, ReportQueryError};

/// Services with fewer answers over the 12 weeks are not ranked, and a week of the trend with
/// fewer is drawn hollow.
pub const RANK_MIN_ANSWERS: i64 = 10;
/// Weeks in the trend and the long average.
pub const TREND_WEEKS: i64 = 12;

/// A service in the best or worst three.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    pub name: String,
    pub csat: f64,
    pub n: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OverdueCase {
    pub service: String,
    pub opened_on: String,
    pub due_on: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DigestData {
    pub week: NaiveDate,
    pub this_week: Figures,
    pub previous: Figures,
    pub long_run: Figures,
    pub best: Vec<Ranked>,
    pub worst: Vec<Ranked>,
    pub cases: Cases,
    pub overdue: Vec<OverdueCase>,
    pub comments: Vec<(String, String)>,
    /// Every scale question's figure this week, the week before and over the 12 weeks.
    pub questions: [Vec<QuestionFigure>; 3],
    /// (week's Sunday, CSAT, n) for the 12 weeks up to this one.
    pub trend: Vec<(NaiveDate, Option<f64>, i64)>,
    /// The departments in scope, by name (empty: the whole city).
    pub departments: Vec<String>,
}

/// The recipient's departments ('' in the table means all of them).
pub fn scope_of(r: &DigestRecipientRow) -> Vec<String> {
    r.departments
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(str::to_string)
        .collect()
}

fn params(from: NaiveDate, to: NaiveDate, scope: &[String], lang: Language) -> ReportParams {
    ReportParams {
        from,
        to,
        audience: Audience::Resident,
        department: None,
        scope: scope.to_vec(),
        service: None,
        channel: None,
        lang,
    }
}

/// Gathers one recipient's digest for the week that starts on `week` (a Sunday).
pub fn gather(
    conn: &mut DbConnection,
    ctx: &ReportContext,
    scope: &[String],
    week: NaiveDate,
    lang: Language,
) -> Result<DigestData, ReportQueryError> {
    let week = week_start(week);
    // Names in the recipient's language where the catalog has them.
    let local = |name: &str, i18n: &str| {
        serde_json::from_str::<std::collections::BTreeMap<Language, String>>(i18n)
            .ok()
            .and_then(|m| m.get(&lang).cloned())
            .unwrap_or_else(|| name.to_string())
    };
    let service_names: std::collections::HashMap<String, String> = db::catalog::all_services(conn)?
        .into_iter()
        .map(|s| (s.code.clone(), local(&s.name, &s.names_i18n)))
        .collect();
    let service_name = |code: &str| {
        service_names
            .get(code)
            .cloned()
            .unwrap_or_else(|| code.to_string())
    };
    let end = week + Duration::days(6);
    let summary = |conn: &mut DbConnection, from: NaiveDate, to: NaiveDate| {
        reports::report(conn, ctx, &params(from, to, scope, lang), None)
    };
    let this = summary(conn, week, end)?;
    let previous = summary(conn, week - Duration::days(7), week - Duration::days(1))?;
    let first = week - Duration::days(7 * (TREND_WEEKS - 1));
    let long_run = summary(conn, first, end)?;
    // Ranked over the 12 weeks: most services of a city get a few answers a week, and a week's
    // best and worst would be chance.
    let by_service = reports::report(
        conn,
        ctx,
        &params(first, end, scope, lang),
        Some(By::Service),
    )?;
    let mut ranked: Vec<Ranked> = by_service
        .rows
        .iter()
        .filter_map(|g| {
            let f = g.figures?;
            let csat = f.csat.value?;
            (f.csat.n >= RANK_MIN_ANSWERS).then(|| Ranked {
                name: service_name(&g.key),
                csat,
                n: f.csat.n,
            })
        })
        .collect();
    ranked.sort_by(|a, b| b.csat.total_cmp(&a.csat).then(b.n.cmp(&a.n)));
    let best: Vec<Ranked> = ranked.iter().take(3).cloned().collect();
    let worst: Vec<Ranked> = ranked
        .iter()
        .rev()
        .take(3)
        .filter(|r| !best.contains(r) || ranked.len() > 3)
        .cloned()
        .collect();
    let by_week = reports::report(conn, ctx, &params(first, end, scope, lang), Some(By::Week))?;
    let trend = (0..TREND_WEEKS)
        .map(|i| {
            let sunday = first + Duration::days(7 * i);
            let key = day_key(sunday);
            let row = by_week.rows.iter().find(|g| g.key == key);
            let csat = row
                .and_then(|g| g.figures)
                .map(|f| (f.csat.value, f.csat.n));
            let (value, n) = csat.unwrap_or((None, 0));
            (sunday, value, n)
        })
        .collect();
    let comments = reports::comments(conn, ctx, &params(week, end, scope, lang), 5, None)?
        .comments
        .into_iter()
        .map(|c| (service_name(&c.service), c.text))
        .collect();
    let mut overdue = Vec::new();
    let departments: Vec<Option<String>> = if scope.is_empty() {
        vec![None]
    } else {
        scope.iter().cloned().map(Some).collect()
    };
    for dept in departments {
        for status in [Status::Open, Status::InProgress] {
            // The digest names the ten most overdue: no more is read.
            for c in followups::list(
                conn,
                &crate::domain::account::Scope::All,
                Some(status),
                dept.clone(),
                true,
                (10, None),
                ctx.now,
            )?
            .cases
            {
                overdue.push(OverdueCase {
                    service: service_name(&c.row.service_code),
                    opened_on: c.row.opened_on,
                    due_on: c.row.due_on,
                });
            }
        }
    }
    overdue.sort_by(|a, b| a.due_on.cmp(&b.due_on));
    overdue.truncate(10);
    let departments = db::catalog::all_departments(conn)?
        .into_iter()
        .filter(|d| scope.contains(&d.code))
        .map(|d| local(&d.name, &d.names_i18n))
        .collect();
    let figures = |r: &reports::Report| {
        r.total
            .figures
            .unwrap_or_else(|| crate::domain::metrics::Tally::default().figures())
    };
    Ok(DigestData {
        week,
        this_week: figures(&this),
        previous: figures(&previous),
        long_run: figures(&long_run),
        questions: [
            this.total.questions.clone(),
            previous.total.questions.clone(),
            long_run.total.questions.clone(),
        ],
        best,
        worst,
        cases: this.total.cases.unwrap_or_default(),
        overdue,
        comments,
        trend,
        departments,
    })
}

/// Why a recipient was not added or removed.
#[derive(Debug, thiserror::Error)]
pub enum RecipientError {
    #[error("{0:?} is not a valid email address")]
    Email(String),
    #[error("language {0:?} is not one of he, ar, en, ru")]
    Language(String),
    #[error("departments not in the catalog: {0}")]
    UnknownDepartments(String),
    #[error("{0} is not a digest recipient")]
    NotFound(String),
    #[error(transparent)]
    Db(DbError),
}
super::db_error_from!(RecipientError);

/// A recipient's settings as the audit log keeps them.
fn recipient_value(r: &DigestRecipientRow) -> serde_json::Value {
    serde_json::json!({ "language": r.language, "departments": scope_of(r) })
}

/// Checks and stores a recipient (or changes one with that address); returns true when the
/// address was new.
pub fn add_recipient(
    conn: &mut DbConnection,
    email: &str,
    language: &str,
    departments: &[String],
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool, RecipientError> {
    let email = email.trim().to_lowercase();
    if !email.validate_email() {
        return Err(RecipientError::Email(email));
    }
    let lang =
        Language::parse(language).ok_or_else(|| RecipientError::Language(language.to_string()))?;
    let row = DigestRecipientRow {
        id: uuid::Uuid::new_v4().to_string(),
        email,
        language: lang.code().to_string(),
        departments: departments.join(","),
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
    };
    db::write_transaction(conn, |c| {
        let unknown = super::catalog::unknown_departments(c, departments)?;
        if !unknown.is_empty() {
            return Err(RecipientError::UnknownDepartments(unknown));
        }
        let before = db::digest::find_by_email(c, &row.email)?;
        let new = db::digest::upsert(c, &row)?;
        let change = Change {
            action: Action::RecipientAdded,
            target: &row.email,
            before: before.as_ref().map(recipient_value),
            after: Some(recipient_value(&row)),
        };
        audit::record(c, actor, change, now)?;
        Ok(new)
    })
}

/// Every recipient, by address.
pub fn recipients(conn: &mut DbConnection) -> Result<Vec<DigestRecipientRow>, DbError> {
    Ok(db::digest::all(conn)?)
}

/// Removes a recipient by address.
pub fn remove_recipient(
    conn: &mut DbConnection,
    email: &str,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), RecipientError> {
    let email = email.trim().to_lowercase();
    db::write_transaction(conn, |c| {
        let Some(before) = db::digest::find_by_email(c, &email)? else {
            return Err(RecipientError::NotFound(email.clone()));
        };
        db::digest::remove(c, &email)?;
        let change = Change {
            action: Action::RecipientRemoved,
            target: &email,
            before: Some(recipient_value(&before)),
            after: None,
        };
        audit::record(c, actor, change, now)?;
        Ok(())
    })
}

/// When the digest goes out: a weekday and a local time (default Sunday 08:00, Asia/Jerusalem).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigestSchedule {
    pub weekday: chrono::Weekday,
    pub time: chrono::NaiveTime,
}

impl Default for DigestSchedule {
    fn default() -> Self {
        DigestSchedule {
            weekday: chrono::Weekday::Sun,
            time: chrono::NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default(),
        }
    }
}

impl DigestSchedule {
    /// Parses `sun 08:00` (the day's first three letters, then HH:MM).
    pub fn parse(text: &str) -> Option<DigestSchedule> {
        let (day, time) = text.trim().split_once(' ')?;
        let weekday = match day.to_ascii_lowercase().as_str() {
            "sun" => chrono::Weekday::Sun,
            "mon" => chrono::Weekday::Mon,
            "tue" => chrono::Weekday::Tue,
            "wed" => chrono::Weekday::Wed,
            "thu" => chrono::Weekday::Thu,
            "fri" => chrono::Weekday::Fri,
            "sat" => chrono::Weekday::Sat,
            _ => return None,
        };
        let time = chrono::NaiveTime::parse_from_str(time.trim(), "%H:%M").ok()?;
        Some(DigestSchedule { weekday, time })
    }

    /// The week (its Sunday) whose digest is due at `now`: the week that ended before this
    /// week's sending time, from that time on for a day (so that a restart catches up, and a
    /// recipient added mid-week waits for the next one).
    pub fn due_week(&self, now: chrono::DateTime<chrono::Utc>) -> Option<NaiveDate> {
        let this_sunday = week_start(crate::domain::period::local_day(now));
        let day = this_sunday + Duration::days(i64::from(self.weekday.num_days_from_sunday()));
        let at = crate::domain::period::day_begins(day) + (self.time - chrono::NaiveTime::MIN);
        (now >= at && now < at + Duration::hours(24)).then(|| this_sunday - Duration::days(7))
    }
}

/// The week a digest sent now reports: the last whole week.
pub fn last_whole_week(now: chrono::DateTime<chrono::Utc>) -> NaiveDate {
    week_start(crate::domain::period::local_day(now)) - Duration::days(7)
}

/// Queues one digest per recipient for the week, through the outbox; a recipient whose digest
/// for that week was ever queued is skipped (the idempotency key), also when two instances
/// race. Returns (queued, already queued).
pub fn enqueue_week(
    conn: &mut DbConnection,
    week: NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
    message_domain: &str,
) -> Result<(usize, usize), db::DbError> {
    let mut queued = 0;
    let mut existing = 0;
    for r in db::digest::all(conn)? {
        let key = format!("digest:{}:{}", r.id, day_key(week));
        if db::outbox::key_exists(conn, &key)? {
            existing += 1;
            continue;
        }
        let job = EmailJob::Digest {
            recipient: r.id.clone(),
            week,
        };
        let row = crate::db::outbox::OutboxRow::pending(
            &job,
            key,
            &r.email,
            now.naive_utc(),
            now.naive_utc(),
            message_domain,
        );
        match db::write_transaction(conn, |c| {
            db::outbox::insert_new(c, std::slice::from_ref(&row))
        }) {
            Ok(()) => queued += 1,
            Err(e) if db::connection::is_unique_violation(&e) => existing += 1,
            Err(e) => return Err(e.into()),
        }
    }
    Ok((queued, existing))
}
