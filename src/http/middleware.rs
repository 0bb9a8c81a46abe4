//! What wraps every request: the headers every answer carries, the body's deadline, JSON
//! kept from caches, and the access log (which never holds a token, and sums up floods of
//! refusals instead of writing a line each).

use std::time::Instant;

use actix_web::dev::Service;
use actix_web::middleware::DefaultHeaders;

/// Headers every answer carries: no referrer (survey links carry secrets), no sniffing, no
/// framing, no window or resource shared with another origin, no powerful browser feature,
/// nothing loaded from elsewhere and no inline style (the stylesheets are served from here);
/// HSTS where mashov is reached over https. An answer that sets one of these itself (the logo,
/// for mail readers) keeps its own.
pub fn security_headers(https: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add(("Referrer-Policy", "no-referrer"))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add((
            "Content-Security-Policy",
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
             base-uri 'none'; frame-ancestors 'none'",
        ))
        .add((
            "Permissions-Policy",
            "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
        ))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
        .add(("Cross-Origin-Resource-Policy", "same-origin"));
    if https {
        headers.add((
            "Strict-Transport-Security",
            "max-age=31536000; includeSubDomains",
        ))
    } else {
        headers
    }
}

/// Gives a request's body a deadline: a client that sends its headers and then trickles the
/// body (or stops) gets an error where its body is read, is answered, and loses the connection,
/// instead of holding it for as long as it likes. Requests without a body are left alone.
pub fn body_deadline(
    mut req: actix_web::dev::ServiceRequest,
    limit: std::time::Duration,
) -> actix_web::dev::ServiceRequest {
    use actix_web::http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
    let has_body =
        req.headers().contains_key(CONTENT_LENGTH) || req.headers().contains_key(TRANSFER_ENCODING);
    if !has_body {
        return req;
    }
    let payload = std::mem::replace(req.parts_mut().1, actix_web::dev::Payload::None);
    let boxed: std::pin::Pin<
        Box<
            dyn futures_util::Stream<
                Item = Result<actix_web::web::Bytes, actix_web::error::PayloadError>,
            >,
        >,
    > = Box::pin(DeadlineBody {
        inner: payload,
        deadline: Box::pin(tokio::time::sleep(limit)),
        done: false,
    });
    req.set_payload(actix_web::dev::Payload::from(boxed));
    req
}

/// A request body that ends with an error once its deadline passes (and then stays ended:
/// readers such as the multipart parser poll again after the end).
struct DeadlineBody {
    inner: actix_web::dev::Payload,
    deadline: std::pin::Pin<Box<tokio::time::Sleep>>,
    done: bool,
}

impl futures_util::Stream for DeadlineBody {
    type Item = Result<actix_web::web::Bytes, actix_web::error::PayloadError>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::future::Future as _;
        use std::task::Poll;
        if self.done {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = std::pin::Pin::new(&mut self.inner).poll_next(cx) {
            self.done = item.is_none();
            return Poll::Ready(item);
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            self.done = true;
            return Poll::Ready(Some(Err(actix_web::error::PayloadError::Io(
                std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the request body did not arrive in time",
                ),
            ))));
        }
        Poll::Pending
    }
}

/// JSON answers are never kept by a cache unless their handler says so (the follow-up list
/// and reports carry personal data; the public summary sets its own).
pub fn json_not_stored<S, B>(
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
    use actix_web::http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
    let fut = srv.call(req);
    async move {
        let mut res = fut.await?;
        let json = res
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if json && !res.headers().contains_key(CACHE_CONTROL) {
            res.headers_mut()
                .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        Ok(res)
    }
}

/// The path as it may appear in a log. Survey and unsubscribe links are cut after their prefix
/// however the path is spelled (`//s/…`, `/S/…`, percent-encoded), and any segment that looks
/// like a token (20 or more URL-safe characters, not a code with a dot) is replaced wherever it
/// is, so that logs hold no link and no key.
pub fn loggable_path(path: &str) -> String {
    let decoded = percent_decoded(path);
    let segments: Vec<&str> = decoded.split('/').filter(|s| !s.is_empty()).collect();
    if let Some(first) = segments.first() {
        let first = first.to_ascii_lowercase();
        if first == "s" || first == "u" {
            return format!("/{first}/[token]");
        }
    }
    let looks_like_token = |s: &str| {
        s.len() >= 20
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let shown: Vec<&str> = segments
        .iter()
        .map(|s| if looks_like_token(s) { "[token]" } else { s })
        .collect();
    let mut out = format!("/{}", shown.join("/"));
    if out.len() > 200 {
        out = out.chars().take(200).collect();
    }
    out
}

/// `%XX` sequences decoded (invalid ones kept as they are), for the log's checks only.
fn percent_decoded(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
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
    use tracing::Instrument;
    let start = Instant::now();
    let method = req.method().to_string();
    let path = loggable_path(req.path());
    // Every line logged while the request is served carries its id.
    let id = uuid::Uuid::new_v4().simple().to_string()[..16].to_string();
    let span = tracing::info_span!("request", id = %id);
    let fut = {
        let _entered = span.enter();
        srv.call(req)
    };
    async move {
        let mut res = fut.instrument(span.clone()).await?;
        if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&id) {
            res.headers_mut().insert(
                actix_web::http::header::HeaderName::from_static("x-request-id"),
                v,
            );
        }
        let _entered = span.enter();
        let status = res.status().as_u16();
        if let Some(state) = res
            .request()
            .app_data::<actix_web::web::Data<crate::state::AppState>>()
        {
            // By the route's pattern, never the path: a survey link is counted as `/s`.
            let route = res.request().match_pattern();
            let route = route.as_deref().unwrap_or(if path.starts_with("/s/") {
                "/s"
            } else if path.starts_with("/u/") {
                "/u"
            } else {
                "unmatched"
            });
            state.metrics.observe(route, status, start.elapsed());
        }
        if matches!(status, 404 | 429) && !REFUSALS.first_in_window(start) {
            return Ok(res);
        }
        tracing::info!(
            target: "mashov::access",
            method = %method,
            path = %path,
            status,
            elapsed_us = start.elapsed().as_micros() as u64,
        );
        Ok(res)
    }
}

/// Unknown paths and refused floods: the first of each minute gets its line, and the next
/// line says how many were not written (a flood of 404s grew the log to 51 MB in the attack
/// on record).
static REFUSALS: Refusals = Refusals {
    window: std::sync::Mutex::new(None),
};

struct Refusals {
    /// When the current minute began, and how many refusals it has held back.
    window: std::sync::Mutex<Option<(Instant, u64)>>,
}

impl Refusals {
    /// Whether this refusal is the first of its minute (and so logged).
    fn first_in_window(&self, now: Instant) -> bool {
        let mut w = self.window.lock().unwrap_or_else(|e| e.into_inner());
        match *w {
            Some((start, ref mut held)) if now.saturating_duration_since(start).as_secs() < 60 => {
                *held += 1;
                false
            }
            previous => {
                if let Some((_, held)) = previous.filter(|(_, held)| *held > 0) {
                    tracing::info!(
                        target: "mashov::access",
                        not_logged = held,
                        "{held} more answers 404 or 429 in the minute before this one were not \
                         logged one by one"
                    );
                }
                *w = Some((now, 0));
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_never_reach_the_log() {
        assert_eq!(loggable_path("/s/abcDEF123"), "/s/[token]");
        assert_eq!(loggable_path("/u/abcDEF123"), "/u/[token]");
        assert_eq!(loggable_path("/s/abc/extra"), "/s/[token]");
        assert_eq!(
            loggable_path("/api/v1/interactions"),
            "/api/v1/interactions"
        );
        assert_eq!(loggable_path(&"x.".repeat(250)).len(), 200);
    }

    #[test]
    fn tokens_never_reach_the_log_however_the_path_is_spelled() {
        let token = "Zm9vYmFyYmF6cXV4cXV1eHh5enp5MTIzNDU2Nzg5MA";
        for path in [
            format!("//s/{token}"),
            format!("/S/{token}"),
            format!("/%73/{token}"),
            format!("///u/{token}/x"),
            format!("/thanks/{token}"),
            format!("/api/v1/{token}/x"),
            format!("/admin/%2e%2e/s/{token}"),
        ] {
            let logged = loggable_path(&path);
            assert!(!logged.contains(token), "{path} logged as {logged}");
            assert!(logged.contains("[token]"), "{path} logged as {logged}");
        }
        assert_eq!(
            loggable_path("/admin/services/sanitation.bulky-waste"),
            "/admin/services/sanitation.bulky-waste"
        );
    }
}

#[cfg(test)]
mod refusal_tests {
    use super::*;

    #[test]
    fn a_flood_of_refusals_is_one_line_a_minute() {
        let r = Refusals {
            window: std::sync::Mutex::new(None),
        };
        let t0 = Instant::now();
        assert!(r.first_in_window(t0));
        for i in 1..1000 {
            assert!(!r.first_in_window(t0 + std::time::Duration::from_millis(i)));
        }
        assert!(r.first_in_window(t0 + std::time::Duration::from_secs(61)));
        assert_eq!(r.window.lock().expect("lock").map(|(_, n)| n), Some(0));
    }
}
