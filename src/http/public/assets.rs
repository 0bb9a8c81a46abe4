//! `GET /assets/{page|admin}.css`: the pages' stylesheets, from memory, on mashov's own origin,
//! so that the pages' policy allows no inline style. The address carries a digest of the
//! stylesheet (`?v=`): that version may be kept for good; any other address is checked again.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::state::AppState;

pub async fn stylesheet(
    state: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<String>,
) -> HttpResponse {
    let Some(name) = name.strip_suffix(".css") else {
        return HttpResponse::NotFound().finish();
    };
    let sheets = match state.templates.sheets() {
        Ok(sheets) => sheets,
        Err(e) => {
            tracing::error!(error = %e, "a stylesheet failed to render");
            return HttpResponse::InternalServerError().finish();
        }
    };
    let Some(sheet) = sheets.get(name) else {
        return HttpResponse::NotFound().finish();
    };
    let etag = format!("\"{}\"", sheet.tag);
    if let Some(not_modified) = unchanged(&req, &etag) {
        return not_modified;
    }
    let current =
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
            .ok()
            .and_then(|q| q.get("v").cloned())
            .is_some_and(|v| v == sheet.tag);
    let cache = if current {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::ETAG, etag))
        .body(sheet.body.clone())
}

/// `304` when the browser already has this version (`If-None-Match` names `etag`).
pub fn unchanged(req: &HttpRequest, etag: &str) -> Option<HttpResponse> {
    req.headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
        .then(|| {
            HttpResponse::NotModified()
                .insert_header((header::ETAG, etag.to_string()))
                .finish()
        })
}
