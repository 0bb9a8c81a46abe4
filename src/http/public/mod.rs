//! The pages residents see: the survey, the thank-you page and the kind refusals.

mod campaign_pages;
pub mod info;
pub mod logo;
mod messages;
pub mod pages;
pub mod survey;
pub mod transparency;
pub mod unsubscribe;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    // `/s/TOKEN` is matched as a static prefix and cut by hand: a `{token}` segment would send
    // every survey request through the router's regular expressions.
    cfg.service(web::scope("/s").default_service(web::to(survey::dispatch)))
        .service(web::scope("/u").default_service(web::to(unsubscribe::dispatch)))
        .route("/thanks/{lang}", web::get().to(survey::thanks))
        .route("/transparency", web::get().to(transparency::page))
        .route("/", web::get().to(info::home))
        .route("/logo", web::get().to(logo::logo))
        .route("/privacy", web::get().to(info::privacy))
        .route("/accessibility", web::get().to(info::accessibility));
}
