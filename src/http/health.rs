//! `GET /healthz`: `200` when the database answers a query and takes a durable write, `503`
//! otherwise (a load balancer then sends residents to an instance that can keep their answers).

use std::time::Duration;

use actix_web::{web, HttpResponse};

use crate::state::AppState;

/// How long a write may take before the instance counts as unable to write.
const WRITE_PATIENCE: Duration = Duration::from_secs(3);

pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let now = state.clock.now().naive_utc();
    let checked = match state.db.ping().await {
        Ok(()) => state
            .db
            .probe_write(now, WRITE_PATIENCE)
            .await
            .map_err(|e| ("writes_failing", e)),
        Err(e) => Err(("unavailable", e)),
    };
    match checked {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({"status": "ok"})),
        Err((status, e)) => {
            tracing::error!(error = %e, status, "health check failed");
            HttpResponse::ServiceUnavailable().json(serde_json::json!({"status": status}))
        }
    }
}
