//! Survey versions and the in-memory cache of their parsed definitions.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};

use crate::db::{self, surveys::SurveyRow, DbConnection, DbError};
use crate::domain::interaction::Audience;
use crate::domain::survey::{SurveyDefinition, EMPLOYEE_DEFAULT, RESIDENT_DEFAULT};

/// The survey every resident interaction gets.
pub const RESIDENT_SURVEY_KEY: &str = "resident.post_interaction";
/// The survey employees get about an internal unit, after a ticket and in campaigns.
pub const EMPLOYEE_SURVEY_KEY: &str = "employee.internal_service";

/// The survey key for an audience.
pub fn survey_key(audience: Audience) -> &'static str {
    match audience {
        Audience::Resident => RESIDENT_SURVEY_KEY,
        Audience::Employee => EMPLOYEE_SURVEY_KEY,
    }
}

/// Stores each built-in questionnaire that no stored version matches, as a new version; stored
/// versions are never edited. (A version an admin saved stays the latest until mashov ships a
/// questionnaire it has not stored before.)
pub fn ensure_defaults(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<(), DbError> {
    for text in [RESIDENT_DEFAULT, EMPLOYEE_DEFAULT] {
        ensure_default(conn, text, now)?;
    }
    Ok(())
}

fn ensure_default(conn: &mut DbConnection, text: &str, now: DateTime<Utc>) -> Result<(), DbError> {
    let def = SurveyDefinition::from_json(text).map_err(DbError::Migration)?;
    db::write_transaction(conn, |conn| {
        let versions = db::surveys::versions(conn, &def.key)?;
        // Compared as read, not as text: a version stored before a field existed reads with
        // that field's default and is still the same questionnaire.
        let same = |row: &SurveyRow| {
            row.definition == def.to_json()
                || SurveyDefinition::from_json(&row.definition).is_ok_and(|d| d == def)
        };
        if versions.iter().any(same) {
            return Ok(());
        }
        let json = def.to_json();
        let latest = versions.into_iter().next();
        db::surveys::insert(
            conn,
            &SurveyRow {
                id: uuid::Uuid::new_v4().to_string(),
                survey_key: def.key.clone(),
                version: latest.map_or(1, |row| row.version + 1),
                audience: def.audience.as_str().to_string(),
                definition: json,
                created_at: now.naive_utc(),
            },
        )
    })
    .map_err(DbError::Query)
}

/// Parsed survey versions by id. Versions are immutable, so entries never go stale.
#[derive(Default)]
pub struct SurveyCache {
    by_id: RwLock<HashMap<String, Arc<SurveyDefinition>>>,
}

impl SurveyCache {
    pub fn get(&self, conn: &mut DbConnection, id: &str) -> Result<Arc<SurveyDefinition>, DbError> {
        if let Some(def) = self.by_id.read().ok().and_then(|m| m.get(id).cloned()) {
            return Ok(def);
        }
        let row = db::surveys::find(conn, id)?;
        let def =
            Arc::new(SurveyDefinition::from_json(&row.definition).map_err(DbError::Migration)?);
        if let Ok(mut m) = self.by_id.write() {
            m.insert(id.to_string(), def.clone());
        }
        Ok(def)
    }
}

/// The latest stored version of an audience's built-in survey, parsed (through the cache).
pub fn latest(
    conn: &mut DbConnection,
    cache: &SurveyCache,
    audience: Audience,
) -> Result<Option<Arc<SurveyDefinition>>, DbError> {
    match db::surveys::latest(conn, survey_key(audience))? {
        Some(row) => Ok(Some(cache.get(conn, &row.id)?)),
        None => Ok(None),
    }
}

/// An editable questionnaire: its key, audience, latest version and how many versions exist.
pub struct Editable {
    pub key: String,
    pub audience: Audience,
    /// One of mashov's own (named by the interface), not one the city made.
    pub builtin: bool,
    pub version: i32,
    pub versions: usize,
    pub definition: Arc<SurveyDefinition>,
}

/// Every questionnaire an admin may edit, latest versions: the built-in ones first, then the
/// city's own by key.
pub fn editable(conn: &mut DbConnection, cache: &SurveyCache) -> Result<Vec<Editable>, DbError> {
    let rows = db::surveys::all(conn)?;
    let mut out: Vec<Editable> = Vec::new();
    for row in &rows {
        if let Some(e) = out.last_mut().filter(|e| e.key == row.survey_key) {
            e.versions += 1;
            continue;
        }
        let Some(audience) = Audience::parse(&row.audience) else {
            continue;
        };
        out.push(Editable {
            key: row.survey_key.clone(),
            audience,
            builtin: row.survey_key == survey_key(audience),
            version: row.version,
            versions: 1,
            definition: cache.get(conn, &row.id)?,
        });
    }
    out.sort_by_key(|e| (!e.builtin, e.audience != Audience::Resident, e.key.clone()));
    Ok(out)
}

/// Every question an audience is asked today, for reports: the built-in questionnaire's latest
/// version, then the questions the city's own questionnaires add, each id once.
pub fn asked(
    conn: &mut DbConnection,
    cache: &SurveyCache,
    audience: Audience,
) -> Result<Option<Arc<SurveyDefinition>>, DbError> {
    let mut all = editable(conn, cache)?
        .into_iter()
        .filter(|e| e.audience == audience);
    let Some(first) = all.next() else {
        return Ok(None);
    };
    let mut merged: Option<SurveyDefinition> = None;
    for e in all {
        let m = merged.get_or_insert_with(|| (*first.definition).clone());
        for q in &e.definition.questions {
            if !m.questions.iter().any(|x| x.id == q.id) {
                m.questions.push(q.clone());
            }
        }
    }
    Ok(Some(merged.map_or(first.definition, Arc::new)))
}

/// Stores an edited questionnaire as a new version (unless it is the same as the latest), in
/// one transaction with its entry in the change log; returns the latest version's number.
/// Earlier versions, and the invitations that carry them, never change.
pub fn save_version(
    conn: &mut DbConnection,
    def: &SurveyDefinition,
    actor: &super::audit::Actor,
    now: DateTime<Utc>,
) -> Result<i32, DbError> {
    use super::audit::{self, Action, Change};
    db::write_transaction(conn, |conn| {
        let latest = db::surveys::latest(conn, &def.key)?;
        let json = def.to_json();
        if let Some(row) = latest.as_ref().filter(|row| row.definition == json) {
            return Ok(row.version);
        }
        let version = latest.as_ref().map_or(1, |row| row.version + 1);
        db::surveys::insert(
            conn,
            &SurveyRow {
                id: uuid::Uuid::new_v4().to_string(),
                survey_key: def.key.clone(),
                version,
                audience: def.audience.as_str().to_string(),
                definition: json,
                created_at: now.naive_utc(),
            },
        )?;
        let change = Change {
            action: Action::SurveySaved,
            target: &def.key,
            before: latest.map(|row| serde_json::json!({ "version": row.version })),
            after: Some(serde_json::json!({ "version": version })),
        };
        audit::record(conn, actor, change, now)?;
        Ok(version)
    })
}
