//! Surveys and their questions, and the rules that turn a submitted form into answers.
//!
//! A survey version is immutable once stored: changing a questionnaire stores a new version, so
//! that every answer keeps the meaning it was given.

use std::collections::{BTreeMap, HashSet};
use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};

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
    pub audience: String,
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
        if !key_ok || !matches!(self.audience.as_str(), "resident" | "employee") {
            return Err(format!(
                "survey key {:?} or its audience is malformed",
                self.key
            ));
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
        if self.audience == "employee" && self.max_answer_bytes() > ANSWERS_BUDGET {
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

/// One stored answer value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerValue {
    /// A scale point, or 1/0 for yes/no.
    Int(i32),
    /// A choice's value, several joined by commas, or free text.
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub question_id: String,
    pub value: AnswerValue,
}

/// Why one question's answer was refused; `code()` names the message in the locale files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerProblem {
    Required,
    Invalid,
    TooLong,
    Repeated,
}

impl AnswerProblem {
    pub fn code(self) -> &'static str {
        match self {
            AnswerProblem::Required => "required",
            AnswerProblem::Invalid => "invalid",
            AnswerProblem::TooLong => "too_long",
            AnswerProblem::Repeated => "repeated",
        }
    }
}

/// Question id → what is wrong with its answer, in question order.
pub type AnswerProblems = Vec<(String, AnswerProblem)>;

/// Turns submitted form pairs into answers, checking each against its question. Fields that
/// name no question are ignored; a single-valued question sent twice is refused.
pub fn parse_answers(
    def: &SurveyDefinition,
    form: &[(String, String)],
) -> Result<Vec<Answer>, AnswerProblems> {
    let mut answers = Vec::new();
    let mut problems = AnswerProblems::new();
    for q in &def.questions {
        let values: Vec<&str> = form
            .iter()
            .filter(|(k, _)| *k == q.id)
            .map(|(_, v)| v.as_str())
            .collect();
        match parse_one(q, &values) {
            Ok(Some(value)) => answers.push(Answer {
                question_id: q.id.clone(),
                value,
            }),
            Ok(None) if q.required => problems.push((q.id.clone(), AnswerProblem::Required)),
            Ok(None) => {}
            Err(p) => problems.push((q.id.clone(), p)),
        }
    }
    if problems.is_empty() {
        Ok(answers)
    } else {
        Err(problems)
    }
}

fn parse_one(q: &Question, values: &[&str]) -> Result<Option<AnswerValue>, AnswerProblem> {
    let present: Vec<&str> = values
        .iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .collect();
    if q.kind == QuestionType::MultiChoice {
        let mut chosen: Vec<&str> = Vec::new();
        for v in &present {
            if !q.options.iter().any(|o| o.value == *v) {
                return Err(AnswerProblem::Invalid);
            }
            if !chosen.contains(v) {
                chosen.push(v);
            }
        }
        return Ok((!chosen.is_empty()).then(|| AnswerValue::Text(chosen.join(","))));
    }
    if present.len() > 1 {
        return Err(AnswerProblem::Repeated);
    }
    let Some(value) = present.first().copied() else {
        return Ok(None);
    };
    match q.kind {
        QuestionType::Text => {
            let clean = clean_text(value);
            if clean.is_empty() {
                Ok(None)
            } else if clean.chars().count() > q.max_text() {
                Err(AnswerProblem::TooLong)
            } else {
                Ok(Some(AnswerValue::Text(clean)))
            }
        }
        QuestionType::YesNo => match value {
            "yes" => Ok(Some(AnswerValue::Int(1))),
            "no" => Ok(Some(AnswerValue::Int(0))),
            _ => Err(AnswerProblem::Invalid),
        },
        QuestionType::SingleChoice => q
            .options
            .iter()
            .find(|o| o.value == value)
            .map(|o| Some(AnswerValue::Text(o.value.clone())))
            .ok_or(AnswerProblem::Invalid),
        _ => {
            let range = q.kind.scale().ok_or(AnswerProblem::Invalid)?;
            match value.parse::<i32>() {
                Ok(n) if range.contains(&n) => Ok(Some(AnswerValue::Int(n))),
                _ => Err(AnswerProblem::Invalid),
            }
        }
    }
}

/// Browsers send new lines as CRLF; NUL and other control characters are dropped (PostgreSQL
/// refuses NUL in text, and none of them belongs in a comment).
fn clean_text(value: &str) -> String {
    value
        .replace("\r\n", "\n")
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect::<String>()
        .trim()
        .to_string()
}

/// The standard post-interaction questionnaire for residents.
pub const RESIDENT_DEFAULT: &str =
    include_str!("../../templates/surveys/resident_post_interaction.json");

/// The internal-service questionnaire: asked once per unit an employee dealt with.
pub const EMPLOYEE_DEFAULT: &str =
    include_str!("../../templates/surveys/employee_internal_service.json");

#[cfg(test)]
mod tests {
    use super::*;

    fn def() -> SurveyDefinition {
        SurveyDefinition::from_json(RESIDENT_DEFAULT).expect("the default survey is valid")
    }

    #[test]
    fn a_questionnaire_stored_before_measures_were_declared_reads_as_declaring_them() {
        let mut legacy: serde_json::Value = serde_json::from_str(RESIDENT_DEFAULT).expect("json");
        for q in legacy["questions"].as_array_mut().expect("questions") {
            q.as_object_mut().expect("question").remove("measures");
        }
        let read = SurveyDefinition::from_json(&legacy.to_string()).expect("valid");
        assert_eq!(read, def());
        let id = |m| read.measuring(m).map(|q| q.id.as_str());
        assert_eq!(id(Measure::Satisfaction), Some("overall"));
        assert_eq!(id(Measure::Resolution), Some("resolved"));
        assert_eq!(id(Measure::Effort), Some("effort"));
        assert_eq!(id(Measure::Recommendation), None);
    }

    #[test]
    fn a_measure_needs_its_kind_of_question_and_one_question_at_most() {
        let with = |id: &str, m: Measure| {
            let mut d = def();
            for q in &mut d.questions {
                if q.id == id {
                    q.measures = Some(m);
                }
            }
            SurveyDefinition::from_json(&d.to_json())
        };
        let err = with("comment", Measure::Satisfaction).expect_err("text cannot be CSAT");
        assert!(err.contains("rating"), "{err}");
        let err = with("professionalism", Measure::Satisfaction).expect_err("two CSATs");
        assert!(err.contains("two questions"), "{err}");
        let err = with("overall", Measure::Effort).expect_err("a 1-5 rating is not CES");
        assert!(err.contains("effort"), "{err}");
        let mut no_resolved_option = def();
        for q in &mut no_resolved_option.questions {
            if q.id == "resolved" {
                q.options[0].value = "fixed".into();
            }
        }
        let err = SurveyDefinition::from_json(&no_resolved_option.to_json())
            .expect_err("resolution needs a resolved option");
        assert!(err.contains("resolved"), "{err}");
    }

    #[test]
    fn an_employee_survey_whose_answers_could_not_be_sealed_at_one_size_is_refused() {
        let def = SurveyDefinition::from_json(EMPLOYEE_DEFAULT).expect("valid");
        assert!(def.max_answer_bytes() <= ANSWERS_BUDGET);
        let mut long = def.clone();
        for q in &mut long.questions {
            if q.kind == QuestionType::Text {
                q.max_length = Some(ANSWERS_BUDGET / 4);
            }
        }
        let err = SurveyDefinition::from_json(&long.to_json()).expect_err("too long to seal");
        assert!(err.contains("max_length"), "{err}");
        // Residents' answers are not sealed: the same texts are fine for them.
        long.audience = "resident".into();
        assert!(SurveyDefinition::from_json(&long.to_json()).is_ok());
    }

    #[test]
    fn the_internal_service_survey_asks_overall_effort_timeliness_and_an_optional_comment() {
        let def = SurveyDefinition::from_json(EMPLOYEE_DEFAULT).expect("valid");
        let ids: Vec<(&str, QuestionType, bool)> = def
            .questions
            .iter()
            .map(|q| (q.id.as_str(), q.kind, q.required))
            .collect();
        assert_eq!(
            ids,
            [
                ("overall", QuestionType::Rating, true),
                ("effort", QuestionType::Effort, false),
                ("timeliness", QuestionType::Rating, false),
                ("comment", QuestionType::Text, false),
            ]
        );
        assert_eq!(def.audience, "employee");
    }

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_default_resident_survey_is_short_and_starts_with_required_overall_satisfaction() {
        let d = def();
        assert!(d.questions.len() <= 6);
        assert_eq!(d.questions[0].id, "overall");
        assert!(d.questions[0].required);
        assert_eq!(d.questions[0].kind, QuestionType::Rating);
        assert!(d.questions.iter().any(|q| q.kind == QuestionType::Effort));
        assert!(d.questions.iter().any(|q| q.id == "contact_consent"));
        let comment = d.questions.iter().find(|q| q.kind == QuestionType::Text);
        assert_eq!(comment.and_then(|q| q.max_length), Some(2000));
        assert!(!d.questions.iter().any(|q| q.kind == QuestionType::Nps));
    }

    #[test]
    fn a_full_answer_parses_and_unknown_fields_are_ignored() {
        let answers = parse_answers(
            &def(),
            &form(&[
                ("overall", "4"),
                ("resolved", "partially"),
                ("effort", "7"),
                ("professionalism", "1"),
                ("comment", "  תודה\r\nרבה  "),
                ("contact_consent", "yes"),
                ("evil", "<script>"),
            ]),
        )
        .expect("valid");
        assert_eq!(answers.len(), 6);
        assert_eq!(answers[0].value, AnswerValue::Int(4));
        assert_eq!(answers[4].value, AnswerValue::Text("תודה\nרבה".into()));
        assert_eq!(answers[5].value, AnswerValue::Int(1));
    }

    #[test]
    fn the_overall_question_is_required_and_optional_ones_may_be_empty() {
        let problems = parse_answers(&def(), &form(&[("comment", "")])).expect_err("invalid");
        assert_eq!(
            problems,
            vec![("overall".to_string(), AnswerProblem::Required)]
        );
        let answers = parse_answers(&def(), &form(&[("overall", "1")])).expect("valid");
        assert_eq!(answers.len(), 1);
    }

    #[test]
    fn out_of_range_repeated_unknown_and_overlong_answers_are_each_named() {
        let long = "א".repeat(2001);
        let problems = parse_answers(
            &def(),
            &form(&[
                ("overall", "6"),
                ("effort", "3"),
                ("effort", "4"),
                ("resolved", "maybe"),
                ("professionalism", "1.5"),
                ("comment", &long),
                ("contact_consent", "perhaps"),
            ]),
        )
        .expect_err("invalid");
        let got: Vec<_> = problems.iter().map(|(q, p)| (q.as_str(), *p)).collect();
        assert_eq!(
            got,
            vec![
                ("overall", AnswerProblem::Invalid),
                ("resolved", AnswerProblem::Invalid),
                ("effort", AnswerProblem::Repeated),
                ("professionalism", AnswerProblem::Invalid),
                ("comment", AnswerProblem::TooLong),
                ("contact_consent", AnswerProblem::Invalid),
            ]
        );
    }

    #[test]
    fn exactly_2000_characters_are_accepted_and_control_characters_dropped() {
        let text = format!("{}\u{0}", "ب".repeat(2000));
        let answers =
            parse_answers(&def(), &form(&[("overall", "5"), ("comment", &text)])).expect("valid");
        assert_eq!(answers[1].value, AnswerValue::Text("ب".repeat(2000)));
    }

    #[test]
    fn every_scale_point_is_accepted_and_its_neighbours_refused() {
        for kind in [
            QuestionType::Rating,
            QuestionType::Nps,
            QuestionType::Effort,
        ] {
            let range = kind.scale().expect("a scale");
            let mut q = def().questions[0].clone();
            q.kind = kind;
            for n in range.clone() {
                assert_eq!(
                    parse_one(&q, &[&n.to_string()]),
                    Ok(Some(AnswerValue::Int(n)))
                );
            }
            for n in [range.start() - 1, range.end() + 1] {
                assert_eq!(
                    parse_one(&q, &[&n.to_string()]),
                    Err(AnswerProblem::Invalid)
                );
            }
        }
    }

    #[test]
    fn malformed_definitions_are_refused() {
        let mut d = def();
        d.questions[1].id = d.questions[0].id.clone();
        assert!(SurveyDefinition::from_json(&d.to_json()).is_err());
        let mut d = def();
        d.questions[0].text.remove(&Language::Ru);
        assert!(SurveyDefinition::from_json(&d.to_json()).is_err());
        assert!(SurveyDefinition::from_json("{}").is_err());
    }

    #[test]
    fn the_canonical_json_round_trips() {
        let d = def();
        assert_eq!(SurveyDefinition::from_json(&d.to_json()).expect("valid"), d);
    }
}
