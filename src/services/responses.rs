//! A resident opens a survey link and answers it; the answer is stored exactly once.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::db::{self, interactions::InvitationView, responses::AnswerRow, responses::ResponseRow};
use crate::db::{DbConnection, DbError};
use crate::domain::language::Language;
use crate::domain::survey::{parse_answers, AnswerProblems, AnswerValue, SurveyDefinition};
use crate::domain::token::{hash_secret, looks_like_survey_token};

use super::surveys::SurveyCache;

/// Why a link cannot be answered now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    Answered,
    Expired,
}

#[derive(Debug, thiserror::Error)]
pub enum SurveyError {
    #[error("no such survey link")]
    NotFound,
    #[error("the survey link is closed ({closed:?})")]
    Closed { closed: Closed, language: Language },
    #[error("some answers are missing or invalid")]
    Invalid {
        open: Box<OpenSurvey>,
        problems: AnswerProblems,
    },
    #[error(transparent)]
    Db(DbError),
}
super::db_error_from!(SurveyError);

/// An invitation that can be answered, with its survey.
#[derive(Debug, Clone)]
pub struct OpenSurvey {
    pub invitation: InvitationView,
    pub language: Language,
    pub survey_id: String,
    pub survey: Arc<SurveyDefinition>,
}

/// Looks up a link for display. Reads only: mail scanners and previews open links too.
pub fn open(
    conn: &mut DbConnection,
    cache: &SurveyCache,
    token: &str,
    now: DateTime<Utc>,
) -> Result<OpenSurvey, SurveyError> {
    if !looks_like_survey_token(token) {
        return Err(SurveyError::NotFound);
    }
    let view = db::interactions::find_view_by_token_hash(conn, &hash_secret(token))?
        .ok_or(SurveyError::NotFound)?;
    let language = Language::parse(&view.language).unwrap_or_default();
    if let Some(closed) = closed_state(&view, now) {
        return Err(SurveyError::Closed { closed, language });
    }
    let survey = cache.get(conn, &view.survey_id)?;
    Ok(OpenSurvey {
        survey_id: view.survey_id.clone(),
        invitation: view,
        language,
        survey,
    })
}

fn closed_state(view: &InvitationView, now: DateTime<Utc>) -> Option<Closed> {
    if view.answered_at.is_some() {
        Some(Closed::Answered)
    } else if view.expires_at <= now.naive_utc() {
        Some(Closed::Expired)
    } else {
        None
    }
}

/// A checked answer, ready to be stored.
pub struct Prepared {
    invitation: InvitationView,
    language: Language,
    response: ResponseRow,
    rows: Vec<AnswerRow>,
}

/// Checks a submitted form against its survey; reads only, so it can run where reads are cheap
/// and leave the writer only the writes.
pub fn prepare(
    conn: &mut DbConnection,
    cache: &SurveyCache,
    token: &str,
    form: &[(String, String)],
    now: DateTime<Utc>,
) -> Result<Prepared, SurveyError> {
    let open = open(conn, cache, token, now)?;
    let answers = match parse_answers(&open.survey, form) {
        Ok(a) => a,
        Err(problems) => {
            return Err(SurveyError::Invalid {
                open: Box::new(open),
                problems,
            })
        }
    };
    let response_id = uuid::Uuid::new_v4().to_string();
    let inv = open.invitation;
    let response = ResponseRow {
        id: response_id.clone(),
        invitation_id: Some(inv.invitation_id.clone()),
        survey_id: open.survey_id,
        audience: inv.audience.clone(),
        service_code: inv.service_code.clone(),
        channel: inv.channel.clone(),
        language: open.language.code().to_string(),
        submitted_at: now.naive_utc(),
    };
    let rows: Vec<AnswerRow> = answers
        .into_iter()
        .map(|a| {
            let (int_value, text_value) = match a.value {
                AnswerValue::Int(n) => (Some(n), None),
                AnswerValue::Text(t) => (None, Some(t)),
            };
            AnswerRow {
                response_id: response_id.clone(),
                question_id: a.question_id,
                int_value,
                text_value,
            }
        })
        .collect();
    Ok(Prepared {
        invitation: inv,
        language: open.language,
        response,
        rows,
    })
}

/// Stores a prepared answer. Of several racing submissions exactly one is stored: the
/// conditional update on the invitation admits one, and `responses.invitation_id` is unique.
pub fn store(
    conn: &mut DbConnection,
    prepared: &Prepared,
    now: DateTime<Utc>,
) -> Result<Language, SurveyError> {
    let inv = &prepared.invitation;
    let stored = match conn {
        // One statement, one round trip: round trips are what answers cost on PostgreSQL.
        DbConnection::Postgres(c) => db::responses::claim_and_insert_pg(
            c,
            now.naive_utc(),
            &prepared.response,
            &prepared.rows,
        ),
        DbConnection::Sqlite(_) => db::write_transaction(conn, |conn| {
            if db::interactions::mark_answered(conn, &inv.invitation_id, now.naive_utc())? == 0 {
                return Ok(false);
            }
            db::responses::insert(conn, &prepared.response, &prepared.rows)?;
            Ok::<_, diesel::result::Error>(true)
        }),
    };
    let language = prepared.language;
    match stored {
        Ok(true) => Ok(language),
        Ok(false) => Err(lost_race(inv, now, language)),
        Err(e) if db::connection::is_unique_violation(&e) => Err(lost_race(inv, now, language)),
        Err(e) => Err(e.into()),
    }
}

/// Checks and stores a submitted form on one connection.
pub fn submit(
    conn: &mut DbConnection,
    cache: &SurveyCache,
    token: &str,
    form: &[(String, String)],
    now: DateTime<Utc>,
) -> Result<Language, SurveyError> {
    let prepared = prepare(conn, cache, token, form, now)?;
    store(conn, &prepared, now)
}

fn lost_race(inv: &InvitationView, now: DateTime<Utc>, language: Language) -> SurveyError {
    let closed = if inv.expires_at <= now.naive_utc() {
        Closed::Expired
    } else {
        Closed::Answered
    };
    SurveyError::Closed { closed, language }
}
