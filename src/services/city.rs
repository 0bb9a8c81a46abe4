//! The city's profile (name, colour, contact line, privacy notice): what an admin stored, with
//! what the server's configuration sets on top (`MASHOV_CITY_NAME`, `MASHOV_BRAND_COLOR` win).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::Settings;
use crate::db::{self, DbConnection, DbError};
use crate::domain::city::{usable_color, CityProfile, Logo, DEFAULT_COLOR};
use crate::domain::language::Language;
use crate::domain::logo::{check as check_logo, LogoKind, LogoProblem};
use crate::domain::FieldErrors;
use crate::services::audit::{self, Action, Actor, Change};

/// Puts what the configuration sets over a stored profile.
pub fn overlay(profile: &mut CityProfile, settings: &Settings) {
    if let Some(name) = &settings.city_name {
        for lang in Language::ALL {
            profile.names.insert(lang, name.clone());
        }
    }
    if settings.brand_color_configured {
        profile.color = settings.brand_color.clone();
    }
}

/// What an admin stored (before the configuration is put over it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stored {
    #[serde(default)]
    pub names: BTreeMap<Language, String>,
    /// Empty: the default colour.
    #[serde(default)]
    pub color: String,
    #[serde(default)]
    pub contact: String,
    #[serde(default)]
    pub privacy: BTreeMap<Language, String>,
}

/// The row the profile is stored in.
const PROFILE: &str = "profile";
pub const MAX_NAME: usize = 100;
pub const MAX_CONTACT: usize = 300;
pub const MAX_PRIVACY: usize = 4000;

#[derive(Debug, thiserror::Error)]
pub enum CityError {
    /// Field name (such as `name_ar`, `color`) → what is wrong.
    #[error("invalid settings: {0:?}")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Db(DbError),
}
super::db_error_from!(CityError);

/// What is stored; a row this version cannot read counts as nothing stored (and is logged).
pub fn stored(conn: &mut DbConnection) -> Result<Stored, DbError> {
    let Some(text) = db::city::get(conn, PROFILE)? else {
        return Ok(Stored::default());
    };
    Ok(serde_json::from_str(&text).unwrap_or_else(|e| {
        tracing::error!(error = %e, "the stored city profile cannot be read; using defaults");
        Stored::default()
    }))
}

/// The profile pages and emails use: what is stored, with the configuration over it.
pub fn load(conn: &mut DbConnection, settings: &Settings) -> Result<CityProfile, DbError> {
    let s = stored(conn)?;
    let mut profile = CityProfile {
        names: s.names,
        // Checked again as it is read: only a colour that passes goes into a page's style.
        color: if usable_color(&s.color) {
            s.color
        } else {
            DEFAULT_COLOR.to_string()
        },
        contact: s.contact,
        privacy: s.privacy,
        logo: logo(conn)?,
    };
    overlay(&mut profile, settings);
    Ok(profile)
}

/// Checks a profile to store: short names and contact line without control characters, a
/// colour that carries white text, a privacy notice of reasonable length.
pub fn check(s: &Stored) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::new();
    let line =
        |text: &str, max: usize| text.chars().count() <= max && !text.chars().any(char::is_control);
    for (lang, name) in &s.names {
        if !line(name, MAX_NAME) {
            errors.insert(format!("name_{}", lang.code()), "too_long".into());
        }
    }
    if !s.color.is_empty() && !usable_color(&s.color) {
        errors.insert("color".into(), "color".into());
    }
    if !line(&s.contact, MAX_CONTACT) {
        errors.insert("contact".into(), "too_long".into());
    }
    for (lang, text) in &s.privacy {
        let ok = text.chars().count() <= MAX_PRIVACY
            && !text
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\r');
        if !ok {
            errors.insert(format!("privacy_{}", lang.code()), "too_long".into());
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Stores a new profile and logs the change, in one transaction.
pub fn save(
    conn: &mut DbConnection,
    new: &Stored,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), CityError> {
    check(new).map_err(CityError::Invalid)?;
    let value = serde_json::to_value(new).unwrap_or_default();
    db::write_transaction(conn, |c| {
        let before = stored(c)?;
        if before == *new {
            return Ok(());
        }
        db::city::put(c, PROFILE, &value.to_string(), now.naive_utc())?;
        let change = Change {
            action: Action::CityChanged,
            target: "city",
            before: Some(serde_json::to_value(&before).unwrap_or_default()),
            after: Some(value.clone()),
        };
        audit::record(c, actor, change, now)?;
        Ok(())
    })
}

/// The row the rules (the `ADJUSTABLE` settings an admin stored, by name) are kept in.
const RULES: &str = "rules";

/// The rules an admin stored, by setting name.
pub fn stored_rules(conn: &mut DbConnection) -> Result<BTreeMap<String, String>, DbError> {
    let Some(text) = db::city::get(conn, RULES)? else {
        return Ok(BTreeMap::new());
    };
    Ok(serde_json::from_str(&text).unwrap_or_else(|e| {
        tracing::error!(error = %e, "the stored rules cannot be read; using the configuration");
        BTreeMap::new()
    }))
}

/// The settings in force: `settings` with the stored rules where the configuration is silent.
/// A stored rule that no longer reads is logged and left out.
pub fn policy(conn: &mut DbConnection, settings: &Settings) -> Result<Settings, DbError> {
    let (effective, refused) = settings.with_stored(&stored_rules(conn)?);
    for (key, e) in refused {
        tracing::error!(setting = %key, error = %e, "a stored rule does not read; it is ignored");
    }
    Ok(effective)
}

/// Checks rules as the environment's parser reads them; returns those to keep (an empty one
/// is dropped: the default applies again), or each refused one by name.
pub fn check_rules(
    rules: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut kept = BTreeMap::new();
    for (key, value) in rules {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match Settings::check_adjustable(key, value) {
            Ok(_) => {
                kept.insert(key.clone(), value.to_string());
            }
            Err(_) => {
                errors.insert(key.clone(), "rule".into());
            }
        }
    }
    if errors.is_empty() {
        Ok(kept)
    } else {
        Err(errors)
    }
}

/// Checks and stores rules (setting name → text as the environment would give it; an empty
/// text removes the rule, so the default applies again), and logs the change.
pub fn save_rules(
    conn: &mut DbConnection,
    rules: &BTreeMap<String, String>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), CityError> {
    let kept = check_rules(rules).map_err(CityError::Invalid)?;
    let value = serde_json::to_value(&kept).unwrap_or_default();
    db::write_transaction(conn, |c| {
        let before = stored_rules(c)?;
        if before == kept {
            return Ok(());
        }
        db::city::put(c, RULES, &value.to_string(), now.naive_utc())?;
        let change = Change {
            action: Action::RulesChanged,
            target: "rules",
            before: Some(serde_json::to_value(&before).unwrap_or_default()),
            after: Some(value.clone()),
        };
        audit::record(c, actor, change, now)?;
        Ok(())
    })
}

/// The row the logo is kept in: its type and its bytes (base64), as JSON.
const LOGO: &str = "logo";

#[derive(Serialize, Deserialize)]
struct StoredLogo {
    content_type: String,
    data: String,
}

/// The stored logo, if any (one that no longer reads counts as none, and is logged).
pub fn logo(conn: &mut DbConnection) -> Result<Option<Logo>, DbError> {
    use base64::Engine;
    let Some(text) = db::city::get(conn, LOGO)? else {
        return Ok(None);
    };
    let parsed = serde_json::from_str::<StoredLogo>(&text)
        .ok()
        .and_then(|s| {
            let kind = LogoKind::parse(&s.content_type)?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(s.data)
                .ok()?;
            Some((kind, bytes))
        });
    let Some((kind, bytes)) = parsed else {
        tracing::error!("the stored logo cannot be read; pages show none");
        return Ok(None);
    };
    let version = hex_prefix(&bytes);
    Ok(Some(Logo {
        kind,
        bytes: std::sync::Arc::new(bytes),
        version,
    }))
}

fn hex_prefix(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[derive(Debug, thiserror::Error)]
pub enum LogoError {
    #[error(transparent)]
    Refused(#[from] LogoProblem),
    #[error(transparent)]
    Db(DbError),
}
super::db_error_from!(LogoError);

/// Checks and keeps a new logo (or, with `None`, removes it), and logs the change.
pub fn save_logo(
    conn: &mut DbConnection,
    bytes: Option<&[u8]>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), LogoError> {
    use base64::Engine;
    let new = match bytes {
        Some(b) => Some((check_logo(b)?, b)),
        None => None,
    };
    db::write_transaction(conn, |c| {
        let before = logo(c)?.map(|l| serde_json::json!({ "type": l.kind.content_type(), "bytes": l.bytes.len(), "version": l.version }));
        let after = match new {
            Some((kind, b)) => {
                let stored = StoredLogo {
                    content_type: kind.content_type().to_string(),
                    data: base64::engine::general_purpose::STANDARD.encode(b),
                };
                let text = serde_json::to_string(&stored).unwrap_or_default();
                db::city::put(c, LOGO, &text, now.naive_utc())?;
                Some(
                    serde_json::json!({ "type": kind.content_type(), "bytes": b.len(), "version": hex_prefix(b) }),
                )
            }
            None => {
                db::city::delete(c, LOGO)?;
                None
            }
        };
        if before == after {
            return Ok(());
        }
        let change = Change {
            action: Action::LogoChanged,
            target: "logo",
            before,
            after,
        };
        audit::record(c, actor, change, now)?;
        Ok(())
    })
}
