//! `GET /admin/digest` and `POST /admin/digest` (`action` = `add`, `remove`): who receives the
//! weekly digest, in which language and for which departments, as `mashov digest recipients …`
//! keeps them. Admins only.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::setup::{self, admin_page, admin_post, language_picks, Departments, Pick};
use super::{html, refusal, AdminError, Chrome, Signed};
use crate::domain::language::Language;
use crate::services::audit::Actor;
use crate::services::digest::{self, RecipientError};
use crate::state::AppState;

const PAGE: &str = "/admin/digest";

#[derive(Serialize)]
struct RecipientLine {
    email: String,
    language: String,
    departments: String,
}

#[derive(Serialize)]
struct DigestPage<'a> {
    #[serde(flatten)]
    chrome: Chrome<'a>,
    done: Option<String>,
    error: Option<String>,
    recipients: Vec<RecipientLine>,
    email: String,
    language_picks: Vec<Pick>,
    departments: Vec<Pick>,
}

#[derive(Default)]
struct Entered {
    email: String,
    language: Language,
    departments: Vec<String>,
}

pub async fn show(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = async {
        let signed = admin_page(&state, &req).await?;
        render(&state, &req, &signed, None, Entered::default()).await
    };
    result.await.unwrap_or_else(|e| refusal(&state, &req, e))
}

async fn render(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    signed: &Signed,
    refused: Option<(&'static str, StatusCode)>,
    entered: Entered,
) -> Result<HttpResponse, AdminError> {
    let lang = signed.lang;
    let text = |key: &str| state.templates.text(lang, &format!("admin.{key}"));
    let chosen = entered.departments.clone();
    let (rows, departments) = state
        .db
        .read(|conn| {
            Ok::<_, AdminError>((
                digest::recipients(conn)?,
                Departments::load(conn, lang, &chosen)?,
            ))
        })
        .await?;
    let recipients = rows
        .iter()
        .map(|r| RecipientLine {
            email: r.email.clone(),
            language: Language::parse(&r.language)
                .map(|l| state.templates.text(l, "admin.language_name"))
                .unwrap_or_default(),
            departments: departments.describe(&r.departments, text("digest.whole_city")),
        })
        .collect();
    let page = DigestPage {
        chrome: Chrome::new(state, req, lang, Some(signed), "digest.title"),
        done: setup::done_message(state, req, lang, &["recipient_added", "recipient_removed"]),
        error: refused.map(|(k, _)| text(&format!("digest.errors.{k}"))),
        recipients,
        email: entered.email,
        language_picks: language_picks(state, entered.language),
        departments: departments.picks,
    };
    let status = refused.map_or(StatusCode::OK, |(_, s)| s);
    Ok(html(status, state.templates.render("admin/digest", &page)))
}

fn problem(e: &RecipientError) -> Option<(&'static str, StatusCode)> {
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    Some(match e {
        RecipientError::Email(_) => ("email", unprocessable),
        RecipientError::Language(_) => ("language", unprocessable),
        RecipientError::UnknownDepartments(_) => ("unknown_departments", unprocessable),
        RecipientError::NotFound(_) => ("not_found", StatusCode::NOT_FOUND),
        RecipientError::Db(_) => return None,
    })
}

pub async fn act(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let result = async {
        let posted = admin_post(&state, &req, payload).await?;
        let signed = &posted.signed;
        let actor = Actor::user(&signed.account);
        let now = state.clock.now();
        let email = posted.one("email")?.trim().to_string();
        let language = posted.one("language")?.to_string();
        let departments = posted.all("departments");
        let entered = Entered {
            email: email.clone(),
            language: Language::parse(&language).unwrap_or_default(),
            departments: departments.clone(),
        };
        let (done, changed) = match posted.one("action")? {
            "add" => (
                "recipient_added",
                state
                    .db
                    .write(move |conn| {
                        digest::add_recipient(conn, &email, &language, &departments, &actor, now)
                            .map(drop)
                    })
                    .await,
            ),
            "remove" => (
                "recipient_removed",
                state
                    .db
                    .write(move |conn| digest::remove_recipient(conn, &email, &actor, now))
                    .await,
            ),
            _ => return Err(AdminError::BadRequest),
        };
        match changed {
            Ok(()) => Ok(setup::done(PAGE, done)),
            Err(e) => match problem(&e) {
                Some(refused) => render(&state, &req, signed, Some(refused), entered).await,
                None => Err(e.into()),
            },
        }
    };
    result.await.unwrap_or_else(|e| refusal(&state, &req, e))
}

impl From<RecipientError> for AdminError {
    fn from(e: RecipientError) -> Self {
        match e {
            RecipientError::Db(d) => AdminError::Db(d),
            _ => AdminError::BadRequest,
        }
    }
}
