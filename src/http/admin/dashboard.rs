//! `GET /admin` (the city, or the caller's departments) and `GET /admin/departments/{code}`:
//! the report figures for a period with their `n` and intervals, the change against the period
//! before, a trend chart with its table, and a sortable table of departments (or services).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Duration, Months};
use serde::Serialize;

use super::chart::{self, Chart, Point, DEPENDABLE_N};
use super::{html, refusal, signed_in, AdminError, Chrome, Signed};
use crate::domain::dashboard::{previous, Preset};
use crate::domain::interaction::{Audience, Channel};
use crate::domain::language::Language;
use crate::domain::metrics::{Figures, Share};
use crate::domain::period::{day_key, local_day, month_start, week_start};
use crate::domain::report::{By, ReportParams};
use crate::services::catalog;
use crate::services::reports::{self, Group, Report, ReportContext, ReportQueryError};
use crate::state::AppState;
use crate::templates::Templates;

pub async fn show(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    match page(&state, &req, None).await {
        Ok(r) => r,
        Err(e) => refusal(&state, &req, e),
    }
}

pub async fn department(
    state: web::Data<AppState>,
    req: HttpRequest,
    code: web::Path<String>,
) -> HttpResponse {
    match page(&state, &req, Some(code.into_inner())).await {
        Ok(r) => r,
        Err(e) => refusal(&state, &req, e),
    }
}

/// What the query string may ask; anything malformed is a `400`.
struct Query {
    preset: Preset,
    audience: Audience,
    channel: Option<Channel>,
    sort: Option<String>,
}

fn query(req: &HttpRequest) -> Result<Query, AdminError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).map_err(|_| AdminError::BadRequest)?;
    let one = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let bad = AdminError::BadRequest;
    Ok(Query {
        preset: match one("period") {
            None | Some("") => Preset::default(),
            Some(p) => Preset::parse(p).ok_or(bad)?,
        },
        audience: match one("audience") {
            None | Some("") => Audience::Resident,
            Some(a) => Audience::parse(a).ok_or(AdminError::BadRequest)?,
        },
        channel: match one("channel") {
            None | Some("") => None,
            Some(c) => Some(Channel::parse(c).ok_or(AdminError::BadRequest)?),
        },
        sort: one("sort").map(str::to_string),
    })
}

#[derive(Serialize)]
struct Choice {
    href: String,
    label: String,
    current: bool,
}

#[derive(Serialize)]
struct Metric {
    label: String,
    value: String,
    n: i64,
    interval: Option<String>,
    change: Option<String>,
    uncertain: bool,
}

#[derive(Serialize)]
struct Row {
    href: Option<String>,
    label: String,
    csat: String,
    effort: String,
    resolution: String,
    responses: String,
    opened: String,
    overdue: String,
    uncertain: bool,
}

#[derive(Serialize)]
struct Header {
    label: String,
    href: String,
    /// `ascending` or `descending` where the table is sorted by this column (`aria-sort`).
    sorted: Option<&'static str>,
}

#[derive(Serialize)]
struct TrendRow {
    label: String,
    value: String,
    n: i64,
}

#[derive(Serialize)]
struct DashboardPage<'a> {
    #[serde(flatten)]
    chrome: Chrome<'a>,
    heading: String,
    period: String,
    presets: Vec<Choice>,
    audiences: Vec<Choice>,
    metrics: Vec<Metric>,
    withheld: Option<String>,
    chart: Chart,
    trend: Vec<TrendRow>,
    headers: Vec<Header>,
    rows: Vec<Row>,
}

/// The four reports a dashboard shows, computed in one scan, and the catalog's names in the
/// reader's language.
struct Reports {
    now: Report,
    before: Report,
    rows: Report,
    trend: Report,
    names: HashMap<String, String>,
}

async fn page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    department: Option<String>,
) -> Result<HttpResponse, AdminError> {
    let signed = signed_in(state, req).await?;
    let q = query(req)?;
    if let Some(d) = &department {
        // Out of scope answers as if it did not exist.
        if !signed.account.scope.allows(d) {
            return Err(AdminError::NotFound);
        }
    }
    let now = state.clock.now();
    let (from, to) = q.preset.range(local_day(now));
    let params = ReportParams {
        from,
        to,
        audience: q.audience,
        department: department.clone(),
        scope: signed.account.scope.as_filter(),
        service: None,
        channel: q.channel,
        lang: signed.lang,
    };
    let rows_by = if department.is_some() {
        By::Service
    } else {
        By::Department
    };
    // Residents by week over twelve whole weeks; employees (whole months only) by month over
    // six.
    let (trend_by, trend_from) = match q.audience {
        Audience::Resident => (By::Week, week_start(to) - Duration::weeks(11)),
        Audience::Employee => (By::Month, month_start(to) - Months::new(5)),
    };
    let ctx = ReportContext {
        min_group_size: state.settings.min_group_size,
        now,
    };
    let inbox = state.key.inbox_key();
    state
        .db
        .write(move |conn| reports::refresh(conn, &inbox, now))
        .await?;
    let p = params.clone();
    let computed = state
        .db
        .scan(move |conn| {
            let now = reports::report(conn, &ctx, &p, None)?;
            // The period before the one counted (employees' periods widen to whole months).
            let (prev_from, prev_to) = previous(now.from, now.to);
            let before = ReportParams {
                from: prev_from,
                to: prev_to,
                ..p.clone()
            };
            let trend = ReportParams {
                from: trend_from,
                ..p.clone()
            };
            Ok::<_, ReportQueryError>(Reports {
                names: catalog::names(conn, p.lang)?,
                now,
                before: reports::report(conn, &ctx, &before, None)?,
                rows: reports::report(conn, &ctx, &p, Some(rows_by))?,
                trend: reports::report(conn, &ctx, &trend, Some(trend_by))?,
            })
        })
        .await;
    let r = match computed {
        Ok(r) => r,
        // A department not in the catalog; a filter that does not apply to this audience.
        Err(ReportQueryError::Invalid(fields)) if fields.contains_key("department") => {
            return Err(AdminError::NotFound)
        }
        Err(ReportQueryError::Invalid(_)) => return Err(AdminError::BadRequest),
        Err(ReportQueryError::Db(e)) => return Err(e.into()),
    };
    let body = render(state, req, &signed, &q, department.as_deref(), &r)?;
    Ok(html(StatusCode::OK, Ok(body)))
}

/// The keys of every week (residents) or month (employees) a trend report covers.
fn periods(trend: &Report, audience: Audience) -> Vec<String> {
    let mut keys = Vec::new();
    let mut at = match audience {
        Audience::Resident => week_start(trend.from),
        Audience::Employee => month_start(trend.from),
    };
    while at <= trend.to && keys.len() < 60 {
        // Weeks are keyed by their Sunday, months as YYYY-MM (as the reports key them).
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

fn percent(v: f64) -> String {
    format!("{:.0}%", v * 100.0)
}

fn share_text(s: &Share) -> String {
    s.value.map(percent).unwrap_or_else(|| "–".into())
}

fn mean_text(v: Option<f64>) -> String {
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

fn metrics(t: &Templates, lang: Language, now: &Figures, before: Option<&Figures>) -> Vec<Metric> {
    let text = |k: &str| t.text(lang, &format!("admin.metrics.{k}"));
    let interval = |s: &Share| {
        s.ci95
            .map(|[lo, hi]| format!("{}–{}", percent(lo), percent(hi)))
    };
    let share_change = |a: &Share, b: Option<&Share>| {
        let (a, b) = (a.value?, b?.value?);
        Some(signed_change((a - b) * 100.0, &text("points")))
    };
    vec![
        Metric {
            label: text("csat"),
            value: share_text(&now.csat),
            n: now.csat.n,
            interval: interval(&now.csat),
            change: share_change(&now.csat, before.map(|b| &b.csat)),
            uncertain: now.csat.n < DEPENDABLE_N,
        },
        Metric {
            label: text("ease"),
            value: mean_text(now.ces.value),
            n: now.ces.n,
            interval: None,
            change: match (now.ces.value, before.and_then(|b| b.ces.value)) {
                (Some(a), Some(b)) => Some(signed_change(a - b, "")),
                _ => None,
            },
            uncertain: now.ces.n < DEPENDABLE_N,
        },
        Metric {
            label: text("resolution"),
            value: share_text(&now.resolution_rate),
            n: now.resolution_rate.n,
            interval: interval(&now.resolution_rate),
            change: share_change(&now.resolution_rate, before.map(|b| &b.resolution_rate)),
            uncertain: now.resolution_rate.n < DEPENDABLE_N,
        },
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

const COLUMNS: [&str; 6] = [
    "csat",
    "ease",
    "resolution",
    "responses",
    "opened",
    "overdue",
];

fn sort_rows(rows: &mut [Group], sort: Option<&str>) -> (Option<&'static str>, bool) {
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
            "opened" => g.cases.map(|c| c.opened as f64),
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

fn render(
    state: &AppState,
    req: &HttpRequest,
    signed: &Signed,
    q: &Query,
    department: Option<&str>,
    r: &Reports,
) -> Result<String, AdminError> {
    let (t, lang) = (&state.templates, signed.lang);
    let text = |k: &str| t.text(lang, &format!("admin.{k}"));
    let base = req.path().to_string();
    let link = |preset: Preset, audience: Audience, sort: Option<&str>| {
        let mut pairs = vec![("period", preset.as_str()), ("audience", audience.as_str())];
        if let Some(c) = q.channel {
            pairs.push(("channel", c.as_str()));
        }
        if let Some(s) = sort {
            pairs.push(("sort", s));
        }
        format!(
            "{base}?{}",
            serde_urlencoded::to_string(&pairs).unwrap_or_default()
        )
    };
    let presets = Preset::ALL
        .into_iter()
        .map(|p| Choice {
            href: link(p, q.audience, None),
            label: text(&format!("periods.{}", p.as_str())),
            current: p == q.preset,
        })
        .collect();
    let audiences = [Audience::Resident, Audience::Employee]
        .into_iter()
        .map(|a| Choice {
            href: link(q.preset, a, None),
            label: text(&format!("audiences.{}", a.as_str())),
            current: a == q.audience,
        })
        .collect();
    let withheld = r.now.total.figures.is_none().then(|| {
        text("withheld").replace("{n}", &r.now.min_group_size.unwrap_or_default().to_string())
    });
    let metrics = r
        .now
        .total
        .figures
        .as_ref()
        .map(|f| metrics(t, lang, f, r.before.total.figures.as_ref()))
        .unwrap_or_default();
    // Every period of the trend, those without answers too: a gap must show as a gap.
    let points: Vec<Point> = periods(&r.trend, q.audience)
        .into_iter()
        .map(|key| {
            let g = r.trend.rows.iter().find(|g| g.key == key);
            let f = g.and_then(|g| g.figures.as_ref());
            Point {
                label: key,
                value: f.and_then(|f| f.csat.value),
                n: f.map_or(0, |f| f.csat.n),
            }
        })
        .collect();
    let trend = points
        .iter()
        .map(|p| TrendRow {
            label: p.label.clone(),
            value: p.value.map(percent).unwrap_or_else(|| "–".into()),
            n: p.n,
        })
        .collect();
    let mut groups = r.rows.rows.clone();
    let (sorted, descending) = sort_rows(&mut groups, q.sort.as_deref());
    let headers = COLUMNS
        .into_iter()
        .map(|c| {
            let this = sorted == Some(c);
            let next = if this && !descending {
                format!("-{c}")
            } else {
                c.to_string()
            };
            Header {
                label: text(&format!("metrics.{c}")),
                href: link(q.preset, q.audience, Some(&next)),
                sorted: this.then_some(if descending {
                    "descending"
                } else {
                    "ascending"
                }),
            }
        })
        .collect();
    let rows = groups
        .iter()
        .map(|g| {
            let f = g.figures.as_ref();
            let dash = || "–".to_string();
            Row {
                href: (department.is_none() && !g.key.is_empty())
                    .then(|| format!("/admin/departments/{}", g.key)),
                label: r
                    .names
                    .get(&g.key)
                    .cloned()
                    .unwrap_or_else(|| g.key.clone()),
                csat: f.map(|f| share_text(&f.csat)).unwrap_or_else(dash),
                effort: f.map(|f| mean_text(f.ces.value)).unwrap_or_else(dash),
                resolution: f
                    .map(|f| share_text(&f.resolution_rate))
                    .unwrap_or_else(dash),
                responses: f.map(|f| f.responses.to_string()).unwrap_or_else(dash),
                opened: g.cases.map(|c| c.opened.to_string()).unwrap_or_else(dash),
                overdue: g.cases.map(|c| c.overdue.to_string()).unwrap_or_else(dash),
                uncertain: f.is_some_and(|f| f.csat.n < DEPENDABLE_N),
            }
        })
        .collect();
    let heading = match department {
        Some(code) => r
            .names
            .get(code)
            .cloned()
            .unwrap_or_else(|| code.to_string()),
        None => text("dashboard.heading"),
    };
    let chrome = Chrome::new(state, req, lang, Some(signed), "dashboard.title");
    Ok(state.templates.render(
        "admin/dashboard",
        &DashboardPage {
            chrome,
            heading,
            period: format!("{} – {}", day_key(r.now.from), day_key(r.now.to)),
            presets,
            audiences,
            metrics,
            withheld,
            chart: chart::trend(&points),
            trend,
            headers,
            rows,
        },
    )?)
}
