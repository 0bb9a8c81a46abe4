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

/// Stores each built-in questionnaire whose latest stored version differs from the shipped one,
/// as a new version; stored versions are never edited.
pub fn ensure_defaults(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<(), DbError> {
    for text in [RESIDENT_DEFAULT, EMPLOYEE_DEFAULT] {
        ensure_default(conn, text, now)?;
    }
    Ok(())
}

fn ensure_default(conn: &mut DbConnection, text: &str, now: DateTime<Utc>) -> Result<(), DbError> {
    let def = SurveyDefinition::from_json(text).map_err(DbError::Migration)?;
    db::write_transaction(conn, |conn| {
        let latest = db::surveys::latest(conn, &def.key)?;
        let json = def.to_json();
        if latest.as_ref().is_some_and(|row| row.definition == json) {
            return Ok(());
        }
        db::surveys::insert(
            conn,
            &SurveyRow {
                id: uuid::Uuid::new_v4().to_string(),
                survey_key: def.key.clone(),
                version: latest.map_or(1, |row| row.version + 1),
                audience: def.audience.clone(),
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
