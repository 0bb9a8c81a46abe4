//! Follow-up cases: which answers open one, when it is due, and how its status may change.

use chrono::{Datelike, Duration, NaiveDate, Weekday};

use super::survey::{Answer, AnswerValue};

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

    /// Why these answers open a case (empty: they do not), e.g. `["low_overall"]`.
    pub fn reasons(&self, answers: &[Answer]) -> Vec<&'static str> {
        let mut reasons = Vec::new();
        for a in answers {
            match (a.question_id.as_str(), &a.value) {
                ("overall", AnswerValue::Int(n))
                    if self.overall_at_most.is_some_and(|m| *n <= m) =>
                {
                    reasons.push("low_overall")
                }
                ("resolved", AnswerValue::Text(t)) if self.not_resolved && t == "not_resolved" => {
                    reasons.push("not_resolved")
                }
                ("resolved", AnswerValue::Text(t)) if self.partially && t == "partially" => {
                    reasons.push("partially_resolved")
                }
                _ => {}
            }
        }
        reasons
    }
}

/// Sunday to Thursday: the Israeli working week.
pub fn is_business_day(day: NaiveDate) -> bool {
    !matches!(day.weekday(), Weekday::Fri | Weekday::Sat)
}

/// The day a case opened on `opened` is due, `sla_days` business days later: a case opened on
/// a Friday or Saturday counts from Sunday; 0 days means the first business day from the
/// opening. (Holidays are not known to mashov; the SLA counts them as working days.)
pub fn due_day(opened: NaiveDate, sla_days: i32) -> NaiveDate {
    let mut day = opened;
    while !is_business_day(day) {
        day += Duration::days(1);
    }
    let mut left = sla_days.max(0);
    while left > 0 {
        day += Duration::days(1);
        if is_business_day(day) {
            left -= 1;
        }
    }
    day
}

/// Follow-up cases in a report: opened in the period, of those closed by their due day, and
/// of those still open past it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Cases {
    pub opened: i64,
    pub closed_within_sla: i64,
    pub overdue: i64,
}

impl std::ops::AddAssign for Cases {
    fn add_assign(&mut self, o: Cases) {
        self.opened += o.opened;
        self.closed_within_sla += o.closed_within_sla;
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
        // Thursday 26 November 2026 + 1 business day = Sunday 29 November.
        assert_eq!(due_day(d("2026-11-26"), 1), d("2026-11-29"));
        // Opened on Friday: counting starts on Sunday.
        assert_eq!(due_day(d("2026-11-27"), 0), d("2026-11-29"));
        assert_eq!(due_day(d("2026-11-28"), 1), d("2026-11-30"));
        // Sunday + 5 business days = the next Sunday.
        assert_eq!(due_day(d("2026-11-22"), 5), d("2026-11-29"));
        // Across a month and a year.
        assert_eq!(due_day(d("2026-12-31"), 3), d("2027-01-05"));
        assert_eq!(due_day(d("2026-11-23"), 0), d("2026-11-23"));
        for n in 0..30 {
            assert!(is_business_day(due_day(d("2026-11-27"), n)));
        }
    }

    #[test]
    fn the_rule_parses_and_names_its_reasons() {
        let a = |q: &str, v: AnswerValue| Answer {
            question_id: q.into(),
            value: v,
        };
        let rule = FollowupRule::default();
        assert_eq!(
            FollowupRule::parse("overall<=2 or not_resolved"),
            Some(rule)
        );
        assert_eq!(
            rule.reasons(&[a("overall", AnswerValue::Int(2))]),
            ["low_overall"]
        );
        assert!(rule
            .reasons(&[
                a("overall", AnswerValue::Int(3)),
                a("resolved", AnswerValue::Text("partially".into()))
            ])
            .is_empty());
        assert_eq!(
            rule.reasons(&[a("resolved", AnswerValue::Text("not_resolved".into()))]),
            ["not_resolved"]
        );
        let off = FollowupRule::parse("off").expect("off");
        assert!(off.reasons(&[a("overall", AnswerValue::Int(1))]).is_empty());
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
