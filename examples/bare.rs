//! The ceiling for the benchmarks: a bare actix-web handler with mashov's worker count.
//! `cargo run --release --example bare -- 127.0.0.1:8090`

use actix_web::{web, App, HttpResponse, HttpServer};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8090".to_string());
    HttpServer::new(|| {
        App::new().route(
            "/",
            web::get().to(|| async { HttpResponse::Ok().body("ok") }),
        )
    })
    .bind(bind)?
    .run()
    .await
}
