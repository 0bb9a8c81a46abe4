//! `GET /api/v1/export/responses.csv`: every response in a period, streamed page by page.

use std::sync::Arc;

use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse};

use super::{authenticate, narrow, ApiError};
use crate::domain::api_scope::ApiScope;
use crate::domain::report::parse_report_params;
use crate::services::audit::Action;
use crate::services::export::{self, csv_chunk, ExportPlan};
use crate::state::AppState;

/// Where a streaming export stands between pages.
struct Cursor {
    state: web::Data<AppState>,
    plan: Arc<ExportPlan>,
    after: Option<(String, String)>,
    first: bool,
    done: bool,
}

#[tracing::instrument(name = "api.export.responses", skip_all)]
pub async fn responses_csv(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let grant = authenticate(&state, &req, ApiScope::ExportRead).await?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string())
        .map_err(|_| ApiError::BadRequest("the query string is malformed".into()))?;
    let (mut params, _) = parse_report_params(&pairs, &[]).map_err(ApiError::Invalid)?;
    narrow(&state, &mut params, &grant).await?;
    let st = state.clone();
    let plan = super::reports::fresh_scan(&state, move |conn, ctx| {
        export::plan(conn, &st.templates, ctx, &params).map_err(ApiError::from)
    })
    .await?;
    super::log_read(
        &state,
        &req,
        &grant,
        Action::Exported,
        serde_json::json!({
            "audience": plan.audience.as_str(),
            "from": plan.filter.from_day,
            "to": plan.filter.to_day,
        }),
    )
    .await?;
    let filename = format!(
        "responses-{}-{}-{}.csv",
        plan.audience.as_str(),
        plan.filter.from_day,
        plan.filter.to_day
    );
    let cursor = Cursor {
        state: state.clone(),
        plan: Arc::new(plan),
        after: None,
        first: true,
        done: false,
    };
    let stream = futures_util::stream::unfold(cursor, |mut c| async move {
        if c.done {
            return None;
        }
        let (plan, after) = (c.plan.clone(), c.after.take());
        let page = c
            .state
            .db
            .scan(move |conn| export::page(conn, &plan, after.as_ref()).map_err(ApiError::from))
            .await;
        match page {
            Ok((rows, next)) => {
                let header = c.first.then_some(c.plan.headers.as_slice());
                let bytes = csv_chunk(header, &rows);
                c.first = false;
                c.done = next.is_none();
                c.after = next;
                Some((Ok::<Bytes, actix_web::Error>(Bytes::from(bytes)), c))
            }
            // Mid-stream the status is sent: the only honest signal left is to cut the body.
            Err(e) => {
                tracing::error!(error = %e, "export failed");
                c.done = true;
                Some((
                    Err(actix_web::error::ErrorInternalServerError("export failed")),
                    c,
                ))
            }
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{filename}\""),
        ))
        .insert_header(("Cache-Control", "no-store"))
        .streaming(stream))
}
