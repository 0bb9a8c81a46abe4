//! When an employee group may be shown: the one home of the minimum-group rule.
//!
//! Employees' answers are reported only by group (a unit's month of tickets, or a unit in a
//! campaign), and a group only once it can no longer change and holds at least the minimum
//! number of answers. Both halves matter: a group shown while it still grows lets a reader
//! subtract yesterday's figure from today's and read one person's answer.

use std::collections::HashSet;

use chrono::NaiveDate;

use super::period::month_end;

/// The cohort of employee tickets (campaigns are `campaign:ID`).
pub const TICKETS: &str = "tickets";

/// Whether a group can no longer change: a campaign's when the campaign is closed (no link can
/// be answered after that), a month's tickets from [`tickets_show_from`].
pub fn frozen(cohort: &str, month: NaiveDate, today: NaiveDate, closed: &HashSet<String>) -> bool {
    match cohort.strip_prefix("campaign:") {
        Some(id) => closed.contains(id),
        None => tickets_show_from(month) <= today,
    }
}

/// The first day a month's ticket answers can be shown: the second day of the next month (a
/// margin for answers in flight at midnight, so that a group shown never grows afterwards).
/// Until then the month is still being counted, and reports say so and say when.
pub fn tickets_show_from(month: NaiveDate) -> NaiveDate {
    month_end(month) + chrono::Duration::days(2)
}

/// Whether a group of `answers` may be shown, given the city's minimum group size.
pub fn large_enough(answers: i64, min_group_size: i64) -> bool {
    answers >= min_group_size
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("day")
    }

    #[test]
    fn a_ticket_month_freezes_on_the_second_day_of_the_next_month() {
        let none = HashSet::new();
        let october = day("2026-10-01");
        assert!(!frozen(TICKETS, october, day("2026-10-31"), &none));
        assert!(!frozen(TICKETS, october, day("2026-11-01"), &none));
        assert!(frozen(TICKETS, october, day("2026-11-02"), &none));
    }

    #[test]
    fn a_campaign_freezes_when_it_is_closed_whatever_the_day() {
        let closed = HashSet::from(["abc".to_string()]);
        let month = day("2026-10-01");
        assert!(frozen("campaign:abc", month, day("2026-10-02"), &closed));
        assert!(!frozen("campaign:xyz", month, day("2027-10-02"), &closed));
    }

    #[test]
    fn a_group_below_the_minimum_is_not_shown() {
        assert!(!large_enough(4, 5));
        assert!(large_enough(5, 5));
    }
}
