//! Every scale question's figure in a report: which questions an audience is asked, and their
//! answers counted per group.

use std::collections::{BTreeMap, HashMap};
use std::ops::RangeInclusive;

use crate::db::{DbConnection, DbError};
use crate::domain::interaction::Audience;
use crate::domain::language::Language;
use crate::domain::metrics::{question_figure, QuestionFigure};

/// The scale questions an audience is asked today, in the questionnaire's order, each with its
/// scale.
pub(super) fn scale_questions(
    conn: &mut DbConnection,
    audience: Audience,
    lang: Language,
) -> Result<Vec<ScaleQuestion>, DbError> {
    let asked = crate::services::surveys::asked(
        conn,
        &crate::services::surveys::SurveyCache::default(),
        audience,
    )?;
    Ok(asked
        .map(|def| {
            def.questions
                .iter()
                .filter_map(|q| {
                    Some(ScaleQuestion {
                        id: q.id.clone(),
                        text: q.text.get(&lang).cloned().unwrap_or_default(),
                        measures: q.measures,
                        scale: q.kind.scale()?,
                    })
                })
                .collect()
        })
        .unwrap_or_default())
}

/// A scale question a report gives a figure to.
pub(super) struct ScaleQuestion {
    id: String,
    text: String,
    measures: Option<crate::domain::survey::Measure>,
    scale: RangeInclusive<i32>,
}

/// Answers counted per (group, question, value); `None` is the total.
#[derive(Default)]
pub(super) struct Answers {
    counts: HashMap<(Option<String>, String), BTreeMap<i32, i64>>,
}

impl Answers {
    /// Counts `n` answers of `value` to `question`, in the total and in `group` (if grouped).
    pub(super) fn add(&mut self, group: Option<String>, question: String, value: i32, n: i64) {
        *self
            .counts
            .entry((None, question.clone()))
            .or_default()
            .entry(value)
            .or_default() += n;
        if let Some(g) = group {
            *self
                .counts
                .entry((Some(g), question))
                .or_default()
                .entry(value)
                .or_default() += n;
        }
    }

    /// Each scale question's figure in a group (None: the total).
    pub(super) fn figures(
        &self,
        group: Option<&String>,
        scales: &[ScaleQuestion],
    ) -> Vec<QuestionFigure> {
        let none = BTreeMap::new();
        scales
            .iter()
            .map(|q| {
                let counts = self
                    .counts
                    .get(&(group.cloned(), q.id.clone()))
                    .unwrap_or(&none);
                question_figure((&q.id, &q.text, q.measures), counts, q.scale.clone())
            })
            .collect()
    }
}
