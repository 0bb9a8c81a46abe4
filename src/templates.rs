//! The handlebars registry and the translation files, both embedded in the binary so that it
//! runs from any directory.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use handlebars::{Context, Handlebars, Helper, HelperDef, RenderContext, RenderError, ScopedJson};
use serde::Serialize;
use serde_json::Value;

use crate::domain::city::CityProfile;
use crate::domain::language::Language;

/// Templates by name; each name is its path under `templates/` without `.hbs`.
const TEMPLATES: &[(&str, &str)] = &[
    (
        "layouts/page",
        include_str!("../templates/layouts/page.hbs"),
    ),
    (
        "public/survey",
        include_str!("../templates/public/survey.hbs"),
    ),
    (
        "public/question",
        include_str!("../templates/public/question.hbs"),
    ),
    (
        "public/campaign_pick",
        include_str!("../templates/public/campaign_pick.hbs"),
    ),
    (
        "public/campaign_rate",
        include_str!("../templates/public/campaign_rate.hbs"),
    ),
    (
        "public/intro",
        include_str!("../templates/public/intro.hbs"),
    ),
    (
        "public/message",
        include_str!("../templates/public/message.hbs"),
    ),
    (
        "public/not_found",
        include_str!("../templates/public/not_found.hbs"),
    ),
    (
        "public/unsubscribe",
        include_str!("../templates/public/unsubscribe.hbs"),
    ),
    (
        "admin/layout",
        include_str!("../templates/admin/layout.hbs"),
    ),
    (
        "admin/message",
        include_str!("../templates/admin/message.hbs"),
    ),
    ("admin/login", include_str!("../templates/admin/login.hbs")),
    (
        "admin/dashboard",
        include_str!("../templates/admin/dashboard.hbs"),
    ),
    (
        "admin/followups",
        include_str!("../templates/admin/followups.hbs"),
    ),
    ("admin/case", include_str!("../templates/admin/case.hbs")),
    ("admin/users", include_str!("../templates/admin/users.hbs")),
    (
        "admin/catalog",
        include_str!("../templates/admin/catalog.hbs"),
    ),
    (
        "admin/surveys",
        include_str!("../templates/admin/surveys.hbs"),
    ),
    (
        "admin/survey_edit",
        include_str!("../templates/admin/survey_edit.hbs"),
    ),
    (
        "admin/settings",
        include_str!("../templates/admin/settings.hbs"),
    ),
    ("public/info", include_str!("../templates/public/info.hbs")),
    (
        "public/transparency",
        include_str!("../templates/public/transparency.hbs"),
    ),
    ("admin/keys", include_str!("../templates/admin/keys.hbs")),
    (
        "admin/digest",
        include_str!("../templates/admin/digest.hbs"),
    ),
    ("admin/audit", include_str!("../templates/admin/audit.hbs")),
    (
        "email/digest/body.html",
        include_str!("../templates/email/digest/body.html.hbs"),
    ),
    (
        "email/campaign/body.html",
        include_str!("../templates/email/campaign/body.html.hbs"),
    ),
    (
        "email/survey/body.html",
        include_str!("../templates/email/survey/body.html.hbs"),
    ),
];

/// Plain-text templates (subjects and text bodies): rendered without HTML escaping.
const TEXT_TEMPLATES: &[(&str, &str)] = &[
    ("css/page", include_str!("../templates/css/page.css.hbs")),
    ("css/admin", include_str!("../templates/css/admin.css.hbs")),
    (
        "email/digest/subject.txt",
        include_str!("../templates/email/digest/subject.txt.hbs"),
    ),
    (
        "email/digest/body.txt",
        include_str!("../templates/email/digest/body.txt.hbs"),
    ),
    (
        "email/campaign/subject.txt",
        include_str!("../templates/email/campaign/subject.txt.hbs"),
    ),
    (
        "email/campaign/body.txt",
        include_str!("../templates/email/campaign/body.txt.hbs"),
    ),
    (
        "email/survey/subject.txt",
        include_str!("../templates/email/survey/subject.txt.hbs"),
    ),
    (
        "email/survey/body.txt",
        include_str!("../templates/email/survey/body.txt.hbs"),
    ),
];

const LOCALES: &[(Language, &str)] = &[
    (Language::He, include_str!("../locales/he.json")),
    (Language::Ar, include_str!("../locales/ar.json")),
    (Language::En, include_str!("../locales/en.json")),
    (Language::Ru, include_str!("../locales/ru.json")),
];

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template {0}: {1}")]
    Template(String, String),
    #[error("locale {0}: {1}")]
    Locale(&'static str, String),
    #[error("render: {0}")]
    Render(#[from] handlebars::RenderError),
}

/// Templates and strings for every language.
pub struct Templates {
    hb: Handlebars<'static>,
    text: Handlebars<'static>,
    strings: HashMap<Language, Value>,
    city: City,
    /// The stylesheets as rendered for a city profile's version.
    sheets: RwLock<Option<(u64, Arc<Sheets>)>>,
}

/// The pages' two stylesheets (public and admin), served from mashov's own origin so that the
/// pages' policy allows no inline style. They carry the city's colour.
pub struct Sheets {
    pub page: Sheet,
    pub admin: Sheet,
}

pub struct Sheet {
    pub body: String,
    /// A digest of the body: the stylesheet's address changes with it, so that a browser may
    /// keep each version for good.
    pub tag: String,
}

impl Sheets {
    pub fn get(&self, name: &str) -> Option<&Sheet> {
        match name {
            "page" => Some(&self.page),
            "admin" => Some(&self.admin),
            _ => None,
        }
    }
}

/// The city's current profile, shared with the template helpers so that a change shows on the
/// next page rendered, with no restart.
#[derive(Clone)]
struct City {
    profile: Arc<RwLock<Arc<CityProfile>>>,
    /// The locale files' own names (`city`), for a city that has not named itself.
    defaults: Arc<HashMap<Language, String>>,
    /// Counts changes, so that pages rendered once can tell they are out of date.
    version: Arc<std::sync::atomic::AtomicU64>,
}

impl City {
    fn current(&self) -> Arc<CityProfile> {
        self.profile
            .read()
            .map(|p| p.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    fn name(&self, lang: Language) -> String {
        match self.current().name(lang) {
            Some(n) => n.to_string(),
            None => self.defaults.get(&lang).cloned().unwrap_or_default(),
        }
    }
}

/// The language of the page or email being rendered: its root context's `lang`.
fn context_language(ctx: &Context) -> Language {
    ctx.data()
        .get("lang")
        .and_then(Value::as_str)
        .and_then(Language::parse)
        .unwrap_or_default()
}

/// A helper that says something about the city as it is now (escaped like any value):
/// `{{city_name}}` (in the language of the page), `{{city_color}}` (`#rrggbb`, checked when
/// set) and `{{city_logo_url}}` (`/logo?v=…`, or empty without a logo).
struct CityValue(City, fn(&City, Language) -> String);

impl HelperDef for CityValue {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        _: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        Ok(ScopedJson::Derived(Value::String((self.1)(
            &self.0,
            context_language(ctx),
        ))))
    }
}

fn city_name(city: &City, lang: Language) -> String {
    city.name(lang)
}

fn city_color(city: &City, _: Language) -> String {
    city.current().color.clone()
}

fn city_logo_url(city: &City, _: Language) -> String {
    city.current()
        .logo
        .as_ref()
        .map(|l| format!("/logo?v={}", l.version))
        .unwrap_or_default()
}

impl Templates {
    /// The city's logo as an email shows it (an address on mashov's own origin), if it has one.
    pub fn logo_address(&self, base_url: &str) -> Option<String> {
        let path = city_logo_url(&self.city, Language::He);
        (!path.is_empty()).then(|| format!("{}{path}", base_url.trim_end_matches('/')))
    }

    /// Compiles every template in strict mode (a missing field is an error, not an empty
    /// string) and loads every locale.
    pub fn load() -> Result<Templates, TemplateError> {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        hb.set_dev_mode(false);
        for (name, text) in TEMPLATES {
            hb.register_template_string(name, *text)
                .map_err(|e| TemplateError::Template(name.to_string(), e.to_string()))?;
        }
        let mut text = Handlebars::new();
        text.set_strict_mode(true);
        text.register_escape_fn(handlebars::no_escape);
        for (name, source) in TEXT_TEMPLATES {
            text.register_template_string(name, *source)
                .map_err(|e| TemplateError::Template(name.to_string(), e.to_string()))?;
        }
        let mut strings = HashMap::new();
        for (lang, text) in LOCALES {
            let value: Value = serde_json::from_str(text)
                .map_err(|e| TemplateError::Locale(lang.code(), e.to_string()))?;
            strings.insert(*lang, value);
        }
        let city = City {
            profile: Arc::new(RwLock::new(Arc::new(CityProfile::default()))),
            defaults: Arc::new(
                strings
                    .iter()
                    .map(|(l, v)| (*l, v["city"].as_str().unwrap_or_default().to_string()))
                    .collect(),
            ),
            version: Arc::new(std::sync::atomic::AtomicU64::new(0)),
        };
        for registry in [&mut hb, &mut text] {
            registry.register_helper("city_name", Box::new(CityValue(city.clone(), city_name)));
            registry.register_helper("city_color", Box::new(CityValue(city.clone(), city_color)));
            registry.register_helper(
                "city_logo_url",
                Box::new(CityValue(city.clone(), city_logo_url)),
            );
        }
        Ok(Templates {
            hb,
            text,
            strings,
            city,
            sheets: RwLock::new(None),
        })
    }

    /// The stylesheets for the city as it is now (rendered again after a change).
    pub fn sheets(&self) -> Result<Arc<Sheets>, TemplateError> {
        let version = self.city_version();
        if let Some((v, sheets)) = self.sheets.read().ok().and_then(|s| s.clone()) {
            if v == version {
                return Ok(sheets);
            }
        }
        let sheet = |name: &str| -> Result<Sheet, TemplateError> {
            use sha2::{Digest, Sha256};
            let body = self.text.render(name, &Value::Null)?;
            let digest = Sha256::digest(body.as_bytes());
            let tag = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
            Ok(Sheet { body, tag })
        };
        let sheets = Arc::new(Sheets {
            page: sheet("css/page")?,
            admin: sheet("css/admin")?,
        });
        if let Ok(mut s) = self.sheets.write() {
            *s = Some((version, sheets.clone()));
        }
        Ok(sheets)
    }

    /// The address of a stylesheet (`page` or `admin`), with its version.
    pub fn stylesheet(&self, name: &str) -> String {
        let tag = self
            .sheets()
            .ok()
            .and_then(|s| s.get(name).map(|s| s.tag.clone()))
            .unwrap_or_default();
        format!("/assets/{name}.css?v={tag}")
    }

    /// The city as pages and emails show it now.
    pub fn city(&self) -> Arc<CityProfile> {
        self.city.current()
    }

    /// The city's name in `lang` (the locale's own where the city has none).
    pub fn city_name(&self, lang: Language) -> String {
        self.city.name(lang)
    }

    /// Puts a new profile in place: the next page and email rendered use it.
    pub fn set_city(&self, profile: CityProfile) {
        if *self.city.current() == profile {
            return;
        }
        match self.city.profile.write() {
            Ok(mut p) => *p = Arc::new(profile),
            Err(e) => *e.into_inner() = Arc::new(profile),
        }
        self.city
            .version
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// Changes with every new city profile (a key for pages rendered once).
    pub fn city_version(&self) -> u64 {
        self.city.version.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The strings of one language.
    pub fn strings(&self, lang: Language) -> &Value {
        // Every language is loaded by `load`, so the fallback is never taken.
        self.strings.get(&lang).unwrap_or(&Value::Null)
    }

    /// One string by its dotted path, such as `errors.required`.
    pub fn text(&self, lang: Language, path: &str) -> String {
        let mut v = self.strings(lang);
        for part in path.split('.') {
            v = &v[part];
        }
        v.as_str().unwrap_or(path).to_string()
    }

    pub fn render<T: Serialize>(&self, name: &str, data: &T) -> Result<String, TemplateError> {
        Ok(self.hb.render(name, data)?)
    }

    /// Renders a plain-text template (no HTML escaping: for subjects and text parts only).
    pub fn render_text<T: Serialize>(&self, name: &str, data: &T) -> Result<String, TemplateError> {
        Ok(self.text.render(name, data)?)
    }
}

/// Fields every page shares: `<html lang dir>`, the title and the language's strings.
#[derive(Serialize)]
pub struct PageMeta<'a> {
    pub lang: &'static str,
    pub dir: &'static str,
    pub title: String,
    pub t: &'a Value,
    pub stylesheet: String,
}

impl<'a> PageMeta<'a> {
    pub fn new(templates: &'a Templates, lang: Language, title: String) -> Self {
        PageMeta {
            lang: lang.code(),
            dir: lang.dir(),
            title,
            t: templates.strings(lang),
            stylesheet: templates.stylesheet("page"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(prefix: &str, v: &Value, out: &mut Vec<String>) {
        if let Value::Object(map) = v {
            for (k, child) in map {
                keys(&format!("{prefix}{k}."), child, out);
            }
        } else {
            assert!(
                v.as_str().is_some_and(|s| !s.is_empty()),
                "{prefix} is empty"
            );
            out.push(prefix.to_string());
        }
    }

    #[test]
    fn every_locale_has_the_same_keys_and_no_empty_string() {
        let t = Templates::load().expect("templates load");
        let mut reference = Vec::new();
        keys("", t.strings(Language::He), &mut reference);
        reference.sort();
        for lang in Language::ALL {
            let mut got = Vec::new();
            keys("", t.strings(lang), &mut got);
            got.sort();
            assert_eq!(got, reference, "{lang:?} differs from Hebrew");
        }
    }

    #[test]
    fn text_looks_up_dotted_paths() {
        let t = Templates::load().expect("templates load");
        assert_eq!(t.text(Language::En, "thanks.title"), "Thank you!");
        assert_eq!(t.text(Language::En, "no.such.key"), "no.such.key");
    }
}
