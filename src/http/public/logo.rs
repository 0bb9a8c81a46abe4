//! `GET /logo`: the city's logo, from memory, on mashov's own origin. An SVG is served with a
//! policy under which nothing in it can run or load, even if opened on its own.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::domain::logo::LogoKind;
use crate::state::AppState;

pub async fn logo(state: web::Data<AppState>, req: actix_web::HttpRequest) -> HttpResponse {
    let city = state.templates.city();
    let Some(logo) = &city.logo else {
        return HttpResponse::NotFound().finish();
    };
    let etag = format!("\"{}\"", logo.version);
    // A browser that has this version already gets nothing more.
    if let Some(not_modified) = super::assets::unchanged(&req, &etag) {
        return not_modified;
    }
    let mut r = HttpResponse::Ok();
    r.content_type(logo.kind.content_type())
        // Pages link `/logo?v=VERSION`: a new logo is a new address.
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .insert_header((header::ETAG, etag))
        // Emails show it from mail readers on other origins.
        .insert_header(("Cross-Origin-Resource-Policy", "cross-origin"));
    if logo.kind == LogoKind::Svg {
        r.insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; sandbox",
        ));
    }
    r.body(logo.bytes.as_ref().clone())
}
