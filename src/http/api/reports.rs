//! `GET /api/v1/reports/summary`, `/breakdown` and `/comments`: figures for managers.
//!
//! Reports scan many rows, so they run on the blocking pool, never on a request worker; what
//! they read is first brought up to date through the writer (`reports::refresh`).

use crate::domain::cursor::Position;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Duration;
use serde_json::{json, Value};

use super::{authenticate, narrow, ApiError};
use crate::domain::api_scope::ApiScope;
use crate::domain::language::Language;
use crate::domain::period::{day_key, parse_day};
use crate::domain::report::{parse_report_params, By, ReportParams};
use crate::services::reports::{self, Group, Report, ReportContext, ReportQueryError};
use crate::state::AppState;
use crate::templates::Templates;

impl From<ReportQueryError> for ApiError {
    fn from(e: ReportQueryError) -> Self {
        match e {
            ReportQueryError::Invalid(fields) => ApiError::Invalid(fields),
            ReportQueryError::Db(e) => e.into(),
        }
    }
}

/// Refreshes what reports read (a write, through the writer), then runs the report's reads on
/// the blocking pool.
pub(super) async fn fresh_scan<T, F>(state: &web::Data<AppState>, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut crate::services::DbConnection, &ReportContext) -> Result<T, ApiError>
        + Send
        + 'static,
    T: Send + 'static,
{
    let (inbox, now) = (state.key.inbox_key(), state.clock.now());
    state
        .db
        .write(move |conn| reports::refresh(conn, &inbox, now))
        .await?;
    let ctx = context(state);
    state.db.scan(move |conn| f(conn, &ctx)).await
}

fn params(
    req: &HttpRequest,
    extra: &[&str],
) -> Result<(ReportParams, Vec<(String, String)>), ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string())
        .map_err(|_| ApiError::BadRequest("the query string is malformed".into()))?;
    parse_report_params(&pairs, extra).map_err(ApiError::Invalid)
}

fn context(state: &AppState) -> ReportContext {
    ReportContext {
        min_group_size: state.policy().min_group_size,
        now: state.clock.now(),
        questions: true,
    }
}

#[tracing::instrument(name = "api.reports.summary", skip_all)]
pub async fn summary(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let grant = authenticate(&state, &req, ApiScope::ReportsRead).await?;
    let (mut p, _) = params(&req, &[])?;
    narrow(&state, &mut p, &grant).await?;
    let lang = p.lang;
    let report = fresh_scan(&state, move |conn, ctx| {
        Ok(reports::report(conn, ctx, &p, None)?)
    })
    .await?;
    let mut body = head(&report);
    merge(
        &mut body,
        figures_json(&state.templates, lang, &report, &report.total),
    );
    Ok(HttpResponse::Ok().json(body))
}

#[tracing::instrument(name = "api.reports.breakdown", skip_all)]
pub async fn breakdown(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let grant = authenticate(&state, &req, ApiScope::ReportsRead).await?;
    let (mut p, rest) = params(&req, &["by"])?;
    narrow(&state, &mut p, &grant).await?;
    let by_text = rest
        .iter()
        .find(|(k, _)| k == "by")
        .map(|(_, v)| v.as_str());
    let by = match by_text.map(|t| (t, By::parse(t))) {
        Some((_, Some(by))) => by,
        Some(_) => {
            return Err(ApiError::Invalid(
                [(
                    "by".to_string(),
                    "must be department, service, channel, week or month".to_string(),
                )]
                .into(),
            ))
        }
        None => {
            return Err(ApiError::Invalid(
                [("by".to_string(), "is required".to_string())].into(),
            ))
        }
    };
    let lang = p.lang;
    let report = fresh_scan(&state, move |conn, ctx| {
        Ok(reports::report(conn, ctx, &p, Some(by))?)
    })
    .await?;
    let t = &state.templates;
    let rows: Vec<Value> = report
        .rows
        .iter()
        .map(|g| {
            let mut row = json!({"key": g.key, "label": label(t, lang, by, g)});
            merge(&mut row, figures_json(t, lang, &report, g));
            row
        })
        .collect();
    let mut body = head(&report);
    body["by"] = json!(by.as_str());
    body["rows"] = json!(rows);
    Ok(HttpResponse::Ok().json(body))
}

#[tracing::instrument(name = "api.reports.comments", skip_all)]
pub async fn comments(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let grant = authenticate(&state, &req, ApiScope::ReportsRead).await?;
    let (mut p, rest) = params(&req, &["limit", "next"])?;
    narrow(&state, &mut p, &grant).await?;
    let invalid =
        |name: &str, why: &str| ApiError::Invalid([(name.to_string(), why.to_string())].into());
    let limit = match rest.iter().find(|(k, _)| k == "limit") {
        None => 50,
        Some((_, v)) => v
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=500).contains(n))
            .ok_or_else(|| invalid("limit", "must be a number from 1 to 500"))?,
    };
    let from = match rest.iter().find(|(k, _)| k == "next") {
        None => None,
        Some((_, v)) => Some(Position::decode(v).ok_or_else(|| {
            invalid(
                "next",
                "is not a next token this list gave (pass it on unchanged)",
            )
        })?),
    };
    let page = fresh_scan(&state, move |conn, ctx| {
        Ok(reports::comments(conn, ctx, &p, limit, from)?)
    })
    .await?;
    let items: Vec<Value> = page
        .comments
        .into_iter()
        .map(|c| json!({"service": c.service, "period": c.day, "text": c.text}))
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "comments": items,
        "next": page.next.map(|p| p.encode()),
    })))
}

fn head(report: &Report) -> Value {
    let mut body = json!({
        "from": day_key(report.from),
        "to": day_key(report.to),
        "audience": report.audience.as_str(),
    });
    if let Some(k) = report.min_group_size {
        body["min_group_size"] = json!(k);
    }
    body
}

fn merge(into: &mut Value, from: Value) {
    if let (Value::Object(a), Value::Object(b)) = (into, from) {
        a.extend(b);
    }
}

/// A group's figures, or the same keys as nulls and a note where they are withheld.
fn figures_json(t: &Templates, lang: Language, report: &Report, g: &Group) -> Value {
    match &g.figures {
        Some(f) => {
            let mut v = json!({
                "invitations": f.invitations,
                "responses": f.responses,
                "response_rate": f.response_rate,
                "csat": f.csat,
                "ces": f.ces,
                "nps": f.nps,
                "resolution_rate": f.resolution_rate,
                "questions": g.questions,
            });
            if let Some(c) = &g.cases {
                v["followups"] = json!(c);
            }
            v
        }
        None => {
            let k = report.min_group_size.unwrap_or_default();
            // A month still being counted is not a small group: say when it will show.
            let reason = match report.counting_until {
                Some(day) => t
                    .text(lang, "reports.counting")
                    .replace("{date}", &day.format("%d.%m.%Y").to_string())
                    .replace("{n}", &k.to_string()),
                None => t
                    .text(lang, "reports.withheld")
                    .replace("{n}", &k.to_string()),
            };
            json!({
                "invitations": null, "responses": null, "response_rate": null, "csat": null,
                "ces": null, "nps": null, "resolution_rate": null,
                "withheld": true,
                "reason": reason,
            })
        }
    }
}

fn label(t: &Templates, lang: Language, by: By, g: &Group) -> String {
    match by {
        By::Channel => t.text(lang, &format!("channels.{}", g.key)),
        By::Week => parse_day(&g.key)
            .map(|d| format!("{} – {}", g.key, day_key(d + Duration::days(6))))
            .unwrap_or_default(),
        _ if g.label.is_empty() => g.key.clone(),
        _ => g.label.clone(),
    }
}
