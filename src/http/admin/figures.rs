//! How the admin pages show figures: the headline metrics with their `n`, interval and change,
//! and the sortable tables of groups. Numbers are formatted here, once, for every page.

use chrono::{Duration, Months};
use serde::Serialize;

use super::chart::DEPENDABLE_N;
use crate::domain::interaction::Audience;
use crate::domain::language::Language;
use crate::domain::metrics::{Figures, Share};
use crate::domain::period::{day_key, month_start, week_start};
use crate::services::reports::{Group, Report};
use crate::templates::Templates;

pub fn percent(v: f64) -> String {
    format!("{:.0}%", v * 100.0)
}

pub fn share_text(s: &Share) -> String {
    s.value.map(percent).unwrap_or_else(|| "–".into())
}

pub fn mean_text(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.1}")).unwrap_or_else(|| "–".into())
}

/// A change with its sign, to one decimal (none when whole).
fn signed_change(delta: f64, unit: &str) -> String {
    let sign = if delta > 0.0 { "+" } else { "" };
    let rounded = (delta * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{sign}{rounded:.0}{unit}")
    } else {
        format!("{sign}{rounded:.1}{unit}")
    }
}

#[derive(Serialize)]
pub struct Metric {
    label: String,
    value: String,
    n: i64,
    interval: Option<String>,
    change: Option<String>,
    uncertain: bool,
}

/// The headline figures, each against the period before where both have a value.
pub fn metrics(
    t: &Templates,
    lang: Language,
    now: &Figures,
    before: Option<&Figures>,
) -> Vec<Metric> {
    let text = |k: &str| t.text(lang, &format!("admin.metrics.{k}"));
    let interval = |s: &Share| {
        s.ci95
            .map(|[lo, hi]| format!("{}–{}", percent(lo), percent(hi)))
    };
    let share = |label: &str, s: &Share, b: Option<&Share>| Metric {
        label: text(label),
        value: share_text(s),
        n: s.n,
        interval: interval(s),
        change: s
            .value
            .zip(b.and_then(|b| b.value))
            .map(|(a, b)| signed_change((a - b) * 100.0, &text("points"))),
        uncertain: s.n < DEPENDABLE_N,
    };
    vec![
        share("csat", &now.csat, before.map(|b| &b.csat)),
        Metric {
            label: text("ease"),
            value: mean_text(now.ces.value),
            n: now.ces.n,
            interval: None,
            change: now
                .ces
                .value
                .zip(before.and_then(|b| b.ces.value))
                .map(|(a, b)| signed_change(a - b, "")),
            uncertain: now.ces.n < DEPENDABLE_N,
        },
        share(
            "resolution",
            &now.resolution_rate,
            before.map(|b| &b.resolution_rate),
        ),
        Metric {
            label: text("responses"),
            value: now.responses.to_string(),
            n: now.responses,
            interval: None,
            change: before.map(|b| signed_change((now.responses - b.responses) as f64, "")),
            uncertain: false,
        },
    ]
}

/// The columns a table of groups sorts by.
pub const COLUMNS: [&str; 6] = [
    "csat",
    "ease",
    "resolution",
    "responses",
    "opened",
    "overdue",
];

/// Sorts by `sort` (a column, `-column` for descending); returns the column and direction.
pub fn sort_groups(rows: &mut [Group], sort: Option<&str>) -> (Option<&'static str>, bool) {
    let (key, descending) = match sort {
        Some(s) => match s.strip_prefix('-') {
            Some(k) => (k, true),
            None => (s, false),
        },
        None => return (None, false),
    };
    let Some(column) = COLUMNS.into_iter().find(|c| *c == key) else {
        return (None, false);
    };
    let value = |g: &Group| -> Option<f64> {
        let f = g.figures.as_ref();
        match column {
            "csat" => f?.csat.value,
            "ease" => f?.ces.value,
            "resolution" => f?.resolution_rate.value,
            "responses" => f.map(|f| f.responses as f64),
            "open" => g.cases.map(|c| c.open as f64),
            _ => g.cases.map(|c| c.overdue as f64),
        }
    };
    // Groups without a figure go last either way.
    rows.sort_by(|a, b| match (value(a), value(b)) {
        (Some(x), Some(y)) if descending => y.total_cmp(&x),
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.label.cmp(&b.label),
    });
    (Some(column), descending)
}

#[derive(Serialize)]
pub struct Header {
    label: String,
    href: String,
    /// `ascending` or `descending` where the table is sorted by this column (`aria-sort`).
    sorted: Option<&'static str>,
}

/// The column headers, each a link that sorts by it (again: the other way).
pub fn headers(
    t: &Templates,
    lang: Language,
    sorted: (Option<&'static str>, bool),
    link: impl Fn(&str) -> String,
) -> Vec<Header> {
    COLUMNS
        .into_iter()
        .map(|c| {
            let this = sorted.0 == Some(c);
            let descending = sorted.1;
            let next = if this && !descending {
                format!("-{c}")
            } else {
                c.to_string()
            };
            Header {
                label: t.text(lang, &format!("admin.metrics.{c}")),
                href: link(&next),
                sorted: this.then_some(if descending {
                    "descending"
                } else {
                    "ascending"
                }),
            }
        })
        .collect()
}

#[derive(Serialize)]
pub struct Row {
    href: Option<String>,
    label: String,
    csat: String,
    effort: String,
    resolution: String,
    responses: String,
    open: String,
    overdue: String,
    uncertain: bool,
}

pub fn row(g: &Group, label: String, href: Option<String>) -> Row {
    let f = g.figures.as_ref();
    let dash = || "–".to_string();
    Row {
        href,
        label,
        csat: f.map(|f| share_text(&f.csat)).unwrap_or_else(dash),
        effort: f.map(|f| mean_text(f.ces.value)).unwrap_or_else(dash),
        resolution: f
            .map(|f| share_text(&f.resolution_rate))
            .unwrap_or_else(dash),
        responses: f.map(|f| f.responses.to_string()).unwrap_or_else(dash),
        open: g.cases.map(|c| c.open.to_string()).unwrap_or_else(dash),
        overdue: g.cases.map(|c| c.overdue.to_string()).unwrap_or_else(dash),
        uncertain: f.is_some_and(|f| f.csat.n < DEPENDABLE_N),
    }
}

/// The keys of every week (residents) or month (employees) a trend report covers, as the
/// reports key them (a week by its Sunday, a month as YYYY-MM): a period without answers must
/// show as a gap, so every one is listed.
pub fn periods(trend: &Report, audience: Audience) -> Vec<String> {
    let mut keys = Vec::new();
    let mut at = match audience {
        Audience::Resident => week_start(trend.from),
        Audience::Employee => month_start(trend.from),
    };
    while at <= trend.to && keys.len() < 60 {
        keys.push(match audience {
            Audience::Resident => day_key(at),
            Audience::Employee => at.format("%Y-%m").to_string(),
        });
        at = match audience {
            Audience::Resident => at + Duration::weeks(1),
            Audience::Employee => at + Months::new(1),
        };
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::signed_change;

    #[test]
    fn changes_carry_their_sign_and_one_decimal_at_most() {
        assert_eq!(signed_change(3.0, " pts"), "+3 pts");
        assert_eq!(signed_change(-7.25, ""), "-7.3");
        assert_eq!(signed_change(0.0, ""), "0");
        assert_eq!(signed_change(12.04, ""), "+12");
    }
}
