//! The figures reports show, computed from integer counts so that SQLite and PostgreSQL give
//! the same numbers to the last digit: the databases only count and add integers, and every
//! division happens here.
//!
//! - CSAT: the share of satisfied answers (4 or 5 of 1–5) to the satisfaction question.
//! - CES: the mean of the effort question (1–7, higher is easier).
//! - NPS: % of promoters (9–10) minus % of detractors (0–6), where a survey asks it.
//! - Resolution rate: the share of "resolved" answers to the resolution question.
//! - Response rate: answered invitations / invitations issued in the period.
//!
//! Which question carries each measure is declared by the survey (`survey::Measure`); whether
//! an answer is satisfied, a promoter or a detractor is decided here, once, when the response is
//! stored ([`ResponseFigures`]), and the database only counts and adds those up.

use serde::Serialize;

use super::survey::{Answer, AnswerValue, Measure, SurveyDefinition, RESOLVED};

/// The figures one response contributes, taken from its answers to the questions that carry
/// each measure.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResponseFigures {
    pub overall: Option<i32>,
    pub effort: Option<i32>,
    pub nps: Option<i32>,
    /// 1 for "resolved", 0 for "partially" or "not_resolved".
    pub resolved: Option<i32>,
}

/// The lowest satisfaction score that counts as satisfied.
const SATISFIED_FROM: i32 = 4;
/// The lowest recommendation score of a promoter, and the highest of a detractor.
const PROMOTER_FROM: i32 = 9;
const DETRACTOR_UP_TO: i32 = 6;

impl ResponseFigures {
    pub fn from_answers(survey: &SurveyDefinition, answers: &[Answer]) -> Self {
        let value = |m: Measure| survey.answer_to(m, answers);
        let int = |m: Measure| match value(m) {
            Some(AnswerValue::Int(n)) => Some(*n),
            _ => None,
        };
        ResponseFigures {
            overall: int(Measure::Satisfaction),
            effort: int(Measure::Effort),
            nps: int(Measure::Recommendation),
            resolved: match value(Measure::Resolution) {
                Some(AnswerValue::Text(t)) => Some(i32::from(t == RESOLVED)),
                _ => None,
            },
        }
    }

    /// 1 if the satisfaction answer counts as satisfied, 0 if not, None if not answered.
    pub fn satisfied(&self) -> Option<i32> {
        self.overall.map(|v| i32::from(v >= SATISFIED_FROM))
    }

    /// 1 for a promoter, -1 for a detractor, 0 for a passive, None if not answered.
    pub fn nps_group(&self) -> Option<i32> {
        self.nps.map(|v| {
            if v >= PROMOTER_FROM {
                PROMOTER
            } else if v <= DETRACTOR_UP_TO {
                DETRACTOR
            } else {
                0
            }
        })
    }
}

/// How `nps_group` names promoters and detractors (reports count each group).
pub const PROMOTER: i32 = 1;
pub const DETRACTOR: i32 = -1;

/// What the database counts for a group of responses and invitations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub responses: i64,
    pub overall_n: i64,
    pub overall_satisfied: i64,
    pub effort_n: i64,
    pub effort_sum: i64,
    pub nps_n: i64,
    pub promoters: i64,
    pub detractors: i64,
    pub resolved_n: i64,
    pub resolved_yes: i64,
    pub invitations: i64,
    pub invitations_answered: i64,
}

impl std::ops::AddAssign for Tally {
    fn add_assign(&mut self, o: Tally) {
        self.responses += o.responses;
        self.overall_n += o.overall_n;
        self.overall_satisfied += o.overall_satisfied;
        self.effort_n += o.effort_n;
        self.effort_sum += o.effort_sum;
        self.nps_n += o.nps_n;
        self.promoters += o.promoters;
        self.detractors += o.detractors;
        self.resolved_n += o.resolved_n;
        self.resolved_yes += o.resolved_yes;
        self.invitations += o.invitations;
        self.invitations_answered += o.invitations_answered;
    }
}

/// A share with its sample size and 95% Wilson score interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Share {
    pub value: Option<f64>,
    pub n: i64,
    pub ci95: Option<[f64; 2]>,
}

/// A mean or a score with its sample size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Score {
    pub value: Option<f64>,
    pub n: i64,
}

/// Every headline figure of a group.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Figures {
    pub invitations: i64,
    pub responses: i64,
    pub response_rate: Score,
    pub csat: Share,
    pub ces: Score,
    pub nps: Score,
    pub resolution_rate: Share,
}

/// z for a two-sided 95% interval.
const Z95: f64 = 1.959_963_984_540_054;

/// Rounds to 4 decimals: enough for any report, and it keeps JSON short and stable.
fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// The Wilson score interval of `k` successes in `n` trials; it stays inside [0, 1] and is
/// sensible for small n and for shares of 0 or 1, where the normal approximation is not.
pub fn wilson(k: i64, n: i64) -> Option<[f64; 2]> {
    if n <= 0 || k < 0 || k > n {
        return None;
    }
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let z2 = Z95 * Z95;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    let lo = (centre - half).max(0.0);
    let hi = (centre + half).min(1.0);
    // Rounded outward, so that the rounded interval still contains the rounded value.
    Some([
        (lo * 10_000.0).floor() / 10_000.0,
        (hi * 10_000.0).ceil() / 10_000.0,
    ])
}

fn share(k: i64, n: i64) -> Share {
    Share {
        value: (n > 0).then(|| round4(k as f64 / n as f64)),
        n,
        ci95: wilson(k, n),
    }
}

impl Tally {
    pub fn figures(&self) -> Figures {
        let nps = (self.nps_n > 0)
            .then(|| round4(100.0 * (self.promoters - self.detractors) as f64 / self.nps_n as f64));
        Figures {
            invitations: self.invitations,
            responses: self.responses,
            response_rate: Score {
                value: (self.invitations > 0)
                    .then(|| round4(self.invitations_answered as f64 / self.invitations as f64)),
                n: self.invitations,
            },
            csat: share(self.overall_satisfied, self.overall_n),
            ces: Score {
                value: (self.effort_n > 0)
                    .then(|| round4(self.effort_sum as f64 / self.effort_n as f64)),
                n: self.effort_n,
            },
            nps: Score {
                value: nps,
                n: self.nps_n,
            },
            resolution_rate: share(self.resolved_yes, self.resolved_n),
        }
    }
}

/// One scale question's figure: its mean, the share of its two top points (4–5 of 5, 6–7 of
/// 7, 9–10 of 10), and how many answered it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuestionFigure {
    pub id: String,
    /// The question as asked, in the report's language.
    pub text: String,
    /// The headline measure it also carries (CSAT, CES, NPS), if any: surfaces that show the
    /// headline figures need not repeat it.
    #[serde(skip)]
    pub measures: Option<Measure>,
    pub mean: Option<f64>,
    pub top_two: Share,
    pub n: i64,
}

/// The figure of a question answered `counts` times per value on the scale `scale`; values
/// outside the scale (none are stored) are not counted.
pub fn question_figure(
    (id, text, measures): (&str, &str, Option<Measure>),
    counts: &std::collections::BTreeMap<i32, i64>,
    scale: std::ops::RangeInclusive<i32>,
) -> QuestionFigure {
    let top_from = scale.end() - 1;
    let (mut n, mut sum, mut top) = (0i64, 0i64, 0i64);
    for (value, count) in counts.range(scale) {
        n += count;
        sum += i64::from(*value) * count;
        if *value >= top_from {
            top += count;
        }
    }
    QuestionFigure {
        id: id.to_string(),
        text: text.to_string(),
        measures,
        mean: (n > 0).then(|| round4(sum as f64 / n as f64)),
        top_two: share(top, n),
        n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally_of(overall: &[i32], effort: &[i32], nps: &[i32], resolved: &[i32]) -> Tally {
        Tally {
            responses: overall.len() as i64,
            overall_n: overall.len() as i64,
            overall_satisfied: overall.iter().filter(|v| **v >= 4).count() as i64,
            effort_n: effort.len() as i64,
            effort_sum: effort.iter().map(|v| i64::from(*v)).sum(),
            nps_n: nps.len() as i64,
            promoters: nps.iter().filter(|v| **v >= 9).count() as i64,
            detractors: nps.iter().filter(|v| **v <= 6).count() as i64,
            resolved_n: resolved.len() as i64,
            resolved_yes: resolved.iter().filter(|v| **v == 1).count() as i64,
            invitations: 0,
            invitations_answered: 0,
        }
    }

    #[test]
    fn known_answers() {
        let f = tally_of(
            &[5, 4, 3, 2, 1, 5],
            &[7, 1, 4],
            &[10, 9, 8, 7, 6, 0],
            &[1, 0, 1, 1],
        )
        .figures();
        assert_eq!(f.csat.value, Some(0.5));
        assert_eq!(f.csat.n, 6);
        assert_eq!(f.ces.value, Some(4.0));
        // 2 promoters, 2 detractors of 6.
        assert_eq!(f.nps.value, Some(0.0));
        assert_eq!(f.resolution_rate.value, Some(0.75));
        assert_eq!(f.resolution_rate.n, 4);
    }

    #[test]
    fn empty_groups_have_no_value_and_no_interval() {
        let f = Tally::default().figures();
        assert_eq!(f.csat.value, None);
        assert_eq!(f.csat.ci95, None);
        assert_eq!(f.nps.value, None);
        assert_eq!(f.ces.value, None);
        assert_eq!(f.response_rate.value, None);
    }

    #[test]
    fn a_single_answer_has_a_wide_interval() {
        let f = tally_of(&[5], &[], &[], &[]).figures();
        assert_eq!(f.csat.value, Some(1.0));
        let [lo, hi] = f.csat.ci95.expect("an interval");
        assert!(lo < 0.3 && lo > 0.15, "{lo}");
        assert_eq!(hi, 1.0);
    }

    #[test]
    fn wilson_matches_a_published_value() {
        // 81 of 263: Wilson 95% interval 0.2553–0.3662 (Newcombe 1998 style check).
        let [lo, hi] = wilson(81, 263).expect("an interval");
        assert!((lo - 0.2553).abs() < 0.0002, "{lo}");
        assert!((hi - 0.3662).abs() < 0.0002, "{hi}");
    }

    #[test]
    fn figures_stay_in_bounds_and_intervals_contain_the_value() {
        // An exhaustive sweep of small groups stands in for a property test: every k of every
        // n up to 60, and NPS for every split of promoters and detractors.
        for n in 1..=60i64 {
            for k in 0..=n {
                let s = share(k, n);
                let v = s.value.expect("a value");
                let [lo, hi] = s.ci95.expect("an interval");
                assert!((0.0..=1.0).contains(&v));
                assert!(0.0 <= lo && lo <= v && v <= hi && hi <= 1.0, "{k}/{n}");
            }
            for p in 0..=n {
                for d in 0..=(n - p) {
                    let t = Tally {
                        nps_n: n,
                        promoters: p,
                        detractors: d,
                        ..Tally::default()
                    };
                    let nps = t.figures().nps.value.expect("a value");
                    assert!((-100.0..=100.0).contains(&nps));
                }
            }
        }
    }

    fn answer(id: &str, v: AnswerValue) -> Answer {
        Answer {
            question_id: id.into(),
            value: v,
        }
    }

    #[test]
    fn figures_are_read_from_the_questions_that_carry_each_measure() {
        let resident = SurveyDefinition::from_json(crate::domain::survey::RESIDENT_DEFAULT)
            .expect("the built-in questionnaire is valid");
        let f = ResponseFigures::from_answers(
            &resident,
            &[
                answer("overall", AnswerValue::Int(2)),
                answer("resolved", AnswerValue::Text("partially".into())),
                answer("professionalism", AnswerValue::Int(5)),
                answer("comment", AnswerValue::Text("5".into())),
            ],
        );
        assert_eq!(f.overall, Some(2));
        assert_eq!(f.resolved, Some(0));
        assert_eq!(f.effort, None);
        assert_eq!(f.nps, None);
        assert_eq!(f.satisfied(), Some(0));
    }

    #[test]
    fn a_question_counts_by_what_it_declares_not_by_its_id() {
        let mut survey =
            SurveyDefinition::from_json(crate::domain::survey::RESIDENT_DEFAULT).expect("valid");
        for q in &mut survey.questions {
            if q.id == "overall" {
                q.measures = None;
            }
            if q.id == "professionalism" {
                q.measures = Some(Measure::Satisfaction);
            }
        }
        let survey = SurveyDefinition::from_json(&survey.to_json()).expect("still valid");
        let f = ResponseFigures::from_answers(
            &survey,
            &[
                answer("overall", AnswerValue::Int(1)),
                answer("professionalism", AnswerValue::Int(4)),
            ],
        );
        assert_eq!((f.overall, f.satisfied()), (Some(4), Some(1)));
    }

    #[test]
    fn satisfied_promoters_and_detractors_at_their_edges() {
        let of = |overall, nps| ResponseFigures {
            overall,
            nps,
            ..ResponseFigures::default()
        };
        assert_eq!(of(Some(4), None).satisfied(), Some(1));
        assert_eq!(of(Some(3), None).satisfied(), Some(0));
        assert_eq!(of(None, None).satisfied(), None);
        for (nps, group) in [(10, 1), (9, 1), (8, 0), (7, 0), (6, -1), (0, -1)] {
            assert_eq!(of(None, Some(nps)).nps_group(), Some(group), "{nps}");
        }
        assert_eq!(of(None, None).nps_group(), None);
    }

    #[test]
    fn a_question_has_its_mean_and_the_share_of_its_two_top_points() {
        let counts = std::collections::BTreeMap::from([(1, 2), (4, 1), (6, 3), (7, 4), (9, 5)]);
        let f = question_figure(("effort", "Ease", None), &counts, 1..=7);
        assert_eq!(f.n, 10, "the 9 is off the scale");
        assert_eq!(f.mean, Some(5.2));
        assert_eq!((f.top_two.value, f.top_two.n), (Some(0.7), 10));
        let empty = question_figure(("x", "X", None), &std::collections::BTreeMap::new(), 1..=5);
        assert_eq!((empty.mean, empty.top_two.value, empty.n), (None, None, 0));
    }
}
