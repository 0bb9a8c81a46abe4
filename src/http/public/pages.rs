//! Rendering of the survey page. The form is the same for every invitation of one survey
//! version and language, so it is rendered once and cached; only the short introduction, which
//! names the resident's service and date, is rendered per request.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use chrono::Datelike;
use serde::Serialize;

use crate::domain::interaction::Audience;
use crate::domain::language::Language;
use crate::domain::survey::{AnswerProblems, SurveyDefinition};
use crate::services::responses::OpenSurvey;
use crate::state::AppState;
use crate::templates::{PageMeta, TemplateError};

pub(super) use super::question_view::{error_links, question_view, ErrorLink, QuestionView};

/// Stand-ins for the per-invitation values in the cached render. Control characters survive
/// HTML escaping unchanged and never occur in rendered text, so they mark the slots exactly.
const SLOT_SERVICE: &str = "\u{1}service\u{1}";
const SLOT_DATE: &str = "\u{1}date\u{1}";
const SLOT_DATE_ISO: &str = "\u{1}date_iso\u{1}";
const SLOT_STOP: &str = "\u{1}stop\u{1}";

/// A piece of a cached survey page.
enum Part {
    Html(String),
    Service,
    Date,
    DateIso,
    /// The link's own opt-out address (`/u/TOKEN`).
    Stop,
}

/// A rendered survey page cut at its slots.
type CutPage = Arc<Vec<Part>>;

/// Rendered survey pages by (survey version, language).
#[derive(Default)]
pub struct PageCache {
    /// By survey version, language and city profile version (a new name or colour is a new
    /// page).
    forms: RwLock<HashMap<(String, Language, u64), CutPage>>,
}

/// Cuts a page rendered with slot markers into literal HTML and slots.
fn cut(html: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('\u{1}') {
        let marker_end = rest[start + 1..].find('\u{1}').map(|e| start + 1 + e + 1);
        let Some(end) = marker_end else { break };
        let slot = match &rest[start..end] {
            SLOT_SERVICE => Part::Service,
            SLOT_DATE => Part::Date,
            SLOT_DATE_ISO => Part::DateIso,
            SLOT_STOP => Part::Stop,
            _ => {
                parts.push(Part::Html(rest[..end].to_string()));
                rest = &rest[end..];
                continue;
            }
        };
        parts.push(Part::Html(rest[..start].to_string()));
        parts.push(slot);
        rest = &rest[end..];
    }
    parts.push(Part::Html(rest.to_string()));
    parts
}

/// A button of the survey's language switch.
#[derive(Serialize)]
struct LanguageChoice {
    code: &'static str,
    name: String,
    current: bool,
}

#[derive(Serialize)]
struct SurveyContext<'a> {
    #[serde(flatten)]
    meta: PageMeta<'a>,
    intro_html: String,
    errors: Vec<ErrorLink>,
    questions: Vec<QuestionView>,
    /// A score chosen in the email: that question and a send button come first.
    quick: Option<QuickView>,
    /// Where this link's person stops all surveys: the email's unsubscribe link, on the page
    /// too, for residents the CRM reached by text message (None in the editor's preview).
    stop_url: Option<String>,
    privacy: String,
    /// The switch's buttons: each sends the form as it stands and shows it in that language.
    switch: Vec<LanguageChoice>,
}

/// The top of a page opened from a one-tap score in the email: the score as chosen, a line
/// saying that it is not saved until sent, and the send button; the other questions follow.
#[derive(Serialize)]
struct QuickView {
    question: QuestionView,
    /// The heading of the questions after it: "optional" only where none of them is required.
    more: String,
}

#[derive(Serialize)]
struct IntroContext<'a> {
    t: &'a serde_json::Value,
    service: String,
    date: String,
    date_iso: String,
}

/// What a form is rendered with besides its survey and answers.
struct FormParts<'a> {
    intro_html: String,
    stop_url: Option<String>,
    quick_id: Option<&'a str>,
}

fn render_form(
    state: &AppState,
    lang: Language,
    survey: &SurveyDefinition,
    (intro_html, stop_url): (String, Option<String>),
    values: &[(String, String)],
    problems: &AnswerProblems,
) -> Result<String, TemplateError> {
    let parts = FormParts {
        intro_html,
        stop_url,
        quick_id: None,
    };
    render_form_with(state, lang, survey, parts, values, problems)
}

fn render_form_with(
    state: &AppState,
    lang: Language,
    survey: &SurveyDefinition,
    FormParts {
        intro_html,
        stop_url,
        quick_id,
    }: FormParts<'_>,
    values: &[(String, String)],
    problems: &AnswerProblems,
) -> Result<String, TemplateError> {
    let t = &state.templates;
    let mut questions: Vec<QuestionView> = survey
        .questions
        .iter()
        .enumerate()
        .map(|(i, q)| question_view(t, lang, i + 1, q, values, problems))
        .collect();
    let quick = quick_id
        .and_then(|id| questions.iter().position(|q| q.id == id))
        .map(|i| {
            let question = questions.remove(i);
            let key = if questions.iter().any(|q| q.required) {
                "survey.quick_more_questions"
            } else {
                "survey.quick_more"
            };
            QuickView {
                question,
                more: t.text(lang, key),
            }
        });
    let errors = error_links(&questions);
    let privacy_key = if survey.audience == Audience::Employee {
        "survey.privacy_employee"
    } else {
        "survey.privacy"
    };
    let mut title = t.text(lang, "survey.title");
    if !errors.is_empty() {
        title = format!("{}{title}", t.text(lang, "survey.error_title_prefix"));
    }
    t.render(
        "public/survey",
        &SurveyContext {
            meta: PageMeta::new(t, lang, title),
            intro_html,
            errors,
            questions,
            quick,
            stop_url,
            privacy: t.text(lang, privacy_key),
            switch: Language::ALL
                .into_iter()
                .map(|l| LanguageChoice {
                    code: l.code(),
                    name: t.text(l, "admin.language_name"),
                    current: l == lang,
                })
                .collect(),
        },
    )
}

/// The values the introduction names: the service (in the resident's language where the
/// catalog has it) and the day the request was closed, in Israel.
fn intro_values(open: &OpenSurvey) -> (String, String, String) {
    let inv = &open.invitation;
    let names: BTreeMap<Language, String> =
        serde_json::from_str(&inv.service_names_i18n).unwrap_or_default();
    let service = names
        .get(&open.language)
        .cloned()
        .unwrap_or_else(|| inv.service_name.clone());
    let local = inv
        .closed_at
        .and_utc()
        .with_timezone(&chrono_tz::Asia::Jerusalem)
        .date_naive();
    let (d, m, y) = (local.day(), local.month(), local.year());
    (
        service,
        format!("{d:02}.{m:02}.{y}"),
        format!("{y:04}-{m:02}-{d:02}"),
    )
}

fn render_intro(
    state: &AppState,
    lang: Language,
    (service, date, date_iso): (String, String, String),
) -> Result<String, TemplateError> {
    state.templates.render(
        "public/intro",
        &IntroContext {
            t: state.templates.strings(lang),
            service,
            date,
            date_iso,
        },
    )
}

/// The survey form as first shown. Rendered once per survey version and language; each request
/// only fills in the escaped service name and date.
pub fn survey_page(
    state: &AppState,
    pages: &PageCache,
    open: &OpenSurvey,
) -> Result<String, TemplateError> {
    let key = (
        open.survey_id.clone(),
        open.language,
        state.templates.city_version(),
    );
    let cached = pages.forms.read().ok().and_then(|m| m.get(&key).cloned());
    let parts = match cached {
        Some(parts) => parts,
        None => {
            let slots = (
                SLOT_SERVICE.to_string(),
                SLOT_DATE.to_string(),
                SLOT_DATE_ISO.to_string(),
            );
            let intro = render_intro(state, open.language, slots)?;
            let parts = (intro, Some(SLOT_STOP.to_string()));
            let html = render_form(state, open.language, &open.survey, parts, &[], &Vec::new())?;
            let parts = Arc::new(cut(&html));
            if let Ok(mut m) = pages.forms.write() {
                // Pages of an earlier city profile are never asked for again.
                m.retain(|k, _| k.2 == key.2);
                m.insert(key, parts.clone());
            }
            parts
        }
    };
    let (service, date, date_iso) = intro_values(open);
    let mut page = String::with_capacity(12 * 1024);
    for part in parts.iter() {
        match part {
            Part::Html(html) => page.push_str(html),
            Part::Service => page.push_str(&handlebars::html_escape(&service)),
            Part::Date => page.push_str(&handlebars::html_escape(&date)),
            Part::DateIso => page.push_str(&handlebars::html_escape(&date_iso)),
            Part::Stop => page.push_str(&handlebars::html_escape(&stop_url(state, open))),
        }
    }
    Ok(page)
}

/// The form again after a refused submission: the resident's answers kept, each problem named
/// beside its question and in a summary at the top.
pub fn survey_page_with_errors(
    state: &AppState,
    open: &OpenSurvey,
    values: &[(String, String)],
    problems: &AnswerProblems,
) -> Result<String, TemplateError> {
    let intro = render_intro(state, open.language, intro_values(open))?;
    let parts = (intro, Some(stop_url(state, open)));
    render_form(state, open.language, &open.survey, parts, values, problems)
}

/// The link's opt-out page: its token is the survey link's own.
fn stop_url(state: &AppState, open: &OpenSurvey) -> String {
    format!(
        "/u/{}",
        state
            .key
            .survey_token(&open.invitation.invitation_id)
            .expose()
    )
}

/// The page a one-tap score in the email opens (`?overall=4`): when the score is a valid point
/// of one of the survey's scales, that question comes first, chosen, with a send button and a
/// line saying that nothing is saved until it is pressed; the other questions follow. Opening
/// it stores nothing. Any other query opens the ordinary form with what it names chosen.
pub fn chosen_score_page(
    state: &AppState,
    open: &OpenSurvey,
    chosen: &[(String, String)],
) -> Result<String, TemplateError> {
    let quick = chosen.iter().find_map(|(id, value)| {
        let q = open.survey.questions.iter().find(|q| &q.id == id)?;
        let n: i32 = value.parse().ok()?;
        q.kind.scale()?.contains(&n).then_some(q.id.as_str())
    });
    let parts = FormParts {
        intro_html: render_intro(state, open.language, intro_values(open))?,
        stop_url: Some(stop_url(state, open)),
        quick_id: quick,
    };
    render_form_with(
        state,
        open.language,
        &open.survey,
        parts,
        chosen,
        &Vec::new(),
    )
}

/// A survey definition as residents would see it in `lang`, for the editor's preview: a sample
/// service and today's date in the introduction, the questions as they would be asked.
pub fn preview_page(
    state: &AppState,
    survey: &SurveyDefinition,
    lang: Language,
    today: chrono::NaiveDate,
) -> Result<String, TemplateError> {
    let intro = render_intro(
        state,
        lang,
        (
            state.templates.text(lang, "admin.surveys.sample_service"),
            today.format("%d.%m.%Y").to_string(),
            today.to_string(),
        ),
    )?;
    render_form(state, lang, survey, (intro, None), &[], &Vec::new())
}

pub use super::campaign_pages::{campaign_pick_page, campaign_rate_page};
pub use super::messages::{html, message_page, not_found_page, unsubscribe_page};
