//! Survey versions: rows are only ever inserted, never changed.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::surveys;
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = surveys)]
pub struct SurveyRow {
    pub id: String,
    pub survey_key: String,
    pub version: i32,
    pub audience: String,
    pub definition: String,
    pub created_at: NaiveDateTime,
}

pub fn latest(conn: &mut DbConnection, key: &str) -> QueryResult<Option<SurveyRow>> {
    surveys::table
        .filter(surveys::survey_key.eq(key))
        .order(surveys::version.desc())
        .select(SurveyRow::as_select())
        .first(conn)
        .optional()
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<SurveyRow> {
    surveys::table
        .find(id)
        .select(SurveyRow::as_select())
        .first(conn)
}

pub fn insert(conn: &mut DbConnection, row: &SurveyRow) -> QueryResult<()> {
    diesel::insert_into(surveys::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Every stored version of a questionnaire, newest first.
pub fn versions(conn: &mut DbConnection, key: &str) -> QueryResult<Vec<SurveyRow>> {
    surveys::table
        .filter(surveys::survey_key.eq(key))
        .order(surveys::version.desc())
        .select(SurveyRow::as_select())
        .load(conn)
}
