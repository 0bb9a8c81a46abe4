//! Follow-up cases: which answers open one, when it is due, and how its status may change.

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, NaiveDate, Weekday};

use super::survey::{
    Answer, AnswerValue, Measure, SurveyDefinition, NOT_RESOLVED, PARTIALLY_RESOLVED,
};

/// Which answers open a case (the setting `MASHOV_FOLLOWUP_RULE`, such as
/// `overall<=2 or not_resolved`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FollowupRule {
    /// Opens a case when the overall answer is at most this.
    pub overall_at_most: Option<i32>,
    /// Opens a case when the request was "not resolved".
    pub not_resolved: bool,
    /// Opens a case when it was only "partially" resolved.
    pub partially: bool,
}

impl Default for FollowupRule {
    fn default() -> Self {
        FollowupRule {
            overall_at_most: Some(2),
            not_resolved: true,
            partially: false,
        }
    }
}

impl FollowupRule {
    /// Parses `off`, or terms joined by `or`: `overall<=N` (N from 1 to 4), `not_resolved`,
    /// `partially`.
    pub fn parse(text: &str) -> Option<FollowupRule> {
        let text = text.trim();
        let mut rule = FollowupRule {
            overall_at_most: None,
            not_resolved: false,
            partially: false,
        };
        if text == "off" {
            return Some(rule);
        }
        for term in text.split(" or ") {
            let term: String = term.chars().filter(|c| !c.is_whitespace()).collect();
            if let Some(n) = term.strip_prefix("overall<=") {
                rule.overall_at_most = Some(n.parse().ok().filter(|n| (1..=4).contains(n))?);
            } else if term == "not_resolved" {
                rule.not_resolved = true;
            } else if term == "partially" {
                rule.partially = true;
            } else {
                return None;
            }
        }
        Some(rule)
    }

    /// Why these answers open a case (empty: they do not), e.g. `["low_overall"]`. The survey
    /// says which questions carry satisfaction and resolution.
    pub fn reasons(&self, survey: &SurveyDefinition, answers: &[Answer]) -> Vec<&'static str> {
        let value = |m: Measure| survey.answer_to(m, answers);
        let mut reasons = Vec::new();
        if let Some(AnswerValue::Int(n)) = value(Measure::Satisfaction) {
            if self.overall_at_most.is_some_and(|m| *n <= m) {
                reasons.push("low_overall");
            }
        }
        match value(Measure::Resolution) {
            Some(AnswerValue::Text(t)) if self.not_resolved && t == NOT_RESOLVED => {
                reasons.push("not_resolved")
            }
            Some(AnswerValue::Text(t)) if self.partially && t == PARTIALLY_RESOLVED => {
                reasons.push("partially_resolved")
            }
            _ => {}
        }
        reasons
    }
}

/// The city's holidays (the setting `MASHOV_HOLIDAYS`): days that, like Friday and Saturday,
/// do not count toward a case's due day. mashov ships no list, since which days the city's
/// offices close (the eves, the intermediate days of Sukkot and Pesach) is the city's decision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holidays(BTreeSet<NaiveDate>);

/// At most this many days in one range, and in all: a typo such as `2026..2062` is refused.
const MAX_RANGE: i64 = 31;
const MAX_DAYS: usize = 2000;

impl Holidays {
    /// Parses days (`2026-09-21`) and inclusive ranges (`2026-09-26..2026-10-03`), separated by
    /// commas or white space. An error names the first item it cannot read.
    pub fn parse(text: &str) -> Result<Holidays, String> {
        let mut days = BTreeSet::new();
        for item in text.split(|c: char| c == ',' || c.is_whitespace()) {
            if item.is_empty() {
                continue;
            }
            let day = |t: &str| {
                NaiveDate::parse_from_str(t, "%Y-%m-%d")
                    .map_err(|_| format!("{item:?} is not a day such as 2026-09-21"))
            };
            let (first, last) = match item.split_once("..") {
                Some((a, b)) => (day(a)?, day(b)?),
                None => (day(item)?, day(item)?),
            };
            let span = (last - first).num_days();
            if !(0..MAX_RANGE).contains(&span) {
                return Err(format!(
                    "{item:?}: a range runs forward, over at most {MAX_RANGE} days"
                ));
            }
            for n in 0..=span {
                days.insert(first + Duration::days(n));
            }
            if days.len() > MAX_DAYS {
                return Err(format!("more than {MAX_DAYS} holidays"));
            }
        }
        Ok(Holidays(days))
    }

    pub fn contains(&self, day: NaiveDate) -> bool {
        self.0.contains(&day)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What follow-up needs from the settings: which answers open a case, and which days its due
/// day skips.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FollowupPolicy {
    pub rule: FollowupRule,
    pub holidays: Holidays,
}

/// Sunday to Thursday, the Israeli working week, less the city's holidays.
pub fn is_business_day(day: NaiveDate, holidays: &Holidays) -> bool {
    !matches!(day.weekday(), Weekday::Fri | Weekday::Sat) && !holidays.contains(day)
}

/// The day a case opened on `opened` is due, `sla_days` business days later: a case opened on
/// a Friday, a Saturday or a holiday counts from the next business day; 0 days means the first
/// business day from the opening.
pub fn due_day(opened: NaiveDate, sla_days: i32, holidays: &Holidays) -> NaiveDate {
    let mut day = opened;
    while !is_business_day(day, holidays) {
        day += Duration::days(1);
    }
    let mut left = sla_days.max(0);
    while left > 0 {
        day += Duration::days(1);
        if is_business_day(day, holidays) {
            left -= 1;
        }
    }
    day
}

/// Follow-up cases in a report: opened in the period, of those closed by their due day, still
/// open, and still open past their due day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Cases {
    pub opened: i64,
    pub closed_within_sla: i64,
    pub open: i64,
    pub overdue: i64,
}

impl std::ops::AddAssign for Cases {
    fn add_assign(&mut self, o: Cases) {
        self.opened += o.opened;
        self.closed_within_sla += o.closed_within_sla;
        self.open += o.open;
        self.overdue += o.overdue;
    }
}

/// A case's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Open,
    InProgress,
    Closed,
}

impl Status {
    pub fn parse(text: &str) -> Option<Status> {
        match text {
            "open" => Some(Status::Open),
            "in_progress" => Some(Status::InProgress),
            "closed" => Some(Status::Closed),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::InProgress => "in_progress",
            Status::Closed => "closed",
        }
    }
}

/// Why a change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeError {
    /// A closed case stays closed.
    AlreadyClosed,
    /// Only `in_progress` and `closed` can be set.
    NotAllowed,
    /// Closing says what was done.
    NoteRequired,
}

/// Checks a requested change of status.
pub fn check_change(from: Status, to: Status, note: Option<&str>) -> Result<(), ChangeError> {
    if from == Status::Closed {
        return Err(ChangeError::AlreadyClosed);
    }
    if to == Status::Open {
        return Err(ChangeError::NotAllowed);
    }
    if to == Status::Closed && note.is_none_or(|n| n.trim().is_empty()) {
        return Err(ChangeError::NoteRequired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("day")
    }

    #[test]
    fn business_days_skip_friday_and_saturday() {
        let none = Holidays::default();
        let due = |day: &str, n: i32| due_day(d(day), n, &none);
        // Thursday 26 November 2026 + 1 business day = Sunday 29 November.
        assert_eq!(due("2026-11-26", 1), d("2026-11-29"));
        // Opened on Friday: counting starts on Sunday.
        assert_eq!(due("2026-11-27", 0), d("2026-11-29"));
        assert_eq!(due("2026-11-28", 1), d("2026-11-30"));
        // Sunday + 5 business days = the next Sunday.
        assert_eq!(due("2026-11-22", 5), d("2026-11-29"));
        // Across a month and a year.
        assert_eq!(due("2026-12-31", 3), d("2027-01-05"));
        assert_eq!(due("2026-11-23", 0), d("2026-11-23"));
        for n in 0..30 {
            assert!(is_business_day(due("2026-11-27", n), &none));
        }
    }

    #[test]
    fn holidays_are_skipped_like_weekends() {
        // Yom Kippur 2026 is Monday 21 September; Sukkot's first day Saturday 26 September.
        let h = Holidays::parse("2026-09-21, 2026-09-25..2026-09-27\n2026-10-03").expect("parse");
        assert_eq!(h.len(), 5);
        // Sunday 20 September + 1 business day skips Monday: Tuesday.
        assert_eq!(due_day(d("2026-09-20"), 1, &h), d("2026-09-22"));
        // Opened on the holiday: counting starts on Tuesday.
        assert_eq!(due_day(d("2026-09-21"), 0, &h), d("2026-09-22"));
        // Thursday 24 September + 1: Friday to Sunday are off, so Monday 28.
        assert_eq!(due_day(d("2026-09-24"), 1, &h), d("2026-09-28"));
        assert_eq!(Holidays::parse("").expect("empty"), Holidays::default());
    }

    #[test]
    fn bad_holidays_are_refused_with_the_item_named() {
        for (text, needle) in [
            ("2026-13-01", "2026-13-01"),
            ("21/09/2026", "21/09/2026"),
            ("2026-09-21,yom-kippur", "yom-kippur"),
            ("2026-10-03..2026-09-26", "forward"),
            ("2026-01-01..2026-12-31", "31 days"),
            ("2026-09-21..", "2026-09-21.."),
        ] {
            let e = Holidays::parse(text).expect_err(text);
            assert!(e.contains(needle), "{text}: {e}");
        }
        let many: Vec<String> = (0..70)
            .map(|i| {
                let first = d("2000-01-01") + Duration::days(40 * i);
                format!("{first}..{}", first + Duration::days(30))
            })
            .collect();
        assert!(Holidays::parse(&many.join(",")).is_err());
    }

    #[test]
    fn the_rule_parses_and_names_its_reasons() {
        let a = |q: &str, v: AnswerValue| Answer {
            question_id: q.into(),
            value: v,
        };
        let survey = SurveyDefinition::from_json(crate::domain::survey::RESIDENT_DEFAULT)
            .expect("the built-in questionnaire is valid");
        let rule = FollowupRule::default();
        assert_eq!(
            FollowupRule::parse("overall<=2 or not_resolved"),
            Some(rule)
        );
        assert_eq!(
            rule.reasons(&survey, &[a("overall", AnswerValue::Int(2))]),
            ["low_overall"]
        );
        assert!(rule
            .reasons(
                &survey,
                &[
                    a("overall", AnswerValue::Int(3)),
                    a("resolved", AnswerValue::Text("partially".into()))
                ]
            )
            .is_empty());
        assert_eq!(
            rule.reasons(
                &survey,
                &[a("resolved", AnswerValue::Text("not_resolved".into()))]
            ),
            ["not_resolved"]
        );
        let off = FollowupRule::parse("off").expect("off");
        assert!(off
            .reasons(&survey, &[a("overall", AnswerValue::Int(1))])
            .is_empty());
        for bad in ["overall<=5", "overall<2", "sometimes", "", "overall<=x"] {
            assert_eq!(FollowupRule::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn closed_cases_stay_closed_and_closing_needs_a_note() {
        use Status::*;
        assert_eq!(
            check_change(Open, Closed, None),
            Err(ChangeError::NoteRequired)
        );
        assert_eq!(
            check_change(Open, Closed, Some("  ")),
            Err(ChangeError::NoteRequired)
        );
        assert_eq!(check_change(Open, Closed, Some("called back")), Ok(()));
        assert_eq!(check_change(Open, InProgress, None), Ok(()));
        assert_eq!(
            check_change(Closed, InProgress, Some("x")),
            Err(ChangeError::AlreadyClosed)
        );
        assert_eq!(
            check_change(InProgress, Open, Some("x")),
            Err(ChangeError::NotAllowed)
        );
    }
}
