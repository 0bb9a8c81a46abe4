//! `POST /admin/settings/logo` (`multipart/form-data`): the city's logo, for admins. The body is
//! read within limits (the token, one file of at most 200 KB, 2 MiB read in all), and the file
//! judged by its content (`domain::logo`) before anything is kept.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::settings::{refresh_city, render, PAGE};
use super::setup;
use super::{check_origin, check_token, refusal, signed_in, AdminError};
use crate::domain::logo::LogoProblem;
use crate::domain::FieldErrors;
use crate::services::audit::Actor;
use crate::services::city::{self, LogoError};
use crate::state::AppState;

/// A new logo (`csrf`, then the file `logo`), checked by its content.
pub async fn upload(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let result = async {
        check_origin(&state, &req)?;
        let signed = signed_in(&state, &req).await?;
        setup::admin_only(&signed)?;
        let (csrf, file) = read_upload(&req, payload).await?;
        check_token(&signed.csrf, csrf.as_deref())?;
        let actor = Actor::user(&signed.account);
        let now = state.clock.now();
        let problem = match file {
            Upload::TooLarge => Some(LogoProblem::TooLarge),
            Upload::Missing => Some(LogoProblem::Empty),
            Upload::File(bytes) => match state
                .db
                .write(move |conn| city::save_logo(conn, Some(&bytes), &actor, now))
                .await
            {
                Ok(()) => None,
                Err(LogoError::Refused(p)) => Some(p),
                Err(LogoError::Db(e)) => return Err(AdminError::Db(e)),
            },
        };
        match problem {
            None => {
                refresh_city(&state).await?;
                Ok(setup::done(PAGE, "settings_saved"))
            }
            Some(p) => {
                let (stored, rules) = state
                    .db
                    .read(|conn| {
                        Ok::<_, AdminError>((city::stored(conn)?, city::stored_rules(conn)?))
                    })
                    .await?;
                let errors: FieldErrors = [("logo".to_string(), p.key().to_string())].into();
                let mut page = render(&state, &req, &signed, &stored, &rules, &errors)?;
                if p == LogoProblem::TooLarge {
                    *page.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
                }
                Ok(page)
            }
        }
    };
    result.await.unwrap_or_else(|e| refusal(&state, &req, e))
}

enum Upload {
    File(Vec<u8>),
    TooLarge,
    Missing,
}

/// Reads the form's token and file, never more than a logo's limit of the file (the rest of
/// an oversized one is drained unread, up to 2 MiB, so that the page can still answer).
async fn read_upload(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<(Option<String>, Upload), AdminError> {
    use futures_util::StreamExt;
    let mut form = actix_multipart::Multipart::new(req.headers(), payload);
    let (mut csrf, mut file) = (None, Upload::Missing);
    // All that is read, counted: past a field's limit it is drained (to answer with a page)
    // up to 2 MiB in all; a bigger body is cut off.
    let mut drained = 0usize;
    let mut fields = 0;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|_| AdminError::BadRequest)?;
        // The form has two fields; a few more are forgiven, not an endless stream of them.
        fields += 1;
        if fields > 4 {
            return Err(AdminError::BadRequest);
        }
        let name = field.name().unwrap_or_default().to_string();
        let limit = match name.as_str() {
            "csrf" => 256,
            "logo" => crate::domain::logo::MAX_BYTES,
            _ => 0,
        };
        let mut bytes = Vec::new();
        let mut over = false;
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| AdminError::BadRequest)?;
            drained += chunk.len();
            if drained > 2 * 1024 * 1024 {
                return Ok((csrf, Upload::TooLarge));
            }
            if bytes.len() + chunk.len() > limit {
                over = true;
                continue;
            }
            bytes.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "csrf" if !over => csrf = String::from_utf8(bytes).ok(),
            "logo" if over => file = Upload::TooLarge,
            "logo" if !bytes.is_empty() => file = Upload::File(bytes),
            "csrf" | "logo" => {}
            _ => return Err(AdminError::BadRequest),
        }
    }
    Ok((csrf, file))
}
