//! When an email may go out: after a delay, never in quiet hours, never in the weekly rest window
//! (Shabbat by default), all in Israel's time zone. Pure functions over instants.

use chrono::{DateTime, Datelike, Duration, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Asia::Jerusalem;

/// A daily window such as 21:00-08:00 (it may cross midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyWindow {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

/// A weekly window such as fri 14:00-sat 20:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeeklyWindow {
    pub start: (Weekday, NaiveTime),
    pub end: (Weekday, NaiveTime),
}

/// The sending rules, each a setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendRules {
    pub delay: Duration,
    pub quiet_hours: Option<DailyWindow>,
    pub rest_window: Option<WeeklyWindow>,
    pub reminder_after: Option<Duration>,
    pub frequency_cap: Option<Duration>,
}

impl Default for SendRules {
    fn default() -> Self {
        SendRules {
            delay: Duration::hours(2),
            quiet_hours: parse_daily("21:00-08:00"),
            rest_window: parse_weekly("fri 14:00-sat 20:00"),
            reminder_after: Some(Duration::days(3)),
            frequency_cap: Some(Duration::days(30)),
        }
    }
}

fn parse_time(text: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(text.trim(), "%H:%M").ok()
}

/// Parses `21:00-08:00`.
pub fn parse_daily(text: &str) -> Option<DailyWindow> {
    let (a, b) = text.split_once('-')?;
    let w = DailyWindow {
        start: parse_time(a)?,
        end: parse_time(b)?,
    };
    (w.start != w.end).then_some(w)
}

fn parse_day(text: &str) -> Option<Weekday> {
    match text.trim().to_ascii_lowercase().as_str() {
        "sun" => Some(Weekday::Sun),
        "mon" => Some(Weekday::Mon),
        "tue" => Some(Weekday::Tue),
        "wed" => Some(Weekday::Wed),
        "thu" => Some(Weekday::Thu),
        "fri" => Some(Weekday::Fri),
        "sat" => Some(Weekday::Sat),
        _ => None,
    }
}

/// Parses `fri 14:00-sat 20:00`.
pub fn parse_weekly(text: &str) -> Option<WeeklyWindow> {
    let (a, b) = text.split_once('-')?;
    let point = |s: &str| -> Option<(Weekday, NaiveTime)> {
        let (day, time) = s.trim().split_once(' ')?;
        Some((parse_day(day)?, parse_time(time)?))
    };
    let w = WeeklyWindow {
        start: point(a)?,
        end: point(b)?,
    };
    (w.start != w.end).then_some(w)
}

const WEEK: i64 = 7 * 24 * 60;

/// Minutes since Sunday 00:00.
fn week_minute(day: Weekday, time: NaiveTime) -> i64 {
    use chrono::Timelike;
    i64::from(day.num_days_from_sunday()) * 24 * 60
        + i64::from(time.hour()) * 60
        + i64::from(time.minute())
}

/// The local time `minutes` after `local`, back in UTC (the earliest reading in a DST fold).
fn after(local: NaiveDateTime, minutes: i64) -> DateTime<Utc> {
    let target = local + Duration::minutes(minutes);
    Jerusalem
        .from_local_datetime(&target)
        .earliest()
        .or_else(|| {
            Jerusalem
                .from_local_datetime(&(target + Duration::hours(1)))
                .earliest()
        })
        .map_or_else(|| target.and_utc(), |t| t.with_timezone(&Utc))
}

/// Minutes from `now` (minute of a cycle of `period`) to the end of the window [start, end),
/// or None when outside it.
fn minutes_to_end(now: i64, start: i64, end: i64, period: i64) -> Option<i64> {
    let inside = if start < end {
        now >= start && now < end
    } else {
        now >= start || now < end
    };
    inside.then(|| (end - now).rem_euclid(period))
}

/// The earliest instant at or after `t` that is outside quiet hours and the rest window.
pub fn next_allowed(t: DateTime<Utc>, rules: &SendRules) -> DateTime<Utc> {
    let mut t = t;
    // Leaving one window can land in the other; two rounds of each settle any real settings.
    for _ in 0..4 {
        let local = t.with_timezone(&Jerusalem).naive_local();
        let local_floor = local
            .date()
            .and_hms_opt(
                chrono::Timelike::hour(&local),
                chrono::Timelike::minute(&local),
                0,
            )
            .unwrap_or(local);
        let mut moved = false;
        if let Some(q) = rules.quiet_hours {
            let now = week_minute(Weekday::Sun, local.time());
            let (s, e) = (
                week_minute(Weekday::Sun, q.start),
                week_minute(Weekday::Sun, q.end),
            );
            if let Some(m) = minutes_to_end(now, s, e, 24 * 60) {
                t = after(local_floor, m);
                moved = true;
            }
        }
        if !moved {
            if let Some(w) = rules.rest_window {
                let now = week_minute(local.weekday(), local.time());
                let (s, e) = (
                    week_minute(w.start.0, w.start.1),
                    week_minute(w.end.0, w.end.1),
                );
                if let Some(m) = minutes_to_end(now, s, e, WEEK) {
                    t = after(local_floor, m);
                    moved = true;
                }
            }
        }
        if !moved {
            return t;
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An instant given in Israel's local time.
    fn il(text: &str) -> DateTime<Utc> {
        let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").expect("time");
        Jerusalem
            .from_local_datetime(&naive)
            .earliest()
            .expect("exists")
            .with_timezone(&Utc)
    }

    fn local(t: DateTime<Utc>) -> String {
        t.with_timezone(&Jerusalem)
            .format("%a %Y-%m-%d %H:%M")
            .to_string()
    }

    #[test]
    fn a_weekday_afternoon_is_allowed_as_is() {
        let rules = SendRules::default();
        let t = il("2026-11-24 10:15"); // a Tuesday
        assert_eq!(next_allowed(t, &rules), t);
    }

    #[test]
    fn quiet_hours_move_to_eight_in_the_morning() {
        let rules = SendRules::default();
        assert_eq!(
            local(next_allowed(il("2026-11-24 22:30"), &rules)),
            "Wed 2026-11-25 08:00"
        );
        assert_eq!(
            local(next_allowed(il("2026-11-25 03:10"), &rules)),
            "Wed 2026-11-25 08:00"
        );
        assert_eq!(
            local(next_allowed(il("2026-11-24 21:00"), &rules)),
            "Wed 2026-11-25 08:00"
        );
        assert_eq!(
            local(next_allowed(il("2026-11-25 08:00"), &rules)),
            "Wed 2026-11-25 08:00"
        );
    }

    #[test]
    fn the_rest_window_moves_to_saturday_evening() {
        let rules = SendRules::default();
        // Friday 13:59 may go; 14:00 waits for Saturday 20:00.
        assert_eq!(
            local(next_allowed(il("2026-11-27 13:59"), &rules)),
            "Fri 2026-11-27 13:59"
        );
        assert_eq!(
            local(next_allowed(il("2026-11-27 14:00"), &rules)),
            "Sat 2026-11-28 20:00"
        );
        assert_eq!(
            local(next_allowed(il("2026-11-28 12:00"), &rules)),
            "Sat 2026-11-28 20:00"
        );
        // Thursday night: quiet hours end Friday 08:00, which is before the window.
        assert_eq!(
            local(next_allowed(il("2026-11-26 23:00"), &rules)),
            "Fri 2026-11-27 08:00"
        );
    }

    #[test]
    fn leaving_one_window_into_the_other_settles_in_both() {
        let rules = SendRules {
            quiet_hours: parse_daily("19:00-08:00"),
            ..SendRules::default()
        };
        // The rest window ends Saturday 20:00, inside these quiet hours: Sunday 08:00.
        assert_eq!(
            local(next_allowed(il("2026-11-28 12:00"), &rules)),
            "Sun 2026-11-29 08:00"
        );
    }

    #[test]
    fn rules_can_be_switched_off_and_other_communities_configured() {
        let none = SendRules {
            quiet_hours: None,
            rest_window: None,
            ..SendRules::default()
        };
        let t = il("2026-11-28 12:00");
        assert_eq!(next_allowed(t, &none), t);
        let sunday_rest = SendRules {
            rest_window: parse_weekly("sat 18:00-mon 06:00"),
            ..SendRules::default()
        };
        assert_eq!(
            local(next_allowed(il("2026-11-29 12:00"), &sunday_rest)),
            "Mon 2026-11-30 08:00"
        );
    }

    #[test]
    fn window_settings_parse_and_refuse_nonsense() {
        assert!(parse_daily("21:00-08:00").is_some());
        assert!(parse_daily("21:00").is_none());
        assert!(parse_daily("25:00-08:00").is_none());
        assert!(parse_daily("08:00-08:00").is_none());
        assert!(parse_weekly("fri 14:00-sat 20:00").is_some());
        assert!(parse_weekly("friday 14:00-sat 20:00").is_none());
        assert!(parse_weekly("fri 14:00").is_none());
    }

    #[test]
    fn the_spring_forward_gap_is_handled() {
        // Israel moves clocks forward on Friday 2027-03-26 at 02:00 (to 03:00).
        let rules = SendRules::default();
        let t = next_allowed(il("2027-03-26 01:30"), &rules);
        assert_eq!(local(t), "Fri 2027-03-26 08:00");
    }
}
