//! HTTP: parse input, call a service, render a page or JSON. No SQL here.

pub mod admin;
pub mod api;
pub mod health;
pub mod limits;
pub mod metrics;
mod middleware;
pub mod public;

use actix_web::web;

pub use middleware::{access_log, body_deadline, json_not_stored, loggable_path, security_headers};

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/healthz")
            .route(web::get().to(health::healthz))
            .route(web::head().to(health::healthz)),
    )
    .service(web::resource("/metrics").route(web::get().to(metrics::metrics)))
    .service(web::scope("/api/v1").configure(api::configure))
    .configure(admin::configure)
    .configure(public::configure);
}
