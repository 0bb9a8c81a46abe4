//! Counting for reports: one aggregate query over the covering index of `responses` (or of
//! `invitations`), grouped only by what the caller asks for. The database counts and adds
//! integers; every ratio is computed in `domain::metrics`, identically for both backends.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use super::DbConnection;
use crate::domain::followup::Cases;
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
        DbConnection::Postgres(c) => text_bound(numbered(sql), binds).load(c),
        DbConnection::Sqlite(c) => text_bound(sql.to_string(), binds).load(c),
    }
}

/// `sql` with every value bound as text, for one backend.
fn text_bound<DB>(
    sql: String,
    binds: &[String],
) -> diesel::query_builder::BoxedSqlQuery<'static, DB, diesel::query_builder::SqlQuery>
where
    DB: diesel::backend::Backend + diesel::sql_types::HasSqlType<Text>,
    String: diesel::serialize::ToSql<Text, DB>,
{
    binds
        .iter()
        .fold(diesel::sql_query(sql).into_boxed::<DB>(), |q, b| {
            q.bind::<Text, _>(b.clone())
        })
}

/// What a group of responses counts, named as the tallies' columns: the live queries and the
/// daily rollup use the same expressions, so the two cannot drift apart.
const RESPONSE_COUNTS: &str = "COUNT(*) AS responses, COUNT(overall) AS overall_n, \
    COALESCE(SUM(CASE WHEN overall >= 4 THEN 1 ELSE 0 END), 0) AS overall_satisfied, \
    COUNT(effort) AS effort_n, COALESCE(SUM(effort), 0) AS effort_sum, COUNT(nps) AS nps_n, \
    COALESCE(SUM(CASE WHEN nps >= 9 THEN 1 ELSE 0 END), 0) AS promoters, \
    COALESCE(SUM(CASE WHEN nps <= 6 THEN 1 ELSE 0 END), 0) AS detractors, \
    COUNT(resolved) AS resolved_n, COALESCE(SUM(resolved), 0) AS resolved_yes";

/// The same for invitations.
const INVITATION_COUNTS: &str = "COUNT(*) AS invitations, \
    COALESCE(SUM(CASE WHEN answered THEN 1 ELSE 0 END), 0) AS answered";

/// Response counts per group, straight from `responses`.
fn live_response_tallies(
    conn: &mut DbConnection,
    filter: &Filter,
    grouping: Grouping,
) -> QueryResult<Vec<(GroupKey, Tally)>> {
    let (select, group_by) = keys(grouping, "cohort");
    let (cond, binds) = conditions(filter);
    let sql = format!("SELECT {select}, {RESPONSE_COUNTS} FROM responses WHERE {cond}{group_by}");
    let rows: Vec<ResponseCounts> = load_text_bound(conn, &sql, &binds)?;
    Ok(rows
        .into_iter()
        // An aggregate without GROUP BY returns one row even when nothing matched.
        .filter(|r| r.responses > 0)
        .map(|r| {
            (
                key_of(r.k_service, r.k_channel, r.k_day, r.k_cohort),
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

/// Invitations issued per group, and how many of them were answered, straight from
/// `invitations`. Invitations have no cohort: grouping by it yields NULL.
fn live_invitation_tallies(
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
    let sql =
        format!("SELECT {select}, {INVITATION_COUNTS} FROM invitations WHERE {cond}{group_by}");
    let rows: Vec<InvitationCounts> = load_text_bound(conn, &sql, &binds)?;
    Ok(rows
        .into_iter()
        .filter(|r| r.invitations > 0)
        .map(|r| {
            (
                key_of(r.k_service, r.k_channel, r.k_day, r.k_cohort),
                Tally {
                    invitations: r.invitations,
                    invitations_answered: r.answered,
                    ..Tally::default()
                },
            )
        })
        .collect())
}

/// The rollup tables (a missing channel is stored there as '', since a key column cannot be
/// NULL).
const RESPONSE_DAYS: &str = "report_response_days";
const INVITATION_DAYS: &str = "report_invitation_days";
const RESPONSE_MONTHS: &str = "report_response_months";
const INVITATION_MONTHS: &str = "report_invitation_months";

const RESPONSE_COLUMNS: [&str; 10] = [
    "responses",
    "overall_n",
    "overall_satisfied",
    "effort_n",
    "effort_sum",
    "nps_n",
    "promoters",
    "detractors",
    "resolved_n",
    "resolved_yes",
];
const INVITATION_COLUMNS: [&str; 2] = ["invitations", "answered"];

/// The parts of a frozen range, each with the table that answers it: whole months from the
/// monthly table (unless the grouping needs days), the days around them from the daily one.
fn segments(
    conn: &mut DbConnection,
    days: &'static str,
    months: &'static str,
    filter: &Filter,
    by_day: bool,
) -> QueryResult<Vec<(&'static str, Filter)>> {
    use chrono::{Datelike, NaiveDate};
    let parse = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok();
    let whole = |from: &str, to: &str| -> Option<(NaiveDate, NaiveDate)> {
        let (from, to) = (parse(from)?, parse(to)?);
        // The first month starting on or after `from`, and the last ending on or before `to`.
        let first = if from.day() == 1 {
            from
        } else {
            let next = from.checked_add_months(chrono::Months::new(1))?;
            next.with_day(1)?
        };
        let after_to = to.succ_opt()?;
        let last = if after_to.day() == 1 {
            to.with_day(1)?
        } else {
            to.with_day(1)?.checked_sub_months(chrono::Months::new(1))?
        };
        (first <= last).then_some((first, last))
    };
    let part = |from: String, to: String| Filter {
        from_day: from,
        to_day: to,
        ..filter.clone()
    };
    let day = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    if by_day {
        return Ok(vec![(days, filter.clone())]);
    }
    let months_through = through_day(conn, months)?;
    let limit = filter.to_day.clone().min(months_through);
    let Some((first, last)) = whole(&filter.from_day, &limit) else {
        return Ok(vec![(days, filter.clone())]);
    };
    let mut out = vec![(months, part(day(first), day(last)))];
    if filter.from_day < day(first) {
        if let Some(before) = first.pred_opt() {
            out.push((days, part(filter.from_day.clone(), day(before))));
        }
    }
    let last_end = last
        .checked_add_months(chrono::Months::new(1))
        .and_then(|d| d.pred_opt());
    if let Some(end) = last_end {
        if day(end) < filter.to_day {
            if let Some(after) = end.succ_opt() {
                out.push((days, part(day(after), filter.to_day.clone())));
            }
        }
    }
    Ok(out)
}

/// Response counts per group: frozen days from the rollup, later days from `responses`.
/// Only residents' answers are rolled up; employees' are few and counted live.
pub fn response_tallies(
    conn: &mut DbConnection,
    filter: &Filter,
    grouping: Grouping,
) -> QueryResult<Vec<(GroupKey, Tally)>> {
    if filter.audience != "resident" || grouping.cohort {
        return live_response_tallies(conn, filter, grouping);
    }
    let through = through_day(conn, RESPONSE_DAYS)?;
    let (rolled, live) = split(filter, &through);
    let mut out = Vec::new();
    if let Some(f) = rolled {
        let (select, group_by) = keys(grouping, "cohort");
        let sums = RESPONSE_COLUMNS.map(sum_as_bigint).join(", ");
        for (table, f) in segments(conn, RESPONSE_DAYS, RESPONSE_MONTHS, &f, grouping.day)? {
            let (cond, binds) = conditions(&f);
            let sql = format!("SELECT {select}, {sums} FROM {table} WHERE {cond}{group_by}");
            let rows: Vec<RolledResponses> = load_text_bound(conn, &sql, &binds)?;
            out.extend(rows.into_iter().filter_map(RolledResponses::into_tally));
        }
    }
    if let Some(f) = live {
        out.extend(live_response_tallies(conn, &f, grouping)?);
    }
    Ok(merge(out))
}

/// Invitation counts per group: frozen days from the rollup, later days from `invitations`.
pub fn invitation_tallies(
    conn: &mut DbConnection,
    filter: &Filter,
    grouping: Grouping,
) -> QueryResult<Vec<(GroupKey, Tally)>> {
    if filter.audience != "resident" {
        return live_invitation_tallies(conn, filter, grouping);
    }
    let grouping = Grouping {
        cohort: false,
        ..grouping
    };
    let through = through_day(conn, INVITATION_DAYS)?;
    let (rolled, live) = split(filter, &through);
    let mut out = Vec::new();
    let (select, group_by) = keys(grouping, "cohort");
    let sums = INVITATION_COLUMNS.map(sum_as_bigint).join(", ");
    let parts = match rolled {
        Some(f) => segments(conn, INVITATION_DAYS, INVITATION_MONTHS, &f, grouping.day)?,
        None => Vec::new(),
    };
    for (table, f) in parts {
        let (cond, binds) = conditions(&f);
        let sql = format!("SELECT {select}, {sums} FROM {table} WHERE {cond}{group_by}");
        let rows: Vec<RolledInvitations> = load_text_bound(conn, &sql, &binds)?;
        out.extend(rows.into_iter().filter_map(|r| {
            let invitations = r.invitations?;
            (invitations > 0).then(|| {
                (
                    key_of(r.k_service, r.k_channel, r.k_day, None),
                    Tally {
                        invitations,
                        invitations_answered: r.answered.unwrap_or(0),
                        ..Tally::default()
                    },
                )
            })
        }));
    }
    if let Some(f) = live {
        out.extend(live_invitation_tallies(conn, &f, grouping)?);
    }
    Ok(merge(out))
}

fn key_of(
    service: Option<String>,
    channel: Option<String>,
    day: Option<String>,
    cohort: Option<String>,
) -> GroupKey {
    GroupKey {
        service,
        channel: channel.filter(|c| !c.is_empty()),
        day,
        cohort,
    }
}

/// `SUM` of a BIGINT column is NUMERIC on PostgreSQL: cast back, so both backends return
/// 64-bit integers.
fn sum_as_bigint(column: &str) -> String {
    format!("CAST(SUM({column}) AS BIGINT) AS {column}")
}

/// Adds up the tallies of equal keys (a group can have frozen and live days).
fn merge(rows: Vec<(GroupKey, Tally)>) -> Vec<(GroupKey, Tally)> {
    let mut merged: std::collections::BTreeMap<GroupKey, Tally> = std::collections::BTreeMap::new();
    for (k, t) in rows {
        *merged.entry(k).or_default() += t;
    }
    merged.into_iter().collect()
}

/// Splits a filter at a frozen-through day: the part the rollup answers, and the rest.
fn split(filter: &Filter, through: &str) -> (Option<Filter>, Option<Filter>) {
    let rolled = (filter.from_day.as_str() <= through).then(|| Filter {
        to_day: filter.to_day.clone().min(through.to_string()),
        ..filter.clone()
    });
    let live = (filter.to_day.as_str() > through).then(|| Filter {
        from_day: filter.from_day.clone().max(next_day(through)),
        ..filter.clone()
    });
    (rolled, live)
}

/// The day after a `YYYY-MM-DD` day (text compares as days, so '0000-00-00' sorts first).
fn next_day(day: &str) -> String {
    chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.succ_opt())
        .map_or_else(
            || "0000-00-01".to_string(),
            |d| d.format("%Y-%m-%d").to_string(),
        )
}

#[derive(QueryableByName)]
struct RolledResponses {
    #[diesel(sql_type = Nullable<Text>)]
    k_service: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    k_channel: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    k_day: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    responses: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    overall_n: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    overall_satisfied: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    effort_n: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    effort_sum: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    nps_n: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    promoters: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    detractors: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    resolved_n: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    resolved_yes: Option<i64>,
}

impl RolledResponses {
    /// SUM over no rows is NULL: such a row is dropped.
    fn into_tally(self) -> Option<(GroupKey, Tally)> {
        let responses = self.responses.filter(|n| *n > 0)?;
        Some((
            key_of(self.k_service, self.k_channel, self.k_day, None),
            Tally {
                responses,
                overall_n: self.overall_n.unwrap_or(0),
                overall_satisfied: self.overall_satisfied.unwrap_or(0),
                effort_n: self.effort_n.unwrap_or(0),
                effort_sum: self.effort_sum.unwrap_or(0),
                nps_n: self.nps_n.unwrap_or(0),
                promoters: self.promoters.unwrap_or(0),
                detractors: self.detractors.unwrap_or(0),
                resolved_n: self.resolved_n.unwrap_or(0),
                resolved_yes: self.resolved_yes.unwrap_or(0),
                ..Tally::default()
            },
        ))
    }
}

#[derive(QueryableByName)]
struct RolledInvitations {
    #[diesel(sql_type = Nullable<Text>)]
    k_service: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    k_channel: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    k_day: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    invitations: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    answered: Option<i64>,
}

#[derive(QueryableByName)]
struct Through {
    #[diesel(sql_type = Text)]
    through_day: String,
}

fn through_day(conn: &mut DbConnection, table: &str) -> QueryResult<String> {
    let rows: Vec<Through> = load_text_bound(
        conn,
        "SELECT through_day FROM report_rollup_state WHERE name = ?",
        &[table.to_string()],
    )?;
    Ok(rows
        .into_iter()
        .next()
        .map_or_else(|| "0000-00-00".to_string(), |r| r.through_day))
}

#[derive(QueryableByName)]
struct OpenDay {
    #[diesel(sql_type = Nullable<Text>)]
    day: Option<String>,
}

/// The day of the oldest invitation that can still be answered, if any.
pub fn oldest_open_invitation_day(
    conn: &mut DbConnection,
    now: chrono::NaiveDateTime,
) -> QueryResult<Option<String>> {
    let sql = "SELECT MIN(day) AS day FROM invitations WHERE answered = FALSE AND expires_at > ?";
    let rows: Vec<OpenDay> = match conn {
        DbConnection::Postgres(c) => diesel::sql_query(sql.replace('?', "$1"))
            .bind::<diesel::sql_types::Timestamp, _>(now)
            .load(c)?,
        DbConnection::Sqlite(c) => diesel::sql_query(sql.replace("FALSE", "0"))
            .bind::<diesel::sql_types::Timestamp, _>(now)
            .load(c)?,
    };
    Ok(rows.into_iter().next().and_then(|r| r.day))
}

/// Rolls up residents' days (or whole months, from the daily table) after the table's
/// frozen-through day up to `through` (included), and moves the marker, in one transaction. Two
/// instances doing it at once: the marker's compare-and-set lets one through; the other's
/// inserts roll back with its transaction.
pub fn roll_up(conn: &mut DbConnection, table: &str, through: &str) -> QueryResult<bool> {
    let counted = |columns: &[&str]| {
        columns
            .iter()
            .map(|c| format!("COALESCE(SUM({c}), 0)"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (select, source, day) = match table {
        RESPONSE_DAYS => (RESPONSE_COUNTS.to_string(), "responses", "day"),
        INVITATION_DAYS => (INVITATION_COUNTS.to_string(), "invitations", "day"),
        RESPONSE_MONTHS => (counted(&RESPONSE_COLUMNS), RESPONSE_DAYS, MONTH_OF_DAY),
        _ => (counted(&INVITATION_COLUMNS), INVITATION_DAYS, MONTH_OF_DAY),
    };
    super::write_transaction(conn, |conn| {
        let from = through_day(conn, table)?;
        if through <= from.as_str() {
            return Ok(false);
        }
        let binds = [from.clone(), through.to_string()];
        let insert = format!(
            "INSERT INTO {table} SELECT audience, {day}, service_code, COALESCE(channel, ''), \
             {select} FROM {source} WHERE audience = 'resident' AND day > ? AND day <= ? \
             GROUP BY audience, {day}, service_code, COALESCE(channel, '')"
        );
        execute_text_bound(conn, &insert, &binds)?;
        let moved = execute_text_bound(
            conn,
            "UPDATE report_rollup_state SET through_day = ? WHERE name = ? AND through_day = ?",
            &[through.to_string(), table.to_string(), from],
        )?;
        if moved == 1 {
            Ok(true)
        } else {
            Err(diesel::result::Error::RollbackTransaction)
        }
    })
    .or_else(|e| match e {
        diesel::result::Error::RollbackTransaction => Ok(false),
        e => Err(e),
    })
}

/// The first day of a `YYYY-MM-DD` day's month, in SQL both backends speak.
const MONTH_OF_DAY: &str = "substr(day, 1, 8) || '01'";

/// The frozen-through day of a rollup table.
pub fn rolled_through(conn: &mut DbConnection, table: &str) -> QueryResult<String> {
    through_day(conn, table)
}

/// Runs a statement written with `?` placeholders, all bound as text, on either backend.
fn execute_text_bound(conn: &mut DbConnection, sql: &str, binds: &[String]) -> QueryResult<usize> {
    match conn {
        DbConnection::Postgres(c) => text_bound(numbered(sql), binds).execute(c),
        DbConnection::Sqlite(c) => text_bound(sql.to_string(), binds).execute(c),
    }
}

/// `?` placeholders as PostgreSQL's `$1, $2, …`.
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for ch in sql.chars() {
        if ch == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(ch);
        }
    }
    out
}

/// The rollup tables' names, for the service that keeps them current: (daily, monthly) for
/// responses, then for invitations.
pub const ROLLUPS: [(&str, &str); 2] = [
    (RESPONSE_DAYS, RESPONSE_MONTHS),
    (INVITATION_DAYS, INVITATION_MONTHS),
];

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
    let group_by = if group.is_empty() {
        String::new()
    } else {
        format!(" GROUP BY {}", group.join(", "))
    };
    let mut cond = String::from("opened_on >= ? AND opened_on <= ?");
    let mut binds = vec![
        today.to_string(),
        filter.from_day.clone(),
        filter.to_day.clone(),
    ];
    if let Some(services) = &filter.services {
        if services.is_empty() {
            cond.push_str(" AND 1 = 0");
        } else {
            cond.push_str(&format!(
                " AND service_code IN ({})",
                vec!["?"; services.len()].join(", ")
            ));
            binds.extend(services.iter().cloned());
        }
    }
    let sql = format!(
        "SELECT {}, COUNT(*) AS opened, \
         COALESCE(SUM(CASE WHEN closed_on IS NOT NULL AND closed_on <= due_on THEN 1 ELSE 0 END), 0) \
           AS closed_within_sla, \
         COALESCE(SUM(CASE WHEN status <> 'closed' THEN 1 ELSE 0 END), 0) AS still_open, \
         COALESCE(SUM(CASE WHEN status <> 'closed' AND due_on < ? THEN 1 ELSE 0 END), 0) AS overdue \
         FROM followups WHERE {cond}{group_by}",
        select.join(", ")
    );
    // Binds follow the placeholders' order in the text: the overdue day comes first.
    let rows: Vec<CaseCounts> = load_text_bound(conn, &sql, &binds)?;
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
pub fn comments(
    conn: &mut DbConnection,
    filter: &Filter,
    by_text: bool,
    after: Option<(&str, &str)>,
    limit: i64,
) -> QueryResult<Vec<CommentRow>> {
    let (cond, mut binds) = conditions(filter);
    let mut cond = cond
        .replace("audience", "r.audience")
        .replace("day ", "r.day ")
        .replace("service_code", "r.service_code")
        .replace("channel", "r.channel");
    // Newest day first, then by response: a page's last comment says where the next begins.
    let order = if by_text {
        "a.text_value"
    } else {
        "r.day DESC, a.response_id"
    };
    if let Some((day, id)) = after {
        cond.push_str(" AND (r.day < ? OR (r.day = ? AND a.response_id > ?))");
        binds.extend([day.to_string(), day.to_string(), id.to_string()]);
    }
    let sql = format!(
        "SELECT a.response_id AS response_id, r.service_code AS service_code, r.day AS day, \
         r.cohort AS cohort, a.text_value AS text FROM responses r \
         JOIN answers a ON a.response_id = r.id \
         WHERE a.question_id = 'comment' AND a.text_value IS NOT NULL AND {cond} \
         ORDER BY {order} LIMIT {}",
        limit.max(0)
    );
    load_text_bound(conn, &sql, &binds)
}
