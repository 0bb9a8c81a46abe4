//! Counting for reports: one aggregate query over the covering index of `responses` (or of
//! `invitations`), grouped only by what the caller asks for. The database counts and adds
//! integers; every ratio is computed in `domain::metrics`, identically for both backends.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use super::DbConnection;
use crate::domain::metrics::Tally;

/// Which rows to count. Days are local `YYYY-MM-DD` and inclusive.
#[derive(Debug, Clone)]
pub struct Filter {
    pub audience: String,
    pub from_day: String,
    pub to_day: String,
    /// Restricts to these services (a service, or a department's services); `Some(empty)`
    /// matches nothing.
    pub services: Option<Vec<String>>,
    pub channel: Option<String>,
}

/// The columns to group by.
#[derive(Debug, Clone, Copy, Default)]
pub struct Grouping {
    pub service: bool,
    pub channel: bool,
    pub day: bool,
    pub cohort: bool,
}

/// The value of each grouped column (None where not grouped, or NULL in the data).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct GroupKey {
    pub service: Option<String>,
    pub channel: Option<String>,
    pub day: Option<String>,
    pub cohort: Option<String>,
}

#[derive(QueryableByName)]
struct ResponseCounts {
    #[diesel(sql_type = Nullable<Text>)]
    k_service: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    k_channel: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    k_day: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    k_cohort: Option<String>,
    #[diesel(sql_type = BigInt)]
    responses: i64,
    #[diesel(sql_type = BigInt)]
    overall_n: i64,
    #[diesel(sql_type = BigInt)]
    overall_satisfied: i64,
    #[diesel(sql_type = BigInt)]
    effort_n: i64,
    #[diesel(sql_type = BigInt)]
    effort_sum: i64,
    #[diesel(sql_type = BigInt)]
    nps_n: i64,
    #[diesel(sql_type = BigInt)]
    promoters: i64,
    #[diesel(sql_type = BigInt)]
    detractors: i64,
    #[diesel(sql_type = BigInt)]
    resolved_n: i64,
    #[diesel(sql_type = BigInt)]
    resolved_yes: i64,
}

#[derive(QueryableByName)]
struct InvitationCounts {
    #[diesel(sql_type = Nullable<Text>)]
    k_service: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    k_channel: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    k_day: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    k_cohort: Option<String>,
    #[diesel(sql_type = BigInt)]
    invitations: i64,
    #[diesel(sql_type = BigInt)]
    answered: i64,
}

/// `SELECT` list entries for the grouped columns, with NULL stand-ins for the others, and the
/// `GROUP BY` list.
fn keys(g: Grouping, cohort_column: &str) -> (String, String) {
    let mut select = Vec::new();
    let mut group = Vec::new();
    for (on, column, alias) in [
        (g.service, "service_code", "k_service"),
        (g.channel, "channel", "k_channel"),
        (g.day, "day", "k_day"),
        (g.cohort, cohort_column, "k_cohort"),
    ] {
        if on {
            select.push(format!("{column} AS {alias}"));
            group.push(column.to_string());
        } else {
            select.push(format!("CAST(NULL AS TEXT) AS {alias}"));
        }
    }
    let group_by = if group.is_empty() {
        String::new()
    } else {
        format!(" GROUP BY {}", group.join(", "))
    };
    (select.join(", "), group_by)
}

/// The WHERE clause with `?` placeholders, and its values in order.
fn conditions(f: &Filter) -> (String, Vec<String>) {
    let mut sql = String::from("audience = ? AND day >= ? AND day <= ?");
    let mut binds = vec![f.audience.clone(), f.from_day.clone(), f.to_day.clone()];
    if let Some(services) = &f.services {
        if services.is_empty() {
            sql.push_str(" AND 1 = 0");
        } else {
            let marks = vec!["?"; services.len()].join(", ");
            sql.push_str(&format!(" AND service_code IN ({marks})"));
            binds.extend(services.iter().cloned());
        }
    }
    if let Some(channel) = &f.channel {
        sql.push_str(" AND channel = ?");
        binds.push(channel.clone());
    }
    (sql, binds)
}

/// Runs a query written with `?` placeholders, all bound as text, on either backend.
fn load_text_bound<T>(conn: &mut DbConnection, sql: &str, binds: &[String]) -> QueryResult<Vec<T>>
where
    T: QueryableByName<diesel::pg::Pg> + QueryableByName<diesel::sqlite::Sqlite> + 'static,
{
    match conn {
        DbConnection::Postgres(c) => {
            let mut numbered = String::with_capacity(sql.len() + 16);
            let mut n = 0;
            for ch in sql.chars() {
                if ch == '?' {
                    n += 1;
                    numbered.push_str(&format!("${n}"));
                } else {
                    numbered.push(ch);
                }
            }
            let mut q = diesel::sql_query(numbered).into_boxed::<diesel::pg::Pg>();
            for b in binds {
                q = q.bind::<Text, _>(b.clone());
            }
            q.load(c)
        }
        DbConnection::Sqlite(c) => {
            let mut q = diesel::sql_query(sql).into_boxed::<diesel::sqlite::Sqlite>();
            for b in binds {
                q = q.bind::<Text, _>(b.clone());
            }
            q.load(c)
        }
    }
}

/// Response counts per group.
pub fn response_tallies(
    conn: &mut DbConnection,
    filter: &Filter,
    grouping: Grouping,
) -> QueryResult<Vec<(GroupKey, Tally)>> {
    let (select, group_by) = keys(grouping, "cohort");
    let (cond, binds) = conditions(filter);
    let sql = format!(
        "SELECT {select}, COUNT(*) AS responses, \
         COUNT(overall) AS overall_n, \
         COALESCE(SUM(CASE WHEN overall >= 4 THEN 1 ELSE 0 END), 0) AS overall_satisfied, \
         COUNT(effort) AS effort_n, COALESCE(SUM(effort), 0) AS effort_sum, \
         COUNT(nps) AS nps_n, \
         COALESCE(SUM(CASE WHEN nps >= 9 THEN 1 ELSE 0 END), 0) AS promoters, \
         COALESCE(SUM(CASE WHEN nps <= 6 THEN 1 ELSE 0 END), 0) AS detractors, \
         COUNT(resolved) AS resolved_n, COALESCE(SUM(resolved), 0) AS resolved_yes \
         FROM responses WHERE {cond}{group_by}"
    );
    let rows: Vec<ResponseCounts> = load_text_bound(conn, &sql, &binds)?;
    Ok(rows
        .into_iter()
        // An aggregate without GROUP BY returns one row even when nothing matched.
        .filter(|r| r.responses > 0)
        .map(|r| {
            (
                GroupKey {
                    service: r.k_service,
                    channel: r.k_channel,
                    day: r.k_day,
                    cohort: r.k_cohort,
                },
                Tally {
                    responses: r.responses,
                    overall_n: r.overall_n,
                    overall_satisfied: r.overall_satisfied,
                    effort_n: r.effort_n,
                    effort_sum: r.effort_sum,
                    nps_n: r.nps_n,
                    promoters: r.promoters,
                    detractors: r.detractors,
                    resolved_n: r.resolved_n,
                    resolved_yes: r.resolved_yes,
                    ..Tally::default()
                },
            )
        })
        .collect())
}

/// Invitations issued per group, and how many of them were answered. Invitations have no
/// cohort: grouping by it yields NULL.
pub fn invitation_tallies(
    conn: &mut DbConnection,
    filter: &Filter,
    grouping: Grouping,
) -> QueryResult<Vec<(GroupKey, Tally)>> {
    let grouping = Grouping {
        cohort: false,
        ..grouping
    };
    let (select, group_by) = keys(grouping, "cohort");
    let (cond, binds) = conditions(filter);
    let sql = format!(
        "SELECT {select}, COUNT(*) AS invitations, \
         COALESCE(SUM(CASE WHEN answered THEN 1 ELSE 0 END), 0) AS answered \
         FROM invitations WHERE {cond}{group_by}"
    );
    let rows: Vec<InvitationCounts> = load_text_bound(conn, &sql, &binds)?;
    Ok(rows
        .into_iter()
        .filter(|r| r.invitations > 0)
        .map(|r| {
            (
                GroupKey {
                    service: r.k_service,
                    channel: r.k_channel,
                    day: r.k_day,
                    cohort: r.k_cohort,
                },
                Tally {
                    invitations: r.invitations,
                    invitations_answered: r.answered,
                    ..Tally::default()
                },
            )
        })
        .collect())
}

/// One comment with where it counts.
#[derive(Debug, Clone, QueryableByName)]
pub struct CommentRow {
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
pub fn comments(
    conn: &mut DbConnection,
    filter: &Filter,
    by_text: bool,
    limit: i64,
) -> QueryResult<Vec<CommentRow>> {
    let (cond, binds) = conditions(filter);
    let cond = cond
        .replace("audience", "r.audience")
        .replace("day ", "r.day ")
        .replace("service_code", "r.service_code")
        .replace("channel", "r.channel");
    let order = if by_text {
        "a.text_value"
    } else {
        "r.day DESC, a.text_value"
    };
    let sql = format!(
        "SELECT r.service_code AS service_code, r.day AS day, r.cohort AS cohort, \
         a.text_value AS text FROM responses r JOIN answers a ON a.response_id = r.id \
         WHERE a.question_id = 'comment' AND a.text_value IS NOT NULL AND {cond} \
         ORDER BY {order} LIMIT {}",
        limit.max(0)
    );
    load_text_bound(conn, &sql, &binds)
}
