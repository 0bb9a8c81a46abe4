//! `GET /admin/surveys` (the questionnaires and who gets which), `POST /admin/surveys` (a new
//! questionnaire of the city's own, a copy of the built-in one for its audience) and
//! `POST /admin/surveys/assignments` (`action` = `assign` or `remove`: a questionnaire for an
//! audience, a department or a service). Admins only; each change is in the change log.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::setup::{self, admin_page, admin_post, Pick};
use super::surveys::{editable, survey_name};
use super::{html, refusal, AdminError, Chrome, Signed};
use crate::domain::interaction::Audience;
use crate::services::audit::Actor;
use crate::services::catalog;
use crate::services::survey_setup::{self, SurveySetupError, Target};
use crate::state::AppState;

const PAGE: &str = "/admin/surveys";

#[derive(Serialize)]
struct SurveyLine {
    key: String,
    name: String,
    audience: String,
    version: i32,
    versions: usize,
    questions: usize,
}

#[derive(Serialize)]
struct AssignmentLine {
    audience: String,
    audience_value: &'static str,
    target: String,
    target_value: String,
    survey: String,
}

#[derive(Serialize)]
struct ListPage<'a> {
    #[serde(flatten)]
    chrome: Chrome<'a>,
    done: Option<String>,
    error: Option<String>,
    surveys: Vec<SurveyLine>,
    assignments: Vec<AssignmentLine>,
    audiences: Vec<Pick>,
    survey_picks: Vec<Pick>,
    target_picks: Vec<Pick>,
    code: String,
    survey_title: String,
}

/// What the create form held, shown again when it is refused.
#[derive(Default)]
struct Entered {
    audience: String,
    code: String,
    title: String,
}

pub async fn list(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = async {
        let signed = admin_page(&state, &req).await?;
        render(&state, &req, &signed, None, Entered::default()).await
    };
    result.await.unwrap_or_else(|e| refusal(&state, &req, e))
}

async fn render(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    signed: &Signed,
    refused: Option<&'static str>,
    entered: Entered,
) -> Result<HttpResponse, AdminError> {
    let lang = signed.lang;
    let text = |k: &str| state.templates.text(lang, &format!("admin.surveys.{k}"));
    let surveys = editable(state).await?;
    let (assigned, picker) = state
        .db
        .read(|conn| {
            Ok::<_, AdminError>((
                survey_setup::assignments(conn)?,
                catalog::picker(conn, lang)?,
            ))
        })
        .await?;
    let name_of = |key: &str| {
        surveys
            .iter()
            .find(|e| e.key == key)
            .map_or_else(|| key.to_string(), |e| survey_name(state, lang, e))
    };
    let target_label = |t: &Target| match t {
        Target::Audience => text("everyone"),
        Target::Department(code) => picker
            .departments
            .iter()
            .find(|(c, _)| c == code)
            .map_or_else(|| code.clone(), |(_, n)| n.clone()),
        Target::Service(code) => picker
            .services
            .iter()
            .find(|(c, _, _)| c == code)
            .map_or_else(|| code.clone(), |(_, n, _)| n.clone()),
    };
    let mut assignments = Vec::new();
    for (audience, rows) in &assigned {
        let Some(audience) = Audience::parse(audience) else {
            continue;
        };
        for (target, key) in rows {
            assignments.push(AssignmentLine {
                audience: text(&format!("audiences.{}", audience.as_str())),
                audience_value: audience.as_str(),
                target: target_label(target),
                target_value: target.as_field(),
                survey: name_of(key),
            });
        }
    }
    let mut target_picks = vec![Pick {
        value: "audience".into(),
        label: text("everyone"),
        selected: false,
    }];
    target_picks.extend(picker.departments.iter().map(|(code, name)| Pick {
        value: format!("department:{code}"),
        label: format!("{}: {name}", text("department")),
        selected: false,
    }));
    target_picks.extend(picker.services.iter().map(|(code, name, _)| Pick {
        value: format!("service:{code}"),
        label: format!("{}: {name}", text("service")),
        selected: false,
    }));
    let page = ListPage {
        chrome: Chrome::new(state, req, lang, Some(signed), "surveys.title"),
        done: setup::done_message(
            state,
            req,
            lang,
            &["survey_created", "survey_assigned", "survey_unassigned"],
        ),
        error: refused.map(|k| text(&format!("errors.{k}"))),
        survey_picks: surveys
            .iter()
            .map(|e| Pick {
                value: e.key.clone(),
                label: format!(
                    "{} ({})",
                    survey_name(state, lang, e),
                    text(&format!("audiences.{}", e.audience.as_str()))
                ),
                selected: false,
            })
            .collect(),
        surveys: surveys
            .iter()
            .map(|e| SurveyLine {
                key: e.key.clone(),
                name: survey_name(state, lang, e),
                audience: text(&format!("audiences.{}", e.audience.as_str())),
                version: e.version,
                versions: e.versions,
                questions: e.definition.questions.len(),
            })
            .collect(),
        assignments,
        audiences: [Audience::Resident, Audience::Employee]
            .into_iter()
            .map(|a| Pick {
                value: a.as_str().into(),
                label: text(&format!("audiences.{}", a.as_str())),
                selected: a.as_str() == entered.audience,
            })
            .collect(),
        target_picks,
        code: entered.code,
        survey_title: entered.title,
    };
    let status = match refused {
        None => StatusCode::OK,
        Some(_) => StatusCode::UNPROCESSABLE_ENTITY,
    };
    Ok(html(status, state.templates.render("admin/surveys", &page)))
}

/// `POST /admin/surveys`: a new questionnaire of the city's own.
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let result = async {
        let posted = admin_post(&state, &req, payload).await?;
        let entered = Entered {
            audience: posted.one("audience")?.to_string(),
            code: posted.one("code")?.trim().to_string(),
            title: posted.one("title")?.trim().to_string(),
        };
        let audience = Audience::parse(&entered.audience).ok_or(AdminError::BadRequest)?;
        let actor = Actor::user(&posted.signed.account);
        let now = state.clock.now();
        let (code, title) = (entered.code.clone(), entered.title.clone());
        let created = state
            .db
            .write(move |conn| survey_setup::create(conn, audience, &code, &title, &actor, now))
            .await;
        match created {
            Ok(key) => Ok(setup::done(&format!("{PAGE}/{key}"), "survey_created")),
            Err(SurveySetupError::Refused(k)) => {
                render(&state, &req, &posted.signed, Some(k), entered).await
            }
            Err(SurveySetupError::Db(e)) => Err(e.into()),
        }
    };
    result.await.unwrap_or_else(|e| refusal(&state, &req, e))
}

/// `POST /admin/surveys/assignments`.
pub async fn assign(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let result = async {
        let posted = admin_post(&state, &req, payload).await?;
        let target = Target::parse(posted.one("target")?).ok_or(AdminError::BadRequest)?;
        let actor = Actor::user(&posted.signed.account);
        let now = state.clock.now();
        let action = posted.one("action")?.to_string();
        let changed = match action.as_str() {
            "assign" => {
                let key = posted.one("survey")?.to_string();
                // The questionnaire decides the audience it is assigned for.
                let audience = editable(&state)
                    .await?
                    .into_iter()
                    .find(|e| e.key == key)
                    .map(|e| e.audience);
                let Some(audience) = audience else {
                    return render(
                        &state,
                        &req,
                        &posted.signed,
                        Some("survey"),
                        Entered::default(),
                    )
                    .await;
                };
                state
                    .db
                    .write(move |conn| {
                        survey_setup::assign(conn, audience, &target, &key, &actor, now)
                    })
                    .await
                    .map(|()| "survey_assigned")
            }
            "remove" => {
                let audience =
                    Audience::parse(posted.one("audience")?).ok_or(AdminError::BadRequest)?;
                state
                    .db
                    .write(move |conn| survey_setup::unassign(conn, audience, &target, &actor, now))
                    .await
                    .map(|()| "survey_unassigned")
            }
            _ => return Err(AdminError::BadRequest),
        };
        match changed {
            Ok(done) => Ok(setup::done(PAGE, done)),
            Err(SurveySetupError::Refused(k)) => {
                render(&state, &req, &posted.signed, Some(k), Entered::default()).await
            }
            Err(SurveySetupError::Db(e)) => Err(e.into()),
        }
    };
    result.await.unwrap_or_else(|e| refusal(&state, &req, e))
}
