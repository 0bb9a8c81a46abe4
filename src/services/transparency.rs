//! The city's public figures (`/transparency`, `/api/v1/public/summary.json`): per department,
//! residents' satisfaction, resolution and follow-up cases closed within their SLA over the last
//! 90 whole days, against the 90 days before. A department shows only with enough answers for a
//! figure to mean something (`MASHOV_TRANSPARENCY_MIN_ANSWERS`, at least 10): no comment, no
//! service, no person, no employee answer is ever part of it.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use crate::db::{self, DbConnection};
use crate::domain::interaction::Audience;
use crate::domain::language::Language;
use crate::domain::period::local_day;
use crate::domain::report::{By, ReportParams};
use crate::services::reports::{self, Report, ReportContext, ReportQueryError};

/// The length of each period compared.
pub const DAYS: i64 = 90;
/// The fewest judged follow-up cases (closed, or overdue) for the share on time to be shown.
pub const MIN_CASES: i64 = 5;

/// One department's public figures; shares are 0–1, rounded to 3 decimals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DepartmentFigures {
    pub code: String,
    /// The department's name in each language that has one (Hebrew always).
    pub names: BTreeMap<Language, String>,
    pub answers: i64,
    pub csat: Option<f64>,
    /// The same share over the 90 days before, when that period had enough answers too.
    pub csat_before: Option<f64>,
    /// `csat - csat_before`, when both are known.
    pub csat_change: Option<f64>,
    pub resolution_rate: Option<f64>,
    /// Of the follow-up cases opened in the period and closed or overdue by now, the share
    /// closed by their due day (shown from `MIN_CASES` such cases).
    pub followups_within_sla: Option<f64>,
    pub followups: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub previous_from: NaiveDate,
    pub previous_to: NaiveDate,
    pub min_answers: i64,
    pub departments: Vec<DepartmentFigures>,
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The figures as of `now`: the 90 whole days ending yesterday (Israel time), and the 90
/// before them.
pub fn summary(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    min_answers: i64,
) -> Result<Summary, ReportQueryError> {
    let to = local_day(now) - Duration::days(1);
    let from = to - Duration::days(DAYS - 1);
    let (previous_to, previous_from) = (from - Duration::days(1), from - Duration::days(DAYS));
    // The minimum group size is an employees' rule; residents' figures here have their own.
    let ctx = ReportContext {
        min_group_size: i64::MAX,
        now,
        questions: false,
    };
    let by_department = |conn: &mut DbConnection, from, to| -> Result<Report, ReportQueryError> {
        let params = ReportParams {
            from,
            to,
            audience: Audience::Resident,
            department: None,
            scope: Vec::new(),
            service: None,
            channel: None,
            lang: Language::He,
        };
        reports::report(conn, &ctx, &params, Some(By::Department))
    };
    let now_report = by_department(conn, from, to)?;
    let before = by_department(conn, previous_from, previous_to)?;
    let names: BTreeMap<String, BTreeMap<Language, String>> = db::catalog::all_departments(conn)
        .map_err(crate::db::DbError::from)?
        .into_iter()
        .map(|d| {
            let mut names: BTreeMap<Language, String> =
                serde_json::from_str(&d.names_i18n).unwrap_or_default();
            names.retain(|_, n| !n.trim().is_empty());
            names.insert(Language::He, d.name);
            (d.code, names)
        })
        .collect();
    let enough = |responses: i64| responses >= min_answers;
    let mut departments: Vec<DepartmentFigures> = now_report
        .rows
        .iter()
        .filter_map(|g| {
            let f = g.figures.as_ref()?;
            if !enough(f.responses) {
                return None;
            }
            let csat = f.csat.value.map(round3);
            let csat_before = before
                .rows
                .iter()
                .find(|b| b.key == g.key)
                .and_then(|b| b.figures.as_ref())
                .filter(|b| enough(b.responses))
                .and_then(|b| b.csat.value)
                .map(round3);
            let cases = g.cases.unwrap_or_default();
            // Judged: closed, or past their due day while open; a case still within its time
            // is neither on time nor late yet.
            let judged = cases.opened - (cases.open - cases.overdue);
            Some(DepartmentFigures {
                code: g.key.clone(),
                names: names.get(&g.key).cloned().unwrap_or_default(),
                answers: f.responses,
                csat,
                csat_before,
                csat_change: csat.zip(csat_before).map(|(a, b)| round3(a - b)),
                resolution_rate: f.resolution_rate.value.map(round3),
                followups_within_sla: (judged >= MIN_CASES)
                    .then(|| round3(cases.closed_within_sla as f64 / judged as f64)),
                followups: cases.opened,
            })
        })
        .collect();
    departments.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(Summary {
        from,
        to,
        previous_from,
        previous_to,
        min_answers,
        departments,
    })
}
