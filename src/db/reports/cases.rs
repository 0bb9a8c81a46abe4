//! Follow-up cases counted for reports.

use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::{QueryResult, QueryableByName};

use super::{Filter, GroupKey};
use crate::db::sql::Sql;
use crate::db::DbConnection;
use crate::domain::followup::Cases;

#[derive(QueryableByName)]
struct CaseCounts {
    #[diesel(sql_type = Nullable<Text>)]
    k_service: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    k_day: Option<String>,
    #[diesel(sql_type = BigInt)]
    opened: i64,
    #[diesel(sql_type = BigInt)]
    closed_within_sla: i64,
    #[diesel(sql_type = BigInt)]
    still_open: i64,
    #[diesel(sql_type = BigInt)]
    overdue: i64,
}

/// Follow-up cases opened in the filter's days on its services, grouped by service and/or
/// opening day; `today` decides what is overdue. Cases have no channel: a channel filter has
/// none.
pub fn case_tallies(
    conn: &mut DbConnection,
    filter: &Filter,
    by_service: bool,
    by_day: bool,
    today: &str,
) -> QueryResult<Vec<(GroupKey, Cases)>> {
    if filter.channel.is_some() {
        return Ok(Vec::new());
    }
    let mut select = Vec::new();
    let mut group = Vec::new();
    for (on, column, alias) in [
        (by_service, "service_code", "k_service"),
        (by_day, "opened_on", "k_day"),
    ] {
        if on {
            select.push(format!("{column} AS {alias}"));
            group.push(column);
        } else {
            select.push(format!("CAST(NULL AS TEXT) AS {alias}"));
        }
    }
    let mut sql = Sql::for_conn(conn);
    sql.push(&format!(
        "SELECT {}, COUNT(*) AS opened, \
         COALESCE(SUM(CASE WHEN closed_on IS NOT NULL AND closed_on <= due_on THEN 1 ELSE 0 END), 0) \
           AS closed_within_sla, \
         COALESCE(SUM(CASE WHEN status <> 'closed' THEN 1 ELSE 0 END), 0) AS still_open, \
         COALESCE(SUM(CASE WHEN status <> 'closed' AND due_on < ",
        select.join(", ")
    ))
    .bind(today)
    .push(" THEN 1 ELSE 0 END), 0) AS overdue FROM followups WHERE opened_on >= ")
    .bind(filter.from_day.clone())
    .push(" AND opened_on <= ")
    .bind(filter.to_day.clone());
    if let Some(services) = &filter.services {
        sql.push(" AND ").push_in("service_code", services);
    }
    if !group.is_empty() {
        sql.push(" GROUP BY ").push(&group.join(", "));
    }
    let rows: Vec<CaseCounts> = sql.load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|r| r.opened > 0)
        .map(|r| {
            (
                GroupKey {
                    service: r.k_service,
                    day: r.k_day,
                    ..GroupKey::default()
                },
                Cases {
                    opened: r.opened,
                    closed_within_sla: r.closed_within_sla,
                    open: r.still_open,
                    overdue: r.overdue,
                },
            )
        })
        .collect())
}
