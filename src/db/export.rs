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

/// Up to `limit` responses matching the filter after the key `(day, id)`, in that order. Two
/// plain range reads (the rest of the key's day, then the days after it) instead of one `OR`,
/// which both databases would answer by scanning from the start of the period on every page.
pub fn page(
    conn: &mut DbConnection,
    filter: &Filter,
    after: Option<&(String, String)>,
    limit: i64,
) -> QueryResult<Vec<ExportResponse>> {
    let mut rows = Vec::new();
    let first_day = match after {
        Some((day, id)) => {
            rows = range(conn, filter, day, day, Some(id), limit)?;
            match next_day_text(day) {
                Some(next) => next,
                None => return Ok(rows),
            }
        }
        None => filter.from_day.clone(),
    };
    let left = limit - rows.len() as i64;
    if left > 0 && first_day.as_str() <= filter.to_day.as_str() {
        rows.extend(range(conn, filter, &first_day, &filter.to_day, None, left)?);
    }
    Ok(rows)
}

fn next_day_text(day: &str) -> Option<String> {
    chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .ok()?
        .succ_opt()
        .map(|d| d.format("%Y-%m-%d").to_string())
}

/// Responses of the filter with `from <= day <= to` (and `id > after_id`), in (day, id) order.
fn range(
    conn: &mut DbConnection,
    filter: &Filter,
    from: &str,
    to: &str,
    after_id: Option<&String>,
    limit: i64,
) -> QueryResult<Vec<ExportResponse>> {
    let mut q = responses::table
        .filter(responses::audience.eq(filter.audience.as_str()))
        .filter(responses::day.ge(from.to_string()))
        .filter(responses::day.le(to.to_string()))
        .into_boxed();
    if let Some(id) = after_id {
        q = q.filter(responses::id.gt(id.clone()));
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
