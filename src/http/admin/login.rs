//! `GET /admin/login`, `POST /admin/login`, `POST /admin/logout`.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::{
    check_origin, check_token, cookie, field, html, language, read_form, refusal, safe_next,
    signed_in, AdminError, Chrome, LOGIN_COOKIE, SESSION_COOKIE,
};
use crate::domain::language::Language;
use crate::domain::password;
use crate::services::accounts::account_of;
use crate::services::sessions::{self, Attempt, SignInError};
use crate::state::AppState;

#[derive(Serialize)]
struct LoginPage<'a> {
    #[serde(flatten)]
    chrome: Chrome<'a>,
    login_csrf: String,
    next: String,
    email: String,
    /// The error summary's text, when the last try failed.
    error: Option<String>,
}

fn render(
    state: &AppState,
    req: &HttpRequest,
    lang: Language,
    login_cookie: &str,
    next: &str,
    email: &str,
    error: Option<String>,
) -> Result<String, crate::templates::TemplateError> {
    let chrome = Chrome::new(state, req, lang, None, "login.title");
    state.templates.render(
        "admin/login",
        &LoginPage {
            chrome,
            login_csrf: sessions::login_csrf_token(&state.key, login_cookie),
            next: next.to_string(),
            email: email.to_string(),
            error,
        },
    )
}

fn next_of(req: &HttpRequest) -> String {
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    safe_next(
        query
            .iter()
            .find(|(k, _)| k == "next")
            .map(|(_, v)| v.as_str()),
    )
}

/// The sign-in form, with a fresh pre-session cookie that its CSRF token is tied to.
pub async fn form(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let lang = language(&req, None);
    // Always a fresh value: one planted by someone else would let them know the token.
    let login_cookie = sessions::new_login_cookie();
    let page = render(&state, &req, lang, &login_cookie, &next_of(&req), "", None);
    let mut response = html(StatusCode::OK, page);
    let _ = response.add_cookie(&cookie(&state, LOGIN_COOKIE, login_cookie));
    response
}

/// Checks the form, the throttle and the password; starts a session or says why not.
#[tracing::instrument(name = "admin.login", skip_all)]
pub async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    match sign_in(&state, &req, payload).await {
        Ok(response) => response,
        Err(e) => refusal(&state, &req, e),
    }
}

async fn sign_in(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    check_origin(state, req)?;
    let form = read_form(payload).await?;
    let login_cookie = req
        .cookie(LOGIN_COOKIE)
        .map(|c| c.value().to_string())
        .ok_or(AdminError::Csrf)?;
    check_token(
        &sessions::login_csrf_token(&state.key, &login_cookie),
        field(&form, "csrf")?,
    )?;
    let email = field(&form, "email")?.unwrap_or("").trim().to_string();
    let password = field(&form, "password")?.unwrap_or("").to_string();
    let next = safe_next(field(&form, "next")?);
    let lang = language(req, None);
    let client = super::client_address(&state.settings, req);
    let attempt = Attempt::new(&state.key, &email, &client);
    let now = state.clock.now();
    let counted = attempt.clone();
    let checked = match state
        .db
        .write(move |conn| sessions::begin(conn, &counted, now))
        .await
    {
        Ok(c) => c,
        Err(SignInError::Throttled(wait)) => return Ok(throttled(state, req, lang, wait)),
        Err(SignInError::Db(e)) => return Err(e.into()),
        Err(SignInError::Invalid) => return Err(AdminError::BadRequest),
    };
    // An unknown address and a disabled account take as long as a wrong password.
    let user = checked.user;
    let verified = with_argon2(state, move || match user {
        Some(u) if !password.is_empty() => {
            let ok = password::verify(&u.password_hash, &password);
            (ok && account_of(&u).is_some()).then_some(u)
        }
        _ => {
            password::verify_nobody(&password);
            None
        }
    })
    .await?;
    let settle = |e: SignInError| match e {
        SignInError::Db(e) => AdminError::Db(e),
        _ => AdminError::BadRequest,
    };
    let Some(user) = verified else {
        let failed = attempt.clone();
        state
            .db
            .write(move |conn| sessions::fail(conn, &failed, now))
            .await
            .map_err(settle)?;
        let error = state.templates.text(lang, "admin.login.failed");
        let page = render(state, req, lang, &login_cookie, &next, &email, Some(error));
        return Ok(html(StatusCode::UNAUTHORIZED, page));
    };
    let user_id = user.id.clone();
    // A session this browser already had ends: one browser, one session.
    let previous = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string());
    let id = state
        .db
        .write(move |conn| {
            if let Some(old) = previous {
                sessions::end(conn, &old)?;
            }
            sessions::start(conn, &attempt, &user_id, now)
        })
        .await
        .map_err(settle)?;
    let mut gone = cookie(state, LOGIN_COOKIE, String::new());
    gone.make_removal();
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, next))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(cookie(state, SESSION_COOKIE, id.expose().clone()))
        .cookie(gone)
        .finish())
}

/// `429` with `Retry-After`, and a page that says when to try again.
fn throttled(
    state: &AppState,
    req: &HttpRequest,
    lang: Language,
    wait: chrono::Duration,
) -> HttpResponse {
    let minutes = (wait.num_seconds() + 59) / 60;
    let chrome = Chrome::new(state, req, lang, None, "messages.throttled_title");
    let body = state
        .templates
        .text(lang, "admin.messages.throttled")
        .replace("{minutes}", &minutes.max(1).to_string());
    let page = state
        .templates
        .render("admin/message", &super::MessagePage { chrome, body });
    let mut response = html(StatusCode::TOO_MANY_REQUESTS, page);
    if let Ok(v) = header::HeaderValue::from_str(&wait.num_seconds().max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

/// Ends the session at once and forgets the cookie.
#[tracing::instrument(name = "admin.logout", skip_all)]
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let done = async {
        check_origin(&state, &req)?;
        let signed = signed_in(&state, &req).await?;
        let form = read_form(payload).await?;
        check_token(&signed.csrf, field(&form, "csrf")?)?;
        let id = signed.session_id().to_string();
        state.db.write(move |conn| sessions::end(conn, &id)).await?;
        let mut gone = cookie(&state, SESSION_COOKIE, String::new());
        gone.make_removal();
        Ok::<_, AdminError>(
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/admin/login"))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .cookie(gone)
                .finish(),
        )
    };
    match done.await {
        Ok(r) => r,
        Err(e) => refusal(&state, &req, e),
    }
}

/// Runs argon2id work (a check or a hash: tens of milliseconds of CPU and 19 MiB each) off the
/// request thread, a few at a time; a caller that waits over 10 s is told the app is busy.
pub async fn with_argon2<T, F>(state: &AppState, work: F) -> Result<T, AdminError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let _permit = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        state.password_checks.acquire(),
    )
    .await
    .map_err(|_| AdminError::Busy)?
    .map_err(|_| AdminError::Busy)?;
    web::block(work).await.map_err(|_| AdminError::Busy)
}
