//! Every scale question's answers counted per value, for the per-question figures: frozen
//! residents' days from their rollup, the rest live from `answers`.

use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::{QueryResult, QueryableByName};

use super::{conditions, key_of, keys, rollup, Filter, GroupKey, Grouping};
use crate::db::sql::Sql;
use crate::db::DbConnection;
use crate::domain::interaction::Audience;

/// How many times each value of each question was answered, per group: `(key, question id,
/// value, answers)`. Only numeric answers (scales, and yes/no as 1/0: the caller keeps the
/// questions it reports on).
pub fn answer_tallies(
    conn: &mut DbConnection,
    filter: &Filter,
    grouping: Grouping,
) -> QueryResult<Vec<(GroupKey, String, i32, i64)>> {
    let live = |conn: &mut DbConnection, filter: &Filter| {
        let (select, group_by) = keys(grouping);
        let mut sql = Sql::for_conn(conn);
        sql.push(&format!(
            "SELECT {select}, a.question_id AS question_id, a.int_value AS value, \
             COUNT(*) AS answers FROM responses JOIN answers a ON a.response_id = responses.id \
             WHERE a.int_value IS NOT NULL AND "
        ));
        conditions(&mut sql, filter, "responses.");
        sql.push(&with_more(&group_by, "a.question_id, a.int_value"));
        sql.load::<AnswerCounts>(conn)
    };
    let mut rows = Vec::new();
    if filter.audience != Audience::Resident || grouping.cohort {
        rows.extend(live(conn, filter)?);
    } else {
        let (rolled, later) = rollup::split(conn, rollup::ANSWER_DAYS, filter)?;
        if let Some(f) = rolled {
            for (table, f) in rollup::segments(conn, rollup::ANSWER_MONTHS, &f, grouping.day)? {
                let (select, group_by) = keys(grouping);
                let mut sql = Sql::for_conn(conn);
                sql.push(&format!(
                    "SELECT {select}, question_id, value, CAST(SUM(answers) AS BIGINT) AS answers \
                     FROM {table} WHERE "
                ));
                conditions(&mut sql, &f, "");
                sql.push(&with_more(&group_by, "question_id, value"));
                rows.extend(sql.load::<AnswerCounts>(conn)?);
            }
        }
        if let Some(f) = later {
            rows.extend(live(conn, &f)?);
        }
    }
    let mut merged: std::collections::BTreeMap<(GroupKey, String, i32), i64> =
        std::collections::BTreeMap::new();
    for r in rows {
        let key = key_of(r.k_service, r.k_channel, r.k_day, r.k_cohort);
        *merged.entry((key, r.question_id, r.value)).or_default() += r.answers;
    }
    Ok(merged
        .into_iter()
        .map(|((key, question, value), n)| (key, question, value, n))
        .collect())
}

/// A `GROUP BY` list with more columns after the grouping's own.
fn with_more(group_by: &str, more: &str) -> String {
    if group_by.is_empty() {
        format!(" GROUP BY {more}")
    } else {
        format!("{group_by}, {more}")
    }
}

#[derive(QueryableByName)]
struct AnswerCounts {
    #[diesel(sql_type = Nullable<Text>)]
    k_service: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    k_channel: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    k_day: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    k_cohort: Option<String>,
    #[diesel(sql_type = Text)]
    question_id: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    value: i32,
    #[diesel(sql_type = BigInt)]
    answers: i64,
}
