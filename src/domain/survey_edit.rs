//! An admin's edit of a questionnaire: each question's order, whether it is required, and its
//! texts in four languages (the question, a scale's two ends, a choice's labels). Question ids,
//! types and values stay as they are, so that every report and every older answer keeps its
//! meaning. An untranslated text takes the Hebrew one, and the edit says where.

use super::language::Language;
use super::survey::{Localized, SurveyDefinition};

/// The longest text an editor may give (a question, an end of a scale, a label).
pub const MAX_TEXT: usize = 500;

/// What the form says about one question.
#[derive(Debug, Clone, Default)]
pub struct QuestionEdit {
    pub id: String,
    pub order: i64,
    pub required: bool,
    pub text: Localized,
    pub low: Localized,
    pub high: Localized,
    /// Labels by option value.
    pub options: Vec<(String, Localized)>,
}

/// Why an edit was refused: the question and what is wrong (a key under `admin.surveys.errors`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditProblem {
    pub question: String,
    pub kind: &'static str,
}

/// Where a text was left untranslated and shows the Hebrew one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fallback {
    pub question: String,
    pub language: Language,
}

/// Fills `target` from `given`, each language's text trimmed; an empty one takes the Hebrew
/// text (and is reported). A text that is too long or lacks its Hebrew is a problem.
fn fill(
    target: &mut Localized,
    given: &Localized,
    question: &str,
    problems: &mut Vec<EditProblem>,
    fallbacks: &mut Vec<Fallback>,
) {
    let he = given
        .get(&Language::He)
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    if he.is_empty() {
        problems.push(EditProblem {
            question: question.to_string(),
            kind: "no_hebrew",
        });
        return;
    }
    for lang in Language::ALL {
        let text = given
            .get(&lang)
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        if text.chars().count() > MAX_TEXT || text.chars().any(char::is_control) {
            problems.push(EditProblem {
                question: question.to_string(),
                kind: "too_long",
            });
            return;
        }
        let text = if text.is_empty() {
            if lang != Language::He {
                fallbacks.push(Fallback {
                    question: question.to_string(),
                    language: lang,
                });
            }
            he.clone()
        } else {
            text
        };
        target.insert(lang, text);
    }
}

/// The questionnaire with the edits applied, and where a text fell back to Hebrew; or every
/// problem. Questions the edit does not name are refused: an edit is of the whole survey.
pub fn apply(
    def: &SurveyDefinition,
    edits: &[QuestionEdit],
) -> Result<(SurveyDefinition, Vec<Fallback>), Vec<EditProblem>> {
    let mut problems = Vec::new();
    let mut fallbacks = Vec::new();
    let mut ordered: Vec<(i64, usize, super::survey::Question)> = Vec::new();
    for (i, q) in def.questions.iter().enumerate() {
        let Some(edit) = edits.iter().find(|e| e.id == q.id) else {
            problems.push(EditProblem {
                question: q.id.clone(),
                kind: "missing",
            });
            continue;
        };
        let mut q = q.clone();
        q.required = edit.required;
        fill(
            &mut q.text,
            &edit.text,
            &q.id,
            &mut problems,
            &mut fallbacks,
        );
        if let Some(low) = q.low.as_mut() {
            fill(low, &edit.low, &q.id, &mut problems, &mut fallbacks);
        }
        if let Some(high) = q.high.as_mut() {
            fill(high, &edit.high, &q.id, &mut problems, &mut fallbacks);
        }
        for option in &mut q.options {
            let given = edit
                .options
                .iter()
                .find(|(v, _)| *v == option.value)
                .map(|(_, l)| l.clone())
                .unwrap_or_default();
            fill(
                &mut option.label,
                &given,
                &q.id,
                &mut problems,
                &mut fallbacks,
            );
        }
        ordered.push((edit.order, i, q));
    }
    if edits
        .iter()
        .any(|e| !def.questions.iter().any(|q| q.id == e.id))
    {
        problems.push(EditProblem {
            question: String::new(),
            kind: "unknown",
        });
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    // By the order given; equal orders keep the survey's own.
    ordered.sort_by_key(|(order, i, _)| (*order, *i));
    let edited = SurveyDefinition {
        key: def.key.clone(),
        audience: def.audience.clone(),
        questions: ordered.into_iter().map(|(_, _, q)| q).collect(),
    };
    // The same checks as any stored survey (texts in every language, the sealed size).
    SurveyDefinition::from_json(&edited.to_json()).map_err(|_| {
        vec![EditProblem {
            question: String::new(),
            kind: "invalid",
        }]
    })?;
    fallbacks.dedup();
    Ok((edited, fallbacks))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::survey::RESIDENT_DEFAULT;

    fn edits_of(def: &SurveyDefinition) -> Vec<QuestionEdit> {
        def.questions
            .iter()
            .enumerate()
            .map(|(i, q)| QuestionEdit {
                id: q.id.clone(),
                order: i as i64,
                required: q.required,
                text: q.text.clone(),
                low: q.low.clone().unwrap_or_default(),
                high: q.high.clone().unwrap_or_default(),
                options: q
                    .options
                    .iter()
                    .map(|o| (o.value.clone(), o.label.clone()))
                    .collect(),
            })
            .collect()
    }

    #[test]
    fn an_unchanged_edit_gives_the_same_survey() {
        let def = SurveyDefinition::from_json(RESIDENT_DEFAULT).expect("default");
        let (edited, fallbacks) = apply(&def, &edits_of(&def)).expect("valid");
        assert_eq!(edited.to_json(), def.to_json());
        assert!(fallbacks.is_empty());
    }

    #[test]
    fn texts_orders_and_required_change_and_a_missing_translation_takes_the_hebrew() {
        let def = SurveyDefinition::from_json(RESIDENT_DEFAULT).expect("default");
        let mut edits = edits_of(&def);
        let last = edits.len() as i64;
        edits[0].order = last;
        edits[0].text.insert(Language::He, "שאלה חדשה".into());
        edits[0].text.insert(Language::Ar, "  ".into());
        edits[1].required = !edits[1].required;
        let (edited, fallbacks) = apply(&def, &edits).expect("valid");
        assert_eq!(
            edited.questions.last().map(|q| q.id.as_str()),
            Some(def.questions[0].id.as_str())
        );
        let moved = edited.questions.last().expect("q");
        assert_eq!(moved.text[&Language::Ar], "שאלה חדשה");
        assert_eq!(
            fallbacks,
            vec![Fallback {
                question: def.questions[0].id.clone(),
                language: Language::Ar
            }]
        );
        let toggled = edited
            .questions
            .iter()
            .find(|q| q.id == def.questions[1].id)
            .expect("still there");
        assert_eq!(toggled.required, !def.questions[1].required);
    }

    #[test]
    fn no_hebrew_too_long_unknown_or_missing_questions_are_refused() {
        let def = SurveyDefinition::from_json(RESIDENT_DEFAULT).expect("default");
        let mut edits = edits_of(&def);
        edits[0].text.insert(Language::He, String::new());
        edits[1].text.insert(Language::En, "x".repeat(MAX_TEXT + 1));
        let problems = apply(&def, &edits).expect_err("refused");
        assert!(problems.iter().any(|p| p.kind == "no_hebrew"));
        assert!(problems.iter().any(|p| p.kind == "too_long"));
        let mut fewer = edits_of(&def);
        fewer.pop();
        assert!(apply(&def, &fewer)
            .expect_err("refused")
            .iter()
            .any(|p| p.kind == "missing"));
        let mut more = edits_of(&def);
        more.push(QuestionEdit {
            id: "sneaky".into(),
            ..QuestionEdit::default()
        });
        assert!(apply(&def, &more)
            .expect_err("refused")
            .iter()
            .any(|p| p.kind == "unknown"));
    }
}
