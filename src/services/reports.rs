//! Reports: headline figures for a period, whole or broken down, for residents or employees.
//!
//! Employees' figures obey the minimum group size by construction. Their answers are counted
//! in fixed cells (unit × month × cohort, where the cohort is a campaign or the month's
//! tickets), and a cell is *released* only when it is frozen (its campaign is closed, or its
//! month is over) and holds at least `min_group_size` answers. Every employee figure on every
//! surface is a sum over released cells and nothing else, so the difference of any two figures
//! is again a sum of whole released cells: no subtraction, no filter and no comparison from one
//! day to the next can isolate a group smaller than the minimum.

use crate::domain::cursor::Position;
use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};

use crate::db::reports::{Filter, GroupKey, Grouping};
use crate::db::{self, DbConnection, DbError};
use crate::domain::anonymity::{frozen, large_enough, TICKETS};
use crate::domain::followup::Cases;
use crate::domain::interaction::Audience;
use crate::domain::language::Language;
use crate::domain::metrics::{Figures, Tally};
use crate::domain::period::{day_key, local_day, month_end, month_start, parse_day, week_start};
use crate::domain::report::{By, ReportParams};
use crate::domain::sealed::InboxKey;
use crate::domain::FieldErrors;

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
}

/// What a report needs besides its parameters.
#[derive(Debug, Clone, Copy)]
pub struct ReportContext {
    pub min_group_size: i64,
    pub now: DateTime<Utc>,
}

struct Catalog {
    /// service code → (department code, name, audience)
    services: BTreeMap<String, (String, String, String)>,
    departments: BTreeMap<String, String>,
}

/// The catalog with its names in `lang` (the Hebrew name where it has none in that language).
fn catalog(conn: &mut DbConnection, lang: Language) -> Result<Catalog, DbError> {
    let services = db::catalog::all_services(conn)?
        .into_iter()
        .map(|s| {
            let name = super::catalog::localized(&s.names_i18n, lang, &s.name);
            (s.code, (s.department_code, name, s.audience))
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
            ctx.now,
            params,
            by,
            &catalog,
            filtered.then_some(in_scope),
        ),
        Audience::Employee => employees(conn, ctx, params, by, &catalog, in_scope),
    }
}

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
    super::inbox::drain_frozen(conn, inbox, now)?;
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
    let [responses, invitations] = db::reports::ROLLUPS;
    for ((days, months), through) in [
        (responses, responses_through),
        (invitations, invitations_through),
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
                && (params.audience == Audience::Resident || aud == "employees")
        })
        .map(|(code, _)| code.clone())
        .collect()
}

fn base_filter(params: &ReportParams, from: NaiveDate, to: NaiveDate) -> Filter {
    Filter {
        audience: params.audience.as_str().to_string(),
        from_day: day_key(from),
        to_day: day_key(to),
        services: None,
        channel: params.channel.map(|c| c.as_str().to_string()),
    }
}

fn residents(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
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
    let by_channel = by == Some(By::Channel);
    let rows = groups
        .into_iter()
        .map(|(key, tally)| Group {
            label: label_of(by, &key, catalog),
            cases: (!by_channel).then(|| group_cases.get(&key).copied().unwrap_or_default()),
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
        },
        rows,
        min_group_size: None,
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

fn employees(
    conn: &mut DbConnection,
    ctx: &ReportContext,
    params: &ReportParams,
    by: Option<By>,
    catalog: &Catalog,
    services: Vec<String>,
) -> Result<Report, ReportQueryError> {
    let from = month_start(params.from);
    let to = month_end(params.to);
    let mut filter = base_filter(params, from, to);
    filter.services = Some(services.clone());
    let released = released_tallies(conn, ctx, &filter)?;

    let mut total: Option<Tally> = None;
    let mut groups: BTreeMap<String, Option<Tally>> = BTreeMap::new();
    // Every group in scope is listed, shown or withheld, whether or not anyone answered: which
    // groups appear must not itself tell who answered.
    if let Some(by) = by {
        match by {
            By::Service => {
                for s in &services {
                    groups.insert(s.clone(), None);
                }
            }
            By::Department => {
                for s in &services {
                    if let Some((d, _, _)) = catalog.services.get(s) {
                        groups.insert(d.clone(), None);
                    }
                }
            }
            _ => {
                let mut m = from;
                while m <= to {
                    groups.insert(day_key(m)[..7].to_string(), None);
                    let Some(next) = month_end(m).succ_opt() else {
                        break;
                    };
                    m = next;
                }
            }
        }
    }
    for (key, tally) in released {
        *total.get_or_insert_with(Tally::default) += tally;
        if let Some(by) = by {
            *groups
                .entry(group_of(by, &key, catalog))
                .or_insert(None)
                .get_or_insert_with(Tally::default) += tally;
        }
    }
    let rows = groups
        .into_iter()
        .map(|(key, tally)| Group {
            label: label_of(by, &key, catalog),
            key,
            figures: tally.map(|t| t.figures()),
            cases: None,
        })
        .collect();
    Ok(Report {
        from,
        to,
        audience: Audience::Employee,
        total: Group {
            key: "total".into(),
            label: String::new(),
            figures: total.map(|t| t.figures()),
            cases: None,
        },
        rows,
        min_group_size: Some(ctx.min_group_size),
    })
}

/// A comment with the group it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub service: String,
    pub day: String,
    pub text: String,
}

/// A page of comments and where the next one starts (`None` on the last page).
pub struct CommentPage {
    pub comments: Vec<Comment>,
    pub next: Option<Position>,
}

/// Comments in a report's scope, at most `limit` from `from` (a page's position): residents'
/// newest first; employees' only those of released cells, in text order.
pub fn comments(
    conn: &mut DbConnection,
    ctx: &ReportContext,
    params: &ReportParams,
    limit: i64,
    from: Option<Position>,
) -> Result<CommentPage, ReportQueryError> {
    // The same checks and the same released cells as the figures.
    let report = report(conn, ctx, params, None)?;
    let services = services_in_scope(&catalog(conn, params.lang)?, params);
    let mut filter = base_filter(params, report.from, report.to);
    let filtered =
        params.service.is_some() || params.department.is_some() || !params.scope.is_empty();
    let limit = limit.max(0);
    if params.audience == Audience::Resident {
        filter.services = filtered.then_some(services);
        let after = match &from {
            Some(Position::After { day, id }) => Some((day.as_str(), id.as_str())),
            _ => None,
        };
        // One more than asked: whether a next page exists, without counting.
        let mut rows = db::reports::comments(conn, &filter, false, after, limit + 1)?;
        let next = if rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|r| Position::After {
                day: r.day.clone(),
                id: r.response_id.clone(),
            })
        } else {
            None
        };
        let comments = rows
            .into_iter()
            .map(|r| Comment {
                service: r.service_code,
                day: r.day,
                text: r.text,
            })
            .collect();
        return Ok(CommentPage { comments, next });
    }
    if report.total.figures.is_none() {
        return Ok(CommentPage {
            comments: Vec::new(),
            next: None,
        });
    }
    filter.services = Some(services);
    let released = released_cells(conn, ctx, &filter)?;
    let rows = db::reports::comments(conn, &filter, true, None, i64::MAX / 2)?;
    let skip = match from {
        Some(Position::Offset(n)) => usize::try_from(n).unwrap_or(usize::MAX),
        _ => 0,
    };
    let take = usize::try_from(limit).unwrap_or(0);
    let mut shown: Vec<Comment> = rows
        .into_iter()
        .filter(|r| {
            released.contains(&(
                r.service_code.clone(),
                r.day.clone(),
                r.cohort.clone().unwrap_or_default(),
            ))
        })
        .skip(skip)
        .take(take + 1)
        .map(|r| Comment {
            service: r.service_code,
            day: r.day[..7].to_string(),
            text: r.text,
        })
        .collect();
    let next = (shown.len() > take).then(|| Position::Offset((skip + take) as u64));
    shown.truncate(take);
    Ok(CommentPage {
        comments: shown,
        next,
    })
}

/// The employee groups (service, month day, cohort) in a filter's scope that may be shown.
pub fn released_cells(
    conn: &mut DbConnection,
    ctx: &ReportContext,
    filter: &Filter,
) -> Result<HashSet<(String, String, String)>, ReportQueryError> {
    Ok(released_tallies(conn, ctx, filter)?
        .into_iter()
        .filter_map(|(k, _)| Some((k.service?, k.day?, k.cohort?)))
        .collect())
}

/// The released employee cells in a filter's scope, each with its tally (ticket cells with
/// their invitations).
fn released_tallies(
    conn: &mut DbConnection,
    ctx: &ReportContext,
    filter: &Filter,
) -> Result<Vec<(GroupKey, Tally)>, ReportQueryError> {
    let cells = db::reports::response_tallies(
        conn,
        filter,
        Grouping {
            service: true,
            day: true,
            cohort: true,
            ..Grouping::default()
        },
    )?;
    // Ticket invitations per unit and month; campaigns' invitations name no unit.
    let mut invited: HashMap<(String, String), Tally> = HashMap::new();
    for (key, tally) in db::reports::invitation_tallies(
        conn,
        filter,
        Grouping {
            service: true,
            day: true,
            ..Grouping::default()
        },
    )? {
        let month = key.day.as_deref().and_then(parse_day).map(month_start);
        if let (Some(service), Some(month)) = (key.service, month) {
            *invited.entry((service, day_key(month))).or_default() += tally;
        }
    }
    let closed: HashSet<String> = db::campaigns::closed_ids(conn)?.into_iter().collect();
    let today = local_day(ctx.now);
    let mut released = Vec::new();
    for (key, mut tally) in cells {
        let (Some(service), Some(day), Some(cohort)) = (&key.service, &key.day, &key.cohort) else {
            continue;
        };
        let Some(month) = parse_day(day) else {
            continue;
        };
        if !large_enough(tally.responses, ctx.min_group_size)
            || !frozen(cohort, month, today, &closed)
        {
            continue;
        }
        if cohort == TICKETS {
            if let Some(inv) = invited.get(&(service.clone(), day.clone())) {
                tally += *inv;
            }
        }
        released.push((key, tally));
    }
    Ok(released)
}
