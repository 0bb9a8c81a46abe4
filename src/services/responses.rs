//! A resident opens a survey link and answers it; the answer is stored exactly once.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use crate::db::{self, interactions::InvitationView, responses::AnswerRow, responses::ResponseRow};
use crate::db::{DbConnection, DbError};
use crate::domain::interaction::Audience;
use crate::domain::language::Language;
use crate::domain::metrics::ResponseFigures;
use crate::domain::period::{day_begins, day_key, local_day, month_start};
use crate::domain::survey::{parse_answers, Answer, AnswerProblems, AnswerValue, SurveyDefinition};
use crate::domain::token::{hash_secret, looks_like_survey_token};

use super::followups;
use super::surveys::SurveyCache;
use crate::db::followups::FollowupRow;
use crate::db::inbox::InboxRow;
use crate::domain::followup::FollowupPolicy;
use crate::domain::sealed::{InboxKey, TooLong};

pub use crate::domain::anonymity::TICKETS;

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
    /// Cannot happen for a survey that passed its checks; refused rather than sealed at a
    /// length that would tell it apart.
    #[error(transparent)]
    Unsealable(#[from] TooLong),
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
    if view.answered {
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
    record: Record,
}

/// What an answer stores. (One per request, moved once: its size does not matter.)
#[allow(clippy::large_enum_variant)]
enum Record {
    /// A resident's response, linked to its invitation, with the follow-up case it opens
    /// (stored in the same transaction).
    Resident {
        response: ResponseRow,
        rows: Vec<AnswerRow>,
        followup: Option<FollowupRow>,
    },
    /// An employee's, sealed until its group is complete (see `services::inbox`).
    Employee(Vec<InboxRow>),
}

/// Checks a submitted form against its survey; reads only, so it can run where reads are cheap
/// and leave the writer only the writes.
pub fn prepare(
    conn: &mut DbConnection,
    cache: &SurveyCache,
    followup: &FollowupPolicy,
    inbox: &InboxKey,
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
    let inv = open.invitation;
    let record = if inv.audience == Audience::Employee.as_str() {
        let (response, rows) = anonymous_response(
            &open.survey,
            &open.survey_id,
            &inv.service_code,
            &answers,
            local_day(now),
            TICKETS,
        );
        let month = response.day.clone();
        Record::Employee(super::inbox::seal(
            inbox,
            TICKETS,
            &month,
            vec![(response, rows)],
        )?)
    } else {
        let mut response = response_row(
            &open.survey,
            &open.survey_id,
            &inv.service_code,
            &answers,
            now,
        );
        response.invitation_id = Some(inv.invitation_id.clone());
        response.audience = inv.audience.clone();
        response.channel = inv.channel.clone();
        response.language = open.language.code().to_string();
        let followup = followups::plan(
            conn,
            followup,
            &inv,
            &response.id,
            (&open.survey, &answers),
            now,
        )?;
        let rows = answer_rows(&response.id, answers);
        Record::Resident {
            response,
            rows,
            followup,
        }
    };
    Ok(Prepared {
        invitation: inv,
        language: open.language,
        record,
    })
}

/// A resident's response row (callers add what links it to its invitation).
fn response_row(
    survey: &SurveyDefinition,
    survey_id: &str,
    service_code: &str,
    answers: &[Answer],
    now: DateTime<Utc>,
) -> ResponseRow {
    let figures = ResponseFigures::from_answers(survey, answers);
    ResponseRow {
        id: uuid::Uuid::new_v4().to_string(),
        invitation_id: None,
        survey_id: survey_id.to_string(),
        audience: Audience::Resident.as_str().to_string(),
        service_code: service_code.to_string(),
        channel: None,
        language: String::new(),
        submitted_at: now.naive_utc(),
        day: day_key(local_day(now)),
        overall: figures.overall,
        effort: figures.effort,
        nps: figures.nps,
        resolved: figures.resolved,
        cohort: None,
    }
}

/// An employee's answer about one unit, stripped of everything that could lead back to them:
/// a random id, no invitation, no channel, no language, and only the month (its first day) as
/// its time. `cohort` names the group it is reported in (`tickets`, or `campaign:ID`).
pub fn anonymous_response(
    survey: &SurveyDefinition,
    survey_id: &str,
    service_code: &str,
    answers: &[Answer],
    day: NaiveDate,
    cohort: &str,
) -> (ResponseRow, Vec<AnswerRow>) {
    let month = month_start(day);
    let mut response = response_row(survey, survey_id, service_code, answers, day_begins(month));
    response.audience = Audience::Employee.as_str().to_string();
    response.submitted_at = month.and_hms_opt(0, 0, 0).unwrap_or_default();
    response.day = day_key(month);
    response.cohort = Some(cohort.to_string());
    let rows = answer_rows(&response.id, answers.to_vec());
    (response, rows)
}

fn answer_rows(response_id: &str, answers: Vec<Answer>) -> Vec<AnswerRow> {
    answers
        .into_iter()
        .map(|a| {
            let (int_value, text_value) = match a.value {
                AnswerValue::Int(n) => (Some(n), None),
                AnswerValue::Text(t) => (None, Some(t)),
            };
            AnswerRow {
                response_id: response_id.to_string(),
                question_id: a.question_id,
                int_value,
                text_value,
            }
        })
        .collect()
}

/// Stores a prepared answer. Of several racing submissions exactly one is stored: the
/// conditional update on the invitation admits one, and `responses.invitation_id` is unique.
pub fn store(
    conn: &mut DbConnection,
    prepared: &Prepared,
    now: DateTime<Utc>,
) -> Result<Language, SurveyError> {
    let inv = &prepared.invitation;
    let stored = match (&prepared.record, &mut *conn) {
        // Employees: the invitation records that it was answered, never when, and the answer
        // goes to the inbox sealed.
        (Record::Employee(sealed), _) => db::write_transaction(conn, |conn| {
            if db::interactions::mark_answered(conn, &inv.invitation_id, now.naive_utc(), None)?
                == 0
            {
                return Ok(false);
            }
            for row in sealed {
                db::inbox::insert(conn, row)?;
            }
            Ok::<_, diesel::result::Error>(true)
        }),
        // One statement, one round trip: round trips are what answers cost on PostgreSQL.
        (
            Record::Resident {
                response,
                rows,
                followup: None,
            },
            DbConnection::Postgres(c),
        ) => db::responses::claim_and_insert_pg(
            c,
            &inv.invitation_id,
            now.naive_utc(),
            Some(now.naive_utc()),
            response,
            rows,
        ),
        (
            Record::Resident {
                response,
                rows,
                followup,
            },
            _,
        ) => db::write_transaction(conn, |conn| {
            let claimed = match conn {
                // With a case to open: the same statement and the case, in one transaction.
                DbConnection::Postgres(c) => db::responses::claim_and_insert_pg(
                    c,
                    &inv.invitation_id,
                    now.naive_utc(),
                    Some(now.naive_utc()),
                    response,
                    rows,
                )?,
                DbConnection::Sqlite(_) => {
                    let claimed = db::interactions::mark_answered(
                        conn,
                        &inv.invitation_id,
                        now.naive_utc(),
                        Some(now.naive_utc()),
                    )? > 0;
                    if claimed {
                        db::responses::insert(conn, response, rows)?;
                    }
                    claimed
                }
            };
            if let (true, Some(f)) = (claimed, followup) {
                db::followups::insert(conn, f)?;
            }
            Ok::<_, diesel::result::Error>(claimed)
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
    followup: &FollowupPolicy,
    inbox: &InboxKey,
    token: &str,
    form: &[(String, String)],
    now: DateTime<Utc>,
) -> Result<Language, SurveyError> {
    let prepared = prepare(conn, cache, followup, inbox, token, form, now)?;
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
