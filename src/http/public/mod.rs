//! The pages residents see: the survey, the thank-you page and the kind refusals.

pub mod pages;
pub mod survey;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    // HEAD as GET: link checkers and previews use it; neither changes anything.
    cfg.route("/s/{token}", web::get().to(survey::show))
        .route("/s/{token}", web::head().to(survey::show))
        .route("/s/{token}", web::post().to(survey::submit))
        .route("/thanks/{lang}", web::get().to(survey::thanks));
}
