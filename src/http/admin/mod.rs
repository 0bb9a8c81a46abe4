//! The management web app under `/admin`: server-rendered pages for the people who act on the
//! results. Works without JavaScript. Every page but the sign-in form needs a session; every
//! request that changes something carries the session's CSRF token and comes from this origin.

mod audit;
mod case;
mod catalog;
mod catalog_file;
mod chart;
pub mod dashboard;
mod details;
mod figures;
pub mod followups;
mod form;
mod keys;
pub mod login;
mod logo;
mod page;
mod recipients;
mod settings;
mod setup;
mod survey_setup;
mod surveys;
mod users;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::DefaultHeaders;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::domain::account::Account;
use crate::domain::language::Language;
use crate::services::sessions;
use crate::services::DbError;
use crate::state::AppState;

pub use form::{check_origin, check_token, field, read_form, QueryString};
pub use page::{Chrome, MessagePage};

/// The session cookie: the session's random id, nothing else.
pub const SESSION_COOKIE: &str = "mashov_session";
/// The sign-in form's pre-session cookie, which its CSRF token is tied to.
pub const LOGIN_COOKIE: &str = "mashov_login";
/// The language chosen with the switch on every page.
pub const LANG_COOKIE: &str = "mashov_lang";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/admin")
            // Survey pages send no referrer at all (their links carry secrets); with that
            // policy browsers send `Origin: null` on form posts, which the origin check must
            // refuse. The app's own pages carry no secret in their URLs.
            .wrap(DefaultHeaders::new().add(("Referrer-Policy", "same-origin")))
            .service(web::resource("").route(web::get().to(dashboard::show)))
            .service(
                web::resource("/departments/{code}").route(web::get().to(dashboard::department)),
            )
            .service(web::resource("/services/{code}").route(web::get().to(dashboard::service)))
            .service(web::resource("/followups").route(web::get().to(followups::inbox)))
            .service(
                web::resource("/followups/{id}")
                    .route(web::get().to(case::show))
                    .route(web::post().to(case::act)),
            )
            .service(
                web::resource("/users")
                    .route(web::get().to(users::show))
                    .route(web::post().to(users::act)),
            )
            .service(
                web::resource("/keys")
                    .route(web::get().to(keys::show))
                    .route(web::post().to(keys::act)),
            )
            .service(
                web::resource("/digest")
                    .route(web::get().to(recipients::show))
                    .route(web::post().to(recipients::act)),
            )
            .service(web::resource("/audit").route(web::get().to(audit::show)))
            .service(
                web::resource("/catalog")
                    .route(web::get().to(catalog::show))
                    .route(web::post().to(catalog::act)),
            )
            .service(web::resource("/catalog.csv").route(web::get().to(catalog_file::export)))
            .service(
                web::resource("/surveys")
                    .route(web::get().to(survey_setup::list))
                    .route(web::post().to(survey_setup::create)),
            )
            .service(
                web::resource("/surveys/assignments").route(web::post().to(survey_setup::assign)),
            )
            .service(
                web::resource("/surveys/{key}")
                    .route(web::get().to(surveys::edit))
                    .route(web::post().to(surveys::save)),
            )
            .service(
                web::resource("/settings")
                    .route(web::get().to(settings::show))
                    .route(web::post().to(settings::save)),
            )
            .service(web::resource("/settings/logo").route(web::post().to(logo::upload)))
            .service(
                web::resource("/login")
                    .route(web::get().to(login::form))
                    .route(web::post().to(login::submit)),
            )
            .service(web::resource("/logout").route(web::post().to(login::logout)))
            .service(web::resource("/language/{code}").route(web::get().to(switch_language))),
    );
}

pub use crate::http::limits::client_address;

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
    /// Too many sign-ins being checked at once (argon2id is rationed), or the check was cut off.
    #[error("too busy to check a password now")]
    Busy,
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
        AdminError::Busy => {
            tracing::warn!("sign-in refused: password checks are saturated");
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        }
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

/// Where a sign-in may send someone back to: a page of this app, never another origin, never
/// a path that climbs out of `/admin` (`..`, also percent-encoded), never the sign-in or
/// sign-out forms themselves.
pub fn safe_next(next: Option<&str>) -> String {
    let ok = |n: &str| {
        let path = n.split(['?', '#']).next().unwrap_or("");
        let lower = path.to_ascii_lowercase();
        (n == "/admin" || n.starts_with("/admin/") || n.starts_with("/admin?"))
            && n.is_ascii()
            && !n.contains("//")
            && !n.contains('\\')
            && !n.bytes().any(|b| b.is_ascii_control())
            && !lower.contains("%2e")
            && !lower.contains("%2f")
            && !lower.contains("%5c")
            && !path.split('/').any(|seg| seg == "." || seg == "..")
            && !path.starts_with("/admin/login")
            && !path.starts_with("/admin/logout")
            && n.len() <= 512
    };
    match next {
        Some(n) if ok(n) => n.to_string(),
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
    // The sign-in form keeps where it was to send the person afterwards.
    let back = match next.and_then(|n| n.strip_prefix("/admin/login")) {
        Some(rest) => {
            let inner: Vec<(String, String)> =
                serde_urlencoded::from_str(rest.trim_start_matches('?')).unwrap_or_default();
            match inner.iter().find(|(k, _)| k == "next") {
                Some((_, n)) => format!(
                    "/admin/login?{}",
                    serde_urlencoded::to_string([("next", safe_next(Some(n)))]).unwrap_or_default()
                ),
                None => "/admin/login".to_string(),
            }
        }
        None => safe_next(next),
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
            "/admin/../s/token",
            "/admin/%2e%2e/api/v1/export",
            "/admin/logout",
            "/admin/כניסה",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/admin", "{bad}");
        }
        assert_eq!(safe_next(None), "/admin");
    }
}
