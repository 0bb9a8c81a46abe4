//! The other ceiling: how many durable one-row write transactions per second the database takes,
//! through mashov's own connection settings (SQLite: WAL, synchronous=FULL, BEGIN IMMEDIATE).
//! `cargo run --release --example commit_rate -- sqlite:///tmp/x.db 10`

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use mashov::db::connection::{write_transaction, Manager};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .ok_or("usage: commit_rate DATABASE_URL [SECONDS]")?;
    let seconds: u64 = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let mut conn = Manager::new(&url)?.open()?;
    conn.batch_execute(
        "DROP TABLE IF EXISTS bench_commits; \
         CREATE TABLE bench_commits (id TEXT PRIMARY KEY, note TEXT NOT NULL)",
    )?;
    let start = Instant::now();
    let mut n: u64 = 0;
    while start.elapsed() < Duration::from_secs(seconds) {
        n += 1;
        let id = format!("{n}");
        write_transaction(&mut conn, |c| {
            diesel::sql_query(
                "INSERT INTO bench_commits (id, note) VALUES ('".to_string() + &id + "', 'x')",
            )
            .execute(c)
        })?;
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    conn.batch_execute("DROP TABLE bench_commits")?;
    println!("{rate:.0} commits/s ({n} one-row transactions in {seconds} s)");
    Ok(())
}
