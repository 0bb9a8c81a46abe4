//! Seeds a database with the demo catalog and N resident responses (default 1,000,000), with
//! two scale answers each and a comment from one in five, spread
//! over the three years up to yesterday, with their interactions and invitations (80% answered), for the report
//! benchmarks:
//!
//!     cargo run --release --example seed_reports -- sqlite:///tmp/bench.db 1000000
//!
//! Rows go in as multi-row INSERTs of generated literals (no user input), in large transactions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, NaiveDate, Utc};
use diesel::connection::SimpleConnection;
use mashov::db::connection::Manager;
use mashov::db::DbConnection;
use mashov::domain::catalog::parse_catalog;
use mashov::domain::period::day_begins;
use rand::{Rng, SeedableRng};

const BATCH: usize = 500;

fn main() {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .expect("usage: seed_reports DATABASE_URL [RESPONSES]");
    let n: usize = args
        .next()
        .map_or(1_000_000, |s| s.parse().expect("a number"));
    let started = std::time::Instant::now();
    let mut conn = Manager::new(&url).expect("url").open().expect("open");
    mashov::services::setup::migrate(&mut conn, Utc::now()).expect("migrate");
    let catalog = parse_catalog(include_bytes!("../demo/catalog.csv")).expect("catalog");
    mashov::services::catalog::import(&mut conn, &catalog, Utc::now()).expect("import");
    let services: Vec<String> = catalog
        .services
        .iter()
        .filter(|s| s.audience.as_str() == "residents")
        .map(|s| s.code.clone())
        .collect();
    let survey = mashov::db::surveys::latest(&mut conn, "resident.post_interaction")
        .expect("survey")
        .expect("stored")
        .id;
    let channels = ["phone", "web", "app", "walk_in", "email", "whatsapp"];
    // Three years up to yesterday.
    let days = 3 * 365;
    let first: NaiveDate = Utc::now().date_naive() - Duration::days(days);
    let invitations = n * 5 / 4;
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let mut inter = Vec::with_capacity(BATCH);
    let mut invit = Vec::with_capacity(BATCH);
    let mut resp = Vec::with_capacity(BATCH);
    let mut answ = Vec::with_capacity(BATCH * 3);
    let comments = [
        "השירות היה מהיר ואדיב",
        "לא חזרו אליי אחרי שבוע",
        "Nobody called me back",
        "Всё сделали быстро, спасибо",
        "الموظف كان لطيفا",
    ];
    let mut answered = 0;
    exec(&mut conn, "BEGIN");
    for i in 0..invitations {
        let day = first + Duration::days(rng.gen_range(0..days));
        let at = day_begins(day) + Duration::minutes(rng.gen_range(480..1200));
        let ts = at.naive_utc().format("%Y-%m-%d %H:%M:%S");
        let service = &services[rng.gen_range(0..services.len())];
        let channel = channels[rng.gen_range(0..channels.len())];
        let (inter_id, inv_id) = (format!("i{i:09}"), format!("v{i:09}"));
        let is_answered = answered < n && (i % 5 != 4 || invitations - i <= n - answered);
        inter.push(format!(
            "('{inter_id}', 'SEED-{i}', 'resident', '{service}', '{channel}', NULL, '{ts}', NULL, \
             NULL, NULL, NULL, 'he', '{ts}', 'scheduled', NULL, NULL)"
        ));
        let bool_lit = |b: bool| match conn {
            DbConnection::Postgres(_) => {
                if b {
                    "TRUE"
                } else {
                    "FALSE"
                }
            }
            DbConnection::Sqlite(_) => {
                if b {
                    "1"
                } else {
                    "0"
                }
            }
        };
        invit.push(format!(
            "('{inv_id}', '{inter_id}', '{survey}', 'h{i:063}', 'he', '{ts}', NULL, '{ts}', {}, \
             'resident', '{service}', '{channel}', '{day}')",
            bool_lit(is_answered)
        ));
        if is_answered {
            answered += 1;
            let overall = rng.gen_range(1..=5);
            let effort = rng.gen_range(1..=7);
            let resolved = i32::from(rng.gen_bool(0.6));
            let id = uuid::Uuid::from_u128(rng.gen()).to_string();
            // The last two columns, as the service decides them when it stores an answer
            // (domain::metrics::ResponseFigures): satisfied, and no NPS group (none asked).
            let satisfied = mashov::domain::metrics::ResponseFigures {
                overall: Some(overall),
                ..Default::default()
            }
            .satisfied()
            .unwrap_or(0);
            resp.push(format!(
                "('{id}', '{inv_id}', '{survey}', 'resident', '{service}', '{channel}', 'he', \
                 '{ts}', '{day}', {overall}, {effort}, NULL, {resolved}, NULL, {satisfied}, NULL)"
            ));
            // The answers a department's page reads: two scale questions, and a comment from
            // one resident in five.
            let professionalism = rng.gen_range(1..=5);
            answ.push(format!("('{id}', 'overall', {overall}, NULL)"));
            answ.push(format!(
                "('{id}', 'professionalism', {professionalism}, NULL)"
            ));
            if rng.gen_bool(0.2) {
                let text = comments[rng.gen_range(0..comments.len())];
                answ.push(format!("('{id}', 'comment', NULL, '{text} #{i}')"));
            }
        }
        if inter.len() == BATCH {
            flush(&mut conn, &mut inter, &mut invit, &mut resp, &mut answ);
        }
        if i % 100_000 == 99_999 {
            exec(&mut conn, "COMMIT");
            exec(&mut conn, "BEGIN");
            eprintln!("{} invitations, {answered} responses", i + 1);
        }
    }
    flush(&mut conn, &mut inter, &mut invit, &mut resp, &mut answ);
    exec(&mut conn, "COMMIT");
    if let DbConnection::Postgres(_) = conn {
        exec(&mut conn, "VACUUM ANALYZE");
    } else {
        exec(&mut conn, "ANALYZE");
    }
    println!(
        "seeded {invitations} invitations and {answered} responses in {:.1}s",
        started.elapsed().as_secs_f64()
    );
}

fn exec(conn: &mut DbConnection, sql: &str) {
    conn.batch_execute(sql).expect(sql);
}

fn flush(
    conn: &mut DbConnection,
    inter: &mut Vec<String>,
    invit: &mut Vec<String>,
    resp: &mut Vec<String>,
    answ: &mut Vec<String>,
) {
    if !inter.is_empty() {
        exec(
            conn,
            &format!("INSERT INTO interactions VALUES {}", inter.join(",")),
        );
        exec(conn, &format!("INSERT INTO invitations (id, interaction_id, survey_id, token_hash, language, expires_at, answered_at, created_at, answered, audience, service_code, channel, day) VALUES {}", invit.join(",")));
    }
    if !resp.is_empty() {
        exec(
            conn,
            &format!("INSERT INTO responses VALUES {}", resp.join(",")),
        );
    }
    if !answ.is_empty() {
        exec(
            conn,
            &format!(
                "INSERT INTO answers (response_id, question_id, int_value, text_value) VALUES {}",
                answ.join(",")
            ),
        );
    }
    inter.clear();
    invit.clear();
    resp.clear();
    answ.clear();
}
