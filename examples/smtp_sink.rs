//! The tests' SMTP server as a program, for the email benchmark: accepts everything on
//! 127.0.0.1:PORT and prints how many messages it has received, once a second.
//! `cargo run --release --example smtp_sink -- 2525`
#![allow(clippy::expect_used, clippy::unwrap_used, dead_code)]

#[path = "../tests/api/smtp.rs"]
mod smtp;

fn main() {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(2525);
    let sink = smtp::SmtpSink::start_on(port);
    loop {
        std::thread::sleep(std::time::Duration::from_secs(1));
        println!("{}", sink.count());
    }
}
