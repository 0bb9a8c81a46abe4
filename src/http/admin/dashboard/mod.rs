//! `GET /admin` (the city, or the caller's departments), `GET /admin/departments/{code}` and
//! `GET /admin/services/{code}`: the report figures for a period with their `n` and intervals,
//! the change against the period before, a trend chart with its table, sortable tables of
//! departments, services or channels, and on a department's or a service's page every question
//! and the comments. A department or service outside the caller's scope is `404`.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Duration, Months};

use super::chart::{self};
use super::details::{self};
use super::figures::{self};
use super::{html, refusal, signed_in, AdminError, Chrome, QueryString, Signed};
use crate::domain::dashboard::{previous, Preset};
use crate::domain::interaction::{Audience, Channel};
use crate::domain::period::{local_day, month_start, week_start};
use crate::domain::report::{By, ReportParams};
use crate::services::catalog;
use crate::services::details::{self as read, CommentFilter, Details};
use crate::services::reports::{self, Report, ReportContext, ReportQueryError};
use crate::state::AppState;

mod view;

use view::render;

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
        questions: false,
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
