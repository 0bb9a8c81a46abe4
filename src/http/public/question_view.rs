//! One question of a survey form as its template sees it (the choices, what was chosen, the
//! error), and the error summary's links to the questions: the survey page and a campaign's
//! rating page both build their questions here.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::domain::language::Language;
use crate::domain::survey::{AnswerProblems, Question, QuestionType};
use crate::templates::Templates;

#[derive(Serialize)]
struct OptionView {
    value: String,
    label: String,
    input_id: String,
    checked: bool,
    /// The meaning of a scale's end point, read out to screen readers.
    extra: Option<String>,
}

#[derive(Serialize)]
pub(super) struct QuestionView {
    pub(super) id: String,
    number: usize,
    legend: String,
    hint: Option<String>,
    pub(super) required: bool,
    is_scale: bool,
    is_choice: bool,
    is_text: bool,
    input_type: &'static str,
    options: Vec<OptionView>,
    low: Option<String>,
    high: Option<String>,
    text_value: String,
    max_length: usize,
    error: Option<String>,
}

#[derive(Serialize)]
pub(super) struct ErrorLink {
    anchor: String,
    /// On a campaign's page, the unit the question is about.
    pub(super) unit: Option<String>,
    /// The question's number on the page: the summary names it briefly ("Question 2") rather
    /// than repeating the whole question.
    number: usize,
    message: String,
}

pub(super) fn localized(map: &BTreeMap<Language, String>, lang: Language) -> String {
    map.get(&lang)
        .or_else(|| map.get(&Language::He))
        .cloned()
        .unwrap_or_default()
}

pub(super) fn question_view(
    t: &Templates,
    lang: Language,
    number: usize,
    q: &Question,
    values: &[(String, String)],
    problems: &AnswerProblems,
) -> QuestionView {
    let chosen = |v: &str| values.iter().any(|(k, x)| *k == q.id && x == v);
    let option = |value: String, label: String, extra: Option<String>| OptionView {
        input_id: format!("{}-{}", q.id, value),
        checked: chosen(&value),
        value,
        label,
        extra,
    };
    let low = q.low.as_ref().map(|m| localized(m, lang));
    let high = q.high.as_ref().map(|m| localized(m, lang));
    let options = match q.kind {
        QuestionType::Rating | QuestionType::Nps | QuestionType::Effort => {
            let range = q.kind.scale().unwrap_or(1..=5);
            let (first, last) = (*range.start(), *range.end());
            range
                .map(|n| {
                    let extra = if n == first {
                        low.clone()
                    } else if n == last {
                        high.clone()
                    } else {
                        None
                    };
                    option(n.to_string(), n.to_string(), extra)
                })
                .collect()
        }
        QuestionType::YesNo => vec![
            option("yes".into(), t.text(lang, "survey.yes"), None),
            option("no".into(), t.text(lang, "survey.no"), None),
        ],
        QuestionType::SingleChoice | QuestionType::MultiChoice => q
            .options
            .iter()
            .map(|o| option(o.value.clone(), localized(&o.label, lang), None))
            .collect(),
        QuestionType::Text => Vec::new(),
    };
    let error = problems
        .iter()
        .find(|(id, _)| *id == q.id)
        .map(|(_, p)| t.text(lang, &format!("errors.{}", p.code())));
    QuestionView {
        id: q.id.clone(),
        number,
        legend: localized(&q.text, lang),
        hint: q.hint.as_ref().map(|m| localized(m, lang)),
        required: q.required,
        is_scale: q.kind.scale().is_some(),
        is_choice: matches!(
            q.kind,
            QuestionType::YesNo | QuestionType::SingleChoice | QuestionType::MultiChoice
        ),
        is_text: q.kind == QuestionType::Text,
        input_type: if q.kind == QuestionType::MultiChoice {
            "checkbox"
        } else {
            "radio"
        },
        options,
        low,
        high,
        text_value: if q.kind == QuestionType::Text {
            values
                .iter()
                .find(|(k, _)| *k == q.id)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        } else {
            String::new()
        },
        max_length: q.max_length.unwrap_or(2000),
        error,
    }
}

/// The summary's links, one per question with an error, to its first input.
pub(super) fn error_links(questions: &[QuestionView]) -> Vec<ErrorLink> {
    questions
        .iter()
        .filter_map(|q| {
            let anchor = q
                .options
                .first()
                .map_or_else(|| format!("f-{}", q.id), |o| o.input_id.clone());
            Some(ErrorLink {
                anchor,
                unit: None,
                number: q.number,
                message: q.error.clone()?,
            })
        })
        .collect()
}
