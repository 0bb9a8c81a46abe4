//! What a department's or a service's page adds to the figures: every scale question of the
//! residents' survey (professionalism and timeliness too), and the comments, newest first,
//! filterable by score and searchable, each linked to its case. Employees' comments come only
//! from groups that may be shown, with nothing beside them that could tell them apart.

use serde::Serialize;

use super::figures::mean_text;
use crate::db::details::{self, CommentFilter, CommentLine};
use crate::db::DbConnection;
use crate::domain::interaction::Audience;
use crate::domain::language::Language;
use crate::domain::period::{day_key, local_time_text};
use crate::domain::report::ReportParams;
use crate::domain::survey::SurveyDefinition;
use crate::services::reports::{self, ReportContext, ReportQueryError};
use crate::services::surveys::{self, SurveyCache};

/// The most comments a page lists.
pub const COMMENTS: i64 = 50;

#[derive(Serialize)]
pub struct QuestionLine {
    pub question: String,
    pub mean: String,
    pub scale: String,
    pub n: i64,
}

#[derive(Serialize)]
pub struct CommentView {
    pub when: String,
    pub service: String,
    pub score: Option<i32>,
    pub text: String,
    pub case: Option<String>,
}

/// The details as read from the database, before names are put on them.
pub struct Details {
    pub questions: Vec<(String, i64, i64)>,
    pub survey: Option<std::sync::Arc<SurveyDefinition>>,
    pub comments: Vec<CommentView>,
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
        return Ok(Details {
            questions: Vec::new(),
            survey: None,
            comments: Vec::new(),
        });
    }
    let scope = scope_of(conn, params)?;
    let questions = details::question_tallies(conn, &scope)?
        .into_iter()
        .map(|q| (q.question_id, q.n, q.sum))
        .collect();
    let survey = surveys::latest(conn, cache, Audience::Resident).map_err(ReportQueryError::Db)?;
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
) -> Result<Vec<CommentView>, ReportQueryError> {
    if params.audience == Audience::Employee {
        return Ok(reports::comments(conn, ctx, params, COMMENTS)?
            .into_iter()
            .map(|c| CommentView {
                when: c.day,
                service: c.service,
                score: None,
                text: c.text,
                case: None,
            })
            .collect());
    }
    let scope = scope_of(conn, params)?;
    Ok(details::comments(conn, &scope, filter, COMMENTS)?
        .into_iter()
        .map(|c: CommentLine| CommentView {
            when: local_time_text(c.submitted_at),
            service: c.service_code,
            score: c.overall,
            text: c.text.unwrap_or_default(),
            case: c.case_id.map(|id| format!("/admin/followups/{id}")),
        })
        .collect())
}

/// Every scale question of the survey in its order, with its mean and `n`.
pub fn question_lines(d: &Details, lang: Language) -> Vec<QuestionLine> {
    let Some(survey) = &d.survey else {
        return Vec::new();
    };
    survey
        .questions
        .iter()
        .filter_map(|q| {
            let range = q.kind.scale()?;
            let (n, sum) = d
                .questions
                .iter()
                .find(|(id, _, _)| *id == q.id)
                .map_or((0, 0), |(_, n, s)| (*n, *s));
            let text = q
                .text
                .get(&lang)
                .or_else(|| q.text.get(&Language::He))
                .cloned()
                .unwrap_or_else(|| q.id.clone());
            Some(QuestionLine {
                question: text,
                mean: mean_text((n > 0).then(|| sum as f64 / n as f64)),
                scale: format!("{}–{}", range.start(), range.end()),
                n,
            })
        })
        .collect()
}
