//! `GET /admin/settings` and `POST /admin/settings`: the city's name in four languages, its
//! colour, contact line and privacy notice. Admins only. Saved, the next page and email use
//! them (no restart); what the server's configuration sets (`MASHOV_CITY_NAME`,
//! `MASHOV_BRAND_COLOR`) wins, and the page says so beside the field.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::setup::{self, admin_page, admin_post_up_to, Posted};
use super::{field, html, refusal, AdminError, Chrome, Signed};
use crate::domain::language::Language;
use crate::domain::FieldErrors;
use crate::services::audit::Actor;
use crate::services::city::{self, CityError, LogoError, Stored};
use crate::state::AppState;

pub(super) const PAGE: &str = "/admin/settings";

#[derive(Serialize)]
struct LanguageField {
    code: &'static str,
    dir: &'static str,
    label: String,
    name: String,
    privacy: String,
    name_error: Option<String>,
    privacy_error: Option<String>,
}

/// One rule of the form: a setting an admin may set, by its environment name.
#[derive(Serialize)]
struct RuleField {
    key: &'static str,
    id: String,
    label: String,
    hint: String,
    value: String,
    /// The configuration's own value, which wins (the field is then read-only).
    configured: Option<String>,
    error: Option<String>,
}

#[derive(Serialize)]
struct SettingsPage<'a> {
    #[serde(flatten)]
    chrome: Chrome<'a>,
    done: Option<String>,
    errors: Vec<String>,
    by_language: Vec<LanguageField>,
    /// Set by the configuration: shown, not editable here.
    name_configured: Option<String>,
    color: String,
    color_configured: Option<String>,
    color_error: Option<String>,
    contact: String,
    contact_error: Option<String>,
    rules: Vec<RuleField>,
    /// Where the current logo is served, if there is one.
    logo_url: Option<String>,
    logo_error: Option<String>,
}

pub async fn show(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = async {
        let signed = admin_page(&state, &req).await?;
        let (stored, rules) = state
            .db
            .read(|conn| Ok::<_, AdminError>((city::stored(conn)?, city::stored_rules(conn)?)))
            .await?;
        render(&state, &req, &signed, &stored, &rules, &FieldErrors::new())
    };
    result.await.unwrap_or_else(|e| refusal(&state, &req, e))
}

pub(super) fn render(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    signed: &Signed,
    s: &Stored,
    stored_rules: &BTreeMap<String, String>,
    errors: &FieldErrors,
) -> Result<HttpResponse, AdminError> {
    let lang = signed.lang;
    let text = |key: &str| state.templates.text(lang, &format!("admin.settings.{key}"));
    let error = |field: &str| {
        errors
            .get(field)
            .map(|kind| text(&format!("errors.{kind}")))
    };
    let languages = Language::ALL
        .into_iter()
        .map(|l| LanguageField {
            code: l.code(),
            dir: l.dir(),
            label: state.templates.text(l, "admin.language_name"),
            name: s.names.get(&l).cloned().unwrap_or_default(),
            privacy: s.privacy.get(&l).cloned().unwrap_or_default(),
            name_error: error(&format!("name_{}", l.code())),
            privacy_error: error(&format!("privacy_{}", l.code())),
        })
        .collect();
    let settings = &state.settings;
    let rules = crate::config::ADJUSTABLE
        .into_iter()
        .map(|key| {
            let name = key.trim_start_matches("MASHOV_").to_ascii_lowercase();
            RuleField {
                key,
                id: format!("rule-{name}"),
                label: text(&format!("rules.{name}")),
                hint: text(&format!("rules.{name}_hint")),
                value: stored_rules.get(key).cloned().unwrap_or_default(),
                configured: settings.configured.get(key).cloned(),
                error: errors.get(key).map(|_| text("errors.rule")),
            }
        })
        .collect();
    let page = SettingsPage {
        chrome: Chrome::new(state, req, lang, Some(signed), "settings.title"),
        done: setup::done_message(state, req, lang, &["settings_saved"]),
        errors: errors
            .keys()
            .map(|field| match field.strip_prefix("MASHOV_") {
                Some(_) => "rules",
                None => field.split('_').next().unwrap_or(field),
            })
            .filter(|kind| *kind != "logo")
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .map(|kind| text(&format!("fields.{kind}")))
            .collect(),
        by_language: languages,
        name_configured: settings.city_name.clone(),
        color: s.color.clone(),
        color_configured: settings
            .brand_color_configured
            .then(|| settings.brand_color.clone()),
        color_error: error("color"),
        contact: s.contact.clone(),
        contact_error: error("contact"),
        rules,
        logo_url: state
            .templates
            .city()
            .logo
            .as_ref()
            .map(|l| format!("/logo?v={}", l.version)),
        logo_error: errors
            .get("logo")
            .map(|k| text(&format!("logo_errors.{k}"))),
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(html(
        status,
        state.templates.render("admin/settings", &page),
    ))
}

pub async fn save(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let result = async {
        // Four privacy notices, percent-encoded, fit in 256 KiB.
        let posted = admin_post_up_to(&state, &req, payload, 256 * 1024).await?;
        match posted.one("action")? {
            "city" => save_city(&state, &req, posted).await,
            "rules" => save_rules(&state, &req, posted).await,
            "logo_remove" => {
                let actor = Actor::user(&posted.signed.account);
                let now = state.clock.now();
                state
                    .db
                    .write(move |conn| city::save_logo(conn, None, &actor, now))
                    .await
                    .map_err(logo_db_error)?;
                refresh_city(&state).await?;
                Ok(setup::done(PAGE, "settings_saved"))
            }
            _ => Err(AdminError::BadRequest),
        }
    };
    result.await.unwrap_or_else(|e| refusal(&state, &req, e))
}

async fn save_rules(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    posted: Posted,
) -> Result<HttpResponse, AdminError> {
    let stored = state.db.read(city::stored_rules).await?;
    let mut rules = BTreeMap::new();
    for key in crate::config::ADJUSTABLE {
        // A rule the configuration sets is read-only on the form (browsers do not send it, and
        // a post that does is not believed): what is stored stays for when it is unset.
        if state.settings.configured.contains_key(key) {
            if let Some(kept) = stored.get(key) {
                rules.insert(key.to_string(), kept.clone());
            }
        } else if let Some(value) = field(&posted.form, key)? {
            rules.insert(key.to_string(), value.trim().to_string());
        }
    }
    // Checked before the writer: a value that does not read never reaches a write batch.
    if let Err(errors) = city::check_rules(&rules) {
        let profile = state.db.read(city::stored).await?;
        return render(state, req, &posted.signed, &profile, &rules, &errors);
    }
    let actor = Actor::user(&posted.signed.account);
    let now = state.clock.now();
    let saving = rules.clone();
    match state
        .db
        .write(move |conn| city::save_rules(conn, &saving, &actor, now))
        .await
    {
        Ok(()) => {
            let policy = state
                .db
                .read(|conn| city::policy(conn, &state.settings))
                .await?;
            state.set_policy(policy);
            Ok(setup::done(PAGE, "settings_saved"))
        }
        Err(CityError::Invalid(errors)) => {
            let stored = state.db.read(city::stored).await?;
            render(state, req, &posted.signed, &stored, &rules, &errors)
        }
        Err(CityError::Db(e)) => Err(e.into()),
    }
}

async fn save_city(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    posted: Posted,
) -> Result<HttpResponse, AdminError> {
    let mut names = BTreeMap::new();
    let mut privacy = BTreeMap::new();
    for l in Language::ALL {
        let name = posted.one(&format!("name_{}", l.code()))?.trim();
        if !name.is_empty() {
            names.insert(l, name.to_string());
        }
        let notice = posted.one(&format!("privacy_{}", l.code()))?.trim();
        if !notice.is_empty() {
            privacy.insert(l, notice.replace("\r\n", "\n"));
        }
    }
    let mut new = Stored {
        names,
        color: posted.one("color")?.trim().to_ascii_lowercase(),
        contact: posted.one("contact")?.trim().to_string(),
        privacy,
    };
    // What the configuration sets is read-only on the form (browsers do not send disabled
    // fields): the stored names and colour stay as they are.
    if state.settings.city_name.is_some() || state.settings.brand_color_configured {
        let stored = state.db.read(city::stored).await?;
        if state.settings.city_name.is_some() {
            new.names = stored.names;
        }
        if state.settings.brand_color_configured {
            new.color = stored.color;
        }
    }
    let actor = Actor::user(&posted.signed.account);
    let now = state.clock.now();
    let saving = new.clone();
    match state
        .db
        .write(move |conn| city::save(conn, &saving, &actor, now))
        .await
    {
        Ok(()) => {
            let profile = state
                .db
                .read(|conn| city::load(conn, &state.settings))
                .await?;
            state.templates.set_city(profile);
            Ok(setup::done(PAGE, "settings_saved"))
        }
        Err(CityError::Invalid(errors)) => {
            let rules = state.db.read(city::stored_rules).await?;
            render(state, req, &posted.signed, &new, &rules, &errors)
        }
        Err(CityError::Db(e)) => Err(e.into()),
    }
}

fn logo_db_error(e: LogoError) -> AdminError {
    match e {
        LogoError::Db(d) => AdminError::Db(d),
        LogoError::Refused(_) => AdminError::BadRequest,
    }
}

/// Reads the profile again and puts it in force.
pub(super) async fn refresh_city(state: &web::Data<AppState>) -> Result<(), AdminError> {
    let profile = state
        .db
        .read(|conn| city::load(conn, &state.settings))
        .await?;
    state.templates.set_city(profile);
    Ok(())
}
