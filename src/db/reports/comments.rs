//! Comments read for reports, with where each counts.

use diesel::sql_types::{Nullable, Text};
use diesel::{QueryResult, QueryableByName};

use super::{conditions, Filter};
use crate::db::sql::Sql;
use crate::db::DbConnection;
use crate::domain::survey::COMMENT;

/// One comment with where it counts.
#[derive(Debug, Clone, QueryableByName)]
pub struct CommentRow {
    #[diesel(sql_type = Text)]
    pub response_id: String,
    #[diesel(sql_type = Text)]
    pub service_code: String,
    #[diesel(sql_type = Text)]
    pub day: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub cohort: Option<String>,
    #[diesel(sql_type = Text)]
    pub text: String,
}

/// Comments (the `comment` question) of the matching responses: newest day first for
/// residents; for employees in text order, so that not even the order hints at who wrote what.
/// `after` is the last comment of the previous page, as (day, response id).
pub fn comments(
    conn: &mut DbConnection,
    filter: &Filter,
    by_text: bool,
    after: Option<(&str, &str)>,
    limit: i64,
) -> QueryResult<Vec<CommentRow>> {
    let mut sql = Sql::for_conn(conn);
    sql.push(
        "SELECT a.response_id AS response_id, r.service_code AS service_code, r.day AS day, \
         r.cohort AS cohort, a.text_value AS text FROM responses r \
         JOIN answers a ON a.response_id = r.id \
         WHERE a.question_id = ",
    )
    .bind(COMMENT)
    .push(" AND a.text_value IS NOT NULL AND ");
    conditions(&mut sql, filter, "r.");
    if let Some((day, id)) = after {
        sql.push(" AND (r.day < ")
            .bind(day)
            .push(" OR (r.day = ")
            .bind(day)
            .push(" AND a.response_id > ")
            .bind(id)
            .push("))");
    }
    // Newest day first, then by response: a page's last comment says where the next begins.
    sql.push(if by_text {
        " ORDER BY a.text_value"
    } else {
        " ORDER BY r.day DESC, a.response_id"
    })
    .push(&format!(" LIMIT {}", limit.max(0)));
    sql.load(conn)
}
