//! How a department's or a service's page shows its details (read by `services::details`):
//! every scale question with its mean and `n`, and the comments with a link to their case.

use serde::Serialize;

use super::figures::mean_text;
use crate::domain::language::Language;
use crate::services::details::Details;

#[derive(Serialize)]
pub struct QuestionLine {
    pub question: String,
    pub mean: String,
    pub scale: String,
    pub n: i64,
}

#[derive(Serialize)]
pub struct CommentView {
    pub when: String,
    pub service: String,
    pub score: Option<i32>,
    pub text: String,
    pub case: Option<String>,
}

/// Every scale question of the survey in its order, with its mean and `n`.
pub fn question_lines(d: &Details, lang: Language) -> Vec<QuestionLine> {
    let Some(survey) = &d.survey else {
        return Vec::new();
    };
    survey
        .questions
        .iter()
        .filter_map(|q| {
            let range = q.kind.scale()?;
            let (n, sum) = d
                .questions
                .iter()
                .find(|t| t.question_id == q.id)
                .map_or((0, 0), |t| (t.n, t.sum));
            let text = q
                .text
                .get(&lang)
                .or_else(|| q.text.get(&Language::He))
                .cloned()
                .unwrap_or_else(|| q.id.clone());
            Some(QuestionLine {
                question: text,
                mean: mean_text((n > 0).then(|| sum as f64 / n as f64)),
                scale: format!("{}–{}", range.start(), range.end()),
                n,
            })
        })
        .collect()
}
