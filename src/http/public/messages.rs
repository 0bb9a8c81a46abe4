//! The short pages: a message (thanks, a refusal), the unknown-link page in all four languages,
//! the unsubscribe page, and the one way every public page is answered (never cached).

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde::Serialize;

use crate::domain::language::Language;
use crate::state::AppState;
use crate::templates::{PageMeta, TemplateError};

#[derive(Serialize)]
struct MessageContext<'a> {
    #[serde(flatten)]
    meta: PageMeta<'a>,
    body: String,
}

#[derive(Serialize)]
struct NotFoundMessage {
    lang: &'static str,
    dir: &'static str,
    title: String,
    body: String,
}

#[derive(Serialize)]
struct NotFoundContext<'a> {
    #[serde(flatten)]
    meta: PageMeta<'a>,
    messages: Vec<NotFoundMessage>,
}

/// A short page with a title and a paragraph, both from the locale files.
pub fn message_page(
    state: &AppState,
    lang: Language,
    title_key: &str,
    body_key: &str,
) -> Result<String, TemplateError> {
    let t = &state.templates;
    t.render(
        "public/message",
        &MessageContext {
            meta: PageMeta::new(t, lang, t.text(lang, title_key)),
            body: t.text(lang, body_key),
        },
    )
}

/// The unknown-link page: the language is unknown, so it says so in all four.
pub fn not_found_page(state: &AppState) -> Result<String, TemplateError> {
    in_every_language(state, "not_found")
}

/// The page of a client that asked too often, in all four languages.
pub fn too_many_page(state: &AppState) -> Result<String, TemplateError> {
    in_every_language(state, "too_many")
}

/// A title and a paragraph (`KEY.title`, `KEY.body`) in every language, Hebrew first.
fn in_every_language(state: &AppState, key: &str) -> Result<String, TemplateError> {
    let t = &state.templates;
    let messages = Language::ALL
        .iter()
        .map(|l| NotFoundMessage {
            lang: l.code(),
            dir: l.dir(),
            title: t.text(*l, &format!("{key}.title")),
            body: t.text(*l, &format!("{key}.body")),
        })
        .collect();
    t.render(
        "public/not_found",
        &NotFoundContext {
            meta: PageMeta::new(
                t,
                Language::He,
                t.text(Language::He, &format!("{key}.title")),
            ),
            messages,
        },
    )
}

/// An HTML answer that no cache keeps.
pub fn html(status: StatusCode, rendered: Result<String, TemplateError>) -> HttpResponse {
    match rendered {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header(("Cache-Control", "no-store"))
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "page rendering failed");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("500")
        }
    }
}

#[derive(Serialize)]
struct UnsubscribeContext<'a> {
    #[serde(flatten)]
    meta: PageMeta<'a>,
    body: String,
    button: String,
}

/// The unsubscribe link's confirmation page: one button that posts.
pub fn unsubscribe_page(state: &AppState, lang: Language) -> Result<String, TemplateError> {
    let t = &state.templates;
    t.render(
        "public/unsubscribe",
        &UnsubscribeContext {
            meta: PageMeta::new(t, lang, t.text(lang, "unsubscribe.title")),
            body: t.text(lang, "unsubscribe.body"),
            button: t.text(lang, "unsubscribe.button"),
        },
    )
}
