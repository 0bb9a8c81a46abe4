//! `serve --demo`: a plausible Israeli city on an empty database, built through the same use
//! cases a CRM and residents go through, so that the demo shows real behaviour.

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::db::{self, DbConnection, DbError};
use crate::domain::account::Scope;
use crate::domain::catalog::{parse_catalog, ServiceAudience};
use crate::domain::followup::{FollowupPolicy, Status};
use crate::domain::period::{day_begins, local_day, month_start};
use crate::domain::secret::Secret;
use crate::domain::survey::{COMMENT, CONTACT_CONSENT, NOT_RESOLVED, PARTIALLY_RESOLVED, RESOLVED};
use crate::domain::token::ServerKey;

use super::audit::Actor;
use super::interactions::{report, Receipt, ReportContext, ReportError, Reported};
use super::responses::{submit, SurveyError};
use super::surveys::SurveyCache;
use super::{api_keys, catalog};

const CATALOG: &str = include_str!("../../demo/catalog.csv");
const COMMENTS: &str = include_str!("../../demo/comments.txt");
const EMPLOYEE_COMMENTS: &str = include_str!("../../demo/employee_comments.txt");

/// What the demo loaded, and what a newcomer needs to try it.
pub struct Demo {
    pub api_key: Secret<String>,
    /// The management app's first admin, `admin@demo.example`, and its password (shown once).
    pub admin_password: Secret<String>,
    pub survey_url: String,
    pub interactions: usize,
    pub responses: usize,
    pub employee_answers: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("demo catalog: {0}")]
    Catalog(String),
    #[error("demo data: {0}")]
    Data(String),
    #[error(transparent)]
    Db(DbError),
}
super::db_error_from!(DemoError);

impl From<ReportError> for DemoError {
    fn from(e: ReportError) -> Self {
        DemoError::Data(e.to_string())
    }
}

impl From<SurveyError> for DemoError {
    fn from(e: SurveyError) -> Self {
        DemoError::Data(e.to_string())
    }
}

/// Loads the demo city when the database has no departments yet; `None` when it has some.
/// All of it or nothing: one transaction, so that a demo that fails half-way leaves no
/// catalog, key or request behind, and the next run loads it whole and prints its key.
pub fn load_if_empty(
    conn: &mut DbConnection,
    key: &ServerKey,
    base_url: &str,
    link_ttl: Duration,
    now: DateTime<Utc>,
) -> Result<Option<Demo>, DemoError> {
    // Residents answer up to two days after their request is closed.
    if link_ttl < Duration::days(ANSWER_WITHIN_DAYS) {
        return Err(DemoError::Data(format!(
            "the demo's residents answer up to {ANSWER_WITHIN_DAYS} days after their request; \
             MASHOV_LINK_TTL ({}h) closes their links before that: run the demo with a longer \
             one",
            link_ttl.num_hours()
        )));
    }
    db::write_transaction(conn, |conn| load(conn, key, base_url, link_ttl, now))
}

/// The longest a demo resident takes to answer.
const ANSWER_WITHIN_DAYS: i64 = 2;

fn load(
    conn: &mut DbConnection,
    key: &ServerKey,
    base_url: &str,
    link_ttl: Duration,
    now: DateTime<Utc>,
) -> Result<Option<Demo>, DemoError> {
    if db::catalog::count_departments(conn)? > 0 {
        return Ok(None);
    }
    let parsed = parse_catalog(CATALOG.as_bytes()).map_err(|errors| {
        DemoError::Catalog(
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    catalog::import(conn, &parsed, now)?;
    let api_key = api_keys::create(conn, "demo", &Actor::command_line(), now)
        .map_err(|e| DemoError::Data(e.to_string()))?;
    let admin_password = demo_admin(conn, now)?;

    // Each comment once: a demo where two residents write the same sentence convinces nobody.
    let mut comments = Comments::new(moods(COMMENTS));
    let services: Vec<(String, String)> = parsed
        .services
        .iter()
        .filter(|s| s.audience == ServiceAudience::Residents)
        .map(|s| (s.code.clone(), s.department_code.clone()))
        .collect();
    let units: Vec<String> = parsed
        .services
        .iter()
        .filter(|s| s.audience == ServiceAudience::Employees)
        .map(|s| s.code.clone())
        .collect();
    let cache = SurveyCache::default();
    let mut rng = StdRng::seed_from_u64(5786);
    let channels = [
        "phone", "web", "app", "walk_in", "email", "whatsapp", "chat",
    ];
    let languages = [("he", 70), ("ar", 15), ("ru", 10), ("en", 5)];
    let (mut interactions, mut responses) = (0, 0);

    for n in 0..360 {
        let (service, department) = &services[rng.gen_range(0..services.len())];
        // Each department has its own level of service, so that reports have something to show.
        let quality = 0.45 + 0.05 * (department.len() % 9) as f64;
        let closed_at = now - Duration::minutes(rng.gen_range(90..84 * 24 * 60));
        let roll = rng.gen_range(0..100);
        let mut cumulative = 0;
        let language = languages
            .iter()
            .find(|(_, weight)| {
                cumulative += weight;
                roll < cumulative
            })
            .map_or("he", |(l, _)| *l);
        let resolved = rng.gen_bool(quality);
        let body = json!({
            "external_id": format!("DEMO-{:06}", n + 1),
            "audience": "resident",
            "service_code": service,
            "channel": channels[rng.gen_range(0..channels.len())],
            "opened_at": (closed_at - Duration::hours(rng.gen_range(2..240))).to_rfc3339(),
            "closed_at": closed_at.to_rfc3339(),
            "resolution": if resolved { "resolved" } else { "not_resolved" },
            // No email: the demo mails nobody. A phone in the 055-5000xxx block the demo uses
            // for made-up people, so that a case's consented contact has a number to call.
            "contact": {
                "name": format!("Demo {}", n + 1),
                "phone": format!("055-500{:04}", n + 1),
                "language": language,
            },
        });
        let reported_at = closed_at + Duration::minutes(5);
        let receipt = crm_reports(conn, key, base_url, link_ttl, &body, reported_at)?;
        interactions += 1;
        let answered_at =
            reported_at + Duration::minutes(rng.gen_range(30..ANSWER_WITHIN_DAYS * 24 * 60));
        if !rng.gen_bool(0.45) || answered_at >= now {
            continue;
        }
        // What a resident says follows what happened to them: a problem solved is mostly a
        // good experience, one left unsolved mostly a bad one, with the noise of real answers.
        let said = if resolved {
            if rng.gen_bool(0.88) {
                RESOLVED
            } else {
                PARTIALLY_RESOLVED
            }
        } else if rng.gen_bool(0.6) {
            NOT_RESOLVED
        } else {
            PARTIALLY_RESOLVED
        };
        let good = rng.gen_bool(match said {
            RESOLVED => 0.85,
            PARTIALLY_RESOLVED => 0.35,
            _ => 0.08,
        });
        let score = |rng: &mut StdRng, good: bool, max: i32| -> String {
            let s = if good {
                max - rng.gen_range(0..2)
            } else {
                rng.gen_range(1..=max / 2)
            };
            s.clamp(1, max).to_string()
        };
        let overall = score(&mut rng, good, 5);
        // Ease and the staff's manner mostly agree with the whole, not always.
        let easy = good != rng.gen_bool(0.12);
        let kind_staff = good || rng.gen_bool(0.35);
        let mut form = vec![
            ("overall".to_string(), overall.clone()),
            ("resolved".to_string(), said.to_string()),
            ("effort".to_string(), score(&mut rng, easy, 7)),
            (
                "professionalism".to_string(),
                score(&mut rng, kind_staff, 5),
            ),
            (
                CONTACT_CONSENT.to_string(),
                (if rng.gen_bool(if good { 0.15 } else { 0.6 }) {
                    "yes"
                } else {
                    "no"
                })
                .to_string(),
            ),
        ];
        if rng.gen_bool(0.3) {
            form.extend(comments.take(&mut rng, good));
        }
        answer_link(conn, &cache, key, receipt.survey_url, &form, answered_at)?;
        responses += 1;
    }

    close_some_cases(conn, &mut rng, now)?;
    let employee_answers = employees(conn, key, base_url, link_ttl, &units, &mut rng, now)?;

    let body = json!({
        "external_id": "DEMO-OPEN-LINK",
        "audience": "resident",
        "service_code": services[0].0,
        "channel": "phone",
        "closed_at": (now - Duration::hours(1)).to_rfc3339(),
        "resolution": "resolved",
        "contact": {"language": "he"},
    });
    let survey_url = crm_reports(conn, key, base_url, link_ttl, &body, now)?
        .survey_url
        .unwrap_or_default();
    Ok(Some(Demo {
        api_key,
        admin_password,
        survey_url,
        interactions: interactions + 1,
        responses,
        employee_answers,
    }))
}

/// The demo's admin, with a random password: a demo reachable from a network must not open
/// with a password everybody knows.
fn demo_admin(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<Secret<String>, DemoError> {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let password = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let checked = crate::domain::account::NewPassword::parse(password.clone())
        .map_err(|e| DemoError::Data(e.to_string()))?;
    let user = super::accounts::NewUser::new(
        "admin@demo.example",
        crate::domain::account::Role::Admin,
        "",
        crate::domain::language::Language::He,
        crate::domain::password::hash(&checked),
    )
    .map_err(|e| DemoError::Data(e.to_string()))?;
    super::accounts::create(conn, &user, &Actor::command_line(), now)
        .map_err(|e| DemoError::Data(e.to_string()))?;
    Ok(Secret::new(password))
}

/// Reports a closed request at `at`, as the city's CRM would, through the same use case.
fn crm_reports(
    conn: &mut DbConnection,
    key: &ServerKey,
    base_url: &str,
    link_ttl: Duration,
    body: &serde_json::Value,
    at: DateTime<Utc>,
) -> Result<Receipt, DemoError> {
    let rules = crate::domain::schedule::SendRules::default();
    let ctx = ReportContext {
        key,
        base_url,
        link_ttl,
        rules: &rules,
        message_domain: "localhost",
        now: at,
    };
    Ok(match report(conn, &ctx, body)? {
        Reported::Created(r) | Reported::Existing(r) => r,
    })
}

/// A comments file's lines, `+|text` (happy) or `-|text`.
fn moods(text: &str) -> Vec<(bool, &str)> {
    text.lines()
        .filter_map(|l| l.split_once('|'))
        .map(|(sign, text)| (sign == "+", text))
        .collect()
}

/// The comments not used yet, by mood.
struct Comments<'a> {
    unused: Vec<(bool, &'a str)>,
}

impl<'a> Comments<'a> {
    fn new(all: Vec<(bool, &'a str)>) -> Self {
        Comments { unused: all }
    }

    /// A `comment` form field of the given mood that no one wrote before, if one is left.
    fn take(&mut self, rng: &mut StdRng, happy: bool) -> Option<(String, String)> {
        let pool: Vec<usize> = (0..self.unused.len())
            .filter(|i| self.unused[*i].0 == happy)
            .collect();
        let i = *pool.get(rng.gen_range(0..pool.len().max(1)))?;
        let (_, text) = self.unused.remove(i);
        Some((COMMENT.to_string(), text.to_string()))
    }
}

/// The city works its follow-up cases: most are closed, some within their due day and some
/// after it; the newest are still open, and a few are overdue. The dashboard and the digest
/// then show cases in every state.
fn close_some_cases(
    conn: &mut DbConnection,
    rng: &mut StdRng,
    now: DateTime<Utc>,
) -> Result<(), DemoError> {
    let cases = db::followups::list(conn, &db::followups::ListFilter::default(), 10_000)?;
    let notes = [
        "שוחחנו עם הפונה, הבעיה נפתרה והוסבר מה נעשה.",
        "צוות השטח חזר למקום ותיקן. הפונה עודכן בטלפון.",
        "התנצלנו על העיכוב ותיאמנו ביקור חוזר, שבוצע.",
    ];
    for case in cases {
        let opened = DateTime::<Utc>::from_naive_utc_and_offset(case.opened_at, Utc);
        // Within a few days, or well after: a week or three.
        let took = if rng.gen_bool(0.7) {
            Duration::hours(rng.gen_range(4..72))
        } else {
            Duration::days(rng.gen_range(7..21))
        };
        let closed = opened + took;
        if closed >= now || rng.gen_bool(0.15) {
            continue;
        }
        let note = notes[rng.gen_range(0..notes.len())].to_string();
        super::followups::change(
            conn,
            &Scope::All,
            &case.id,
            Status::Closed,
            Some(note),
            None,
            closed,
        )
        .map_err(|e| DemoError::Data(e.to_string()))?;
    }
    Ok(())
}

/// Answers a survey link as its recipient would, through the same use case.
fn answer_link(
    conn: &mut DbConnection,
    cache: &SurveyCache,
    key: &ServerKey,
    survey_url: Option<String>,
    form: &[(String, String)],
    at: DateTime<Utc>,
) -> Result<(), DemoError> {
    let url = survey_url.unwrap_or_default();
    let token = url.rsplit('/').next().unwrap_or_default();
    let rule = FollowupPolicy::default();
    submit(conn, cache, &rule, &key.inbox_key(), token, form, at)?;
    Ok(())
}

/// Employees' tickets with the internal units over the three months before this one, in groups
/// of 2 to 11 answers, so that employee reports show some groups and withhold the small ones.
/// The answers go through the anonymous inbox like any other, and the complete months are
/// moved out of it at the end.
fn employees(
    conn: &mut DbConnection,
    key: &ServerKey,
    base_url: &str,
    link_ttl: Duration,
    units: &[String],
    rng: &mut StdRng,
    now: DateTime<Utc>,
) -> Result<usize, DemoError> {
    let mut comments = Comments::new(moods(EMPLOYEE_COMMENTS));
    let cache = SurveyCache::default();
    let this_month = month_start(local_day(now));
    let mut answered = 0;
    for back in 1..=3u32 {
        let Some(month) = this_month.checked_sub_months(chrono::Months::new(back)) else {
            continue;
        };
        for (u, unit) in units.iter().enumerate() {
            let good = 0.35 + 0.1 * (u % 6) as f64;
            for i in 0..rng.gen_range(2..=11) {
                let closed_at = day_begins(month + Duration::days(rng.gen_range(0..27)))
                    + Duration::minutes(rng.gen_range(480..1020));
                let body = json!({
                    "external_id": format!("DEMO-INT-{month}-{unit}-{i}"),
                    "audience": "employee",
                    "service_code": unit,
                    "closed_at": closed_at.to_rfc3339(),
                    "resolution": "resolved",
                    "contact": {"language": "he"},
                });
                let receipt = crm_reports(conn, key, base_url, link_ttl, &body, closed_at)?;
                // About seven in ten employees answer.
                if !rng.gen_bool(0.7) {
                    continue;
                }
                let happy = rng.gen_bool(good);
                let score = |rng: &mut StdRng, max: i32| -> String {
                    let s = if happy {
                        max - rng.gen_range(0..2)
                    } else {
                        rng.gen_range(1..=max / 2)
                    };
                    s.to_string()
                };
                let mut form = vec![
                    ("overall".to_string(), score(rng, 5)),
                    ("effort".to_string(), score(rng, 7)),
                    ("timeliness".to_string(), score(rng, 5)),
                ];
                if rng.gen_bool(0.4) {
                    form.extend(comments.take(rng, happy));
                }
                let at = closed_at + Duration::hours(2);
                answer_link(conn, &cache, key, receipt.survey_url, &form, at)?;
                answered += 1;
            }
        }
    }
    super::inbox::drain_frozen(conn, &key.inbox_key(), now)?;
    Ok(answered)
}
