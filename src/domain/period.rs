//! Days, weeks and months as a city counts them: in Asia/Jerusalem, with weeks from Sunday to
//! Saturday. Reports filter and group by the local day, stored as `YYYY-MM-DD` text so that both
//! backends compare and sort it the same way.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Asia::Jerusalem;

/// The local calendar day of an instant.
pub fn local_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&Jerusalem).date_naive()
}

/// The stored form of a day.
/// A stored UTC time as the city reads it: `YYYY-MM-DD HH:MM` in Asia/Jerusalem.
pub fn local_time_text(utc: chrono::NaiveDateTime) -> String {
    utc.and_utc()
        .with_timezone(&Jerusalem)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

pub fn day_key(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

pub fn parse_day(text: &str) -> Option<NaiveDate> {
    // Exactly YYYY-MM-DD: chrono alone would also take "2026-1-5".
    if text.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// The Sunday that starts the week of `day`.
pub fn week_start(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_sunday()))
}

pub fn month_start(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

/// The last day of the month of `day`.
pub fn month_end(day: NaiveDate) -> NaiveDate {
    let (y, m) = if day.month() == 12 {
        (day.year() + 1, 1)
    } else {
        (day.year(), day.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .map(|first| first - Duration::days(1))
        .unwrap_or(day)
}

/// The instant a local day begins (the first valid local time of that day).
pub fn day_begins(day: NaiveDate) -> DateTime<Utc> {
    use chrono::TimeZone;
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    match Jerusalem.from_local_datetime(&midnight) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            t.with_timezone(&Utc)
        }
        // Israel changes clocks at 02:00, never at midnight; this is for safety only.
        chrono::LocalResult::None => midnight.and_utc() - Duration::hours(2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(s: &str) -> NaiveDate {
        parse_day(s).expect("a valid day")
    }

    #[test]
    fn weeks_start_on_sunday() {
        assert_eq!(week_start(d("2026-11-28")), d("2026-11-22")); // Saturday
        assert_eq!(week_start(d("2026-11-22")), d("2026-11-22")); // Sunday
        assert_eq!(week_start(d("2026-11-23")), d("2026-11-22")); // Monday
        assert_eq!(week_start(d("2027-01-02")), d("2026-12-27")); // across a year
    }

    #[test]
    fn the_local_day_follows_israel_time_in_winter_and_summer() {
        // 22:30 UTC in winter (UTC+2) is already the next day in Jerusalem.
        let winter = Utc.with_ymd_and_hms(2026, 11, 27, 22, 30, 0).unwrap();
        assert_eq!(local_day(winter), d("2026-11-28"));
        let before = Utc.with_ymd_and_hms(2026, 11, 27, 21, 59, 0).unwrap();
        assert_eq!(local_day(before), d("2026-11-27"));
        // In summer (UTC+3) the day turns at 21:00 UTC.
        let summer = Utc.with_ymd_and_hms(2026, 7, 1, 21, 0, 0).unwrap();
        assert_eq!(local_day(summer), d("2026-07-02"));
        assert_eq!(day_begins(d("2026-07-02")), summer);
    }

    #[test]
    fn months_end_on_their_last_day() {
        assert_eq!(month_end(d("2028-02-10")), d("2028-02-29"));
        assert_eq!(month_end(d("2026-12-31")), d("2026-12-31"));
        assert_eq!(month_start(d("2026-12-31")), d("2026-12-01"));
    }

    #[test]
    fn only_exact_iso_days_parse() {
        assert!(parse_day("2026-1-05").is_none());
        assert!(parse_day("2026-02-30").is_none());
        assert!(parse_day("26-02-03").is_none());
        assert!(parse_day("2026-02-03x").is_none());
        assert_eq!(day_key(d("2026-02-03")), "2026-02-03");
    }
}
