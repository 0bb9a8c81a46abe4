//! What the set-up pages (users, API keys, digest recipients, the audit log) share: they are
//! for admins only, every change is a checked POST, and a change ends with a redirect back to
//! the page, which then says what was done.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::{check_origin, check_token, field, signed_in, AdminError, Signed};
use crate::domain::account::Role;
use crate::domain::language::Language;
use crate::services::catalog;
use crate::state::AppState;

/// Refuses anyone but an admin (`403`).
pub fn admin_only(signed: &Signed) -> Result<(), AdminError> {
    match signed.account.role {
        Role::Admin => Ok(()),
        _ => Err(AdminError::Forbidden),
    }
}

/// A signed-in admin's page request.
pub async fn admin_page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
) -> Result<Signed, AdminError> {
    let signed = signed_in(state, req).await?;
    admin_only(&signed)?;
    Ok(signed)
}

/// A checked change: from this origin, by a signed-in admin, with the session's token.
pub struct Posted {
    pub signed: Signed,
    pub form: Vec<(String, String)>,
}

pub async fn admin_post(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<Posted, AdminError> {
    admin_post_up_to(state, req, payload, 16 * 1024).await
}

/// The same for a larger form (at most `limit` bytes).
pub async fn admin_post_up_to(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<Posted, AdminError> {
    check_origin(state, req)?;
    let signed = signed_in(state, req).await?;
    // Before the body is read: nobody else makes the server buffer a large form.
    admin_only(&signed)?;
    let form = super::form::read_form_up_to(payload, limit).await?;
    check_token(&signed.csrf, field(&form, "csrf")?)?;
    Ok(Posted { signed, form })
}

impl Posted {
    /// A single field's value, empty when absent.
    pub fn one(&self, name: &str) -> Result<&str, AdminError> {
        Ok(field(&self.form, name)?.unwrap_or(""))
    }

    /// Every value of a repeated field (checkboxes), trimmed, without empties.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.form
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_string())
            .collect()
    }
}

/// After a change: back to the page, which says what was done (`?done=KEY`).
pub fn done(page: &str, key: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("{page}?done={key}")))
        .finish()
}

/// The message of a `?done=KEY` the page knows (anything else shows nothing).
pub fn done_message(
    state: &AppState,
    req: &HttpRequest,
    lang: Language,
    known: &[&str],
) -> Option<String> {
    let query: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string()).ok()?;
    let key = query
        .iter()
        .find(|(k, _)| k == "done")
        .map(|(_, v)| v.as_str())?;
    known.contains(&key).then(|| {
        state
            .templates
            .text(lang, &format!("admin.setup.done.{key}"))
    })
}

/// A checkbox or an option of a list.
#[derive(Debug, Serialize)]
pub struct Pick {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The catalog's departments as a set-up page shows them: checkboxes (those in `chosen`
/// ticked) and names for the lists.
pub struct Departments {
    pub picks: Vec<Pick>,
    names: Vec<(String, String)>,
}

impl Departments {
    pub fn load(
        conn: &mut crate::services::DbConnection,
        lang: Language,
        chosen: &[String],
    ) -> Result<Departments, AdminError> {
        let names = catalog::picker(conn, lang)?.departments;
        let picks = names
            .iter()
            .map(|(code, name)| Pick {
                selected: chosen.contains(code),
                value: code.clone(),
                label: name.clone(),
            })
            .collect();
        Ok(Departments { picks, names })
    }

    /// A stored comma-separated list, by name; `all` when it is empty (every department).
    pub fn describe(&self, codes: &str, all: String) -> String {
        if codes.is_empty() {
            return all;
        }
        codes
            .split(',')
            .map(|code| {
                self.names
                    .iter()
                    .find(|(c, _)| c == code)
                    .map_or_else(|| code.to_string(), |(_, n)| n.clone())
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The four languages, each named in itself, `chosen` selected.
pub fn language_picks(state: &AppState, chosen: Language) -> Vec<Pick> {
    Language::ALL
        .into_iter()
        .map(|l| Pick {
            value: l.code().to_string(),
            label: state.templates.text(l, "admin.language_name"),
            selected: l == chosen,
        })
        .collect()
}
