//! What a department's or a service's page adds to the figures: every scale question of the
//! residents' survey (professionalism and timeliness too), and the comments, newest first,
//! filterable by score and searchable, each with its case. Employees' comments come only from
//! groups that may be shown, with nothing beside them that could tell them apart.

use std::sync::Arc;

pub use crate::db::details::CommentFilter;
use crate::db::details::{self, CommentLine};
use crate::db::DbConnection;
use crate::domain::interaction::Audience;
use crate::domain::period::{day_key, local_time_text};
use crate::domain::report::ReportParams;
use crate::domain::survey::SurveyDefinition;
use crate::services::reports::{self, ReportContext, ReportQueryError};
use crate::services::surveys::{self, SurveyCache};

/// The most comments a page lists.
pub const COMMENTS: i64 = 50;

/// One comment as a manager reads it.
#[derive(Debug, Clone)]
pub struct Comment {
    /// When it was given: the local time for a resident, only the day for an employee.
    pub when: String,
    pub service: String,
    pub score: Option<i32>,
    pub text: String,
    /// The follow-up case opened on it, if any.
    pub case_id: Option<String>,
}

/// One scale question's tally: how many answered it, and the sum of their answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuestionTally {
    pub question_id: String,
    pub n: i64,
    pub sum: i64,
}

/// The details as read from the database, before names are put on them.
#[derive(Debug, Default)]
pub struct Details {
    pub questions: Vec<QuestionTally>,
    pub survey: Option<Arc<SurveyDefinition>>,
    pub comments: Vec<Comment>,
}

/// Residents' answers over the same services, period and channel as the page's figures.
fn scope_of(
    conn: &mut DbConnection,
    params: &ReportParams,
) -> Result<details::Scope, ReportQueryError> {
    Ok(details::Scope {
        from_day: day_key(params.from),
        to_day: day_key(params.to),
        services: reports::services_for(conn, params)?,
        channel: params.channel.map(|c| c.as_str().to_string()),
    })
}

/// Every scale question's tally, with the survey that names them (residents only: employees'
/// answers are shown by group, never question by question).
pub fn read_questions(
    conn: &mut DbConnection,
    cache: &SurveyCache,
    params: &ReportParams,
) -> Result<Details, ReportQueryError> {
    if params.audience == Audience::Employee {
        return Ok(Details::default());
    }
    let scope = scope_of(conn, params)?;
    let questions = details::question_tallies(conn, &scope)?
        .into_iter()
        .map(|q| QuestionTally {
            question_id: q.question_id,
            n: q.n,
            sum: q.sum,
        })
        .collect();
    let survey = surveys::asked(conn, cache, Audience::Resident).map_err(ReportQueryError::Db)?;
    Ok(Details {
        questions,
        survey,
        comments: Vec::new(),
    })
}

/// The comments, newest first: residents' with their score and case; employees' only from
/// groups that may be shown, with nothing beside them.
pub fn read_comments(
    conn: &mut DbConnection,
    ctx: &ReportContext,
    params: &ReportParams,
    filter: &CommentFilter,
) -> Result<Vec<Comment>, ReportQueryError> {
    if params.audience == Audience::Employee {
        return Ok(reports::comments(conn, ctx, params, COMMENTS, None)?
            .comments
            .into_iter()
            .map(|c| Comment {
                when: c.day,
                service: c.service,
                score: None,
                text: c.text,
                case_id: None,
            })
            .collect());
    }
    let scope = scope_of(conn, params)?;
    Ok(details::comments(conn, &scope, filter, COMMENTS)?
        .into_iter()
        .map(|c: CommentLine| Comment {
            when: local_time_text(c.submitted_at),
            service: c.service_code,
            score: c.overall,
            text: c.text.unwrap_or_default(),
            case_id: c.case_id,
        })
        .collect())
}
