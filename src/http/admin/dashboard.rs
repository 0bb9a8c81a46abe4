//! `GET /admin` (the city, or the caller's departments), `GET /admin/departments/{code}` and
//! `GET /admin/services/{code}`: the report figures for a period with their `n` and intervals,
//! the change against the period before, a trend chart with its table, sortable tables of
//! departments, services or channels, and on a department's or a service's page every question
//! and the comments. A department or service outside the caller's scope is `404`.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Duration, Months};
use serde::Serialize;

use super::chart::{self, Chart, Point};
use super::details::{self, CommentView, QuestionLine};
use super::figures::{self, Header, Metric, Row};
use super::{html, refusal, signed_in, AdminError, Chrome, QueryString, Signed};
use crate::domain::dashboard::{previous, Preset};
use crate::domain::interaction::{Audience, Channel};
use crate::domain::period::{day_key, local_day, month_start, week_start};
use crate::domain::report::{By, ReportParams};
use crate::services::catalog;
use crate::services::details::{self as read, CommentFilter, Details};
use crate::services::reports::{self, Report, ReportContext, ReportQueryError};
use crate::state::AppState;

/// What a page is about.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Focus {
    City,
    Department(String),
    Service(String),
}

pub async fn show(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    respond(&state, &req, Focus::City).await
}

pub async fn department(
    state: web::Data<AppState>,
    req: HttpRequest,
    code: web::Path<String>,
) -> HttpResponse {
    respond(&state, &req, Focus::Department(code.into_inner())).await
}

pub async fn service(
    state: web::Data<AppState>,
    req: HttpRequest,
    code: web::Path<String>,
) -> HttpResponse {
    respond(&state, &req, Focus::Service(code.into_inner())).await
}

async fn respond(state: &web::Data<AppState>, req: &HttpRequest, focus: Focus) -> HttpResponse {
    match page(state, req, focus).await {
        Ok(r) => r,
        Err(e) => refusal(state, req, e),
    }
}

/// What the query string may ask; anything malformed is a `400`.
struct Query {
    preset: Preset,
    audience: Audience,
    channel: Option<Channel>,
    sort: Option<String>,
    comments: CommentFilter,
}

fn query(req: &HttpRequest) -> Result<Query, AdminError> {
    let qs = QueryString::of(req)?;
    let one = |name: &str| qs.one(name);
    let bad = || AdminError::BadRequest;
    let score = match one("score") {
        None => None,
        Some(s) => Some(
            s.parse::<i32>()
                .ok()
                .filter(|n| (1..=5).contains(n))
                .ok_or_else(bad)?,
        ),
    };
    let search = one("q").map(str::to_string);
    if search.as_ref().is_some_and(|s| s.chars().count() > 200) {
        return Err(bad());
    }
    Ok(Query {
        preset: one("period")
            .map_or(Ok(Preset::default()), |p| Preset::parse(p).ok_or_else(bad))?,
        audience: one("audience").map_or(Ok(Audience::Resident), |a| {
            Audience::parse(a).ok_or_else(bad)
        })?,
        channel: one("channel")
            .map(|c| Channel::parse(c).ok_or_else(bad))
            .transpose()?,
        sort: one("sort").map(str::to_string),
        comments: CommentFilter {
            overall: score,
            search,
        },
    })
}

#[derive(Serialize)]
struct Choice {
    href: String,
    label: String,
    current: bool,
}

#[derive(Serialize)]
struct Table {
    id: &'static str,
    title: String,
    headers: Vec<Header>,
    rows: Vec<Row>,
}

#[derive(Serialize)]
struct TrendRow {
    label: String,
    value: String,
    n: i64,
}

#[derive(Serialize)]
struct Pick {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Serialize)]
struct Hidden {
    name: &'static str,
    value: String,
}

#[derive(Serialize)]
struct DashboardPage<'a> {
    #[serde(flatten)]
    chrome: Chrome<'a>,
    heading: String,
    action: String,
    period: String,
    presets: Vec<Choice>,
    audiences: Vec<Choice>,
    channels: Vec<Pick>,
    /// The chosen period and audience, kept by the channel and comment forms.
    hidden: Vec<Hidden>,
    metrics: Vec<Metric>,
    withheld: Option<String>,
    trend_title: String,
    chart: Chart,
    trend: Vec<TrendRow>,
    tables: Vec<Table>,
    details: bool,
    questions: Vec<QuestionLine>,
    comments: Vec<CommentView>,
    scores: Vec<Pick>,
    search: String,
    residents: bool,
}

/// Everything a page shows, computed in one scan: the reports, the details, the names.
struct Computed {
    now: Report,
    before: Report,
    tables: Vec<(By, Report)>,
    trend: Report,
    details: Option<Details>,
    names: HashMap<String, String>,
}

async fn page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    focus: Focus,
) -> Result<HttpResponse, AdminError> {
    let signed = signed_in(state, req).await?;
    let q = query(req)?;
    // Out of scope answers as if it did not exist.
    let department = match &focus {
        Focus::City => None,
        Focus::Department(d) => Some(d.clone()),
        Focus::Service(s) => {
            let code = s.clone();
            let owner = state
                .db
                .read(|conn| catalog::department_of(conn, &code))
                .await?;
            Some(owner.ok_or(AdminError::NotFound)?)
        }
    };
    if department
        .as_ref()
        .is_some_and(|d| !signed.account.scope.allows(d))
    {
        return Err(AdminError::NotFound);
    }
    let now = state.clock.now();
    let (from, to) = q.preset.range(local_day(now));
    let params = ReportParams {
        from,
        to,
        audience: q.audience,
        department: department
            .clone()
            .filter(|_| matches!(focus, Focus::Department(_))),
        scope: signed.account.scope.as_filter(),
        service: match &focus {
            Focus::Service(s) => Some(s.clone()),
            _ => None,
        },
        channel: q.channel,
        lang: signed.lang,
    };
    let residents = q.audience == Audience::Resident;
    let tables: Vec<By> = match (&focus, residents) {
        (Focus::City, _) => vec![By::Department],
        (Focus::Department(_), true) => vec![By::Service, By::Channel],
        (Focus::Department(_), false) => vec![By::Service],
        (Focus::Service(_), true) => vec![By::Channel],
        (Focus::Service(_), false) => Vec::new(),
    };
    // Residents by week over twelve whole weeks; employees (whole months only) by month over
    // six.
    let (trend_by, trend_from) = match q.audience {
        Audience::Resident => (By::Week, week_start(to) - Duration::weeks(11)),
        Audience::Employee => (By::Month, month_start(to) - Months::new(5)),
    };
    let ctx = ReportContext {
        min_group_size: state.policy().min_group_size,
        now,
    };
    let inbox = state.key.inbox_key();
    state
        .db
        .write(move |conn| reports::refresh(conn, &inbox, now))
        .await?;
    // Five independent scans, each on a connection of its own: on two cores the database
    // answers them side by side (a dashboard on PostgreSQL took 98 ms in one scan, 75 ms so).
    let with_details = focus != Focus::City;
    let (p1, p2, p3) = (params.clone(), params.clone(), params.clone());
    let (p4, p5) = (params.clone(), params.clone());
    let (st, comment_filter) = (state.clone(), q.comments.clone());
    let computed = futures_util::future::try_join5(
        state.db.scan(move |conn| {
            let now = reports::report(conn, &ctx, &p1, None)?;
            // The period before the one counted (employees' periods widen to whole months).
            let (from, to) = previous(now.from, now.to);
            let before = ReportParams { from, to, ..p1 };
            Ok::<_, ReportQueryError>((reports::report(conn, &ctx, &before, None)?, now))
        }),
        state.db.scan(move |conn| {
            let mut by = Vec::new();
            for b in tables {
                by.push((b, reports::report(conn, &ctx, &p2, Some(b))?));
            }
            Ok::<_, ReportQueryError>(by)
        }),
        state.db.scan(move |conn| {
            let trend = ReportParams {
                from: trend_from,
                ..p3.clone()
            };
            let trend = reports::report(conn, &ctx, &trend, Some(trend_by))?;
            Ok::<_, ReportQueryError>((catalog::names(conn, p3.lang)?, trend))
        }),
        state.db.scan(move |conn| {
            with_details
                .then(|| read::read_questions(conn, &st.surveys, &p4))
                .transpose()
        }),
        state.db.scan(move |conn| {
            with_details
                .then(|| read::read_comments(conn, &ctx, &p5, &comment_filter))
                .transpose()
        }),
    )
    .await
    .map(
        |((before, now), tables, (names, trend), questions, comments)| Computed {
            now,
            before,
            tables,
            trend,
            details: questions.map(|mut d| {
                d.comments = comments.unwrap_or_default();
                d
            }),
            names,
        },
    );
    let c = match computed {
        Ok(c) => c,
        // A department not in the catalog, or a filter that does not apply to this audience.
        Err(ReportQueryError::Invalid(fields))
            if fields.contains_key("department") || fields.contains_key("service") =>
        {
            return Err(AdminError::NotFound)
        }
        Err(ReportQueryError::Invalid(_)) => return Err(AdminError::BadRequest),
        Err(ReportQueryError::Db(e)) => return Err(e.into()),
    };
    let body = render(state, req, &signed, &q, &focus, c)?;
    Ok(html(StatusCode::OK, Ok(body)))
}

fn render(
    state: &AppState,
    req: &HttpRequest,
    signed: &Signed,
    q: &Query,
    focus: &Focus,
    c: Computed,
) -> Result<String, AdminError> {
    let (t, lang) = (&state.templates, signed.lang);
    let text = |k: &str| t.text(lang, &format!("admin.{k}"));
    let base = req.path().to_string();
    let link = |preset: Preset, audience: Audience, sort: Option<&str>| {
        let mut pairs = vec![("period", preset.as_str()), ("audience", audience.as_str())];
        if let Some(ch) = q.channel.filter(|_| audience == Audience::Resident) {
            pairs.push(("channel", ch.as_str()));
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
    let mut channels = vec![Pick {
        value: String::new(),
        label: text("dashboard.all_channels"),
        selected: q.channel.is_none(),
    }];
    channels.extend(Channel::ALL.iter().map(|ch| Pick {
        value: ch.as_str().to_string(),
        label: t.text(lang, &format!("channels.{}", ch.as_str())),
        selected: q.channel == Some(*ch),
    }));
    let withheld = c.now.total.figures.is_none().then(|| {
        text("withheld").replace("{n}", &c.now.min_group_size.unwrap_or_default().to_string())
    });
    let metrics = c
        .now
        .total
        .figures
        .as_ref()
        .map(|f| figures::metrics(t, lang, f, c.before.total.figures.as_ref()))
        .unwrap_or_default();
    let points: Vec<Point> = figures::periods(&c.trend, q.audience)
        .into_iter()
        .map(|key| {
            let f = c
                .trend
                .rows
                .iter()
                .find(|g| g.key == key)
                .and_then(|g| g.figures.as_ref());
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
            value: p.value.map(figures::percent).unwrap_or_else(|| "–".into()),
            n: p.n,
        })
        .collect();
    let name = |key: &str| c.names.get(key).cloned().unwrap_or_else(|| key.to_string());
    let tables = c
        .tables
        .iter()
        .map(|(by, report)| {
            let mut groups = report.rows.clone();
            let sorted = figures::sort_groups(&mut groups, q.sort.as_deref());
            let rows = groups
                .iter()
                .map(|g| {
                    let (label, href) = match by {
                        By::Department => {
                            (name(&g.key), Some(format!("/admin/departments/{}", g.key)))
                        }
                        By::Service => (name(&g.key), Some(format!("/admin/services/{}", g.key))),
                        By::Channel => (t.text(lang, &format!("channels.{}", g.key)), None),
                        _ => (g.key.clone(), None),
                    };
                    figures::row(g, label, href.filter(|_| !g.key.is_empty()))
                })
                .collect();
            let (id, title) = match by {
                By::Department => ("by-department", text("dashboard.by_department")),
                By::Service => ("by-service", text("dashboard.by_service")),
                _ => ("by-channel", text("dashboard.by_channel")),
            };
            Table {
                id,
                title,
                headers: figures::headers(t, lang, sorted, |s| link(q.preset, q.audience, Some(s))),
                rows,
            }
        })
        .collect();
    let (questions, comments) = match &c.details {
        Some(d) => {
            let comments = d
                .comments
                .iter()
                .map(|cv| CommentView {
                    when: cv.when.clone(),
                    service: name(&cv.service),
                    score: cv.score,
                    text: cv.text.clone(),
                    case: cv
                        .case_id
                        .as_ref()
                        .map(|id| format!("/admin/followups/{id}")),
                })
                .collect();
            (details::question_lines(d, lang), comments)
        }
        None => (Vec::new(), Vec::new()),
    };
    let mut scores = vec![Pick {
        value: String::new(),
        label: text("dashboard.any_score"),
        selected: q.comments.overall.is_none(),
    }];
    scores.extend((1..=5).map(|n| Pick {
        value: n.to_string(),
        label: n.to_string(),
        selected: q.comments.overall == Some(n),
    }));
    let heading = match focus {
        Focus::City => text("dashboard.heading"),
        Focus::Department(code) | Focus::Service(code) => name(code),
    };
    let mut hidden = vec![
        Hidden {
            name: "period",
            value: q.preset.as_str().to_string(),
        },
        Hidden {
            name: "audience",
            value: q.audience.as_str().to_string(),
        },
    ];
    if let Some(s) = &q.sort {
        hidden.push(Hidden {
            name: "sort",
            value: s.clone(),
        });
    }
    let trend_title = match q.audience {
        Audience::Resident => text("dashboard.trend"),
        Audience::Employee => text("dashboard.trend_months"),
    };
    let chrome = Chrome::new(state, req, lang, Some(signed), "dashboard.title");
    Ok(state.templates.render(
        "admin/dashboard",
        &DashboardPage {
            chrome,
            heading,
            action: base.clone(),
            period: format!("{} – {}", day_key(c.now.from), day_key(c.now.to)),
            presets,
            audiences,
            channels,
            hidden,
            metrics,
            withheld,
            trend_title,
            chart: chart::trend(&points),
            trend,
            tables,
            details: *focus != Focus::City,
            questions,
            comments,
            scores,
            search: q.comments.search.clone().unwrap_or_default(),
            residents: q.audience == Audience::Resident,
        },
    )?)
}
