//! Survey versions: rows are only ever inserted, never changed.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{survey_assignments, surveys};
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

/// Every stored version of every questionnaire, by key and newest first (a handful of rows).
pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<SurveyRow>> {
    surveys::table
        .order((surveys::survey_key.asc(), surveys::version.desc()))
        .select(SurveyRow::as_select())
        .load(conn)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = survey_assignments)]
pub struct AssignmentRow {
    pub audience: String,
    /// `audience`, `department` or `service`.
    pub target_kind: String,
    /// The department's or service's code; empty for an audience.
    pub target_code: String,
    pub survey_key: String,
    pub updated_at: NaiveDateTime,
}

pub fn assignments(conn: &mut DbConnection) -> QueryResult<Vec<AssignmentRow>> {
    survey_assignments::table
        .order((
            survey_assignments::audience.asc(),
            survey_assignments::target_kind.asc(),
            survey_assignments::target_code.asc(),
        ))
        .select(AssignmentRow::as_select())
        .load(conn)
}

/// Sets a target's questionnaire; returns the one it had (update-then-insert: the
/// multi-backend connection has no ON CONFLICT; callers run it in a write transaction).
pub fn assign(conn: &mut DbConnection, row: &AssignmentRow) -> QueryResult<Option<String>> {
    let target =
        survey_assignments::table.find((&row.audience, &row.target_kind, &row.target_code));
    let before = target
        .select(survey_assignments::survey_key)
        .first::<String>(conn)
        .optional()?;
    if before.is_some() {
        diesel::update(target)
            .set((
                survey_assignments::survey_key.eq(&row.survey_key),
                survey_assignments::updated_at.eq(row.updated_at),
            ))
            .execute(conn)?;
    } else {
        diesel::insert_into(survey_assignments::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(before)
}

/// Removes a target's assignment; returns the questionnaire it had.
pub fn unassign(
    conn: &mut DbConnection,
    audience: &str,
    kind: &str,
    code: &str,
) -> QueryResult<Option<String>> {
    let target = survey_assignments::table.find((audience, kind, code));
    let before = target
        .select(survey_assignments::survey_key)
        .first::<String>(conn)
        .optional()?;
    diesel::delete(target).execute(conn)?;
    Ok(before)
}

/// The questionnaire assigned most specifically to a service (its own, its department's, its
/// audience's), if any.
pub fn assigned_key(
    conn: &mut DbConnection,
    audience: &str,
    department: &str,
    service: &str,
) -> QueryResult<Option<String>> {
    use survey_assignments::dsl as a;
    let rows: Vec<(String, String)> = a::survey_assignments
        .filter(a::audience.eq(audience))
        .filter(
            a::target_kind
                .eq("audience")
                .or(a::target_kind
                    .eq("department")
                    .and(a::target_code.eq(department)))
                .or(a::target_kind.eq("service").and(a::target_code.eq(service))),
        )
        .select((a::target_kind, a::survey_key))
        .load(conn)?;
    Ok(["service", "department", "audience"]
        .into_iter()
        .find_map(|kind| rows.iter().find(|(k, _)| k == kind))
        .map(|(_, key)| key.clone()))
}
