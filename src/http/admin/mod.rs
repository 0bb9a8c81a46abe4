//! The management web app under `/admin`: server-rendered pages for the people who act on the
//! results. Works without JavaScript. Every page but the sign-in form needs a session; every
//! request that changes something carries the session's CSRF token and comes from this origin.

mod chart;
pub mod dashboard;
pub mod login;
mod page;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

use crate::db::DbError;
use crate::domain::account::Account;
use crate::domain::language::Language;
use crate::services::sessions;
use crate::state::AppState;

pub use page::{Chrome, MessagePage};

/// The session cookie: the session's random id, nothing else.
pub const SESSION_COOKIE: &str = "mashov_session";
/// The sign-in form's pre-session cookie, which its CSRF token is tied to.
pub const LOGIN_COOKIE: &str = "mashov_login";
/// The language chosen with the switch on every page.
pub const LANG_COOKIE: &str = "mashov_lang";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin", web::get().to(dashboard::show))
        .route(
            "/admin/departments/{code}",
            web::get().to(dashboard::department),
        )
        .route("/admin/login", web::get().to(login::form))
        .route("/admin/login", web::post().to(login::submit))
        .route("/admin/logout", web::post().to(login::logout))
        .route("/admin/language/{code}", web::get().to(switch_language));
}

/// Why an admin request was not served.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No live session: to the sign-in page, and back here afterwards.
    #[error("not signed in")]
    SignIn { next: String },
    #[error("not allowed for this role")]
    Forbidden,
    /// Out of the caller's scope, or not there at all: the same answer for both.
    #[error("not found")]
    NotFound,
    #[error("missing or wrong CSRF token, or a foreign origin")]
    Csrf,
    #[error("bad request")]
    BadRequest,
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("rendering failed: {0}")]
    Render(#[from] crate::templates::TemplateError),
}

impl From<diesel::result::Error> for AdminError {
    fn from(e: diesel::result::Error) -> Self {
        AdminError::Db(DbError::Query(e))
    }
}

/// Turns a refusal into its page, in the page's language.
pub fn refusal(state: &AppState, req: &HttpRequest, error: AdminError) -> HttpResponse {
    let lang = language(req, None);
    let (status, key) = match error {
        AdminError::SignIn { next } => {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, login_location(&next)))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish()
        }
        AdminError::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
        AdminError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
        AdminError::Csrf => (StatusCode::FORBIDDEN, "csrf"),
        AdminError::BadRequest => (StatusCode::BAD_REQUEST, "bad_request"),
        AdminError::Db(e) => {
            tracing::error!(error = %e, "admin request failed");
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        }
        AdminError::Render(e) => {
            tracing::error!(error = %e, "admin page failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "unavailable")
        }
    };
    let page = MessagePage::render(state, req, lang, None, key);
    html(status, page)
}

/// An HTML answer that no cache keeps (admin pages carry personal data).
pub fn html(
    status: StatusCode,
    body: Result<String, crate::templates::TemplateError>,
) -> HttpResponse {
    match body {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "admin page failed to render");
            HttpResponse::InternalServerError()
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish()
        }
    }
}

fn login_location(next: &str) -> String {
    if next == "/admin" || next.is_empty() {
        "/admin/login".to_string()
    } else {
        format!(
            "/admin/login?{}",
            serde_urlencoded::to_string([("next", next)]).unwrap_or_default()
        )
    }
}

/// Where a sign-in may send someone back to: a path of this app, never another origin.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if (n == "/admin" || n.starts_with("/admin/") || n.starts_with("/admin?"))
                && !n.contains("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control)
                && !n.starts_with("/admin/login")
                && n.len() <= 512 =>
        {
            n.to_string()
        }
        _ => "/admin".to_string(),
    }
}

/// The page's language: the switch's cookie, else the signed-in user's, else Hebrew.
pub fn language(req: &HttpRequest, account: Option<&Account>) -> Language {
    req.cookie(LANG_COOKIE)
        .and_then(|c| Language::parse(c.value()))
        .or(account.map(|a| a.language))
        .unwrap_or_default()
}

/// A signed-in request: who, in which language, and the token its forms carry.
pub struct Signed {
    pub account: Account,
    pub lang: Language,
    pub csrf: String,
    session_id: String,
}

/// The live session of a request, or a redirect to the sign-in page.
pub async fn signed_in(
    state: &web::Data<AppState>,
    req: &HttpRequest,
) -> Result<Signed, AdminError> {
    let next = match req.query_string() {
        "" => req.path().to_string(),
        q => format!("{}?{q}", req.path()),
    };
    let Some(cookie) = req.cookie(SESSION_COOKIE) else {
        return Err(AdminError::SignIn { next });
    };
    let id = cookie.value().to_string();
    let now = state.clock.now();
    let live = state.db.read(|conn| sessions::find(conn, &id, now)).await?;
    let Some(live) = live else {
        return Err(AdminError::SignIn { next });
    };
    if live.touch {
        let touched = id.clone();
        state
            .db
            .write(move |conn| sessions::touch(conn, &touched, now))
            .await?;
    }
    Ok(Signed {
        lang: language(req, Some(&live.account)),
        csrf: sessions::csrf_token(&state.key, &id),
        account: live.account,
        session_id: id,
    })
}

impl Signed {
    pub fn session_id(&self) -> &str {
        &self.session_id
    }
}

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
        if origin.to_str().ok() != Some(ours.as_str()) {
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

/// Reads a small urlencoded form body; anything else is a bad request.
pub async fn read_form(payload: web::Payload) -> Result<Vec<(String, String)>, AdminError> {
    let bytes = payload
        .to_bytes_limited(16 * 1024)
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

/// A cookie only this app's paths receive, never readable by scripts.
pub fn cookie(state: &AppState, name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/admin")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.settings.base_url.starts_with("https://"))
        .finish()
}

/// `GET /admin/language/{code}?next=…`: remembers the language, and goes back.
async fn switch_language(
    state: web::Data<AppState>,
    req: HttpRequest,
    code: web::Path<String>,
) -> HttpResponse {
    let Some(lang) = Language::parse(&code) else {
        return refusal(&state, &req, AdminError::NotFound);
    };
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let next = query
        .iter()
        .find(|(k, _)| k == "next")
        .map(|(_, v)| v.as_str());
    let back = match next {
        Some("/admin/login") => "/admin/login".to_string(),
        n => safe_next(n),
    };
    let mut c = cookie(&state, LANG_COOKIE, lang.code().to_string());
    c.set_max_age(actix_web::cookie::time::Duration::days(365));
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, back))
        .cookie(c)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn sign_in_sends_back_only_to_this_apps_pages() {
        assert_eq!(safe_next(Some("/admin?period=week")), "/admin?period=week");
        assert_eq!(safe_next(Some("/admin/followups/x")), "/admin/followups/x");
        for bad in [
            "https://evil.example/admin",
            "//evil.example",
            "/admin//evil.example",
            "/admin/\\evil",
            "/administrator",
            "/s/token",
            "/admin/login?next=/admin",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/admin", "{bad}");
        }
        assert_eq!(safe_next(None), "/admin");
    }
}
