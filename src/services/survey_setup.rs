//! A city's own questionnaires and who gets which: an admin copies a built-in questionnaire
//! under a code of their own, and assigns questionnaires to an audience, a department or a
//! service. When an interaction is recorded the most specific assignment wins (the service's,
//! its department's, the audience's), and the built-in questionnaire where none is set; links
//! already sent keep the version they carry. Each change is logged in its transaction.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::audit::{self, Action, Actor, Change};
use super::surveys::survey_key;
use crate::db::{self, surveys::AssignmentRow, surveys::SurveyRow, DbConnection, DbError};
use crate::domain::catalog::is_valid_code;
use crate::domain::interaction::Audience;
use crate::domain::language::Language;
use crate::domain::survey::SurveyDefinition;
use crate::domain::survey_edit::MAX_TEXT;

/// The prefix of a city's own questionnaires' keys, so that they never meet a built-in one.
pub const CITY_PREFIX: &str = "city.";

#[derive(Debug, thiserror::Error)]
pub enum SurveySetupError {
    /// What is wrong, as a key under `admin.surveys.errors`.
    #[error("refused: {0}")]
    Refused(&'static str),
    #[error(transparent)]
    Db(DbError),
}
super::db_error_from!(SurveySetupError);

/// Who an assignment is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Audience,
    Department(String),
    Service(String),
}

impl Target {
    pub fn kind(&self) -> &'static str {
        match self {
            Target::Audience => "audience",
            Target::Department(_) => "department",
            Target::Service(_) => "service",
        }
    }

    pub fn code(&self) -> &str {
        match self {
            Target::Audience => "",
            Target::Department(c) | Target::Service(c) => c,
        }
    }

    /// From the form's one field: `audience`, `department:CODE` or `service:CODE`.
    pub fn parse(s: &str) -> Option<Target> {
        match s.split_once(':') {
            None if s == "audience" => Some(Target::Audience),
            Some(("department", code)) => Some(Target::Department(code.to_string())),
            Some(("service", code)) => Some(Target::Service(code.to_string())),
            _ => None,
        }
    }

    pub fn as_field(&self) -> String {
        match self {
            Target::Audience => "audience".into(),
            t => format!("{}:{}", t.kind(), t.code()),
        }
    }
}

/// Stores a new questionnaire `city.CODE` for an audience, a copy of the latest built-in one
/// for that audience under the given Hebrew name; returns its key.
pub fn create(
    conn: &mut DbConnection,
    audience: Audience,
    code: &str,
    title: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<String, SurveySetupError> {
    let code = code.trim().to_ascii_lowercase();
    let title = title.trim();
    if !is_valid_code(&code) || code.len() > 40 {
        return Err(SurveySetupError::Refused("code"));
    }
    if title.is_empty() || title.chars().count() > MAX_TEXT || title.chars().any(char::is_control) {
        return Err(SurveySetupError::Refused("title"));
    }
    let key = format!("{CITY_PREFIX}{code}");
    db::write_transaction(conn, |conn| {
        if db::surveys::latest(conn, &key)?.is_some() {
            return Err(SurveySetupError::Refused("taken"));
        }
        let base = db::surveys::latest(conn, survey_key(audience))?
            .ok_or(SurveySetupError::Refused("invalid"))?;
        let mut def = SurveyDefinition::from_json(&base.definition).map_err(DbError::Migration)?;
        def.key = key.clone();
        def.title = Some(
            Language::ALL
                .into_iter()
                .map(|l| (l, title.to_string()))
                .collect(),
        );
        db::surveys::insert(
            conn,
            &SurveyRow {
                id: uuid::Uuid::new_v4().to_string(),
                survey_key: key.clone(),
                version: 1,
                audience: def.audience.as_str().to_string(),
                definition: def.to_json(),
                created_at: now.naive_utc(),
            },
        )?;
        let change = Change {
            action: Action::SurveyCreated,
            target: &key,
            before: None,
            after: Some(
                json!({ "audience": audience.as_str(), "title": title, "from": base.survey_key }),
            ),
        };
        audit::record(conn, actor, change, now)?;
        Ok(key.clone())
    })
}

/// Gives `target` (of `audience`) the questionnaire `key`, which must be that audience's.
pub fn assign(
    conn: &mut DbConnection,
    audience: Audience,
    target: &Target,
    key: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), SurveySetupError> {
    db::write_transaction(conn, |conn| {
        let survey = db::surveys::latest(conn, key)?.ok_or(SurveySetupError::Refused("survey"))?;
        if survey.audience != audience.as_str() {
            return Err(SurveySetupError::Refused("audience"));
        }
        let known = match target {
            Target::Audience => true,
            Target::Department(code) => super::catalog::has_department(conn, code)?,
            Target::Service(code) => {
                let serves = match audience {
                    Audience::Resident => "residents",
                    Audience::Employee => "employees",
                };
                db::catalog::service_serves(conn, code, serves)?
            }
        };
        if !known {
            return Err(SurveySetupError::Refused("target"));
        }
        let before = db::surveys::assign(
            conn,
            &AssignmentRow {
                audience: audience.as_str().to_string(),
                target_kind: target.kind().to_string(),
                target_code: target.code().to_string(),
                survey_key: key.to_string(),
                updated_at: now.naive_utc(),
            },
        )?;
        let change = Change {
            action: Action::SurveyAssigned,
            target: &format!("{} {}", audience.as_str(), target.as_field()),
            before: before.map(|k| json!({ "survey": k })),
            after: Some(json!({ "survey": key })),
        };
        audit::record(conn, actor, change, now)?;
        Ok(())
    })
}

/// Takes `target`'s assignment away (it gets the next more general one again).
pub fn unassign(
    conn: &mut DbConnection,
    audience: Audience,
    target: &Target,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), SurveySetupError> {
    db::write_transaction(conn, |conn| {
        let before = db::surveys::unassign(conn, audience.as_str(), target.kind(), target.code())?;
        let Some(before) = before else {
            return Err(SurveySetupError::Refused("target"));
        };
        let change = Change {
            action: Action::SurveyUnassigned,
            target: &format!("{} {}", audience.as_str(), target.as_field()),
            before: Some(json!({ "survey": before })),
            after: None,
        };
        audit::record(conn, actor, change, now)?;
        Ok(())
    })
}

/// The questionnaire version a new interaction gets: the latest of the most specific
/// assignment, or of the audience's built-in questionnaire.
pub fn for_interaction(
    conn: &mut DbConnection,
    audience: Audience,
    department: &str,
    service: &str,
) -> Result<Option<SurveyRow>, DbError> {
    if let Some(key) = db::surveys::assigned_key(conn, audience.as_str(), department, service)? {
        if let Some(row) = db::surveys::latest(conn, &key)? {
            return Ok(Some(row));
        }
    }
    Ok(db::surveys::latest(conn, survey_key(audience))?)
}

/// Every assignment, by audience.
pub fn assignments(
    conn: &mut DbConnection,
) -> Result<BTreeMap<String, Vec<(Target, String)>>, DbError> {
    let mut out: BTreeMap<String, Vec<(Target, String)>> = BTreeMap::new();
    for row in db::surveys::assignments(conn)? {
        let target = match row.target_kind.as_str() {
            "department" => Target::Department(row.target_code),
            "service" => Target::Service(row.target_code),
            _ => Target::Audience,
        };
        out.entry(row.audience)
            .or_default()
            .push((target, row.survey_key));
    }
    Ok(out)
}
