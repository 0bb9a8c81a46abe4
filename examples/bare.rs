//! The ceiling for the benchmarks: a bare actix-web handler with mashov's worker count.
//! `cargo run --release --example bare -- 127.0.0.1:8090 [BODY_BYTES]`: the body defaults to
//! "ok"; give the survey page's size to see what the bytes alone cost.

use actix_web::{web, App, HttpResponse, HttpServer};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8090".to_string());
    let size: usize = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    let body = web::Bytes::from("k".repeat(size));
    HttpServer::new(move || {
        let body = body.clone();
        App::new().route(
            "/",
            web::get().to(move || {
                let body = body.clone();
                async move {
                    HttpResponse::Ok()
                        .content_type("text/html; charset=utf-8")
                        .body(body)
                }
            }),
        )
    })
    .bind(bind)?
    .run()
    .await
}
