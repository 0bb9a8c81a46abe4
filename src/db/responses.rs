//! Stored responses and their answers.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{answers, responses};
use super::DbConnection;
use crate::domain::metrics::ResponseFigures;

/// A response as services build it (and as the anonymous inbox seals it). What it counts
/// towards (satisfied; promoter, passive or detractor) is not kept here: [`NewResponse`] decides it from
/// the scores when the row is written, so a row sealed before that rule changed is still
/// counted by the rule of the day it is stored.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize, serde::Deserialize)]
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
    /// The local day it counts on (for employees, the first day of the month).
    pub day: String,
    pub overall: Option<i32>,
    pub effort: Option<i32>,
    pub nps: Option<i32>,
    pub resolved: Option<i32>,
    /// Employees only: the group it is reported in.
    pub cohort: Option<String>,
}

impl ResponseRow {
    fn figures(&self) -> ResponseFigures {
        ResponseFigures {
            overall: self.overall,
            effort: self.effort,
            nps: self.nps,
            resolved: self.resolved,
        }
    }
}

/// The row written to `responses`: the response and what it counts towards. (`ResponseRow`
/// cannot be inserted itself, so no path can store a response without its measures.)
#[derive(Insertable)]
#[diesel(table_name = responses)]
struct NewResponse<'a> {
    id: &'a str,
    invitation_id: Option<&'a str>,
    survey_id: &'a str,
    audience: &'a str,
    service_code: &'a str,
    channel: Option<&'a str>,
    language: &'a str,
    submitted_at: NaiveDateTime,
    day: &'a str,
    overall: Option<i32>,
    effort: Option<i32>,
    nps: Option<i32>,
    resolved: Option<i32>,
    cohort: Option<&'a str>,
    satisfied: Option<i32>,
    nps_group: Option<i32>,
}

impl<'a> From<&'a ResponseRow> for NewResponse<'a> {
    fn from(r: &'a ResponseRow) -> Self {
        let figures = r.figures();
        NewResponse {
            id: &r.id,
            invitation_id: r.invitation_id.as_deref(),
            survey_id: &r.survey_id,
            audience: &r.audience,
            service_code: &r.service_code,
            channel: r.channel.as_deref(),
            language: &r.language,
            submitted_at: r.submitted_at,
            day: &r.day,
            overall: r.overall,
            effort: r.effort,
            nps: r.nps,
            resolved: r.resolved,
            cohort: r.cohort.as_deref(),
            satisfied: figures.satisfied(),
            nps_group: figures.nps_group(),
        }
    }
}

#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Queryable,
    Selectable,
    Insertable,
    serde::Serialize,
    serde::Deserialize,
)]
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
        .values(NewResponse::from(response))
        .execute(conn)?;
    // One statement per row: the multi-backend connection cannot batch-insert.
    for row in answer_rows {
        diesel::insert_into(answers::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// Inserts many responses and their answers in multi-row statements (through the backend's own
/// connection, which can batch), in the order given: the inbox's drain relies on that order
/// being the shuffled one it chose.
pub fn insert_many(
    conn: &mut DbConnection,
    responses: &[ResponseRow],
    answer_rows: &[AnswerRow],
) -> QueryResult<()> {
    // Under every backend's limit on bound parameters (16 columns × 500, 4 × 2,000).
    const RESPONSES: usize = 500;
    let responses: Vec<NewResponse> = responses.iter().map(NewResponse::from).collect();
    const ANSWERS: usize = 2000;
    macro_rules! batches {
        ($c:expr) => {{
            for chunk in responses.chunks(RESPONSES) {
                diesel::insert_into(responses::table)
                    .values(chunk)
                    .execute($c)?;
            }
            for chunk in answer_rows.chunks(ANSWERS) {
                diesel::insert_into(answers::table)
                    .values(chunk)
                    .execute($c)?;
            }
        }};
    }
    match conn {
        DbConnection::Postgres(c) => batches!(c),
        DbConnection::Sqlite(c) => batches!(c),
    }
    Ok(())
}

/// PostgreSQL only: claims the invitation and stores the response and its answers in one
/// statement (one round trip, atomic on its own). Returns whether the invitation was claimed.
/// Residents' answers only: employees' go to the anonymous inbox instead, never beside their
/// invitation's claim.
pub fn claim_and_insert_pg(
    conn: &mut diesel::PgConnection,
    invitation_id: &str,
    now: NaiveDateTime,
    answered_at: Option<NaiveDateTime>,
    response: &ResponseRow,
    answer_rows: &[AnswerRow],
) -> QueryResult<bool> {
    use diesel::pg::Pg;
    use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamp};

    #[derive(QueryableByName)]
    struct Claimed {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    const FIXED: usize = 19;
    let figures = response.figures();
    let values: Vec<String> = (0..answer_rows.len())
        .map(|i| {
            let p = FIXED + 1 + 3 * i;
            format!("(${p}::text, ${}::int, ${}::text)", p + 1, p + 2)
        })
        .collect();
    let answers = if values.is_empty() {
        String::new()
    } else {
        format!(
            ", inserted AS (INSERT INTO answers (response_id, question_id, int_value, text_value) \
             SELECT response.id, v.q, v.i, v.t FROM response, (VALUES {}) AS v(q, i, t) RETURNING 1)",
            values.join(", ")
        )
    };
    let sql = format!(
        "WITH claimed AS (UPDATE invitations SET answered = TRUE, answered_at = $3 \
           WHERE id = $2 AND answered = FALSE AND expires_at > $1 RETURNING id), \
         response AS (INSERT INTO responses (id, invitation_id, survey_id, audience, service_code, \
           channel, language, submitted_at, day, overall, effort, nps, resolved, cohort, \
           satisfied, nps_group) \
           SELECT $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19 \
           FROM claimed \
           RETURNING id){answers} \
         SELECT COUNT(*) AS n FROM claimed"
    );
    let mut query = diesel::sql_query(sql)
        .into_boxed::<Pg>()
        .bind::<Timestamp, _>(now)
        .bind::<Text, _>(invitation_id.to_string())
        .bind::<Nullable<Timestamp>, _>(answered_at)
        .bind::<Text, _>(response.id.clone())
        .bind::<Nullable<Text>, _>(response.invitation_id.clone())
        .bind::<Text, _>(response.survey_id.clone())
        .bind::<Text, _>(response.audience.clone())
        .bind::<Text, _>(response.service_code.clone())
        .bind::<Nullable<Text>, _>(response.channel.clone())
        .bind::<Text, _>(response.language.clone())
        .bind::<Timestamp, _>(response.submitted_at)
        .bind::<Text, _>(response.day.clone())
        .bind::<Nullable<Integer>, _>(response.overall)
        .bind::<Nullable<Integer>, _>(response.effort)
        .bind::<Nullable<Integer>, _>(response.nps)
        .bind::<Nullable<Integer>, _>(response.resolved)
        .bind::<Nullable<Text>, _>(response.cohort.clone())
        .bind::<Nullable<Integer>, _>(figures.satisfied())
        .bind::<Nullable<Integer>, _>(figures.nps_group());
    for row in answer_rows {
        query = query
            .bind::<Text, _>(row.question_id.clone())
            .bind::<Nullable<Integer>, _>(row.int_value)
            .bind::<Nullable<Text>, _>(row.text_value.clone());
    }
    Ok(query.get_result::<Claimed>(conn)?.n == 1)
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

/// A response's answers, in question-id order.
pub fn answers_of(conn: &mut DbConnection, response_id: &str) -> QueryResult<Vec<AnswerRow>> {
    answers::table
        .filter(answers::response_id.eq(response_id))
        .order(answers::question_id.asc())
        .select(AnswerRow::as_select())
        .load(conn)
}
