//! The detail a department's or a service's page shows about residents' answers: every scale
//! question's tally, and the comments with their scores and cases. Written with diesel's query
//! builder, so that one query serves both backends without SQL text.

use chrono::NaiveDateTime;
use diesel::dsl::{count, sum};
use diesel::prelude::*;

use super::schema::{answers, followups, responses};
use super::DbConnection;
use crate::domain::interaction::Audience;
use crate::domain::survey::COMMENT;

/// The backend of the two-backend connection (boxed queries must name it).
type Backend = <DbConnection as diesel::connection::Connection>::Backend;

diesel::define_sql_function! {
    /// Lower case, in both backends (SQLite folds ASCII only; PostgreSQL every script).
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// Residents' responses in a period over a set of services (never an empty set: the caller
/// passes the scope's services, and no services means no rows).
#[derive(Debug, Clone)]
pub struct Scope {
    pub from_day: String,
    pub to_day: String,
    pub services: Vec<String>,
    pub channel: Option<String>,
}

/// One question's numeric answers: how many, and their sum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuestionTally {
    pub question_id: String,
    pub n: i64,
    pub sum: i64,
}

pub fn question_tallies(conn: &mut DbConnection, s: &Scope) -> QueryResult<Vec<QuestionTally>> {
    let mut q = answers::table
        .inner_join(responses::table)
        .filter(responses::audience.eq(Audience::Resident.as_str()))
        .filter(responses::day.ge(&s.from_day))
        .filter(responses::day.le(&s.to_day))
        .filter(responses::service_code.eq_any(&s.services))
        .filter(answers::int_value.is_not_null())
        .group_by(answers::question_id)
        .select((
            answers::question_id,
            count(answers::int_value),
            sum(answers::int_value),
        ))
        .into_boxed::<Backend>();
    if let Some(c) = &s.channel {
        q = q.filter(responses::channel.eq(c.clone()));
    }
    let rows: Vec<(String, i64, Option<i64>)> = q.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(question_id, n, sum)| QuestionTally {
            question_id,
            n,
            sum: sum.unwrap_or(0),
        })
        .collect())
}

/// A comment with what a manager needs beside it.
#[derive(Debug, Clone, Queryable)]
pub struct CommentLine {
    pub service_code: String,
    pub submitted_at: NaiveDateTime,
    pub overall: Option<i32>,
    pub text: Option<String>,
    pub case_id: Option<String>,
}

/// Which comments: a score, and text to look for (matched without case).
#[derive(Debug, Clone, Default)]
pub struct CommentFilter {
    pub overall: Option<i32>,
    pub search: Option<String>,
}

/// Escapes `%`, `_` and `\` so that searched text matches literally.
fn like_pattern(text: &str) -> String {
    let mut out = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Comments, newest first, at most `limit`.
pub fn comments(
    conn: &mut DbConnection,
    s: &Scope,
    f: &CommentFilter,
    limit: i64,
) -> QueryResult<Vec<CommentLine>> {
    let mut q = responses::table
        .inner_join(answers::table)
        .left_join(followups::table.on(followups::response_id.eq(responses::id)))
        .filter(responses::audience.eq(Audience::Resident.as_str()))
        .filter(responses::day.ge(&s.from_day))
        .filter(responses::day.le(&s.to_day))
        .filter(responses::service_code.eq_any(&s.services))
        .filter(answers::question_id.eq(COMMENT))
        .filter(answers::text_value.is_not_null())
        .into_boxed::<Backend>();
    if let Some(c) = &s.channel {
        q = q.filter(responses::channel.eq(c.clone()));
    }
    if let Some(score) = f.overall {
        q = q.filter(responses::overall.eq(score));
    }
    if let Some(text) = f.search.as_deref().filter(|t| !t.trim().is_empty()) {
        q = q.filter(
            lower(answers::text_value.assume_not_null())
                .like(like_pattern(text.trim()))
                .escape('\\'),
        );
    }
    q.order((responses::submitted_at.desc(), responses::id.asc()))
        .limit(limit)
        .select((
            responses::service_code,
            responses::submitted_at,
            responses::overall,
            answers::text_value,
            followups::id.nullable(),
        ))
        .load(conn)
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn searched_text_matches_literally() {
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
        assert_eq!(like_pattern("Пожалуйста"), "%пожалуйста%");
    }
}
