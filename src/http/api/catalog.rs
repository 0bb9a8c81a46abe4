//! `GET /api/v1/catalog`: the departments and services a CRM may report interactions against,
//! with their names in every language, audience and SLA. Any valid key may read it; a key
//! limited to some departments sees only those.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::{any_key, ApiError};
use crate::services::catalog;
use crate::state::AppState;

#[tracing::instrument(name = "api.catalog", skip_all)]
pub async fn list(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let grant = any_key(&state, &req).await?;
    let scope = grant.scope();
    let departments = state.db.read(|conn| catalog::listing(conn, &scope)).await?;
    Ok(HttpResponse::Ok().json(json!({ "departments": departments })))
}
