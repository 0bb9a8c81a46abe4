//! Reports: headline figures for a period, whole or broken down, for residents or employees.
//!
//! Employees' figures obey the minimum group size by construction. Their answers are counted
//! in fixed cells (unit × month × cohort, where the cohort is a campaign or the month's
//! tickets), and a cell is *released* only when it is frozen (its campaign is closed, or its
//! month is over) and holds at least `min_group_size` answers. Every employee figure on every
//! surface is a sum over released cells and nothing else, so the difference of any two figures
//! is again a sum of whole released cells: no subtraction, no filter and no comparison from one
//! day to the next can isolate a group smaller than the minimum.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use crate::db::reports::{Filter, GroupKey, Grouping};
use crate::db::{self, DbConnection, DbError};
use crate::domain::catalog::ServiceAudience;
use crate::domain::followup::Cases;
use crate::domain::interaction::Audience;
use crate::domain::language::Language;
use crate::domain::metrics::{Figures, QuestionFigure, Tally};
use crate::domain::period::{day_key, local_day, month_start, parse_day, week_start};
use crate::domain::report::{By, ReportParams};
use crate::domain::FieldErrors;

mod comments;
mod employees;
mod questions;
mod rollups;

pub use comments::{comments, Comment, CommentPage};
use employees::employees;
pub use employees::released_cells;
use questions::{scale_questions, Answers};
pub use rollups::{keep_rollups_current, refresh};

#[derive(Debug, thiserror::Error)]
pub enum ReportQueryError {
    #[error("invalid parameters")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Db(DbError),
}
super::db_error_from!(ReportQueryError);

/// A group's figures, or None where they are withheld.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub key: String,
    pub label: String,
    pub figures: Option<Figures>,
    /// Every scale question's figure, in the questionnaire's order (empty where withheld).
    pub questions: Vec<QuestionFigure>,
    /// Follow-up cases (residents only; not by channel).
    pub cases: Option<Cases>,
}

/// A report as computed, before it is shaped for a surface.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The period counted: for employees, widened to whole months.
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub audience: Audience,
    pub total: Group,
    pub rows: Vec<Group>,
    /// Set for employees: the minimum group size applied.
    pub min_group_size: Option<i64>,
    /// Employees: the period holds a month whose answers are still being counted (sealed until
    /// the month is over), and this is the day they can show. A withheld group then says so,
    /// rather than seeming to have too few answers.
    pub counting_until: Option<NaiveDate>,
}

/// What a report needs besides its parameters.
#[derive(Debug, Clone, Copy)]
pub struct ReportContext {
    pub min_group_size: i64,
    pub now: DateTime<Utc>,
    /// Whether to give every scale question its figure: the API and the digest show them, the
    /// dashboard and the public page do not, and need not pay for reading them.
    pub questions: bool,
}

struct Catalog {
    /// service code → (department code, name, audience)
    services: BTreeMap<String, (String, String, ServiceAudience)>,
    departments: BTreeMap<String, String>,
}

/// The catalog with its names in `lang` (the Hebrew name where it has none in that language).
fn catalog(conn: &mut DbConnection, lang: Language) -> Result<Catalog, DbError> {
    let services = db::catalog::all_services(conn)?
        .into_iter()
        .map(|s| {
            let name = super::catalog::localized(&s.names_i18n, lang, &s.name);
            let serves = s.serves();
            (s.code, (s.department_code, name, serves))
        })
        .collect();
    let departments = db::catalog::all_departments(conn)?
        .into_iter()
        .map(|d| {
            let name = super::catalog::localized(&d.names_i18n, lang, &d.name);
            (d.code, name)
        })
        .collect();
    Ok(Catalog {
        services,
        departments,
    })
}

/// Computes a summary (`by` None) or a breakdown.
pub fn report(
    conn: &mut DbConnection,
    ctx: &ReportContext,
    params: &ReportParams,
    by: Option<By>,
) -> Result<Report, ReportQueryError> {
    let catalog = catalog(conn, params.lang)?;
    let mut errors = FieldErrors::new();
    if let Some(d) = &params.department {
        if !catalog.departments.contains_key(d) {
            errors.insert("department".into(), "is not in the catalog".into());
        }
    }
    if let Some(s) = &params.service {
        if !catalog.services.contains_key(s) {
            errors.insert("service".into(), "is not in the catalog".into());
        }
    }
    if params.audience == Audience::Employee {
        // Employees' answers keep no channel and no day: these cannot be asked of them.
        if params.channel.is_some() {
            errors.insert(
                "channel".into(),
                "is not recorded for employee answers".into(),
            );
        }
        if matches!(by, Some(By::Channel) | Some(By::Week)) {
            errors.insert(
                "by".into(),
                "employee answers are reported by department, service or month".into(),
            );
        }
    }
    if !errors.is_empty() {
        return Err(ReportQueryError::Invalid(errors));
    }
    let in_scope = services_in_scope(&catalog, params);
    let filtered =
        params.service.is_some() || params.department.is_some() || !params.scope.is_empty();
    match params.audience {
        Audience::Resident => residents(
            conn,
            (ctx.now, ctx.questions),
            params,
            by,
            &catalog,
            filtered.then_some(in_scope),
        ),
        Audience::Employee => employees(conn, ctx, params, by, &catalog, in_scope),
    }
}

/// The services a report with these parameters covers (for detail queries that must cover
/// exactly what the figures beside them cover).
pub fn services_for(
    conn: &mut DbConnection,
    params: &ReportParams,
) -> Result<Vec<String>, DbError> {
    Ok(services_in_scope(&catalog(conn, params.lang)?, params))
}

/// The services a report covers: the filter's (service, department, scope), and for employees
/// only the catalog's internal units.
fn services_in_scope(catalog: &Catalog, params: &ReportParams) -> Vec<String> {
    catalog
        .services
        .iter()
        .filter(|(code, (dept, _, aud))| {
            params.service.as_ref().is_none_or(|s| s == *code)
                && params.department.as_ref().is_none_or(|d| d == dept)
                && (params.scope.is_empty() || params.scope.contains(dept))
                && (params.audience == Audience::Resident || *aud == ServiceAudience::Employees)
        })
        .map(|(code, _)| code.clone())
        .collect()
}

fn base_filter(params: &ReportParams, from: NaiveDate, to: NaiveDate) -> Filter {
    Filter {
        audience: params.audience,
        from_day: day_key(from),
        to_day: day_key(to),
        services: None,
        channel: params.channel.map(|c| c.as_str().to_string()),
    }
}

fn residents(
    conn: &mut DbConnection,
    (now, questions): (DateTime<Utc>, bool),
    params: &ReportParams,
    by: Option<By>,
    catalog: &Catalog,
    services: Option<Vec<String>>,
) -> Result<Report, ReportQueryError> {
    let mut filter = base_filter(params, params.from, params.to);
    filter.services = services;
    let grouping = match by {
        None => Grouping::default(),
        Some(By::Department) | Some(By::Service) => Grouping {
            service: true,
            ..Grouping::default()
        },
        Some(By::Channel) => Grouping {
            channel: true,
            ..Grouping::default()
        },
        Some(By::Week) | Some(By::Month) => Grouping {
            day: true,
            ..Grouping::default()
        },
    };
    let mut tallies = db::reports::response_tallies(conn, &filter, grouping)?;
    tallies.extend(db::reports::invitation_tallies(conn, &filter, grouping)?);
    let mut total = Tally::default();
    let mut groups: BTreeMap<String, Tally> = BTreeMap::new();
    for (key, tally) in tallies {
        total += tally;
        if let Some(by) = by {
            *groups.entry(group_of(by, &key, catalog)).or_default() += tally;
        }
    }
    let today = day_key(local_day(now));
    let case_rows =
        db::reports::case_tallies(conn, &filter, grouping.service, grouping.day, &today)?;
    let mut total_cases = Cases::default();
    let mut group_cases: BTreeMap<String, Cases> = BTreeMap::new();
    for (key, cases) in case_rows {
        total_cases += cases;
        if let Some(by) = by {
            *group_cases.entry(group_of(by, &key, catalog)).or_default() += cases;
        }
    }
    let mut answers = Answers::default();
    let scales = if questions {
        scale_questions(conn, Audience::Resident, params.lang)?
    } else {
        Vec::new()
    };
    if questions {
        for (key, question, value, n) in db::reports::answer_tallies(conn, &filter, grouping)? {
            let group = by.map(|by| group_of(by, &key, catalog));
            answers.add(group, question, value, n);
        }
    }
    let by_channel = by == Some(By::Channel);
    let rows = groups
        .into_iter()
        .map(|(key, tally)| Group {
            label: label_of(by, &key, catalog),
            cases: (!by_channel).then(|| group_cases.get(&key).copied().unwrap_or_default()),
            questions: answers.figures(Some(&key), &scales),
            key,
            figures: Some(tally.figures()),
        })
        .collect();
    Ok(Report {
        from: params.from,
        to: params.to,
        audience: Audience::Resident,
        total: Group {
            key: "total".into(),
            label: String::new(),
            figures: Some(total.figures()),
            cases: Some(total_cases),
            questions: answers.figures(None, &scales),
        },
        rows,
        min_group_size: None,
        counting_until: None,
    })
}

/// The key of the output group a counted row belongs to.
fn group_of(by: By, key: &GroupKey, catalog: &Catalog) -> String {
    let service = key.service.clone().unwrap_or_default();
    match by {
        By::Service => service,
        By::Department => catalog
            .services
            .get(&service)
            .map(|(d, _, _)| d.clone())
            .unwrap_or_default(),
        By::Channel => key.channel.clone().unwrap_or_else(|| "none".into()),
        By::Week => key
            .day
            .as_deref()
            .and_then(parse_day)
            .map(|d| day_key(week_start(d)))
            .unwrap_or_default(),
        By::Month => key
            .day
            .as_deref()
            .and_then(parse_day)
            .map(|d| day_key(month_start(d))[..7].to_string())
            .unwrap_or_default(),
    }
}

/// A group's label: the catalog name for services and departments; channels, weeks and months
/// are labelled by the surface that shows them, in its language.
fn label_of(by: Option<By>, key: &str, catalog: &Catalog) -> String {
    match by {
        Some(By::Service) => catalog
            .services
            .get(key)
            .map(|(_, name, _)| name.clone())
            .unwrap_or_default(),
        Some(By::Department) => catalog.departments.get(key).cloned().unwrap_or_default(),
        _ => String::new(),
    }
}
