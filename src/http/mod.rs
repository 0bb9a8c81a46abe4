//! HTTP: parse input, call a service, render a page or JSON. No SQL here.

pub mod admin;
pub mod api;
pub mod health;
pub mod public;

use std::time::Instant;

use actix_web::dev::Service;
use actix_web::middleware::DefaultHeaders;
use actix_web::web;

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/healthz", web::head().to(health::healthz))
        .service(web::scope("/api/v1").configure(api::configure))
        .configure(admin::configure)
        .configure(public::configure);
}

/// Headers every answer carries: no referrer (survey links carry secrets), no sniffing, no
/// framing, nothing loaded from elsewhere.
pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("Referrer-Policy", "no-referrer"))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add((
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; \
             base-uri 'none'; frame-ancestors 'none'",
        ))
}

/// The path as it may appear in a log: survey and unsubscribe tokens are replaced, so that logs
/// hold no link.
pub fn loggable_path(path: &str) -> String {
    for prefix in ["/s/", "/u/"] {
        if path.starts_with(prefix) {
            return format!("{prefix}[token]");
        }
    }
    path.chars().take(200).collect()
}

/// Access log through `tracing`: method, redacted path, status and time; never a query string,
/// a header or a body.
pub fn access_log<S, B>(
    req: actix_web::dev::ServiceRequest,
    srv: &S,
) -> impl std::future::Future<Output = Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>>
where
    S: Service<
        actix_web::dev::ServiceRequest,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
{
    let start = Instant::now();
    let method = req.method().to_string();
    let path = loggable_path(req.path());
    let fut = srv.call(req);
    async move {
        let res = fut.await?;
        tracing::info!(
            target: "mashov::access",
            method = %method,
            path = %path,
            status = res.status().as_u16(),
            elapsed_us = start.elapsed().as_micros() as u64,
        );
        Ok(res)
    }
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn tokens_never_reach_the_log() {
        assert_eq!(loggable_path("/s/abcDEF123"), "/s/[token]");
        assert_eq!(loggable_path("/u/abcDEF123"), "/u/[token]");
        assert_eq!(loggable_path("/s/abc/extra"), "/s/[token]");
        assert_eq!(
            loggable_path("/api/v1/interactions"),
            "/api/v1/interactions"
        );
        assert_eq!(loggable_path(&"x".repeat(500)).len(), 200);
    }
}
