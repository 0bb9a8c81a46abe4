//! `GET /admin/followups/{id}` (a case, with everything needed to call the resident back) and
//! `POST /admin/followups/{id}` (take it, add a note, move it to in progress, close it with a
//! note). Out of scope is `404`; a viewer's action is `403`.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::followups::{reason_label, status_label};
use super::{
    check_origin, check_token, field, html, read_form, refusal, signed_in, AdminError, Chrome,
    Signed,
};
use crate::domain::followup::Status;
use crate::domain::language::Language;
use crate::domain::period::local_time_text;
use crate::domain::survey::{QuestionType, SurveyDefinition, COMMENT};
use crate::services::catalog;
use crate::services::followups::{self, CaseView, FollowupError};
use crate::state::AppState;
use crate::templates::Templates;

/// The longest note kept (as through the API).
const MAX_NOTE: usize = 2000;

#[derive(Serialize)]
struct AnswerLine {
    question: String,
    answer: String,
}

#[derive(Serialize)]
struct NoteLine {
    at: String,
    by: String,
    status: String,
    note: String,
}

#[derive(Serialize)]
struct CasePage<'a> {
    #[serde(flatten)]
    chrome: Chrome<'a>,
    id: String,
    service: String,
    department: String,
    external_id: Option<String>,
    channel: Option<String>,
    request_opened: Option<String>,
    request_closed: Option<String>,
    status: String,
    reason: String,
    opened_on: String,
    due_on: String,
    overdue: bool,
    assignee: Option<String>,
    answers: Vec<AnswerLine>,
    comment: Option<String>,
    contact_name: Option<String>,
    contact_email: Option<String>,
    contact_phone: Option<String>,
    notes: Vec<NoteLine>,
    /// The actions this user may take now.
    can_act: bool,
    can_take: bool,
    can_progress: bool,
    error: Option<String>,
    note: String,
}

/// An answer as the resident saw it: the question in the reader's language, the choice's label.
fn answer_lines(
    def: Option<&SurveyDefinition>,
    view: &CaseView,
    lang: Language,
    t: &Templates,
) -> (Vec<AnswerLine>, Option<String>) {
    let mut lines = Vec::new();
    let mut comment = None;
    // In the order the survey asked them.
    let position = |id: &str| {
        def.and_then(|d| d.questions.iter().position(|q| q.id == id))
            .unwrap_or(usize::MAX)
    };
    let mut answers: Vec<_> = view.answers.iter().collect();
    answers.sort_by_key(|a| position(&a.question_id));
    for a in answers {
        let question = def.and_then(|d| d.questions.iter().find(|q| q.id == a.question_id));
        if question.is_some_and(|q| q.kind == QuestionType::Text) || a.question_id == COMMENT {
            comment = a.text_value.clone();
            continue;
        }
        let text = |l: &crate::domain::survey::Localized| {
            l.get(&lang)
                .or_else(|| l.get(&Language::He))
                .cloned()
                .unwrap_or_default()
        };
        let answer = match (question, a.int_value, &a.text_value) {
            (Some(q), Some(n), _) if q.kind == QuestionType::YesNo => {
                t.text(lang, if n == 1 { "survey.yes" } else { "survey.no" })
            }
            (Some(q), Some(n), _) => match q.kind.scale() {
                Some(range) => format!("{n} / {}", range.end()),
                None => n.to_string(),
            },
            (Some(q), None, Some(v)) => v
                .split(',')
                .map(|value| {
                    q.options
                        .iter()
                        .find(|o| o.value == value)
                        .map(|o| text(&o.label))
                        .unwrap_or_else(|| value.to_string())
                })
                .collect::<Vec<_>>()
                .join(", "),
            (None, Some(n), _) => n.to_string(),
            (None, None, Some(v)) => v.clone(),
            _ => continue,
        };
        lines.push(AnswerLine {
            question: question
                .map(|q| text(&q.text))
                .unwrap_or_else(|| a.question_id.clone()),
            answer,
        });
    }
    (lines, comment)
}

pub async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    let result = async {
        let signed = signed_in(&state, &req).await?;
        render_case(
            &state,
            &req,
            &signed,
            &id,
            None,
            String::new(),
            StatusCode::OK,
        )
        .await
    };
    match result.await {
        Ok(r) => r,
        Err(e) => refusal(&state, &req, e),
    }
}

async fn render_case(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    signed: &Signed,
    id: &str,
    error: Option<String>,
    note: String,
    status: StatusCode,
) -> Result<HttpResponse, AdminError> {
    let (scope, now, lang) = (signed.account.scope.clone(), state.clock.now(), signed.lang);
    let (view, def, names) = state
        .db
        .read(|conn| {
            let view = followups::view(conn, &scope, id, now)?;
            let def = match &view.request {
                Some(r) => Some(state.surveys.get(conn, &r.survey_id)?),
                None => None,
            };
            Ok::<_, AdminError>((view, def, catalog::names(conn, lang)?))
        })
        .await?;
    // A case shows a resident's contact and answers: the read is logged before it is shown.
    let actor = crate::services::audit::Actor::user(&signed.account)
        .from(super::client_address(&state.settings, req));
    let (case_id, audience_contact) = (
        view.case.row.id.clone(),
        view.case.row.contact_email.is_some() || view.case.row.contact_phone.is_some(),
    );
    state
        .db
        .write(move |conn| {
            crate::services::audit::record_read(
                conn,
                &actor,
                crate::services::audit::Action::CaseRead,
                &case_id,
                serde_json::json!({ "with_contact": audience_contact }),
                now,
            )
        })
        .await?;
    let t = &state.templates;
    let (answers, comment) = answer_lines(def.as_deref(), &view, lang, t);
    let row = &view.case.row;
    let closed = row.status == Status::Closed.as_str();
    let person = |id: &String| view.people.get(id).cloned().unwrap_or_default();
    let name = |code: &str| names.get(code).cloned().unwrap_or_else(|| code.to_string());
    let page = CasePage {
        chrome: Chrome::new(state, req, lang, Some(signed), "followups.case_title"),
        id: row.id.clone(),
        service: name(&row.service_code),
        department: name(&row.department_code),
        external_id: view.request.as_ref().map(|r| r.external_id.clone()),
        channel: view
            .request
            .as_ref()
            .and_then(|r| r.channel.as_ref())
            .map(|c| t.text(lang, &format!("channels.{c}"))),
        request_opened: view
            .request
            .as_ref()
            .and_then(|r| r.opened_at)
            .map(local_time_text),
        request_closed: view.request.as_ref().map(|r| local_time_text(r.closed_at)),
        status: status_label(t, lang, &row.status),
        reason: reason_label(t, lang, &row.reason),
        opened_on: row.opened_on.clone(),
        due_on: row.due_on.clone(),
        overdue: view.case.overdue,
        assignee: row.assignee_id.as_ref().map(person),
        answers,
        comment,
        contact_name: row.contact_name.clone(),
        contact_email: row.contact_email.clone(),
        contact_phone: row.contact_phone.clone(),
        notes: view
            .case
            .notes
            .iter()
            .map(|n| NoteLine {
                at: local_time_text(n.created_at),
                by: n
                    .author_id
                    .as_ref()
                    .map(person)
                    .unwrap_or_else(|| t.text(lang, "admin.followups.by_crm")),
                status: status_label(t, lang, &n.status),
                note: n.note.clone(),
            })
            .collect(),
        can_act: signed.account.role.may_act() && !closed,
        can_take: row.assignee_id.as_deref() != Some(signed.account.id.as_str()),
        can_progress: row.status == Status::Open.as_str(),
        error,
        note,
    };
    Ok(html(status, state.templates.render("admin/case", &page)))
}

/// `POST /admin/followups/{id}`: `action` is `take`, `note`, `progress` or `close`.
pub async fn act(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> HttpResponse {
    let result = async {
        check_origin(&state, &req)?;
        let signed = signed_in(&state, &req).await?;
        let form = read_form(payload).await?;
        check_token(&signed.csrf, field(&form, "csrf")?)?;
        if !signed.account.role.may_act() {
            return Err(AdminError::Forbidden);
        }
        let action = field(&form, "action")?.unwrap_or("");
        let note = field(&form, "note")?.unwrap_or("").to_string();
        if note.chars().count() > MAX_NOTE {
            let error = Some(
                state
                    .templates
                    .text(signed.lang, "admin.followups.note_too_long"),
            );
            return render_case(
                &state,
                &req,
                &signed,
                &id,
                error,
                note,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        let (scope, user, now) = (
            signed.account.scope.clone(),
            signed.account.id.clone(),
            state.clock.now(),
        );
        let (case_id, text) = (id.to_string(), note.clone());
        let done = match action {
            "take" => {
                state
                    .db
                    .write(move |conn| followups::take(conn, &scope, &case_id, &user, now))
                    .await
            }
            "note" => {
                state
                    .db
                    .write(move |conn| {
                        followups::add_note(conn, &scope, &case_id, &user, &text, now)
                    })
                    .await
            }
            "progress" | "close" => {
                let to = if action == "close" {
                    Status::Closed
                } else {
                    Status::InProgress
                };
                let text = Some(text).filter(|n| !n.trim().is_empty());
                state
                    .db
                    .write(move |conn| {
                        followups::change(conn, &scope, &case_id, to, text, Some(&user), now)
                            .map(drop)
                    })
                    .await
            }
            _ => return Err(AdminError::BadRequest),
        };
        let problem = match done {
            Ok(()) => {
                return Ok(HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, format!("/admin/followups/{id}")))
                    .finish())
            }
            Err(FollowupError::Invalid(_)) => (
                "admin.followups.note_required",
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            Err(FollowupError::Closed) => ("admin.followups.already_closed", StatusCode::CONFLICT),
            Err(FollowupError::Conflict) => ("admin.followups.conflict", StatusCode::CONFLICT),
            Err(e) => return Err(e.into()),
        };
        let error = Some(state.templates.text(signed.lang, problem.0));
        render_case(&state, &req, &signed, &id, error, note, problem.1).await
    };
    match result.await {
        Ok(r) => r,
        Err(e) => refusal(&state, &req, e),
    }
}
