//! `GET /admin/followups`: the caller's cases, overdue first, with filters by status,
//! department, service and "mine". A department or service outside the scope is `404`. (A
//! case's own page is `case.rs`.)

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::{html, refusal, signed_in, AdminError, Chrome, QueryString};
use crate::domain::followup::Status;
use crate::domain::language::Language;
use crate::services::catalog;
use crate::services::followups::{self, Case, FollowupError, InboxFilter};
use crate::state::AppState;
use crate::templates::Templates;

impl From<FollowupError> for AdminError {
    fn from(e: FollowupError) -> Self {
        match e {
            FollowupError::NotFound => AdminError::NotFound,
            FollowupError::Db(e) => AdminError::Db(e),
            // The page shows these itself; reaching here means a bad request.
            _ => AdminError::BadRequest,
        }
    }
}

#[derive(Serialize)]
struct CaseLine {
    href: String,
    service: String,
    department: String,
    status: String,
    due_on: String,
    overdue: bool,
    reason: String,
    assignee: Option<String>,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Serialize)]
struct InboxPage<'a> {
    #[serde(flatten)]
    chrome: Chrome<'a>,
    cases: Vec<CaseLine>,
    statuses: Vec<Choice>,
    departments: Vec<Choice>,
    services: Vec<Choice>,
    mine: bool,
}

pub(super) fn status_label(t: &Templates, lang: Language, status: &str) -> String {
    t.text(lang, &format!("admin.followups.statuses.{status}"))
}

pub(super) fn reason_label(t: &Templates, lang: Language, reasons: &str) -> String {
    reasons
        .split(',')
        .filter(|r| !r.is_empty())
        .map(|r| t.text(lang, &format!("admin.followups.reasons.{r}")))
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn inbox(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    match inbox_page(&state, &req).await {
        Ok(r) => r,
        Err(e) => refusal(&state, &req, e),
    }
}

async fn inbox_page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
) -> Result<HttpResponse, AdminError> {
    let signed = signed_in(state, req).await?;
    let qs = QueryString::of(req)?;
    let one = |name: &str| qs.one(name);
    let filter = InboxFilter {
        status: match one("status") {
            None => None,
            Some(s) => Some(Status::parse(s).ok_or(AdminError::BadRequest)?),
        },
        department: one("department").map(str::to_string),
        service: one("service").map(str::to_string),
        assignee: (one("mine") == Some("1")).then(|| signed.account.id.clone()),
    };
    // Asking by name for a department outside the scope answers as if it did not exist.
    if let Some(d) = &filter.department {
        if !signed.account.scope.allows(d) {
            return Err(AdminError::NotFound);
        }
    }
    let lang = signed.lang;
    let picker = state.db.read(|conn| catalog::picker(conn, lang)).await?;
    if let Some(s) = &filter.service {
        let owner = picker.services.iter().find(|(code, _, _)| code == s);
        if !owner.is_some_and(|(_, _, d)| signed.account.scope.allows(d)) {
            return Err(AdminError::NotFound);
        }
    }
    let (scope, now) = (signed.account.scope.clone(), state.clock.now());
    let f = filter.clone();
    let (cases, names) = state
        .db
        .read(|conn| {
            let cases = followups::inbox(conn, &scope, &f, now)?;
            Ok::<_, AdminError>((cases, catalog::names(conn, lang)?))
        })
        .await?;
    let t = &state.templates;
    let name = |code: &str| names.get(code).cloned().unwrap_or_else(|| code.to_string());
    let lines = cases
        .iter()
        .map(|c: &Case| CaseLine {
            href: format!("/admin/followups/{}", c.row.id),
            service: name(&c.row.service_code),
            department: name(&c.row.department_code),
            status: status_label(t, lang, &c.row.status),
            due_on: c.row.due_on.clone(),
            overdue: c.overdue,
            reason: reason_label(t, lang, &c.row.reason),
            assignee: c.row.assignee_id.as_ref().map(|a| {
                if *a == signed.account.id {
                    t.text(lang, "admin.followups.me")
                } else {
                    t.text(lang, "admin.followups.someone")
                }
            }),
        })
        .collect();
    let statuses = ["", "open", "in_progress", "closed"]
        .into_iter()
        .map(|s| Choice {
            value: s.to_string(),
            label: if s.is_empty() {
                t.text(lang, "admin.followups.not_closed")
            } else {
                status_label(t, lang, s)
            },
            selected: filter.status.map_or(s.is_empty(), |f| f.as_str() == s),
        })
        .collect();
    let choice = |code: &str, label: &str, chosen: &Option<String>| Choice {
        value: code.to_string(),
        label: label.to_string(),
        selected: chosen.as_deref() == Some(code),
    };
    let mut departments = vec![Choice {
        value: String::new(),
        label: t.text(lang, "admin.followups.all_departments"),
        selected: filter.department.is_none(),
    }];
    departments.extend(
        picker
            .departments
            .iter()
            .filter(|(code, _)| signed.account.scope.allows(code))
            .map(|(code, name)| choice(code, name, &filter.department)),
    );
    let mut services = vec![Choice {
        value: String::new(),
        label: t.text(lang, "admin.followups.all_services"),
        selected: filter.service.is_none(),
    }];
    services.extend(
        picker
            .services
            .iter()
            .filter(|(_, _, d)| signed.account.scope.allows(d))
            .map(|(code, name, _)| choice(code, name, &filter.service)),
    );
    let chrome = Chrome::new(state, req, lang, Some(&signed), "followups.title");
    let body = state.templates.render(
        "admin/followups",
        &InboxPage {
            chrome,
            cases: lines,
            statuses,
            departments,
            services,
            mine: filter.assignee.is_some(),
        },
    );
    Ok(html(StatusCode::OK, body))
}
