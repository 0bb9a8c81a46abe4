//! The limits at the door (see `crate::limits`): who the client is, and the `429` for a
//! client past its address's limit.

use std::time::Instant;

use crate::limits::retry_after;

/// The client's address, for limits and for throttling sign-ins: the connection's, or (when the connection
/// comes from a trusted proxy) the nearest address in `X-Forwarded-For` that is not itself a
/// trusted proxy. Anything else in that header could be written by the client. An IPv6 client
/// counts by its /64, which one host or household holds whole.
pub fn client_address(settings: &crate::config::Settings, req: &actix_web::HttpRequest) -> String {
    use std::net::IpAddr;
    let mut ip = req.peer_addr().map(|a| a.ip());
    if ip.is_some_and(|p| settings.trusted_proxies.contains(&p)) {
        let forwarded: Vec<IpAddr> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse().ok())
            .collect();
        if let Some(client) = forwarded
            .iter()
            .rev()
            .find(|a| !settings.trusted_proxies.contains(a))
        {
            ip = Some(*client);
        }
    }
    match ip {
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Some(v4) => v4.to_string(),
        None => String::new(),
    }
}

/// Refuses a client past its limit before any work is done. Everything counts against the
/// client's address except the health check and API calls that carry a key (those count per
/// key, and wrong keys per address, where the key is checked).
pub fn limit_clients<S, B>(
    req: actix_web::dev::ServiceRequest,
    srv: &S,
) -> impl std::future::Future<
    Output = Result<
        actix_web::dev::ServiceResponse<actix_web::body::EitherBody<B>>,
        actix_web::Error,
    >,
>
where
    S: actix_web::dev::Service<
        actix_web::dev::ServiceRequest,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
{
    use futures_util::future::{Either, TryFutureExt};
    match refusal(&req) {
        None => Either::Left(
            srv.call(req)
                .map_ok(actix_web::dev::ServiceResponse::map_into_left_body),
        ),
        Some(refused) => Either::Right(std::future::ready(Ok(req
            .into_response(refused)
            .map_into_right_body()))),
    }
}

/// The `429` for a request over its address's limit, if it is.
fn refusal(req: &actix_web::dev::ServiceRequest) -> Option<actix_web::HttpResponse> {
    let path = req.path();
    let keyed = path.starts_with("/api/") && req.headers().contains_key("authorization");
    if path == "/healthz" || path == "/metrics" || keyed {
        return None;
    }
    let state = req.app_data::<actix_web::web::Data<crate::state::AppState>>()?;
    if state.settings.trusted_proxies.is_empty() && req.headers().contains_key("x-forwarded-for") {
        warn_untrusted_proxy();
    }
    let limiter = state.limits.public.as_ref()?;
    let address = client_address(&state.settings, req.request());
    let wait = limiter.take(&address, Instant::now()).err()?;
    let mut answer = actix_web::HttpResponse::TooManyRequests();
    answer
        .insert_header(("Retry-After", retry_after(wait).to_string()))
        .insert_header(("Cache-Control", "no-store"));
    if path.starts_with("/api/") {
        return Some(answer.json(serde_json::json!({
            "error": "too_many_requests",
            "message": "too many requests from this address; try again after Retry-After seconds",
        })));
    }
    match crate::http::public::messages::too_many_page(state) {
        Ok(page) => Some(answer.content_type("text/html; charset=utf-8").body(page)),
        Err(e) => {
            tracing::error!(error = %e, "the too-many-requests page failed to render");
            Some(answer.finish())
        }
    }
}

/// Says once that requests come through a proxy mashov was not told about: every client then
/// counts as the proxy, and shares one limit.
fn warn_untrusted_proxy() {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        tracing::warn!(
            "requests carry X-Forwarded-For but MASHOV_TRUSTED_PROXIES is empty: every client \
             behind the proxy counts as one address for rate limits and sign-in throttling; set \
             MASHOV_TRUSTED_PROXIES to the proxy's address"
        );
    }
}
