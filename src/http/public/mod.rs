//! The pages residents see: the survey, the thank-you page and the kind refusals.

pub mod assets;
mod campaign_pages;
pub mod info;
pub mod logo;
pub mod messages;
pub mod pages;
mod question_view;
pub mod survey;
pub mod transparency;
pub mod unsubscribe;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    // `/s/TOKEN` is matched as a static prefix and cut by hand: a `{token}` segment would send
    // every survey request through the router's regular expressions.
    cfg.service(web::scope("/s").default_service(web::to(survey::dispatch)))
        .service(web::scope("/u").default_service(web::to(unsubscribe::dispatch)))
        .service(web::resource("/thanks/{lang}").route(web::get().to(survey::thanks)))
        .service(web::resource("/transparency").route(web::get().to(transparency::page)))
        .service(web::resource("/").route(web::get().to(info::home)))
        .service(web::resource("/logo").route(web::get().to(logo::logo)))
        .service(web::resource("/assets/{name}").route(web::get().to(assets::stylesheet)))
        .service(web::resource("/privacy").route(web::get().to(info::privacy)))
        .service(web::resource("/accessibility").route(web::get().to(info::accessibility)));
}
