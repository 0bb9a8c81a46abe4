//! What every form and query of the app goes through: the origin check and the CSRF token for
//! anything that changes state, and strict, small parsing of query strings and form bodies (a
//! repeated or malformed field is a bad request, never a guess).

use actix_web::http::header;
use actix_web::{web, HttpRequest};

use super::AdminError;
use crate::services::sessions;
use crate::state::AppState;

/// Refuses a state-changing request from another site (OWASP: `Sec-Fetch-Site`, `Origin`).
pub fn check_origin(state: &AppState, req: &HttpRequest) -> Result<(), AdminError> {
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if !matches!(site, "same-origin" | "none") {
            return Err(AdminError::Csrf);
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let ours = url::Url::parse(&state.settings.base_url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default();
        let origin = origin.to_str().ok();
        // A browser told not to send referrers says `null`; it is ours only when the browser
        // also says the request is same-origin (the token is checked all the same).
        let same_site = headers
            .get("sec-fetch-site")
            .is_some_and(|v| v.as_bytes() == b"same-origin");
        if origin != Some(ours.as_str()) && !(origin == Some("null") && same_site) {
            return Err(AdminError::Csrf);
        }
    }
    Ok(())
}

/// Checks a form's CSRF token against the expected one.
pub fn check_token(expected: &str, given: Option<&str>) -> Result<(), AdminError> {
    match given {
        Some(t) if sessions::same_token(expected, t) => Ok(()),
        _ => Err(AdminError::Csrf),
    }
}

/// A page's query string, read once: a malformed one is a bad request.
pub struct QueryString(Vec<(String, String)>);

impl QueryString {
    pub fn of(req: &HttpRequest) -> Result<QueryString, AdminError> {
        serde_urlencoded::from_str(req.query_string())
            .map(QueryString)
            .map_err(|_| AdminError::BadRequest)
    }

    /// The first value of a parameter; an empty one counts as absent (a form's "any").
    pub fn one(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

/// Reads a small urlencoded form body; anything else is a bad request.
pub async fn read_form(payload: web::Payload) -> Result<Vec<(String, String)>, AdminError> {
    read_form_up_to(payload, 16 * 1024).await
}

/// The same for a form that may be larger (texts in four languages, percent-encoded).
pub async fn read_form_up_to(
    payload: web::Payload,
    limit: usize,
) -> Result<Vec<(String, String)>, AdminError> {
    let bytes = payload
        .to_bytes_limited(limit)
        .await
        .map_err(|_| AdminError::BadRequest)?
        .map_err(|_| AdminError::BadRequest)?;
    serde_urlencoded::from_bytes(&bytes).map_err(|_| AdminError::BadRequest)
}

/// The one value of a form field (a repeated field is refused).
pub fn field<'a>(form: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, AdminError> {
    let mut values = form
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str());
    let first = values.next();
    if values.next().is_some() {
        return Err(AdminError::BadRequest);
    }
    Ok(first)
}
