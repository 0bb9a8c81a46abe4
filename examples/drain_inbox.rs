//! Measures the anonymous inbox: seals N employee answers (one month's tickets, a 120-character
//! comment each) and times the drain that moves them into `responses`.
//!
//!     cargo run --release --example drain_inbox -- sqlite:///tmp/inbox.db 5000
//!
//! Use a fresh database: it refuses one that already holds sealed answers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{NaiveDate, Utc};
use mashov::db::connection::Manager;
use mashov::domain::catalog::parse_catalog;
use mashov::domain::survey::{Answer, AnswerValue, SurveyDefinition};
use mashov::domain::token::ServerKey;
use mashov::services::inbox;
use mashov::services::responses::anonymous_response;

fn main() {
    let mut args = std::env::args().skip(1);
    let url = args.next().expect("usage: drain_inbox DATABASE_URL [N]");
    let n: usize = args.next().map_or(5_000, |s| s.parse().expect("a number"));
    let mut conn = Manager::new(&url).expect("url").open().expect("open");
    mashov::services::setup::migrate(&mut conn, Utc::now()).expect("migrate");
    assert_eq!(
        mashov::db::inbox::count(&mut conn).expect("count"),
        0,
        "a fresh database"
    );
    let catalog = parse_catalog(include_bytes!("../demo/catalog.csv")).expect("catalog");
    mashov::services::catalog::import(&mut conn, &catalog, Utc::now()).expect("import");
    let units: Vec<String> = catalog
        .services
        .iter()
        .filter(|s| s.audience.as_str() == "employees")
        .map(|s| s.code.clone())
        .collect();
    let stored = mashov::db::surveys::latest(&mut conn, "employee.internal_service")
        .expect("survey")
        .expect("stored");
    let definition = SurveyDefinition::from_json(&stored.definition).expect("valid");
    let survey = stored.id;
    let key = ServerKey::generate().inbox_key();
    let month = NaiveDate::from_ymd_opt(2020, 1, 1).expect("date");
    let started = std::time::Instant::now();
    mashov::db::write_transaction(&mut conn, |conn| {
        for i in 0..n {
            let answers = vec![
                Answer {
                    question_id: "overall".into(),
                    value: AnswerValue::Int((i % 5) as i32 + 1),
                },
                Answer {
                    question_id: "effort".into(),
                    value: AnswerValue::Int((i % 7) as i32 + 1),
                },
                Answer {
                    question_id: "comment".into(),
                    value: AnswerValue::Text("השירות היה איטי אבל אדיב; ".repeat(5)),
                },
            ];
            let unit = &units[i % units.len()];
            let one = anonymous_response(&definition, &survey, unit, &answers, month, "tickets");
            for row in inbox::seal(&key, "tickets", "2020-01-01", vec![one]).expect("fits") {
                mashov::db::inbox::insert(conn, &row)?;
            }
        }
        Ok::<_, diesel::result::Error>(())
    })
    .expect("seal");
    let sealed = started.elapsed();
    let started = std::time::Instant::now();
    let drained = inbox::drain_frozen(&mut conn, &key, Utc::now()).expect("drain");
    let took = started.elapsed();
    assert_eq!(drained.answers, n);
    println!(
        "sealed and stored {n} answers in {:.2} s; drained them in {:.2} s ({:.0} answers/s)",
        sealed.as_secs_f64(),
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64()
    );
}
