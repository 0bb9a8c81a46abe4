//! Employees' figures: sums over released cells only (see the module above).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;

use super::{
    base_filter, group_of, label_of, scale_questions, Answers, Catalog, Group, Report,
    ReportContext, ReportQueryError,
};
use crate::db::reports::{Filter, GroupKey, Grouping};
use crate::db::{self, DbConnection};
use crate::domain::anonymity::{frozen, large_enough, tickets_show_from, TICKETS};
use crate::domain::interaction::Audience;
use crate::domain::metrics::Tally;
use crate::domain::period::{day_key, local_day, month_end, month_start, parse_day};
use crate::domain::report::{By, ReportParams};

pub(super) fn employees(
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
    // Answers of released cells only, as for every other employee figure.
    let cells: HashSet<(Option<String>, Option<String>, Option<String>)> = released
        .iter()
        .map(|(k, _)| (k.service.clone(), k.day.clone(), k.cohort.clone()))
        .collect();
    let scales = if ctx.questions {
        scale_questions(conn, Audience::Employee, params.lang)?
    } else {
        Vec::new()
    };
    let mut answers = Answers::default();
    let per_cell = Grouping {
        service: true,
        day: true,
        cohort: true,
        ..Grouping::default()
    };
    let counted: Vec<_> = if ctx.questions {
        db::reports::answer_tallies(conn, &filter, per_cell)?
    } else {
        Vec::new()
    }
    .into_iter()
    .filter(|(key, ..)| cells.contains(&(key.service.clone(), key.day.clone(), key.cohort.clone())))
    .collect();
    // An optional question can be answered by fewer people than its cell holds: a question is
    // counted in a cell only where at least the minimum group answered it, so that no
    // question's figure (nor the difference of two) rests on fewer people.
    let mut answered: HashMap<(GroupKey, &str), i64> = HashMap::new();
    for (key, question, _, n) in &counted {
        *answered
            .entry((key.clone(), question.as_str()))
            .or_default() += n;
    }
    for (key, question, value, n) in &counted {
        let people = answered
            .get(&(key.clone(), question.as_str()))
            .copied()
            .unwrap_or(0);
        if large_enough(people, ctx.min_group_size) {
            let group = by.map(|by| group_of(by, key, catalog));
            answers.add(group, question.clone(), *value, *n);
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
            questions: if tally.is_some() {
                answers.figures(Some(&key), &scales)
            } else {
                Vec::new()
            },
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
            questions: if total.is_some() {
                answers.figures(None, &scales)
            } else {
                Vec::new()
            },
            figures: total.map(|t| t.figures()),
            cases: None,
        },
        rows,
        min_group_size: Some(ctx.min_group_size),
        counting_until: counting_until(from, to, local_day(ctx.now)),
    })
}

/// The day the last month of `from..=to` still being counted on `today` can show, if any.
fn counting_until(from: NaiveDate, to: NaiveDate, today: NaiveDate) -> Option<NaiveDate> {
    let last = tickets_show_from(month_start(to));
    (month_start(to) >= month_start(from) && last > today).then_some(last)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap_or_default()
    }

    #[test]
    fn a_month_is_counted_until_the_second_day_of_the_next() {
        // On 1 December, November is still being counted: it shows on the 2nd.
        let on = |today| counting_until(d("2026-11-01"), d("2026-11-30"), d(today));
        assert_eq!(on("2026-12-01"), Some(d("2026-12-02")));
        assert_eq!(on("2026-11-15"), Some(d("2026-12-02")));
        assert_eq!(on("2026-12-02"), None);
        // A period whose last month is over and shown is not waiting for anything.
        assert_eq!(
            counting_until(d("2026-08-01"), d("2026-10-31"), d("2026-12-01")),
            None
        );
    }
}
