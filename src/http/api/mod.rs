//! The JSON integration API for CRMs: Bearer keys, JSON errors.

pub mod catalog;
pub mod error;
pub mod export;
pub mod followups;
pub mod interactions;
pub mod openapi;
pub mod reports;

use actix_web::{web, HttpRequest};

use crate::domain::api_scope::{ApiScope, Grant};
use crate::services::api_keys;
use crate::state::AppState;

pub use error::ApiError;

/// Largest JSON body the API reads.
pub const MAX_BODY: usize = 64 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/interactions").route(web::post().to(interactions::create)))
        .service(web::resource("/catalog").route(web::get().to(catalog::list)))
        .service(
            web::resource("/public/summary.json")
                .route(web::get().to(crate::http::public::transparency::summary_json)),
        )
        .service(web::resource("/openapi.json").route(web::get().to(openapi::document)))
        .service(web::resource("/reports/summary").route(web::get().to(reports::summary)))
        .service(web::resource("/reports/breakdown").route(web::get().to(reports::breakdown)))
        .service(web::resource("/reports/comments").route(web::get().to(reports::comments)))
        .service(web::resource("/export/responses.csv").route(web::get().to(export::responses_csv)))
        .service(web::resource("/followups").route(web::get().to(followups::list)))
        .service(web::resource("/followups/{id}").route(web::patch().to(followups::update)));
}

/// Checks `Authorization: Bearer KEY` against the active keys, and that the key has `scope`:
/// `401` without a valid key, `403` naming the scope it lacks. Returns what the key may see.
pub async fn authenticate(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    scope: ApiScope,
) -> Result<Grant, ApiError> {
    let grant = any_key(state, req).await?;
    if !grant.allows(scope) {
        return Err(ApiError::MissingScope(scope));
    }
    Ok(grant)
}

/// Checks `Authorization: Bearer KEY` against the active keys, whatever its scopes (for what
/// every key may read: the catalog its CRM reports against). Records the key's use.
pub async fn any_key(state: &web::Data<AppState>, req: &HttpRequest) -> Result<Grant, ApiError> {
    // An address that gave wrong keys again and again is refused outright, whatever it sends
    // now: a guesser learns nothing more (see `crate::limits`).
    let address = crate::http::limits::client_address(&state.settings, req);
    let instant = std::time::Instant::now();
    if let Some(wrong_keys) = &state.limits.bad_keys {
        wrong_keys
            .check(&address, instant)
            .map_err(ApiError::TooManyRequests)?;
    }
    let presented = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, key) = v.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| key.trim().to_string())
        })
        .filter(|k| !k.is_empty() && k.len() <= 256)
        .ok_or(ApiError::Unauthorized)?;
    let now = state.clock.now();
    let found = state
        .db
        .read(|conn| api_keys::authenticate(conn, &presented, now))
        .await?;
    let Some((grant, stale)) = found else {
        if let Some(wrong_keys) = &state.limits.bad_keys {
            let _ = wrong_keys.take(&address, instant);
        }
        return Err(ApiError::Unauthorized);
    };
    if let Some(per_key) = &state.limits.api {
        per_key
            .take(&grant.key_id, instant)
            .map_err(ApiError::TooManyRequests)?;
    }
    if stale {
        let id = grant.key_id.clone();
        state
            .db
            .write(move |conn| api_keys::touch(conn, &id, now))
            .await?;
    }
    Ok(grant)
}

/// Writes a read of personal data (or an export) by this key to the audit log, before the data
/// is handed out: if the entry cannot be written, the caller gets `503`, not the data.
pub async fn log_read(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    grant: &Grant,
    action: crate::services::audit::Action,
    what: serde_json::Value,
) -> Result<(), ApiError> {
    use crate::services::audit::{self, Actor};
    let actor = Actor::key(&grant.key_id, &grant.name)
        .from(crate::http::limits::client_address(&state.settings, req));
    let (target, now) = (req.path().to_string(), state.clock.now());
    Ok(state
        .db
        .write(move |conn| audit::record_read(conn, &actor, action, &target, what, now))
        .await?)
}

/// Narrows report parameters to the key's departments; asking for another department, or
/// another department's service, by name is refused, not answered with nothing.
pub async fn narrow(
    state: &web::Data<AppState>,
    params: &mut crate::domain::report::ReportParams,
    grant: &Grant,
) -> Result<(), ApiError> {
    if grant.departments.is_empty() {
        return Ok(());
    }
    if let Some(d) = &params.department {
        if !grant.departments.contains(d) {
            return Err(ApiError::OutsideDepartments(format!("department {d}")));
        }
    }
    if let Some(service) = params.service.clone() {
        let owner = state
            .db
            .read(|conn| crate::services::catalog::department_of(conn, &service))
            .await?;
        // An unknown service is left to the report's own check (422).
        if owner.is_some_and(|d| !grant.departments.contains(&d)) {
            return Err(ApiError::OutsideDepartments(format!("service {service}")));
        }
    }
    params.scope = grant.departments.clone();
    Ok(())
}

/// Reads a JSON body of at most [`MAX_BODY`] bytes.
pub async fn read_json(payload: web::Payload) -> Result<serde_json::Value, ApiError> {
    let bytes = match payload.to_bytes_limited(MAX_BODY).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(e)) => {
            return Err(ApiError::BadRequest(format!(
                "could not read the body: {e}"
            )))
        }
        Err(_) => return Err(ApiError::TooLarge),
    };
    serde_json::from_slice(&bytes).map_err(|e| ApiError::BadRequest(format!("malformed JSON: {e}")))
}
