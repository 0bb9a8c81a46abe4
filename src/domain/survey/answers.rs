//! Turning a submitted form into answers: each value checked against its question.

use super::{Question, QuestionType, SurveyDefinition};

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

pub(super) fn parse_one(
    q: &Question,
    values: &[&str],
) -> Result<Option<AnswerValue>, AnswerProblem> {
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
