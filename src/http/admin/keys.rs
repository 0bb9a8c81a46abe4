//! `GET /admin/keys` and `POST /admin/keys` (`action` = `create`, `revoke`): the CRM's and
//! scripts' API keys, with their scopes, departments and last use, as `mashov apikey …` makes
//! them. Admins only. A new key is shown once, on the page that answers its creation (never
//! through a redirect or a URL), and only its hash is kept.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::setup::{self, admin_page, admin_post, Departments, Pick};
use super::{html, refusal, AdminError, Chrome, Signed};
use crate::domain::api_scope::ApiScope;
use crate::domain::period::local_time_text;
use crate::services::api_keys::{self, ApiKeyError};
use crate::services::audit::Actor;
use crate::state::AppState;

const PAGE: &str = "/admin/keys";

#[derive(Serialize)]
struct KeyLine {
    name: String,
    scopes: Vec<String>,
    departments: String,
    created: String,
    last_used: Option<String>,
    active: bool,
}

#[derive(Serialize)]
struct KeysPage<'a> {
    #[serde(flatten)]
    chrome: Chrome<'a>,
    done: Option<String>,
    error: Option<String>,
    /// The key just made, shown this once.
    created: Option<String>,
    keys: Vec<KeyLine>,
    name: String,
    scopes: Vec<Pick>,
    departments: Vec<Pick>,
}

/// What the creation form shows again after a refusal.
#[derive(Default)]
struct Entered {
    name: String,
    scopes: Vec<String>,
    departments: Vec<String>,
}

pub async fn show(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = async {
        let signed = admin_page(&state, &req).await?;
        render(&state, &req, &signed, Outcome::Plain, Entered::default()).await
    };
    result.await.unwrap_or_else(|e| refusal(&state, &req, e))
}

enum Outcome {
    Plain,
    Refused(&'static str, StatusCode),
    Created(String),
}

async fn render(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    signed: &Signed,
    outcome: Outcome,
    entered: Entered,
) -> Result<HttpResponse, AdminError> {
    let lang = signed.lang;
    let text = |key: &str| state.templates.text(lang, &format!("admin.{key}"));
    let chosen = entered.departments.clone();
    let (rows, departments) = state
        .db
        .read(|conn| {
            Ok::<_, AdminError>((
                api_keys::list(conn)?,
                Departments::load(conn, lang, &chosen)?,
            ))
        })
        .await?;
    let keys = rows
        .iter()
        .map(|k| KeyLine {
            name: k.name.clone(),
            scopes: k.scopes.split(',').map(str::to_string).collect(),
            departments: departments.describe(&k.departments, text("users.all_departments")),
            created: local_time_text(k.created_at),
            last_used: k.last_used_at.map(local_time_text),
            active: k.revoked_at.is_none(),
        })
        .collect();
    let (status, error, created) = match outcome {
        Outcome::Plain => (StatusCode::OK, None, None),
        Outcome::Refused(key, status) => (status, Some(text(&format!("keys.errors.{key}"))), None),
        Outcome::Created(key) => (StatusCode::OK, None, Some(key)),
    };
    let fresh = entered.scopes.is_empty() && entered.name.is_empty();
    let page = KeysPage {
        chrome: Chrome::new(state, req, lang, Some(signed), "keys.title"),
        done: setup::done_message(state, req, lang, &["key_revoked"]),
        error,
        created,
        keys,
        name: entered.name,
        scopes: ApiScope::ALL
            .into_iter()
            .map(|s| Pick {
                value: s.as_str().to_string(),
                label: text(&format!("keys.scopes.{}", s.as_str().replace(':', "_"))),
                selected: fresh || entered.scopes.iter().any(|e| e == s.as_str()),
            })
            .collect(),
        departments: departments.picks,
    };
    Ok(html(status, state.templates.render("admin/keys", &page)))
}

fn problem(e: &ApiKeyError) -> Option<(&'static str, StatusCode)> {
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    Some(match e {
        ApiKeyError::NameTaken(_) => ("name_taken", StatusCode::CONFLICT),
        ApiKeyError::BadName => ("bad_name", unprocessable),
        ApiKeyError::NotFound(_) => ("not_found", StatusCode::NOT_FOUND),
        ApiKeyError::UnknownDepartments(_) => ("unknown_departments", unprocessable),
        ApiKeyError::Db(_) => return None,
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
        let entered = Entered {
            name: posted.one("name")?.trim().to_string(),
            scopes: posted.all("scopes"),
            departments: posted.all("departments"),
        };
        match posted.one("action")? {
            "create" => {
                let mut scopes = Vec::new();
                for s in &entered.scopes {
                    scopes.push(ApiScope::parse(s).ok_or(AdminError::BadRequest)?);
                }
                if scopes.is_empty() {
                    let refused = Outcome::Refused("no_scopes", StatusCode::UNPROCESSABLE_ENTITY);
                    return render(&state, &req, signed, refused, entered).await;
                }
                let (name, departments) = (entered.name.clone(), entered.departments.clone());
                let made = state
                    .db
                    .write(move |conn| {
                        api_keys::create_scoped(conn, &name, &scopes, &departments, &actor, now)
                    })
                    .await;
                match made {
                    Ok(key) => {
                        let shown = Outcome::Created(key.expose().clone());
                        render(&state, &req, signed, shown, Entered::default()).await
                    }
                    Err(e) => match problem(&e) {
                        Some((key, status)) => {
                            render(&state, &req, signed, Outcome::Refused(key, status), entered)
                                .await
                        }
                        None => Err(e.into()),
                    },
                }
            }
            "revoke" => {
                let name = entered.name.clone();
                match state
                    .db
                    .write(move |conn| api_keys::revoke(conn, &name, &actor, now))
                    .await
                {
                    Ok(()) => Ok(setup::done(PAGE, "key_revoked")),
                    Err(e) => match problem(&e) {
                        Some((key, status)) => {
                            render(
                                &state,
                                &req,
                                signed,
                                Outcome::Refused(key, status),
                                Entered::default(),
                            )
                            .await
                        }
                        None => Err(e.into()),
                    },
                }
            }
            _ => Err(AdminError::BadRequest),
        }
    };
    result.await.unwrap_or_else(|e| refusal(&state, &req, e))
}

impl From<ApiKeyError> for AdminError {
    fn from(e: ApiKeyError) -> Self {
        match e {
            ApiKeyError::Db(d) => AdminError::Db(d),
            _ => AdminError::BadRequest,
        }
    }
}
