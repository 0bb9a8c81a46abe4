//! Counting for reports: one aggregate query over the covering index of `responses` (or of
//! `invitations`), grouped only by what the caller asks for. The database counts and adds
//! integers; every ratio is computed in `domain::metrics`, identically for both backends, and
//! what each answer counts towards was decided in Rust when it was stored.
//!
//! Statements are built with [`Sql`], which writes each backend's placeholders as it goes.

mod answers;
mod cases;
mod comments;
mod rollup;

use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::{QueryResult, QueryableByName};

use super::sql::Sql;
use super::DbConnection;
use crate::domain::interaction::Audience;
use crate::domain::metrics::Tally;

pub use answers::answer_tallies;
pub use cases::case_tallies;
pub use comments::{comments, CommentRow};
pub use rollup::{roll_up, rolled_through, ROLLUPS};

/// Which rows to count. Days are local `YYYY-MM-DD` and inclusive.
#[derive(Debug, Clone)]
pub struct Filter {
    pub audience: Audience,
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

/// `SELECT` list entries for the grouped columns, with NULL stand-ins for the others, and the
/// `GROUP BY` list (column names only: nothing here is a value).
fn keys(g: Grouping) -> (String, String) {
    let mut select = Vec::new();
    let mut group = Vec::new();
    for (on, column, alias) in [
        (g.service, "service_code", "k_service"),
        (g.channel, "channel", "k_channel"),
        (g.day, "day", "k_day"),
        (g.cohort, "cohort", "k_cohort"),
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
    (select.join(", "), group_by)
}

/// Appends the filter's conditions on the columns of `table` (an alias with its dot, or "").
fn conditions(sql: &mut Sql, f: &Filter, table: &str) {
    sql.push(table)
        .push("audience = ")
        .bind(f.audience.as_str())
        .push(" AND ")
        .push(table)
        .push("day >= ")
        .bind(f.from_day.clone())
        .push(" AND ")
        .push(table)
        .push("day <= ")
        .bind(f.to_day.clone());
    if let Some(services) = &f.services {
        sql.push(" AND ")
            .push_in(&format!("{table}service_code"), services);
    }
    if let Some(channel) = &f.channel {
        sql.push(" AND ")
            .push(table)
            .push("channel = ")
            .bind(channel.clone());
    }
}

/// `SELECT keys, counts FROM table WHERE filter GROUP BY keys`.
fn grouped(
    conn: &DbConnection,
    grouping: Grouping,
    counts: &str,
    table: &str,
    filter: &Filter,
) -> Sql {
    let (select, group_by) = keys(grouping);
    let mut sql = Sql::for_conn(conn);
    sql.push(&format!("SELECT {select}, {counts} FROM {table} WHERE "));
    conditions(&mut sql, filter, "");
    sql.push(&group_by);
    sql
}

/// What a group of responses counts, named as the tallies' columns: the live queries and the
/// daily rollup use the same expressions, so the two cannot drift apart. Only sums and counts:
/// whether an answer is satisfied, a promoter (`nps_group` 1) or a detractor (-1) was decided
/// when it was stored (`domain::metrics::ResponseFigures`).
const RESPONSE_COUNTS: &str = "COUNT(*) AS responses, COUNT(overall) AS overall_n, \
    COALESCE(SUM(satisfied), 0) AS overall_satisfied, \
    COUNT(effort) AS effort_n, COALESCE(SUM(effort), 0) AS effort_sum, COUNT(nps) AS nps_n, \
    COALESCE(SUM(CASE WHEN nps_group = 1 THEN 1 ELSE 0 END), 0) AS promoters, \
    COALESCE(SUM(CASE WHEN nps_group = -1 THEN 1 ELSE 0 END), 0) AS detractors, \
    COUNT(resolved) AS resolved_n, COALESCE(SUM(resolved), 0) AS resolved_yes";

/// The same for invitations.
const INVITATION_COUNTS: &str = "COUNT(*) AS invitations, \
    COALESCE(SUM(CASE WHEN answered THEN 1 ELSE 0 END), 0) AS answered";

/// The tallies' columns, in the rollup tables too.
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

/// One group's counts, from the live tables (plain counts) or the rollups (sums, NULL over no
/// rows): every count is read as nullable so that one row type serves both.
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

impl ResponseCounts {
    /// A group with no responses (an aggregate without GROUP BY returns one row even when
    /// nothing matched) is dropped.
    fn into_tally(self) -> Option<(GroupKey, Tally)> {
        let responses = self.responses.filter(|n| *n > 0)?;
        Some((
            key_of(self.k_service, self.k_channel, self.k_day, self.k_cohort),
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
struct InvitationCounts {
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

impl InvitationCounts {
    fn into_tally(self) -> Option<(GroupKey, Tally)> {
        let invitations = self.invitations.filter(|n| *n > 0)?;
        Some((
            key_of(self.k_service, self.k_channel, self.k_day, None),
            Tally {
                invitations,
                invitations_answered: self.answered.unwrap_or(0),
                ..Tally::default()
            },
        ))
    }
}

/// Response counts per group, straight from `responses`.
fn live_response_tallies(
    conn: &mut DbConnection,
    filter: &Filter,
    grouping: Grouping,
) -> QueryResult<Vec<(GroupKey, Tally)>> {
    let rows: Vec<ResponseCounts> =
        grouped(conn, grouping, RESPONSE_COUNTS, "responses", filter).load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(ResponseCounts::into_tally)
        .collect())
}

/// Invitations issued per group, and how many of them were answered, straight from
/// `invitations`. Invitations have no cohort: the caller does not group by it.
fn live_invitation_tallies(
    conn: &mut DbConnection,
    filter: &Filter,
    grouping: Grouping,
) -> QueryResult<Vec<(GroupKey, Tally)>> {
    let rows: Vec<InvitationCounts> =
        grouped(conn, grouping, INVITATION_COUNTS, "invitations", filter).load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(InvitationCounts::into_tally)
        .collect())
}

/// Response counts per group: frozen days from the rollup, later days from `responses`.
/// Only residents' answers are rolled up; employees' are few and counted live.
pub fn response_tallies(
    conn: &mut DbConnection,
    filter: &Filter,
    grouping: Grouping,
) -> QueryResult<Vec<(GroupKey, Tally)>> {
    if filter.audience != Audience::Resident || grouping.cohort {
        return live_response_tallies(conn, filter, grouping);
    }
    let (rolled, live) = rollup::split(conn, rollup::RESPONSE_DAYS, filter)?;
    let mut out = Vec::new();
    if let Some(f) = rolled {
        let sums = RESPONSE_COLUMNS.map(sum_as_bigint).join(", ");
        for (table, f) in rollup::segments(conn, rollup::RESPONSE_MONTHS, &f, grouping.day)? {
            let rows: Vec<ResponseCounts> = grouped(conn, grouping, &sums, table, &f).load(conn)?;
            out.extend(rows.into_iter().filter_map(ResponseCounts::into_tally));
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
    let grouping = Grouping {
        cohort: false,
        ..grouping
    };
    if filter.audience != Audience::Resident {
        return live_invitation_tallies(conn, filter, grouping);
    }
    let (rolled, live) = rollup::split(conn, rollup::INVITATION_DAYS, filter)?;
    let mut out = Vec::new();
    if let Some(f) = rolled {
        let sums = INVITATION_COLUMNS.map(sum_as_bigint).join(", ");
        for (table, f) in rollup::segments(conn, rollup::INVITATION_MONTHS, &f, grouping.day)? {
            let rows: Vec<InvitationCounts> =
                grouped(conn, grouping, &sums, table, &f).load(conn)?;
            out.extend(rows.into_iter().filter_map(InvitationCounts::into_tally));
        }
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

/// The day of the oldest invitation that can still be answered, if any.
pub fn oldest_open_invitation_day(
    conn: &mut DbConnection,
    now: chrono::NaiveDateTime,
) -> QueryResult<Option<String>> {
    use crate::db::schema::invitations::dsl as i;
    use diesel::dsl::min;
    use diesel::prelude::*;
    i::invitations
        .filter(i::answered.eq(false))
        .filter(i::expires_at.gt(now))
        .select(min(i::day))
        .get_result(conn)
}
