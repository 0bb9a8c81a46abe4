//! Stored responses and their answers.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{answers, responses};
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = responses)]
pub struct ResponseRow {
    pub id: String,
    pub invitation_id: Option<String>,
    pub survey_id: String,
    pub audience: String,
    pub service_code: String,
    pub channel: Option<String>,
    pub language: String,
    pub submitted_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = answers)]
pub struct AnswerRow {
    pub response_id: String,
    pub question_id: String,
    pub int_value: Option<i32>,
    pub text_value: Option<String>,
}

pub fn insert(
    conn: &mut DbConnection,
    response: &ResponseRow,
    answer_rows: &[AnswerRow],
) -> QueryResult<()> {
    diesel::insert_into(responses::table)
        .values(response)
        .execute(conn)?;
    // One statement per row: the multi-backend connection cannot batch-insert.
    for row in answer_rows {
        diesel::insert_into(answers::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

pub fn count(conn: &mut DbConnection) -> QueryResult<i64> {
    responses::table.count().get_result(conn)
}

/// The answers stored for an invitation's response (tests and operators).
pub fn answers_for_invitation(
    conn: &mut DbConnection,
    invitation_id: &str,
) -> QueryResult<Vec<AnswerRow>> {
    answers::table
        .inner_join(responses::table)
        .filter(responses::invitation_id.eq(invitation_id))
        .order(answers::question_id.asc())
        .select(AnswerRow::as_select())
        .load(conn)
}
