//! `GET` and `POST /s/{token}`: open and answer a survey; `GET /thanks/{lang}`.

use actix_web::http::{Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

use super::pages::{
    campaign_pick_page, campaign_rate_page, chosen_score_page, html, message_page, not_found_page,
    survey_page, survey_page_with_errors, PageCache,
};
use crate::domain::language::Language;
use crate::services::campaign_survey::{self, CampaignAnswerError};
use crate::services::responses::{self, Closed, SurveyError};
use crate::state::AppState;

/// Largest form body read. A campaign form rates several units, each with a 2,000-character
/// comment that the browser percent-encodes at up to 12 bytes a character (an emoji): 20 units
/// come to about 480 KB. (64 KiB refused five units with long comments.)
const MAX_FORM: usize = 512 * 1024;

/// Routes `/s/{token}`: `GET` and `HEAD` show (link checkers and previews use `HEAD`; neither
/// changes anything), `POST` submits.
pub async fn dispatch(
    state: web::Data<AppState>,
    pages: web::Data<PageCache>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let token = match req.path().strip_prefix("/s/") {
        Some(t) if !t.is_empty() && !t.contains('/') => t.to_string(),
        _ => return html(StatusCode::NOT_FOUND, not_found_page(&state)),
    };
    match *req.method() {
        Method::GET | Method::HEAD => {
            show(state, pages, token, req.query_string().to_string()).await
        }
        Method::POST => submit(state, token, payload).await,
        _ => HttpResponse::MethodNotAllowed()
            .insert_header(("Allow", "GET, HEAD, POST"))
            .finish(),
    }
}

#[tracing::instrument(name = "public.survey.show", skip_all)]
async fn show(
    state: web::Data<AppState>,
    pages: web::Data<PageCache>,
    token: String,
    query: String,
) -> HttpResponse {
    let lookup = token.clone();
    let opened = state
        .db
        .read(|conn| responses::open(conn, &state.surveys, &lookup, state.clock.now()))
        .await;
    match opened {
        Err(SurveyError::NotFound) => show_campaign(state, token, query).await,
        // The one-tap links in emails (`?overall=4`) open the form with that answer chosen;
        // opening still stores nothing.
        Ok(mut open) if !query.is_empty() => {
            let chosen: Vec<(String, String)> =
                serde_urlencoded::from_str(&query).unwrap_or_default();
            // `?lang=ar`: the same form in another language.
            if let Some(lang) = chosen
                .iter()
                .find(|(k, _)| k == "lang")
                .and_then(|(_, v)| Language::parse(v))
            {
                open.language = lang;
            }
            html(StatusCode::OK, chosen_score_page(&state, &open, &chosen))
        }
        Ok(open) => html(StatusCode::OK, survey_page(&state, &pages, &open)),
        Err(e) => error_page(&state, e, false),
    }
}

#[tracing::instrument(name = "public.survey.submit", skip_all)]
async fn submit(state: web::Data<AppState>, token: String, payload: web::Payload) -> HttpResponse {
    let bytes = match payload.to_bytes_limited(MAX_FORM).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => return error_status(&state, StatusCode::BAD_REQUEST, "error.body"),
        Err(_) => return error_status(&state, StatusCode::PAYLOAD_TOO_LARGE, "error.too_large"),
    };
    let form: Vec<(String, String)> = match serde_urlencoded::from_bytes(&bytes) {
        Ok(form) => form,
        Err(_) => return error_status(&state, StatusCode::BAD_REQUEST, "error.body"),
    };
    let now = state.clock.now();
    // A press on the language switch: the same form, in that language, with the answers as
    // they stand. Nothing is stored.
    if let Some((_, code)) = form.iter().find(|(k, _)| k == "_switch") {
        let Some(lang) = Language::parse(code) else {
            return error_status(&state, StatusCode::BAD_REQUEST, "error.body");
        };
        let opened = state
            .db
            .read(|conn| responses::open(conn, &state.surveys, &token, now))
            .await;
        match opened {
            Ok(mut open) => {
                open.language = lang;
                let values: Vec<(String, String)> = form
                    .into_iter()
                    .filter(|(k, _)| !k.starts_with('_'))
                    .collect();
                return html(
                    StatusCode::OK,
                    survey_page_with_errors(&state, &open, &values, &Vec::new()),
                );
            }
            // Campaign pages have no switch: a switch posted to one is not an answer.
            Err(SurveyError::NotFound) => {
                return error_status(&state, StatusCode::BAD_REQUEST, "error.body")
            }
            Err(e) => return error_page(&state, e, true),
        }
    }
    // The language the form was last shown in, for the thank-you page.
    let shown = form
        .iter()
        .find(|(k, _)| k == "_lang")
        .and_then(|(_, v)| Language::parse(v));
    let values = form.clone();
    let (lookup, campaign_form) = (token.clone(), form.clone());
    let prepared = state
        .db
        .read(|conn| {
            responses::prepare(
                conn,
                &state.surveys,
                &state.policy().followup,
                &state.key.inbox_key(),
                &lookup,
                &form,
                now,
            )
        })
        .await;
    if matches!(prepared, Err(SurveyError::NotFound)) {
        return submit_campaign(state, token, campaign_form).await;
    }
    let stored = match prepared {
        Ok(p) => {
            state
                .db
                .write(move |conn| responses::store(conn, &p, now))
                .await
        }
        Err(e) => Err(e),
    };
    match stored {
        Ok(lang) => {
            state.metrics.answer_stored();
            to_thanks(shown.unwrap_or(lang))
        }
        Err(SurveyError::Invalid { mut open, problems }) => {
            open.language = shown.unwrap_or(open.language);
            html(
                StatusCode::UNPROCESSABLE_ENTITY,
                survey_page_with_errors(&state, &open, &values, &problems),
            )
        }
        Err(e) => error_page(&state, e, true),
    }
}

/// A campaign link: the unit picker, or (with `?units=…`) the ratings of the chosen units.
async fn show_campaign(state: web::Data<AppState>, token: String, query: String) -> HttpResponse {
    let opened = state
        .db
        .read(|conn| campaign_survey::open(conn, &state.surveys, &token, state.clock.now()))
        .await;
    let open = match opened {
        Ok(open) => open,
        Err(e) => return error_page(&state, e, false),
    };
    let chosen_query: Vec<(String, String)> =
        serde_urlencoded::from_str(&query).unwrap_or_default();
    let units = open.chosen(&chosen_query);
    if units.is_empty() {
        // A submitted picker with nothing ticked says so; a first visit does not.
        let asked = chosen_query
            .iter()
            .any(|(k, _)| k == "pick" || k == "units");
        let status = if asked {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        };
        return html(status, campaign_pick_page(&state, &open, &[], asked));
    }
    html(
        StatusCode::OK,
        campaign_rate_page(&state, &open, &units, &[], &Vec::new()),
    )
}

async fn submit_campaign(
    state: web::Data<AppState>,
    token: String,
    form: Vec<(String, String)>,
) -> HttpResponse {
    let values = form.clone();
    let now = state.clock.now();
    let prepared = state
        .db
        .read(|conn| {
            campaign_survey::prepare(
                conn,
                &state.surveys,
                &state.key.inbox_key(),
                &token,
                &form,
                now,
            )
        })
        .await;
    let stored = match prepared {
        Ok(p) => {
            state
                .db
                .write(move |conn| campaign_survey::store(conn, &p, now))
                .await
        }
        Err(e) => Err(e),
    };
    match stored {
        Ok(lang) => {
            state.metrics.answer_stored();
            to_thanks(lang)
        }
        Err(CampaignAnswerError::NoUnits(open)) => html(
            StatusCode::UNPROCESSABLE_ENTITY,
            campaign_pick_page(&state, &open, &[], true),
        ),
        Err(CampaignAnswerError::Invalid {
            open,
            units,
            problems,
        }) => html(
            StatusCode::UNPROCESSABLE_ENTITY,
            campaign_rate_page(&state, &open, &units, &values, &problems),
        ),
        Err(CampaignAnswerError::Survey(e)) => error_page(&state, e, true),
    }
}

/// `303` to the thank-you page in the language the survey was answered in.
fn to_thanks(lang: Language) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", format!("/thanks/{}", lang.code())))
        .insert_header(("Cache-Control", "no-store"))
        .finish()
}

pub async fn thanks(state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    match Language::parse(&path.into_inner()) {
        Some(lang) => html(
            StatusCode::OK,
            message_page(&state, lang, "thanks.title", "thanks.body"),
        ),
        None => html(StatusCode::NOT_FOUND, not_found_page(&state)),
    }
}

/// Maps every refusal to its status and page, in the resident's language where it is known.
/// An answered link is `410` when opened and `409` when submitted again.
fn error_page(state: &AppState, error: SurveyError, submitting: bool) -> HttpResponse {
    match error {
        SurveyError::NotFound => html(StatusCode::NOT_FOUND, not_found_page(state)),
        SurveyError::Closed { closed, language } => {
            let (status, title, body) = match closed {
                Closed::Answered if submitting => (
                    StatusCode::CONFLICT,
                    "closed.answered_title",
                    "closed.answered_body",
                ),
                Closed::Answered => (
                    StatusCode::GONE,
                    "closed.answered_title",
                    "closed.answered_body",
                ),
                Closed::Expired => (
                    StatusCode::GONE,
                    "closed.expired_title",
                    "closed.expired_body",
                ),
            };
            html(status, message_page(state, language, title, body))
        }
        SurveyError::Invalid { open, .. } => html(
            StatusCode::UNPROCESSABLE_ENTITY,
            survey_page_with_errors(state, &open, &[], &Vec::new()),
        ),
        SurveyError::Unsealable(e) => {
            tracing::error!(error = %e, "an employee's answer could not be sealed");
            error_status(state, StatusCode::INTERNAL_SERVER_ERROR, "error.body")
        }
        SurveyError::Db(e) => {
            tracing::error!(error = %e, "survey request failed");
            error_status(state, StatusCode::SERVICE_UNAVAILABLE, "error.body")
        }
    }
}

fn error_status(state: &AppState, status: StatusCode, body_key: &str) -> HttpResponse {
    html(
        status,
        message_page(state, Language::He, "error.title", body_key),
    )
}
