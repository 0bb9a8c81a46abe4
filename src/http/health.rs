use crate::state::AppState;
use actix_web::{web, HttpResponse};

/// `200` when the database answers a query, `503` otherwise.
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let ok = state.db.ping().await;
    match ok {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({"status": "ok"})),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            HttpResponse::ServiceUnavailable().json(serde_json::json!({"status": "unavailable"}))
        }
    }
}
