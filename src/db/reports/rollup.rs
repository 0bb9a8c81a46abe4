//! The rollup tables: residents' counts per day, and per month from the days, for days that
//! can no longer change (every invitation issued on them has expired). Reports read frozen days
//! from here and only later days live. A missing channel is stored as '', since a key column
//! cannot be NULL.

use chrono::{Datelike, Months, NaiveDate};
use diesel::sql_types::Text;
use diesel::{QueryResult, QueryableByName};

use super::{Filter, INVITATION_COLUMNS, INVITATION_COUNTS, RESPONSE_COLUMNS, RESPONSE_COUNTS};
use crate::db::sql::Sql;
use crate::db::DbConnection;

pub(super) const RESPONSE_DAYS: &str = "report_response_days";
pub(super) const INVITATION_DAYS: &str = "report_invitation_days";
pub(super) const RESPONSE_MONTHS: &str = "report_response_months";
pub(super) const INVITATION_MONTHS: &str = "report_invitation_months";
pub(super) const ANSWER_DAYS: &str = "report_answer_days";
pub(super) const ANSWER_MONTHS: &str = "report_answer_months";

/// The rollup tables' names, for the service that keeps them current: (daily, monthly) for
/// responses, for invitations, then for every scale question's answers.
pub const ROLLUPS: [(&str, &str); 3] = [
    (RESPONSE_DAYS, RESPONSE_MONTHS),
    (INVITATION_DAYS, INVITATION_MONTHS),
    (ANSWER_DAYS, ANSWER_MONTHS),
];

/// The daily table a monthly one is made from.
fn days_of(months: &str) -> &'static str {
    match months {
        RESPONSE_MONTHS => RESPONSE_DAYS,
        ANSWER_MONTHS => ANSWER_DAYS,
        _ => INVITATION_DAYS,
    }
}

fn parse(day: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()
}

fn day_key(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// The whole months within `from..=to`: the first month starting on or after `from`, and the
/// last ending on or before `to`.
fn whole_months(from: &str, to: &str) -> Option<(NaiveDate, NaiveDate)> {
    let (from, to) = (parse(from)?, parse(to)?);
    let first = if from.day() == 1 {
        from
    } else {
        from.checked_add_months(Months::new(1))?.with_day(1)?
    };
    let last = if to.succ_opt()?.day() == 1 {
        to.with_day(1)?
    } else {
        to.with_day(1)?.checked_sub_months(Months::new(1))?
    };
    (first <= last).then_some((first, last))
}

/// The parts of a frozen range, each with the table that answers it: whole months from the
/// monthly table (unless the grouping needs days), the days around them from the daily one.
pub(super) fn segments(
    conn: &mut DbConnection,
    months: &'static str,
    filter: &Filter,
    by_day: bool,
) -> QueryResult<Vec<(&'static str, Filter)>> {
    let days = days_of(months);
    if by_day {
        return Ok(vec![(days, filter.clone())]);
    }
    let limit = filter.to_day.clone().min(through_day(conn, months)?);
    let Some((first, last)) = whole_months(&filter.from_day, &limit) else {
        return Ok(vec![(days, filter.clone())]);
    };
    let part = |from: String, to: String| Filter {
        from_day: from,
        to_day: to,
        ..filter.clone()
    };
    let mut out = vec![(months, part(day_key(first), day_key(last)))];
    if filter.from_day < day_key(first) {
        if let Some(before) = first.pred_opt() {
            out.push((days, part(filter.from_day.clone(), day_key(before))));
        }
    }
    let last_end = last
        .checked_add_months(Months::new(1))
        .and_then(|d| d.pred_opt());
    if let Some(end) = last_end {
        if day_key(end) < filter.to_day {
            if let Some(after) = end.succ_opt() {
                out.push((days, part(day_key(after), filter.to_day.clone())));
            }
        }
    }
    Ok(out)
}

/// Splits a filter at the daily table's frozen-through day: the part the rollup answers, and
/// the rest.
pub(super) fn split(
    conn: &mut DbConnection,
    days: &str,
    filter: &Filter,
) -> QueryResult<(Option<Filter>, Option<Filter>)> {
    let through = through_day(conn, days)?;
    let rolled = (filter.from_day <= through).then(|| Filter {
        to_day: filter.to_day.clone().min(through.clone()),
        ..filter.clone()
    });
    let live = (filter.to_day > through).then(|| Filter {
        from_day: filter.from_day.clone().max(next_day(&through)),
        ..filter.clone()
    });
    Ok((rolled, live))
}

/// The day after a `YYYY-MM-DD` day (text compares as days, so '0000-00-00' sorts first).
fn next_day(day: &str) -> String {
    parse(day)
        .and_then(|d| d.succ_opt())
        .map_or_else(|| "0000-00-01".to_string(), day_key)
}

#[derive(QueryableByName)]
struct Through {
    #[diesel(sql_type = Text)]
    through_day: String,
}

fn through_day(conn: &mut DbConnection, table: &str) -> QueryResult<String> {
    let mut sql = Sql::for_conn(conn);
    sql.push("SELECT through_day FROM report_rollup_state WHERE name = ")
        .bind(table);
    let rows: Vec<Through> = sql.load(conn)?;
    Ok(rows
        .into_iter()
        .next()
        .map_or_else(|| "0000-00-00".to_string(), |r| r.through_day))
}

/// The frozen-through day of a rollup table.
pub fn rolled_through(conn: &mut DbConnection, table: &str) -> QueryResult<String> {
    through_day(conn, table)
}

/// The first day of a `YYYY-MM-DD` day's month, in SQL both backends speak.
const MONTH_OF_DAY: &str = "substr(day, 1, 8) || '01'";

/// Rolls up residents' days (or whole months, from the daily table) after the table's
/// frozen-through day up to `through` (included), and moves the marker, in one transaction. Two
/// instances doing it at once: the marker's compare-and-set lets one through; the other's
/// inserts roll back with its transaction.
pub fn roll_up(conn: &mut DbConnection, table: &str, through: &str) -> QueryResult<bool> {
    let summed = |columns: &[&str]| {
        columns
            .iter()
            .map(|c| format!("COALESCE(SUM({c}), 0)"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    // What each table counts, from where, on which day, and grouped by what besides the key.
    let (select, source, day, more) = match table {
        RESPONSE_DAYS => (RESPONSE_COUNTS.to_string(), "responses", "day", ""),
        INVITATION_DAYS => (INVITATION_COUNTS.to_string(), "invitations", "day", ""),
        RESPONSE_MONTHS => (summed(&RESPONSE_COLUMNS), RESPONSE_DAYS, MONTH_OF_DAY, ""),
        ANSWER_DAYS => (
            "question_id, int_value, COUNT(*)".to_string(),
            "responses JOIN answers ON answers.response_id = responses.id \
             AND answers.int_value IS NOT NULL",
            "day",
            ", question_id, int_value",
        ),
        ANSWER_MONTHS => (
            "question_id, value, COALESCE(SUM(answers), 0)".to_string(),
            ANSWER_DAYS,
            MONTH_OF_DAY,
            ", question_id, value",
        ),
        _ => (
            summed(&INVITATION_COLUMNS),
            INVITATION_DAYS,
            MONTH_OF_DAY,
            "",
        ),
    };
    crate::db::write_transaction(conn, |conn| {
        let from = through_day(conn, table)?;
        if through <= from.as_str() {
            return Ok(false);
        }
        let mut insert = Sql::for_conn(conn);
        insert
            .push(&format!(
                "INSERT INTO {table} SELECT audience, {day}, service_code, COALESCE(channel, ''), \
                 {select} FROM {source} WHERE audience = 'resident' AND day > "
            ))
            .bind(from.clone())
            .push(" AND day <= ")
            .bind(through)
            .push(&format!(
                " GROUP BY audience, {day}, service_code, COALESCE(channel, ''){more}"
            ));
        insert.execute(conn)?;
        let mut advance = Sql::for_conn(conn);
        advance
            .push("UPDATE report_rollup_state SET through_day = ")
            .bind(through)
            .push(" WHERE name = ")
            .bind(table)
            .push(" AND through_day = ")
            .bind(from);
        if advance.execute(conn)? == 1 {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse(s).unwrap_or_default()
    }

    #[test]
    fn whole_months_are_those_inside_the_range() {
        assert_eq!(
            whole_months("2026-01-15", "2026-04-10"),
            Some((d("2026-02-01"), d("2026-03-01")))
        );
        assert_eq!(
            whole_months("2026-01-01", "2026-01-31"),
            Some((d("2026-01-01"), d("2026-01-01")))
        );
        assert_eq!(whole_months("2026-01-02", "2026-02-27"), None);
        assert_eq!(whole_months("not a day", "2026-02-27"), None);
    }

    #[test]
    fn the_day_after_wraps_months_and_the_empty_marker() {
        assert_eq!(next_day("2026-02-28"), "2026-03-01");
        assert_eq!(next_day("0000-00-00"), "0000-00-01");
    }
}
