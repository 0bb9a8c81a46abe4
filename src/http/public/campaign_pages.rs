//! The pages of a campaign link: the picker of the units an employee rates, and the ratings of
//! the chosen units (the survey's questions once per unit).

use serde::Serialize;

use super::pages::{error_links, question_view, ErrorLink, QuestionView};
use crate::domain::survey::AnswerProblems;
use crate::services::campaign_survey::{CampaignSurvey, Unit};
use crate::state::AppState;
use crate::templates::{PageMeta, TemplateError};

#[derive(Serialize)]
struct UnitView {
    code: String,
    name: String,
    department: String,
    checked: bool,
}

#[derive(Serialize)]
struct PickContext<'a> {
    #[serde(flatten)]
    meta: PageMeta<'a>,
    campaign: String,
    units: Vec<UnitView>,
    error: bool,
    first_input: String,
}

/// A campaign's first step: which units the employee dealt with (a GET form, so that choosing
/// stores nothing).
pub fn campaign_pick_page(
    state: &AppState,
    open: &CampaignSurvey,
    chosen: &[Unit],
    error: bool,
) -> Result<String, TemplateError> {
    let t = &state.templates;
    let lang = open.language;
    let mut title = t.text(lang, "campaign.heading");
    if error {
        title = format!("{}{title}", t.text(lang, "survey.error_title_prefix"));
    }
    let units: Vec<UnitView> = open
        .units
        .iter()
        .map(|u| UnitView {
            code: u.code.clone(),
            name: u.name.clone(),
            department: u.department.clone(),
            checked: chosen.contains(u),
        })
        .collect();
    t.render(
        "public/campaign_pick",
        &PickContext {
            meta: PageMeta::new(t, lang, title),
            campaign: open.campaign_name.clone(),
            first_input: units
                .first()
                .map(|u| format!("u-{}", u.code))
                .unwrap_or_default(),
            units,
            error,
        },
    )
}

#[derive(Serialize)]
struct SectionView {
    code: String,
    name: String,
    questions: Vec<QuestionView>,
}

#[derive(Serialize)]
struct RateContext<'a> {
    #[serde(flatten)]
    meta: PageMeta<'a>,
    sections: Vec<SectionView>,
    errors: Vec<ErrorLink>,
}

/// A campaign's second step: the survey once per chosen unit, its fields named `UNIT.QUESTION`.
pub fn campaign_rate_page(
    state: &AppState,
    open: &CampaignSurvey,
    units: &[Unit],
    values: &[(String, String)],
    problems: &AnswerProblems,
) -> Result<String, TemplateError> {
    let t = &state.templates;
    let lang = open.language;
    let mut errors = Vec::new();
    let sections: Vec<SectionView> = units
        .iter()
        .map(|u| {
            let questions: Vec<QuestionView> = open
                .survey
                .questions
                .iter()
                .enumerate()
                .map(|(i, q)| {
                    let mut q = q.clone();
                    q.id = format!("{}.{}", u.code, q.id);
                    question_view(t, lang, i + 1, &q, values, problems)
                })
                .collect();
            errors.extend(error_links(&questions).into_iter().map(|mut e| {
                e.unit = Some(u.name.clone());
                e
            }));
            SectionView {
                code: u.code.clone(),
                name: u.name.clone(),
                questions,
            }
        })
        .collect();
    let mut title = t.text(lang, "campaign.heading");
    if !errors.is_empty() {
        title = format!("{}{title}", t.text(lang, "survey.error_title_prefix"));
    }
    t.render(
        "public/campaign_rate",
        &RateContext {
            meta: PageMeta::new(t, lang, title),
            sections,
            errors,
        },
    )
}
