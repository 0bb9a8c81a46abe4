//! Surveys and their questions, and the rules that turn a submitted form into answers.
//!
//! A survey version is immutable once stored: changing a questionnaire stores a new version, so
//! that every answer keeps the meaning it was given.

use std::collections::{BTreeMap, HashSet};
use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};

mod answers;

pub use answers::{parse_answers, Answer, AnswerProblem, AnswerProblems, AnswerValue};

use super::interaction::Audience;
use super::language::Language;
use super::sealed::ANSWERS_BUDGET;

/// A text in every language mashov speaks.
pub type Localized = BTreeMap<Language, String>;

/// The kinds of question a survey can ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionType {
    /// 1–5 satisfaction or agreement.
    Rating,
    /// 0–10 likelihood to recommend.
    Nps,
    /// 1–7 customer effort ("the city made it easy for me").
    Effort,
    YesNo,
    SingleChoice,
    MultiChoice,
    Text,
}

impl QuestionType {
    /// The name used in survey definitions (`rating`, `yes_no`, …).
    pub const ALL: [QuestionType; 7] = [
        QuestionType::Rating,
        QuestionType::Nps,
        QuestionType::Effort,
        QuestionType::YesNo,
        QuestionType::SingleChoice,
        QuestionType::MultiChoice,
        QuestionType::Text,
    ];

    pub fn parse(s: &str) -> Option<QuestionType> {
        QuestionType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn is_choice(self) -> bool {
        matches!(self, QuestionType::SingleChoice | QuestionType::MultiChoice)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            QuestionType::Rating => "rating",
            QuestionType::Nps => "nps",
            QuestionType::Effort => "effort",
            QuestionType::YesNo => "yes_no",
            QuestionType::SingleChoice => "single_choice",
            QuestionType::MultiChoice => "multi_choice",
            QuestionType::Text => "text",
        }
    }
}

impl QuestionType {
    /// The numeric range of a scale question.
    pub fn scale(self) -> Option<RangeInclusive<i32>> {
        match self {
            QuestionType::Rating => Some(1..=5),
            QuestionType::Nps => Some(0..=10),
            QuestionType::Effort => Some(1..=7),
            _ => None,
        }
    }
}

/// What a question's answers count towards in reports. A questionnaire declares it on the
/// question (`"measures": "satisfaction"`), so that reports never guess from a question's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// CSAT: a 1–5 rating, 4 or 5 counting as satisfied.
    Satisfaction,
    /// CES: the 1–7 ease of dealing with the city ("made it easy"), averaged.
    Effort,
    /// NPS: 0–10 likelihood to recommend.
    Recommendation,
    /// Resolution rate: a choice whose `resolved` option counts as resolved.
    Resolution,
}

impl Measure {
    pub const ALL: [Measure; 4] = [
        Measure::Satisfaction,
        Measure::Effort,
        Measure::Recommendation,
        Measure::Resolution,
    ];

    /// The only question type that can carry this measure.
    fn kind(self) -> QuestionType {
        match self {
            Measure::Satisfaction => QuestionType::Rating,
            Measure::Effort => QuestionType::Effort,
            Measure::Recommendation => QuestionType::Nps,
            Measure::Resolution => QuestionType::SingleChoice,
        }
    }

    /// The id that questionnaires stored before questions declared their measure gave it.
    fn legacy_id(self) -> &'static str {
        match self {
            Measure::Satisfaction => "overall",
            Measure::Effort => "effort",
            Measure::Recommendation => "nps",
            Measure::Resolution => "resolved",
        }
    }
}

/// The value of the resolution question's options (a questionnaire's own, checked on load).
pub const RESOLVED: &str = "resolved";
pub const PARTIALLY_RESOLVED: &str = "partially";
pub const NOT_RESOLVED: &str = "not_resolved";

/// The question whose text reports quote and cases show as the comment.
pub const COMMENT: &str = "comment";
/// The yes/no question by which a resident agrees to be contacted about a case.
pub const CONTACT_CONSENT: &str = "contact_consent";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChoiceOption {
    pub value: String,
    pub label: Localized,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Question {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: QuestionType,
    #[serde(default)]
    pub required: bool,
    pub text: Localized,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<Localized>,
    /// The meaning of a scale's lowest point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<Localized>,
    /// The meaning of a scale's highest point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<Localized>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<ChoiceOption>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    /// What its answers count towards in reports, if anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measures: Option<Measure>,
}

impl Question {
    fn max_text(&self) -> usize {
        self.max_length.unwrap_or(DEFAULT_TEXT_MAX)
    }
}

const DEFAULT_TEXT_MAX: usize = 2000;

/// A serialised answer row without its value: `{"response_id":"<36>","question_id":"<≤40>",
/// "int_value":-2147483648,"text_value":null}` is 109 bytes.
const ANSWER_ROW_OVERHEAD: usize = 160;

/// A questionnaire as stored in `surveys.definition`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurveyDefinition {
    pub key: String,
    pub audience: Audience,
    /// A city's own questionnaire's name, as admins see it (the built-in ones are named by
    /// the interface's texts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<Localized>,
    pub questions: Vec<Question>,
}

impl SurveyDefinition {
    /// Parses and checks a definition; a survey that fails here is never stored or shown.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let mut def: SurveyDefinition =
            serde_json::from_str(text).map_err(|e| format!("survey definition: {e}"))?;
        def.declare_legacy_measures();
        def.check()?;
        Ok(def)
    }

    /// A questionnaire stored before questions declared their measures measured by id: it is
    /// read as declaring them, so that its answers keep counting as they always did.
    fn declare_legacy_measures(&mut self) {
        if self.questions.iter().any(|q| q.measures.is_some()) {
            return;
        }
        for q in &mut self.questions {
            q.measures = Measure::ALL
                .into_iter()
                .find(|m| m.legacy_id() == q.id && m.kind() == q.kind);
        }
    }

    /// The answer, among `answers`, to the question that carries a measure.
    pub fn answer_to<'a>(
        &self,
        measure: Measure,
        answers: &'a [Answer],
    ) -> Option<&'a AnswerValue> {
        let id = &self.measuring(measure)?.id;
        answers
            .iter()
            .find(|a| &a.question_id == id)
            .map(|a| &a.value)
    }

    /// The question that carries a measure, if the questionnaire asks it.
    pub fn measuring(&self, measure: Measure) -> Option<&Question> {
        self.questions.iter().find(|q| q.measures == Some(measure))
    }

    /// The canonical JSON stored in the database (stable, so a change is detectable).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    fn check(&self) -> Result<(), String> {
        if self.questions.is_empty() {
            return Err("a survey needs at least one question".into());
        }
        let key_ok = !self.key.is_empty()
            && self.key.len() <= 64
            && self.key.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
            });
        if !key_ok {
            return Err(format!("survey key {:?} is malformed", self.key));
        }
        if let Some(title) = &self.title {
            if Language::ALL
                .iter()
                .any(|l| title.get(l).is_none_or(|s| s.trim().is_empty()))
            {
                return Err("a survey's title needs a text in every language".into());
            }
        }
        let mut ids = HashSet::new();
        for q in &self.questions {
            let id_ok = !q.id.is_empty()
                && q.id.len() <= 40
                && q.id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !id_ok || !ids.insert(q.id.as_str()) {
                return Err(format!("question id {:?} is malformed or repeated", q.id));
            }
            let mut texts = vec![&q.text];
            texts.extend(q.hint.iter().chain(q.low.iter()).chain(q.high.iter()));
            texts.extend(q.options.iter().map(|o| &o.label));
            for t in texts {
                if Language::ALL
                    .iter()
                    .any(|l| t.get(l).is_none_or(|s| s.is_empty()))
                {
                    return Err(format!("question {:?} lacks a text in some language", q.id));
                }
            }
            let is_choice = matches!(
                q.kind,
                QuestionType::SingleChoice | QuestionType::MultiChoice
            );
            let values: HashSet<_> = q.options.iter().map(|o| o.value.as_str()).collect();
            if is_choice && (q.options.len() < 2 || values.len() != q.options.len()) {
                return Err(format!("question {:?} needs distinct options", q.id));
            }
            if !is_choice && !q.options.is_empty() {
                return Err(format!("question {:?} cannot have options", q.id));
            }
            if let Some(m) = q.measures {
                let resolution_values = m != Measure::Resolution || values.contains(RESOLVED);
                if q.kind != m.kind() || !resolution_values {
                    return Err(format!(
                        "question {:?} cannot measure {m:?}: only a question of type {:?}{} can",
                        q.id,
                        m.kind().as_str(),
                        if m == Measure::Resolution {
                            " with a \"resolved\" option"
                        } else {
                            ""
                        }
                    ));
                }
            }
        }
        for m in Measure::ALL {
            if self
                .questions
                .iter()
                .filter(|q| q.measures == Some(m))
                .count()
                > 1
            {
                return Err(format!("two questions measure {m:?}"));
            }
        }
        if self.audience == Audience::Employee && self.max_answer_bytes() > ANSWERS_BUDGET {
            return Err(format!(
                "employees' answers to this survey could take {} bytes, more than the {} that \
                 every sealed answer holds: shorten its texts' max_length",
                self.max_answer_bytes(),
                ANSWERS_BUDGET
            ));
        }
        Ok(())
    }

    /// An upper bound on the bytes one response's answers take once serialised as JSON rows
    /// for sealing. Why a bound: an employee's answer is sealed at one fixed size (see
    /// `domain::sealed`), so no valid answer may be longer than that size.
    ///
    /// Each answer's fixed fields (its response's id, a question id of at most 40 bytes, the
    /// field names) fit in [`ANSWER_ROW_OVERHEAD`]; a text's characters take at most 4 bytes each
    /// in UTF-8, and the few that JSON escapes (quote, backslash, tab, new line; other control
    /// characters are dropped) take 2; a choice's values are the definition's own, escaped at
    /// most 6 bytes to the byte, a comma between several.
    pub fn max_answer_bytes(&self) -> usize {
        self.questions
            .iter()
            .map(|q| {
                let value = match q.kind {
                    QuestionType::Text => 4 * q.max_text(),
                    QuestionType::SingleChoice => q
                        .options
                        .iter()
                        .map(|o| 6 * o.value.len())
                        .max()
                        .unwrap_or(0),
                    QuestionType::MultiChoice => {
                        q.options.iter().map(|o| 6 * o.value.len() + 1).sum()
                    }
                    _ => 0,
                };
                ANSWER_ROW_OVERHEAD + value
            })
            .sum()
    }
}

/// The standard post-interaction questionnaire for residents.
pub const RESIDENT_DEFAULT: &str =
    include_str!("../../../templates/surveys/resident_post_interaction.json");

/// The internal-service questionnaire: asked once per unit an employee dealt with.
pub const EMPLOYEE_DEFAULT: &str =
    include_str!("../../../templates/surveys/employee_internal_service.json");

#[cfg(test)]
mod tests;
