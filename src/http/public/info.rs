//! The city's public pages: `/` (what this site is, with the links a resident looks for),
//! `/privacy` (the privacy notice an admin wrote, or mashov's own) and `/accessibility` (the
//! accessibility statement Israeli public bodies must publish, made from the city's settings).
//! Each takes `?lang=he|ar|en|ru` (Hebrew by default); survey pages link to the last two.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::pages::html;
use crate::domain::language::Language;
use crate::state::AppState;
use crate::templates::PageMeta;

#[derive(Serialize)]
struct Link {
    href: String,
    label: String,
}

#[derive(Serialize)]
struct LanguageLink {
    code: &'static str,
    name: String,
    href: String,
    current: bool,
}

#[derive(Serialize)]
struct InfoPage<'a> {
    #[serde(flatten)]
    meta: PageMeta<'a>,
    paragraphs: Vec<String>,
    /// The city's contact line, where it set one.
    contact: Option<String>,
    links: Vec<Link>,
    languages: Vec<LanguageLink>,
}

/// The page's language from `?lang=`; None for a language mashov does not speak.
fn language(req: &HttpRequest) -> Option<Language> {
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    match query.iter().find(|(k, _)| k == "lang") {
        None => Some(Language::He),
        Some((_, code)) => Language::parse(code),
    }
}

/// Splits a text at its blank lines into paragraphs.
fn paragraphs(text: &str) -> Vec<String> {
    text.replace("\r\n", "\n")
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

fn respond(
    state: &AppState,
    req: &HttpRequest,
    path: &str,
    title_key: &str,
    body: impl FnOnce(Language) -> Vec<String>,
) -> HttpResponse {
    let Some(lang) = language(req) else {
        return html(StatusCode::NOT_FOUND, super::pages::not_found_page(state));
    };
    let t = &state.templates;
    let city = t.city();
    let link = |href: &str, key: &str| Link {
        href: format!("{href}?lang={}", lang.code()),
        label: t.text(lang, &format!("public.{key}")),
    };
    let page = InfoPage {
        meta: PageMeta::new(t, lang, t.text(lang, &format!("public.{title_key}"))),
        paragraphs: body(lang),
        contact: Some(city.contact.clone()).filter(|c| !c.is_empty()),
        links: vec![
            link("/transparency", "transparency_link"),
            link("/accessibility", "accessibility_link"),
            link("/privacy", "privacy_link"),
        ]
        .into_iter()
        .filter(|l| !l.href.starts_with(&format!("{path}?")))
        .collect(),
        languages: Language::ALL
            .into_iter()
            .map(|l| LanguageLink {
                code: l.code(),
                name: t.text(l, "admin.language_name"),
                href: format!("{path}?lang={}", l.code()),
                current: l == lang,
            })
            .collect(),
    };
    html(StatusCode::OK, t.render("public/info", &page))
}

/// `GET /`: the city's public page.
pub async fn home(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let t = &state.templates;
    respond(&state, &req, "/", "home_title", |lang| {
        paragraphs(&t.text(lang, "public.home"))
    })
}

/// `GET /privacy`: the city's privacy notice in the reader's language (Hebrew where it has
/// none in theirs), or mashov's own.
pub async fn privacy(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let t = &state.templates;
    let city = t.city();
    respond(
        &state,
        &req,
        "/privacy",
        "privacy_title",
        |lang| match city.privacy(lang) {
            Some(text) => paragraphs(text),
            None => paragraphs(&t.text(lang, "public.privacy_default")),
        },
    )
}

/// `GET /accessibility`: the accessibility statement (הצהרת נגישות), from the settings.
pub async fn accessibility(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let t = &state.templates;
    let city = t.city();
    respond(
        &state,
        &req,
        "/accessibility",
        "accessibility_title",
        |lang| {
            let contact = if city.contact.is_empty() {
                t.text(lang, "public.accessibility_no_contact")
            } else {
                t.text(lang, "public.accessibility_contact")
                    .replace("{contact}", &city.contact)
            };
            let mut out = paragraphs(
                &t.text(lang, "public.accessibility")
                    .replace("{city}", &t.city_name(lang)),
            );
            out.push(contact);
            out
        },
    )
}
