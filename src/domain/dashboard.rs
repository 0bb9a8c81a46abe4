//! The periods the dashboard offers, as whole weeks (Sunday to Saturday) and whole months, so
//! that a figure never compares half a week with a whole one.

use chrono::{Datelike, Duration, Months, NaiveDate};

use super::period::{month_end, month_start, week_start};

/// A preset period, counted back from today (today itself is never included: it is not over).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Preset {
    /// The last four whole weeks.
    #[default]
    FourWeeks,
    Week,
    Month,
    Quarter,
    Year,
}

impl Preset {
    pub const ALL: [Preset; 5] = [
        Preset::FourWeeks,
        Preset::Week,
        Preset::Month,
        Preset::Quarter,
        Preset::Year,
    ];

    pub fn parse(text: &str) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Preset::FourWeeks => "4w",
            Preset::Week => "week",
            Preset::Month => "month",
            Preset::Quarter => "quarter",
            Preset::Year => "year",
        }
    }

    /// The period (first and last day, both included) as of `today`.
    pub fn range(self, today: NaiveDate) -> (NaiveDate, NaiveDate) {
        let this_week = week_start(today);
        let this_month = month_start(today);
        match self {
            Preset::FourWeeks => (
                this_week - Duration::days(28),
                this_week - Duration::days(1),
            ),
            Preset::Week => (this_week - Duration::days(7), this_week - Duration::days(1)),
            Preset::Month => {
                let last = this_month - Duration::days(1);
                (month_start(last), last)
            }
            Preset::Quarter => {
                let q = (this_month.month0() / 3) * 3;
                let this_quarter = this_month.with_month0(q).unwrap_or(this_month);
                let from = this_quarter - Months::new(3);
                (from, this_quarter - Duration::days(1))
            }
            Preset::Year => {
                let from = this_month - Months::new(12);
                (from, this_month - Duration::days(1))
            }
        }
    }
}

/// The period of the same length just before `from`..=`to` (whole months stay whole months).
pub fn previous(from: NaiveDate, to: NaiveDate) -> (NaiveDate, NaiveDate) {
    if from == month_start(from) && to == month_end(to) {
        let months = (to.year() - from.year()) * 12 + to.month() as i32 - from.month() as i32 + 1;
        let start = from - Months::new(months.max(1) as u32);
        return (start, from - Duration::days(1));
    }
    let days = (to - from).num_days() + 1;
    (from - Duration::days(days), from - Duration::days(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("day")
    }

    #[test]
    fn four_weeks_end_on_the_saturday_before_this_week() {
        // Tuesday 2026-12-01; the week began on Sunday 2026-11-29.
        assert_eq!(
            Preset::FourWeeks.range(d("2026-12-01")),
            (d("2026-11-01"), d("2026-11-28"))
        );
        assert_eq!(
            Preset::Week.range(d("2026-12-01")),
            (d("2026-11-22"), d("2026-11-28"))
        );
    }

    #[test]
    fn months_quarters_and_years_are_whole() {
        let today = d("2026-12-01");
        assert_eq!(
            Preset::Month.range(today),
            (d("2026-11-01"), d("2026-11-30"))
        );
        assert_eq!(
            Preset::Quarter.range(today),
            (d("2026-07-01"), d("2026-09-30"))
        );
        assert_eq!(
            Preset::Year.range(today),
            (d("2025-12-01"), d("2026-11-30"))
        );
        assert_eq!(
            Preset::Quarter.range(d("2026-02-10")),
            (d("2025-10-01"), d("2025-12-31"))
        );
    }

    #[test]
    fn the_previous_period_has_the_same_length() {
        assert_eq!(
            previous(d("2026-11-01"), d("2026-11-28")),
            (d("2026-10-04"), d("2026-10-31"))
        );
        assert_eq!(
            previous(d("2026-07-01"), d("2026-09-30")),
            (d("2026-04-01"), d("2026-06-30"))
        );
        assert_eq!(
            previous(d("2026-02-01"), d("2026-02-28")),
            (d("2026-01-01"), d("2026-01-31"))
        );
    }

    #[test]
    fn presets_round_trip() {
        for p in Preset::ALL {
            assert_eq!(Preset::parse(p.as_str()), Some(p));
        }
        assert_eq!(Preset::parse("decade"), None);
    }
}
