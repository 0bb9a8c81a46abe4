//! Reading responses for export: page after page in (day, id) order, with their answers.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{answers, responses};
use super::DbConnection;
use crate::db::reports::Filter;
use crate::db::responses::AnswerRow;

#[derive(Debug, Clone, Queryable)]
pub struct ExportResponse {
    pub id: String,
    pub day: String,
    pub submitted_at: NaiveDateTime,
    pub service_code: String,
    pub channel: Option<String>,
    pub language: String,
    pub cohort: Option<String>,
}

/// Up to `limit` responses matching the filter after the key `(day, id)`, in that order.
pub fn page(
    conn: &mut DbConnection,
    filter: &Filter,
    after: Option<&(String, String)>,
    limit: i64,
) -> QueryResult<Vec<ExportResponse>> {
    let mut q = responses::table
        .filter(responses::audience.eq(filter.audience.clone()))
        .filter(responses::day.ge(filter.from_day.clone()))
        .filter(responses::day.le(filter.to_day.clone()))
        .into_boxed();
    if let Some((day, id)) = after {
        q = q.filter(
            responses::day.gt(day.clone()).or(responses::day
                .eq(day.clone())
                .and(responses::id.gt(id.clone()))),
        );
    }
    if let Some(s) = &filter.services {
        q = q.filter(responses::service_code.eq_any(s.clone()));
    }
    if let Some(c) = &filter.channel {
        q = q.filter(responses::channel.eq(c.clone()));
    }
    q.order((responses::day.asc(), responses::id.asc()))
        .limit(limit)
        .select((
            responses::id,
            responses::day,
            responses::submitted_at,
            responses::service_code,
            responses::channel,
            responses::language,
            responses::cohort,
        ))
        .load(conn)
}

/// The answers of these responses.
pub fn answers_of(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<AnswerRow>> {
    answers::table
        .filter(answers::response_id.eq_any(ids.to_vec()))
        .select(AnswerRow::as_select())
        .load(conn)
}
