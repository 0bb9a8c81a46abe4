//! `GET /admin/audit?page=N`: who changed what in the set-up, and who read personal data or
//! exported answers, from where and when, newest first, fifty to a page. Admins only. Values are shown as they were stored (JSON), escaped like any text.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::setup::admin_page;
use super::{html, refusal, AdminError, Chrome, QueryString};
use crate::domain::period::local_time_text;
use crate::services::audit::{self, Action, COMMAND_LINE, KEY_PREFIX};
use crate::state::AppState;

const PER_PAGE: i64 = 50;

#[derive(Serialize)]
struct EntryLine {
    at: String,
    actor: String,
    address: Option<String>,
    action: String,
    target: String,
    before: Option<String>,
    after: Option<String>,
}

#[derive(Serialize)]
struct AuditPage<'a> {
    #[serde(flatten)]
    chrome: Chrome<'a>,
    entries: Vec<EntryLine>,
    newer: Option<String>,
    older: Option<String>,
}

pub async fn show(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = async {
        let signed = admin_page(&state, &req).await?;
        let page: i64 = match QueryString::of(&req)?.one("page") {
            None => 1,
            Some(p) => p
                .parse()
                .ok()
                .filter(|n| (1..=100_000).contains(n))
                .ok_or(AdminError::BadRequest)?,
        };
        let (rows, more) = state
            .db
            .read(|conn| audit::page(conn, page, PER_PAGE))
            .await?;
        let lang = signed.lang;
        let text = |key: &str| state.templates.text(lang, &format!("admin.{key}"));
        let entries = rows
            .into_iter()
            .map(|r| EntryLine {
                at: local_time_text(r.at),
                actor: match &r.actor_id {
                    None if r.actor == COMMAND_LINE => text("audit.command_line"),
                    Some(id) if id.starts_with(KEY_PREFIX) => {
                        format!("{} {}", text("audit.api_key"), r.actor)
                    }
                    _ => r.actor,
                },
                address: r.address,
                action: Action::parse(&r.action)
                    .map(|a| text(&format!("audit.actions.{}", a.as_str().replace('.', "_"))))
                    .unwrap_or(r.action),
                target: r.target,
                before: r.before_value,
                after: r.after_value,
            })
            .collect();
        let body = AuditPage {
            chrome: Chrome::new(&state, &req, lang, Some(&signed), "audit.title"),
            entries,
            newer: (page > 1).then(|| format!("/admin/audit?page={}", page - 1)),
            older: more.then(|| format!("/admin/audit?page={}", page + 1)),
        };
        Ok::<_, AdminError>(html(
            StatusCode::OK,
            state.templates.render("admin/audit", &body),
        ))
    };
    result.await.unwrap_or_else(|e| refusal(&state, &req, e))
}
