//! An admin's edit of a questionnaire: each question's order, whether it is required, its
//! texts in four languages (the question, a scale's two ends, a choice's labels), questions
//! removed and questions added. A question's id, type and values never change once asked, so
//! that every report and every older answer keeps its meaning: asking differently is removing
//! a question and adding a new one, with a new id. The overall question stays (CSAT is read
//! from it). An untranslated text takes the Hebrew one, and the edit says where.

use super::interaction::Audience;
use super::language::Language;
use super::sealed::ANSWERS_BUDGET;
use super::survey::{ChoiceOption, Localized, Measure, Question, QuestionType, SurveyDefinition};

/// The longest text an editor may give (a question, an end of a scale, a label).
pub const MAX_TEXT: usize = 500;
/// The most questions a survey may have: a short survey is one residents finish.
pub const MAX_QUESTIONS: usize = 20;
/// The most answers a choice question may offer.
pub const MAX_OPTIONS: usize = 12;
/// Whether a question must stay in its survey: the one that carries satisfaction, since every
/// report's headline CSAT is read from it.
pub fn must_keep(q: &Question) -> bool {
    q.measures == Some(Measure::Satisfaction)
}
/// A free-text question's longest answer, where the sealed size of employees' answers leaves
/// room for it.
const TEXT_ANSWER_MAX: usize = 2000;
/// Below this many characters a free-text question is not worth asking.
const TEXT_ANSWER_MIN: usize = 100;

/// What the form says about one question.
#[derive(Debug, Clone, Default)]
pub struct QuestionEdit {
    pub id: String,
    pub order: i64,
    pub required: bool,
    /// Leaves the question out of the new version (its answers so far stay).
    pub remove: bool,
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
        if edit.remove {
            if must_keep(q) {
                problems.push(EditProblem {
                    question: q.id.clone(),
                    kind: "keeps_overall",
                });
            }
            continue;
        }
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
        audience: def.audience,
        title: def.title.clone(),
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

/// A question to add, as the editor's form gives it: its Hebrew texts (the other languages
/// take them until translated in the editor).
#[derive(Debug, Clone)]
pub struct NewQuestion {
    pub kind: QuestionType,
    pub required: bool,
    pub text: String,
    /// A scale's two ends (optional; ignored for other types).
    pub low: String,
    pub high: String,
    /// A choice's answers, one label each (ignored for other types).
    pub options: Vec<String>,
}

fn in_every_language(text: &str) -> Localized {
    Language::ALL
        .into_iter()
        .map(|l| (l, text.to_string()))
        .collect()
}

/// The questionnaire with `new` added last under `id` (which the caller makes unique and never
/// reuses, so that a removed question's answers never mix with a new one's); or what is wrong.
pub fn add(
    def: &SurveyDefinition,
    new: &NewQuestion,
    id: &str,
) -> Result<SurveyDefinition, EditProblem> {
    let problem = |kind| EditProblem {
        question: String::new(),
        kind,
    };
    let clean = |s: &str| -> Result<String, EditProblem> {
        let s = s.trim();
        if s.chars().count() > MAX_TEXT || s.chars().any(char::is_control) {
            return Err(problem("too_long"));
        }
        Ok(s.to_string())
    };
    let text = clean(&new.text)?;
    if text.is_empty() {
        return Err(problem("no_hebrew"));
    }
    if def.questions.len() >= MAX_QUESTIONS {
        return Err(problem("too_many"));
    }
    if def.questions.iter().any(|q| q.id == id) {
        return Err(problem("unknown"));
    }
    let mut question = Question {
        id: id.to_string(),
        kind: new.kind,
        required: new.required,
        text: in_every_language(&text),
        hint: None,
        low: None,
        high: None,
        options: Vec::new(),
        max_length: None,
        // A question a city adds is reported on its own; the headline measures stay with
        // the questions that carry them.
        measures: None,
    };
    if new.kind.scale().is_some() {
        let (low, high) = (clean(&new.low)?, clean(&new.high)?);
        question.low = (!low.is_empty()).then(|| in_every_language(&low));
        question.high = (!high.is_empty()).then(|| in_every_language(&high));
    }
    if new.kind.is_choice() {
        let labels = new
            .options
            .iter()
            .map(|o| clean(o))
            .collect::<Result<Vec<_>, _>>()?;
        let labels: Vec<String> = labels.into_iter().filter(|l| !l.is_empty()).collect();
        if labels.len() < 2 || labels.len() > MAX_OPTIONS {
            return Err(problem("options"));
        }
        question.options = labels
            .iter()
            .enumerate()
            .map(|(i, label)| ChoiceOption {
                value: format!("o{}", i + 1),
                label: in_every_language(label),
            })
            .collect();
    }
    let mut added = def.clone();
    added.questions.push(question);
    // An employee's answers are sealed at one size: a free-text question gets the length that
    // still fits, or is refused where too little is left.
    if added.audience == Audience::Employee && added.max_answer_bytes() > ANSWERS_BUDGET {
        let over = added.max_answer_bytes() - ANSWERS_BUDGET;
        let fits = TEXT_ANSWER_MAX.saturating_sub(over.div_ceil(4));
        match added.questions.last_mut() {
            Some(q) if q.kind == QuestionType::Text && fits >= TEXT_ANSWER_MIN => {
                q.max_length = Some(fits)
            }
            _ => return Err(problem("too_big")),
        }
    }
    SurveyDefinition::from_json(&added.to_json()).map_err(|_| problem("invalid"))
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
                remove: false,
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

    #[test]
    fn questions_are_removed_but_never_the_overall_one() {
        let def = SurveyDefinition::from_json(RESIDENT_DEFAULT).expect("default");
        let mut edits = edits_of(&def);
        let last = def.questions.last().expect("q").id.clone();
        edits.last_mut().expect("q").remove = true;
        let (edited, _) = apply(&def, &edits).expect("valid");
        assert_eq!(edited.questions.len(), def.questions.len() - 1);
        assert!(edited.questions.iter().all(|q| q.id != last));
        let mut edits = edits_of(&def);
        edits
            .iter_mut()
            .find(|e| e.id == "overall")
            .expect("overall")
            .remove = true;
        assert!(apply(&def, &edits)
            .expect_err("refused")
            .iter()
            .any(|p| p.kind == "keeps_overall"));
    }

    fn new_question(kind: QuestionType) -> NewQuestion {
        NewQuestion {
            kind,
            required: false,
            text: "  איך היה?  ".into(),
            low: "גרוע".into(),
            high: String::new(),
            options: vec!["אחד".into(), " ".into(), "שניים".into()],
        }
    }

    #[test]
    fn a_new_question_of_each_type_is_added_last_in_every_language() {
        let def = SurveyDefinition::from_json(RESIDENT_DEFAULT).expect("default");
        for kind in QuestionType::ALL {
            let added = add(&def, &new_question(kind), "q_new").expect("valid");
            let q = added.questions.last().expect("added");
            assert_eq!((q.id.as_str(), q.kind), ("q_new", kind));
            assert_eq!(q.text[&Language::Ru], "איך היה?");
            assert_eq!(q.low.is_some(), kind.scale().is_some());
            assert!(q.high.is_none());
            let values: Vec<_> = q.options.iter().map(|o| o.value.as_str()).collect();
            let expected: &[&str] = if kind.is_choice() { &["o1", "o2"] } else { &[] };
            assert_eq!(values, expected);
        }
    }

    #[test]
    fn a_new_question_without_text_with_one_option_or_a_taken_id_is_refused() {
        let def = SurveyDefinition::from_json(RESIDENT_DEFAULT).expect("default");
        let mut empty = new_question(QuestionType::Rating);
        empty.text = " ".into();
        assert_eq!(
            add(&def, &empty, "q_x").expect_err("no text").kind,
            "no_hebrew"
        );
        let mut one = new_question(QuestionType::SingleChoice);
        one.options = vec!["רק אחת".into()];
        assert_eq!(add(&def, &one, "q_x").expect_err("one").kind, "options");
        let taken = new_question(QuestionType::Text);
        assert_eq!(
            add(&def, &taken, "overall").expect_err("taken").kind,
            "unknown"
        );
    }

    #[test]
    fn an_employee_text_question_gets_the_length_that_still_fits_the_sealed_size() {
        use crate::domain::survey::EMPLOYEE_DEFAULT;
        let mut def = SurveyDefinition::from_json(EMPLOYEE_DEFAULT).expect("default");
        let mut n = 0;
        loop {
            match add(&def, &new_question(QuestionType::Text), &format!("q_{n}")) {
                Ok(added) => {
                    assert!(added.max_answer_bytes() <= ANSWERS_BUDGET);
                    def = added;
                    n += 1;
                }
                Err(p) => {
                    assert_eq!(p.kind, "too_big");
                    break;
                }
            }
        }
        let last = def.questions.last().expect("q");
        assert!(n >= 1 && last.max_length.is_some_and(|m| m >= TEXT_ANSWER_MIN));
    }
}
