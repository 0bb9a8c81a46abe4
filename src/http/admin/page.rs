//! What every admin page shares: the layout's context (language and direction, the signed-in
//! user, the navigation and the language switch) and the one-message page for refusals.

use actix_web::HttpRequest;
use serde::Serialize;
use serde_json::Value;

use super::Signed;
use crate::domain::language::Language;
use crate::state::AppState;
use crate::templates::TemplateError;

#[derive(Serialize)]
pub struct LanguageLink {
    pub code: &'static str,
    pub name: String,
    pub href: String,
    pub current: bool,
}

#[derive(Serialize)]
pub struct NavLink {
    pub href: &'static str,
    pub label: String,
    pub current: bool,
}

#[derive(Serialize)]
pub struct UserChrome {
    pub email: String,
    pub role: String,
}

/// The layout's context (`templates/admin/layout.hbs`).
#[derive(Serialize)]
pub struct Chrome<'a> {
    pub lang: &'static str,
    pub dir: &'static str,
    pub title: String,
    pub t: &'a Value,
    pub user: Option<UserChrome>,
    pub csrf: Option<String>,
    pub nav: Vec<NavLink>,
    pub languages: Vec<LanguageLink>,
    pub stylesheet: String,
}

impl<'a> Chrome<'a> {
    /// `title_key` names the page's title under `admin.` in the locale files.
    pub fn new(
        state: &'a AppState,
        req: &HttpRequest,
        lang: Language,
        signed: Option<&Signed>,
        title_key: &str,
    ) -> Chrome<'a> {
        let t = state.templates.strings(lang);
        let text = |key: &str| state.templates.text(lang, &format!("admin.{key}"));
        let here = match req.query_string() {
            "" => req.path().to_string(),
            q => format!("{}?{q}", req.path()),
        };
        let languages = Language::ALL
            .into_iter()
            .map(|l| LanguageLink {
                code: l.code(),
                // Each language named in itself, so that a reader finds their own.
                name: state.templates.text(l, "admin.language_name"),
                href: format!(
                    "/admin/language/{}?{}",
                    l.code(),
                    serde_urlencoded::to_string([("next", here.as_str())]).unwrap_or_default()
                ),
                current: l == lang,
            })
            .collect();
        let admin = signed.is_some_and(|s| s.account.role == crate::domain::account::Role::Admin);
        let nav = match signed {
            Some(_) => [
                ("/admin", "nav.dashboard"),
                ("/admin/followups", "nav.followups"),
            ]
            .into_iter()
            // The set-up pages are an admin's.
            .chain(
                admin
                    .then_some([
                        ("/admin/settings", "nav.settings"),
                        ("/admin/catalog", "nav.catalog"),
                        ("/admin/surveys", "nav.surveys"),
                        ("/admin/users", "nav.users"),
                        ("/admin/keys", "nav.keys"),
                        ("/admin/digest", "nav.digest"),
                        ("/admin/audit", "nav.audit"),
                    ])
                    .into_iter()
                    .flatten(),
            )
            .map(|(href, key)| NavLink {
                href,
                label: text(key),
                current: req.path() == href,
            })
            .collect(),
            None => Vec::new(),
        };
        Chrome {
            lang: lang.code(),
            dir: lang.dir(),
            title: text(title_key),
            t,
            user: signed.map(|s| UserChrome {
                email: s.account.email.clone(),
                role: text(&format!("roles.{}", s.account.role.as_str())),
            }),
            csrf: signed.map(|s| s.csrf.clone()),
            nav,
            languages,
            stylesheet: state.templates.stylesheet("admin"),
        }
    }
}

/// A page with one message (refusals: not found, forbidden, unavailable).
#[derive(Serialize)]
pub struct MessagePage<'a> {
    #[serde(flatten)]
    pub chrome: Chrome<'a>,
    pub body: String,
}

impl MessagePage<'_> {
    /// Renders the message `admin.messages.KEY` (its title `KEY_title`).
    pub fn render(
        state: &AppState,
        req: &HttpRequest,
        lang: Language,
        signed: Option<&Signed>,
        key: &str,
    ) -> Result<String, TemplateError> {
        let chrome = Chrome::new(state, req, lang, signed, &format!("messages.{key}_title"));
        state.templates.render(
            "admin/message",
            &MessagePage {
                chrome,
                body: state.templates.text(lang, &format!("admin.messages.{key}")),
            },
        )
    }
}
