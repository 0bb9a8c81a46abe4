//! `GET /admin/users` and `POST /admin/users` (`action` = `create`, `disable`, `password`):
//! management users, with the same rules as `mashov user …`. Admins only. A new password is
//! hashed with argon2id off the request thread, a few at a time, as at sign-in.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::setup::{self, admin_page, admin_post, language_picks, Departments, Pick};
use super::{html, refusal, AdminError, Chrome, Signed};
use crate::domain::account::{NewPassword, PasswordProblem, Role};
use crate::domain::language::Language;
use crate::domain::password;
use crate::services::accounts::{self, AccountError, NewUser};
use crate::services::audit::Actor;
use crate::state::AppState;

const PAGE: &str = "/admin/users";
const DONE: [&str; 3] = ["user_created", "user_disabled", "password_set"];

#[derive(Serialize)]
struct UserLine {
    email: String,
    role: String,
    departments: String,
    language: String,
    active: bool,
    me: bool,
}

/// What the creation form shows again after a refusal (never the password).
#[derive(Default)]
struct Entered {
    email: String,
    role: Option<Role>,
    departments: Vec<String>,
    language: Language,
}

#[derive(Serialize)]
struct UsersPage<'a> {
    #[serde(flatten)]
    chrome: Chrome<'a>,
    done: Option<String>,
    error: Option<String>,
    users: Vec<UserLine>,
    email: String,
    roles: Vec<Pick>,
    departments: Vec<Pick>,
    language_picks: Vec<Pick>,
    active_users: Vec<Pick>,
}

pub async fn show(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = async {
        let signed = admin_page(&state, &req).await?;
        render(
            &state,
            &req,
            &signed,
            None,
            Entered::default(),
            StatusCode::OK,
        )
        .await
    };
    result.await.unwrap_or_else(|e| refusal(&state, &req, e))
}

async fn render(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    signed: &Signed,
    error: Option<&str>,
    entered: Entered,
    status: StatusCode,
) -> Result<HttpResponse, AdminError> {
    let lang = signed.lang;
    let text = |key: &str| state.templates.text(lang, &format!("admin.{key}"));
    let chosen = entered.departments.clone();
    let (rows, departments) = state
        .db
        .read(|conn| {
            Ok::<_, AdminError>((
                accounts::list(conn)?,
                Departments::load(conn, lang, &chosen)?,
            ))
        })
        .await?;
    let users: Vec<UserLine> = rows
        .iter()
        .map(|u| UserLine {
            email: u.email.clone(),
            role: text(&format!("roles.{}", u.role)),
            departments: departments.describe(&u.departments, text("users.all_departments")),
            language: Language::parse(&u.language)
                .map(|l| state.templates.text(l, "admin.language_name"))
                .unwrap_or_default(),
            active: u.disabled_at.is_none(),
            me: u.id == signed.account.id,
        })
        .collect();
    let active_users = users
        .iter()
        .filter(|u| u.active)
        .map(|u| Pick {
            value: u.email.clone(),
            label: u.email.clone(),
            selected: false,
        })
        .collect();
    let page = UsersPage {
        chrome: Chrome::new(state, req, lang, Some(signed), "users.title"),
        done: setup::done_message(state, req, lang, &DONE),
        error: error.map(|k| text(&format!("users.errors.{k}"))),
        users,
        email: entered.email,
        roles: [Role::Manager, Role::Viewer, Role::Admin]
            .into_iter()
            .map(|r| Pick {
                value: r.as_str().to_string(),
                label: text(&format!("roles.{}", r.as_str())),
                selected: entered.role == Some(r),
            })
            .collect(),
        departments: departments.picks,
        language_picks: language_picks(state, entered.language),
        active_users,
    };
    Ok(html(status, state.templates.render("admin/users", &page)))
}

/// The locale key of a refusal, and its status.
fn problem(e: &AccountError) -> Option<(&'static str, StatusCode)> {
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    Some(match e {
        AccountError::Email(_) => ("email", unprocessable),
        AccountError::NoDepartments(_) => ("no_departments", unprocessable),
        AccountError::AdminDepartments => ("admin_departments", unprocessable),
        AccountError::UnknownDepartments(_) => ("unknown_departments", unprocessable),
        AccountError::Exists(_) => ("exists", StatusCode::CONFLICT),
        AccountError::NotFound(_) => ("not_found", StatusCode::NOT_FOUND),
        AccountError::Db(_) => return None,
    })
}

fn password_problem(p: PasswordProblem) -> &'static str {
    match p {
        PasswordProblem::TooShort => "password_short",
        PasswordProblem::TooLong => "password_long",
    }
}

/// argon2id, rationed like sign-in checks and run off the request thread.
async fn hash(state: &AppState, password: NewPassword) -> Result<String, AdminError> {
    super::login::with_argon2(state, move || password::hash(&password)).await
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
        let entered = || Entered {
            email: posted.one("email").unwrap_or("").trim().to_string(),
            role: Role::parse(posted.one("role").unwrap_or("")),
            departments: posted.all("departments"),
            language: Language::parse(posted.one("language").unwrap_or("")).unwrap_or_default(),
        };
        let refuse = |key: &'static str, status: StatusCode| {
            render(&state, &req, signed, Some(key), entered(), status)
        };
        match posted.one("action")? {
            "create" => {
                let Some(role) = Role::parse(posted.one("role")?) else {
                    return refuse("role", StatusCode::UNPROCESSABLE_ENTITY).await;
                };
                let language =
                    Language::parse(posted.one("language")?).ok_or(AdminError::BadRequest)?;
                let departments = posted.all("departments").join(",");
                let email = posted.one("email")?;
                // Refuse a bad address or department list before paying for a hash.
                if let Err(e) = NewUser::new(email, role, &departments, language, String::new()) {
                    let (key, status) = problem(&e).ok_or(AdminError::BadRequest)?;
                    return refuse(key, status).await;
                }
                let password = match NewPassword::parse(posted.one("password")?.to_string()) {
                    Ok(p) => p,
                    Err(p) => {
                        return refuse(password_problem(p), StatusCode::UNPROCESSABLE_ENTITY).await
                    }
                };
                let hashed = hash(&state, password).await?;
                let user = NewUser::new(email, role, &departments, language, hashed)
                    .map_err(|_| AdminError::BadRequest)?;
                match state
                    .db
                    .write(move |conn| accounts::create(conn, &user, &actor, now))
                    .await
                {
                    Ok(_) => Ok(setup::done(PAGE, "user_created")),
                    Err(e) => match problem(&e) {
                        Some((key, status)) => refuse(key, status).await,
                        None => Err(e.into()),
                    },
                }
            }
            "disable" => {
                let email = posted.one("email")?.to_string();
                if accounts_same(&email, &signed.account.email) {
                    return refuse("disable_self", StatusCode::UNPROCESSABLE_ENTITY).await;
                }
                match state
                    .db
                    .write(move |conn| accounts::disable(conn, &email, &actor, now))
                    .await
                {
                    Ok(()) => Ok(setup::done(PAGE, "user_disabled")),
                    Err(e) => match problem(&e) {
                        Some((key, status)) => refuse(key, status).await,
                        None => Err(e.into()),
                    },
                }
            }
            "password" => {
                let email = posted.one("email")?.to_string();
                let password = match NewPassword::parse(posted.one("password")?.to_string()) {
                    Ok(p) => p,
                    Err(p) => {
                        return refuse(password_problem(p), StatusCode::UNPROCESSABLE_ENTITY).await
                    }
                };
                let hashed = hash(&state, password).await?;
                match state
                    .db
                    .write(move |conn| accounts::set_password(conn, &email, &hashed, &actor, now))
                    .await
                {
                    Ok(()) => Ok(setup::done(PAGE, "password_set")),
                    Err(e) => match problem(&e) {
                        Some((key, status)) => refuse(key, status).await,
                        None => Err(e.into()),
                    },
                }
            }
            _ => Err(AdminError::BadRequest),
        }
    };
    result.await.unwrap_or_else(|e| refusal(&state, &req, e))
}

fn accounts_same(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// A refusal that is not the form's fault (the database) is the app's refusal page.
impl From<AccountError> for AdminError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Db(d) => AdminError::Db(d),
            _ => AdminError::BadRequest,
        }
    }
}
