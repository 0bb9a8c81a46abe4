//! `GET /admin/surveys/{key}` (the editor) and `POST /admin/surveys/{key}` (`action` = `save`,
//! `add`, or `preview_he|ar|en|ru`): an admin edits a questionnaire question by question
//! (order, required, texts in four languages, removed), adds a question of any type, sees it as
//! residents would in each language, and saves it as a new version that new invitations get;
//! earlier versions, and the links that carry them, never change.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::setup::{self, admin_page, admin_post_up_to, Pick, Posted};
use super::{html, refusal, AdminError, Chrome, Signed};
use crate::domain::language::Language;
use crate::domain::period::local_day;
use crate::domain::survey::{Localized, QuestionType, SurveyDefinition};
use crate::domain::survey_edit::{self, EditProblem, NewQuestion, QuestionEdit};
use crate::services::audit::Actor;
use crate::services::surveys::{self, Editable};
use crate::state::AppState;

#[derive(Serialize)]
struct TextField {
    name: String,
    lang: &'static str,
    dir: &'static str,
    label: String,
    value: String,
    /// Shows the Hebrew text, for want of a translation.
    fallback: bool,
}

#[derive(Serialize)]
struct TextGroup {
    legend: String,
    fields: Vec<TextField>,
}

#[derive(Serialize)]
struct QuestionForm {
    id: String,
    number: usize,
    kind: String,
    order: usize,
    required: bool,
    /// Every question but the overall one may be removed.
    removable: bool,
    groups: Vec<TextGroup>,
}

#[derive(Serialize)]
struct EditorPage<'a> {
    #[serde(flatten)]
    chrome: Chrome<'a>,
    key: String,
    name: String,
    version: i32,
    done: Option<String>,
    problems: Vec<String>,
    questions: Vec<QuestionForm>,
    previews: Vec<PreviewButton>,
    /// The types a new question may have.
    types: Vec<Pick>,
    max_options: usize,
}

#[derive(Serialize)]
struct PreviewButton {
    value: String,
    lang: &'static str,
    label: String,
}

pub(super) async fn editable(state: &web::Data<AppState>) -> Result<Vec<Editable>, AdminError> {
    Ok(state
        .db
        .read(|conn| surveys::editable(conn, &state.surveys))
        .await?)
}

/// A questionnaire's name for admins: a built-in one's from the interface's texts, the city's
/// own from its title.
pub(super) fn survey_name(state: &AppState, lang: Language, e: &Editable) -> String {
    match (&e.definition.title, e.builtin) {
        (Some(title), false) => title
            .get(&lang)
            .or_else(|| title.get(&Language::He))
            .cloned()
            .unwrap_or_else(|| e.key.clone()),
        _ => state.templates.text(
            lang,
            &format!("admin.surveys.names.{}", e.audience.as_str()),
        ),
    }
}

/// The questionnaire a path names, or `404`.
async fn find(state: &web::Data<AppState>, key: &str) -> Result<Editable, AdminError> {
    editable(state)
        .await?
        .into_iter()
        .find(|e| e.key == key)
        .ok_or(AdminError::NotFound)
}

pub async fn edit(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: web::Path<String>,
) -> HttpResponse {
    let result = async {
        let signed = admin_page(&state, &req).await?;
        let e = find(&state, &key).await?;
        render(&state, &req, &signed, &e, &e.definition, &[])
    };
    result.await.unwrap_or_else(|e| refusal(&state, &req, e))
}

fn render(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    signed: &Signed,
    e: &Editable,
    def: &SurveyDefinition,
    problems: &[EditProblem],
) -> Result<HttpResponse, AdminError> {
    let lang = signed.lang;
    let text = |k: &str| state.templates.text(lang, &format!("admin.surveys.{k}"));
    let group = |legend: String, prefix: String, texts: &Localized| TextGroup {
        legend,
        fields: Language::ALL
            .into_iter()
            .map(|l| {
                let value = texts.get(&l).cloned().unwrap_or_default();
                TextField {
                    name: format!("{prefix}_{}", l.code()),
                    lang: l.code(),
                    dir: l.dir(),
                    label: state.templates.text(l, "admin.language_name"),
                    fallback: l != Language::He
                        && texts.get(&Language::He).is_some_and(|he| *he == value),
                    value,
                }
            })
            .collect(),
    };
    let questions = def
        .questions
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let mut groups = vec![group(
                text("question_text"),
                format!("text_{}", q.id),
                &q.text,
            )];
            if let Some(low) = &q.low {
                groups.push(group(text("low"), format!("low_{}", q.id), low));
            }
            if let Some(high) = &q.high {
                groups.push(group(text("high"), format!("high_{}", q.id), high));
            }
            for o in &q.options {
                groups.push(group(
                    format!("{} {}", text("option"), o.value),
                    format!("option_{}_{}", q.id, o.value),
                    &o.label,
                ));
            }
            QuestionForm {
                id: q.id.clone(),
                number: i + 1,
                kind: text(&format!("types.{}", q.kind.as_str())),
                order: i + 1,
                required: q.required,
                removable: !survey_edit::must_keep(q),
                groups,
            }
        })
        .collect();
    let page = EditorPage {
        chrome: Chrome::new(state, req, lang, Some(signed), "surveys.edit_title"),
        key: e.key.to_string(),
        name: survey_name(state, lang, e),
        version: e.version,
        done: setup::done_message(state, req, lang, &["survey_saved", "survey_created"]),
        problems: problems
            .iter()
            .map(|p| {
                format!("{} {}", p.question, text(&format!("errors.{}", p.kind)))
                    .trim()
                    .to_string()
            })
            .collect(),
        questions,
        previews: Language::ALL
            .into_iter()
            .map(|l| PreviewButton {
                value: format!("preview_{}", l.code()),
                lang: l.code(),
                label: format!(
                    "{} {}",
                    text("preview"),
                    state.templates.text(l, "admin.language_name")
                ),
            })
            .collect(),
        types: QuestionType::ALL
            .into_iter()
            .map(|t| Pick {
                value: t.as_str().to_string(),
                label: text(&format!("types.{}", t.as_str())),
                selected: t == QuestionType::Rating,
            })
            .collect(),
        max_options: survey_edit::MAX_OPTIONS,
    };
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(html(
        status,
        state.templates.render("admin/survey_edit", &page),
    ))
}

/// The form read back into edits, question by question.
fn edits_from(posted: &Posted, def: &SurveyDefinition) -> Result<Vec<QuestionEdit>, AdminError> {
    let texts = |prefix: &str| -> Result<Localized, AdminError> {
        let mut out = Localized::new();
        for l in Language::ALL {
            out.insert(
                l,
                posted.one(&format!("{prefix}_{}", l.code()))?.to_string(),
            );
        }
        Ok(out)
    };
    let mut edits = Vec::new();
    for q in &def.questions {
        let order = posted
            .one(&format!("order_{}", q.id))?
            .trim()
            .parse::<i64>()
            .map_err(|_| AdminError::BadRequest)?;
        let mut options = Vec::new();
        for o in &q.options {
            options.push((
                o.value.clone(),
                texts(&format!("option_{}_{}", q.id, o.value))?,
            ));
        }
        edits.push(QuestionEdit {
            id: q.id.clone(),
            order,
            required: posted.one(&format!("required_{}", q.id))? == "1",
            remove: posted.one(&format!("remove_{}", q.id))? == "1",
            text: texts(&format!("text_{}", q.id))?,
            low: if q.low.is_some() {
                texts(&format!("low_{}", q.id))?
            } else {
                Localized::new()
            },
            high: if q.high.is_some() {
                texts(&format!("high_{}", q.id))?
            } else {
                Localized::new()
            },
            options,
        });
    }
    Ok(edits)
}

/// The stored questionnaire with what was typed, to show a refused form again (every stored
/// question stays on it, so that the next post names them all).
fn as_typed(def: &SurveyDefinition, edits: &[QuestionEdit]) -> SurveyDefinition {
    let mut shown = def.clone();
    for q in &mut shown.questions {
        if let Some(edit) = edits.iter().find(|x| x.id == q.id) {
            q.text = edit.text.clone();
            q.required = edit.required;
        }
    }
    shown
}

/// The form's new question, if its type is one mashov asks.
fn new_question(posted: &Posted) -> Result<Option<NewQuestion>, AdminError> {
    let Some(kind) = QuestionType::parse(posted.one("new_type")?) else {
        return Ok(None);
    };
    Ok(Some(NewQuestion {
        kind,
        required: posted.one("new_required")? == "1",
        text: posted.one("new_text")?.to_string(),
        low: posted.one("new_low")?.to_string(),
        high: posted.one("new_high")?.to_string(),
        options: posted
            .one("new_options")?
            .lines()
            .map(str::to_string)
            .collect(),
    }))
}

pub async fn save(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: web::Path<String>,
    payload: web::Payload,
) -> HttpResponse {
    let result = async {
        let posted = admin_post_up_to(&state, &req, payload, 512 * 1024).await?;
        let e = find(&state, &key).await?;
        let edits = edits_from(&posted, &e.definition)?;
        let action = posted.one("action")?.to_string();
        let edited = match survey_edit::apply(&e.definition, &edits) {
            Ok((edited, _)) => edited,
            Err(problems) => {
                let shown = as_typed(&e.definition, &edits);
                return render(&state, &req, &posted.signed, &e, &shown, &problems);
            }
        };
        let edited = if action == "add" {
            let Some(new) = new_question(&posted)? else {
                return Err(AdminError::BadRequest);
            };
            let id = format!("q_{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
            match survey_edit::add(&edited, &new, &id) {
                Ok(added) => added,
                Err(problem) => {
                    let shown = as_typed(&e.definition, &edits);
                    return render(&state, &req, &posted.signed, &e, &shown, &[problem]);
                }
            }
        } else {
            edited
        };
        if let Some(code) = action.strip_prefix("preview_") {
            let lang = Language::parse(code).ok_or(AdminError::BadRequest)?;
            let page = crate::http::public::pages::preview_page(
                &state,
                &edited,
                lang,
                local_day(state.clock.now()),
            )?;
            let banner = format!(
                "<main>\n<p class=\"card\" role=\"note\"><strong>{}</strong></p>",
                handlebars::html_escape(
                    &state
                        .templates
                        .text(posted.signed.lang, "admin.surveys.preview_banner")
                )
            );
            return Ok(html(
                StatusCode::OK,
                Ok(page.replacen("<main>", &banner, 1)),
            ));
        }
        if action != "save" && action != "add" {
            return Err(AdminError::BadRequest);
        }
        let actor = Actor::user(&posted.signed.account);
        let now = state.clock.now();
        state
            .db
            .write(move |conn| surveys::save_version(conn, &edited, &actor, now))
            .await?;
        Ok(setup::done(
            &format!("/admin/surveys/{}", e.key),
            "survey_saved",
        ))
    };
    result.await.unwrap_or_else(|e| refusal(&state, &req, e))
}
