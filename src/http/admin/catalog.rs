//! `GET /admin/catalog` (`?edit=CODE` fills the service form), `POST /admin/catalog` (`action` =
//! `service`, `department`, `deactivate`, `reactivate`, `preview`, `import`) and
//! `GET /admin/catalog.csv`: the city's departments and services, for admins. A file is read
//! by the same parser as `mashov catalog import`, shown as what it would change, and applied
//! only when the admin confirms it; a deactivated service keeps its history and accepts no new
//! interactions.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::setup::{self, admin_page, admin_post_up_to, Pick, Posted};
use super::{html, refusal, AdminError, Chrome, QueryString, Signed};
use crate::domain::catalog::{parse_catalog, LineError};
use crate::domain::language::Language;
use crate::services::audit::Actor;
use crate::services::catalog::{self, ListedService};
use crate::services::catalog_edit::{self, CatalogError, DepartmentForm, ServiceForm};
use crate::services::catalog_file::{self, PlannedLine};
use crate::state::AppState;

const PAGE: &str = "/admin/catalog";
const DONE: [&str; 5] = [
    "department_saved",
    "service_saved",
    "service_deactivated",
    "service_reactivated",
    "imported",
];

#[derive(Serialize)]
struct ServiceLine {
    department: String,
    code: String,
    name: String,
    english: String,
    sla_days: i32,
    audience: String,
    active: bool,
}

#[derive(Serialize, Default)]
struct ServiceFields {
    department: String,
    code: String,
    name: String,
    name_ar: String,
    name_en: String,
    name_ru: String,
    sla_days: String,
    audience: String,
}

#[derive(Serialize)]
struct CatalogPage<'a> {
    #[serde(flatten)]
    chrome: Chrome<'a>,
    done: Option<String>,
    problems: Vec<String>,
    services: Vec<ServiceLine>,
    departments: Vec<Pick>,
    audiences: Vec<Pick>,
    service: ServiceFields,
    csv: String,
    preview: Option<Vec<super::catalog_file::PreviewLine>>,
    kept: usize,
}

/// What a re-rendered page carries besides the catalog.
#[derive(Default)]
struct Outcome {
    status: Option<StatusCode>,
    problems: Vec<String>,
    service: ServiceFields,
    csv: String,
    preview: Option<(Vec<PlannedLine>, usize)>,
}

pub async fn show(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = async {
        let signed = admin_page(&state, &req).await?;
        let edit = QueryString::of(&req)?.one("edit").map(str::to_string);
        let mut outcome = Outcome::default();
        if let Some(code) = edit {
            let listing = state
                .db
                .read(|conn| catalog::listing(conn, &crate::domain::account::Scope::All))
                .await?;
            let found = listing.iter().find_map(|d| {
                d.services
                    .iter()
                    .find(|s| s.code == code)
                    .map(|s| fields_of(&d.code, s))
            });
            outcome.service = found.ok_or(AdminError::NotFound)?;
        }
        render(&state, &req, &signed, outcome).await
    };
    result.await.unwrap_or_else(|e| refusal(&state, &req, e))
}

fn fields_of(department: &str, s: &ListedService) -> ServiceFields {
    let name = |l: &str| s.names.get(l).cloned().unwrap_or_default();
    ServiceFields {
        department: department.to_string(),
        code: s.code.clone(),
        name: s.name.clone(),
        name_ar: name("ar"),
        name_en: name("en"),
        name_ru: name("ru"),
        sla_days: s.sla_days.to_string(),
        audience: s.audience.clone(),
    }
}

async fn render(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    signed: &Signed,
    outcome: Outcome,
) -> Result<HttpResponse, AdminError> {
    let lang = signed.lang;
    let text = |key: &str| state.templates.text(lang, &format!("admin.catalog.{key}"));
    let (listing, names) = state
        .db
        .read(|conn| {
            Ok::<_, AdminError>((
                catalog::listing(conn, &crate::domain::account::Scope::All)?,
                catalog::names(conn, lang)?,
            ))
        })
        .await?;
    let name = |code: &str| names.get(code).cloned().unwrap_or_else(|| code.to_string());
    let services = listing
        .iter()
        .flat_map(|d| {
            d.services.iter().map(|s| ServiceLine {
                department: name(&d.code),
                code: s.code.clone(),
                name: s.name.clone(),
                english: s.names.get("en").cloned().unwrap_or_default(),
                sla_days: s.sla_days,
                audience: text(&format!("audiences.{}", audience_key(&s.audience))),
                active: s.active,
            })
        })
        .collect();
    let chosen = outcome.service.department.clone();
    let departments = listing
        .iter()
        .map(|d| Pick {
            value: d.code.clone(),
            label: name(&d.code),
            selected: d.code == chosen,
        })
        .collect();
    let audiences = ["residents", "employees"]
        .into_iter()
        .map(|a| Pick {
            value: a.to_string(),
            label: text(&format!("audiences.{a}")),
            selected: audience_key(&outcome.service.audience) == a,
        })
        .collect();
    let (preview, kept) = match outcome.preview {
        None => (None, 0),
        Some((lines, kept)) => (Some(super::catalog_file::preview_lines(&text, lines)), kept),
    };
    let page = CatalogPage {
        chrome: Chrome::new(state, req, lang, Some(signed), "catalog.title"),
        done: setup::done_message(state, req, lang, &DONE),
        problems: outcome.problems,
        services,
        departments,
        audiences,
        service: outcome.service,
        csv: outcome.csv,
        preview,
        kept,
    };
    let status = outcome.status.unwrap_or(StatusCode::OK);
    Ok(html(status, state.templates.render("admin/catalog", &page)))
}

/// `residents` unless it says `employees` (an empty audience serves residents).
fn audience_key(audience: &str) -> &'static str {
    crate::domain::catalog::ServiceAudience::of(audience).as_str()
}

/// Each refused line in the reader's language: "line N: …" (a form's problems without one).
fn line_problems(state: &AppState, lang: Language, errors: Vec<LineError>) -> Vec<String> {
    let text = |key: &str| state.templates.text(lang, &format!("admin.catalog.{key}"));
    errors
        .into_iter()
        .map(|e| {
            let words = if e.problems.is_empty() {
                e.message
            } else {
                e.problems
                    .iter()
                    .map(|p| {
                        p.values
                            .iter()
                            .fold(text(&format!("problems.{}", p.key)), |t, (k, v)| {
                                t.replace(&format!("{{{k}}}"), v)
                            })
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            match e.line {
                0 => words,
                n => format!("{} {n}: {words}", text("line")),
            }
        })
        .collect()
}

fn names_from(posted: &Posted) -> Result<BTreeMap<Language, String>, AdminError> {
    let mut names = BTreeMap::new();
    for lang in [Language::Ar, Language::En, Language::Ru] {
        let n = posted.one(&format!("name_{}", lang.code()))?.trim();
        if !n.is_empty() {
            names.insert(lang, n.to_string());
        }
    }
    Ok(names)
}

pub async fn act(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let result = async {
        // A catalog file of a few thousand rows, percent-encoded, fits in 4 MiB.
        let posted = admin_post_up_to(&state, &req, payload, 4 * 1024 * 1024).await?;
        let actor = Actor::user(&posted.signed.account);
        let now = state.clock.now();
        let unprocessable = Some(StatusCode::UNPROCESSABLE_ENTITY);
        let refused = |e: CatalogError, service: ServiceFields, csv: String| match e {
            CatalogError::Refused(lines) => Ok(Outcome {
                status: unprocessable,
                problems: line_problems(&state, posted.signed.lang, lines),
                service,
                csv,
                preview: None,
            }),
            CatalogError::NotFound(code) => Ok(Outcome {
                status: Some(StatusCode::NOT_FOUND),
                problems: vec![format!(
                    "{code}: {}",
                    state
                        .templates
                        .text(posted.signed.lang, "admin.catalog.not_found")
                )],
                service,
                csv,
                preview: None,
            }),
            CatalogError::Db(e) => Err(AdminError::Db(e)),
        };
        let outcome: Result<Outcome, AdminError> = match posted.one("action")? {
            "service" => {
                let form = ServiceForm {
                    department_code: posted.one("department")?.trim().to_string(),
                    code: posted.one("code")?.trim().to_string(),
                    name: posted.one("name")?.trim().to_string(),
                    names: names_from(&posted)?,
                    sla_days: posted.one("sla_days")?.trim().to_string(),
                    audience: posted.one("audience")?.trim().to_string(),
                };
                let fields = ServiceFields {
                    department: form.department_code.clone(),
                    code: form.code.clone(),
                    name: form.name.clone(),
                    name_ar: form.names.get(&Language::Ar).cloned().unwrap_or_default(),
                    name_en: form.names.get(&Language::En).cloned().unwrap_or_default(),
                    name_ru: form.names.get(&Language::Ru).cloned().unwrap_or_default(),
                    sla_days: form.sla_days.clone(),
                    audience: form.audience.clone(),
                };
                match state
                    .db
                    .write(move |conn| catalog_edit::save_service(conn, &form, &actor, now))
                    .await
                {
                    Ok(()) => return Ok(setup::done(PAGE, "service_saved")),
                    Err(e) => refused(e, fields, String::new()),
                }
            }
            "department" => {
                let form = DepartmentForm {
                    code: posted.one("code")?.trim().to_string(),
                    name: posted.one("name")?.trim().to_string(),
                    names: names_from(&posted)?,
                };
                match state
                    .db
                    .write(move |conn| catalog_edit::save_department(conn, &form, &actor, now))
                    .await
                {
                    Ok(()) => return Ok(setup::done(PAGE, "department_saved")),
                    Err(e) => refused(e, ServiceFields::default(), String::new()),
                }
            }
            action @ ("deactivate" | "reactivate") => {
                let offered = action == "reactivate";
                let code = posted.one("code")?.to_string();
                match state
                    .db
                    .write(move |conn| catalog_edit::set_offered(conn, &code, offered, &actor, now))
                    .await
                {
                    Ok(()) => {
                        let key = if offered {
                            "service_reactivated"
                        } else {
                            "service_deactivated"
                        };
                        return Ok(setup::done(PAGE, key));
                    }
                    Err(e) => refused(e, ServiceFields::default(), String::new()),
                }
            }
            action @ ("preview" | "import") => {
                let csv = posted.one("csv")?.to_string();
                match parse_catalog(csv.as_bytes()) {
                    Err(lines) => {
                        refused(CatalogError::Refused(lines), ServiceFields::default(), csv)
                    }
                    Ok(parsed) if action == "preview" => {
                        let planned = state
                            .db
                            .read(|conn| catalog_file::preview(conn, &parsed))
                            .await?;
                        Ok(Outcome {
                            csv,
                            preview: Some(planned),
                            ..Outcome::default()
                        })
                    }
                    Ok(parsed) => match state
                        .db
                        .write(move |conn| catalog_file::import_logged(conn, &parsed, &actor, now))
                        .await
                    {
                        Ok(_) => return Ok(setup::done(PAGE, "imported")),
                        Err(e) => refused(e, ServiceFields::default(), csv),
                    },
                }
            }
            _ => Err(AdminError::BadRequest),
        };
        render(&state, &req, &posted.signed, outcome?).await
    };
    result.await.unwrap_or_else(|e| refusal(&state, &req, e))
}
