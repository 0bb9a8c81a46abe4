use actix_web::HttpResponse;

/// The integration API's OpenAPI 3 document, written by hand beside the handlers it describes.
const DOCUMENT: &str = include_str!("openapi.json");

pub async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(DOCUMENT)
}
