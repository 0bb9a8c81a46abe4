//! `/u/{token}` (RFC 8058): `GET` shows a confirmation page in the resident's language, `POST`
//! (the button, or a mail provider's one-click request) suppresses the address at once.

use actix_web::http::{Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

use super::pages::{html, message_page, not_found_page, unsubscribe_page};
use crate::services::optout::{self, OptOutError};
use crate::state::AppState;

pub async fn dispatch(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let token = match req.path().strip_prefix("/u/") {
        Some(t) if !t.is_empty() && !t.contains('/') => t.to_string(),
        _ => return html(StatusCode::NOT_FOUND, not_found_page(&state)),
    };
    let result = match *req.method() {
        Method::GET | Method::HEAD => state
            .db
            .read(|conn| optout::language(conn, &token))
            .await
            .map(|lang| html(StatusCode::OK, unsubscribe_page(&state, lang))),
        Method::POST => {
            let now = state.clock.now();
            state
                .db
                .write(move |conn| optout::opt_out(conn, &token, now))
                .await
                .map(|lang| {
                    html(
                        StatusCode::OK,
                        message_page(
                            &state,
                            lang,
                            "unsubscribe.done_title",
                            "unsubscribe.done_body",
                        ),
                    )
                })
        }
        _ => {
            return HttpResponse::MethodNotAllowed()
                .insert_header(("Allow", "GET, HEAD, POST"))
                .finish()
        }
    };
    match result {
        Ok(page) => page,
        Err(OptOutError::NotFound) => html(StatusCode::NOT_FOUND, not_found_page(&state)),
        Err(OptOutError::Db(e)) => {
            tracing::error!(error = %e, "unsubscribe failed");
            html(
                StatusCode::SERVICE_UNAVAILABLE,
                message_page(&state, Default::default(), "error.title", "error.body"),
            )
        }
    }
}
