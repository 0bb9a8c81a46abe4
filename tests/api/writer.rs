//! The group-commit writer never tells a caller "saved" for work that is not on disk, not even
//! when a job in its batch panics inside its transaction.

use std::sync::mpsc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::both_backends;
use crate::helpers::{Kind, TestDb};
use mashov::db::connection::Manager;
use mashov::db::writer::{Finish, Job, Writer};
use mashov::db::{write_transaction, DbConnection};

both_backends!(a_panicking_write_job_fails_its_batch_and_no_caller_hears_saved_for_unsaved_work);

/// A job that inserts `id` in its own transaction (as services do) and reports whether its
/// caller was told "saved". A `panic` job panics inside its transaction after inserting.
fn job(id: &'static str, panic: bool, told: mpsc::Sender<(&'static str, bool)>) -> Job {
    Box::new(move |conn: &mut DbConnection| -> Finish {
        let inserted = write_transaction(conn, |conn| {
            diesel::sql_query(format!("INSERT INTO writer_probe (id) VALUES ('{id}')"))
                .execute(conn)?;
            if panic {
                panic!("a bug in a write job");
            }
            Ok::<_, diesel::result::Error>(())
        });
        Box::new(move |commit_error: Option<&str>| {
            let _ = told.send((id, inserted.is_ok() && commit_error.is_none()));
        })
    })
}

fn stored(url: &str) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        id: String,
    }
    let mut conn = Manager::new(url).expect("url").open().expect("open");
    diesel::sql_query("SELECT id FROM writer_probe ORDER BY id")
        .load::<Row>(&mut conn)
        .expect("probe rows")
        .into_iter()
        .map(|r| r.id)
        .collect()
}

fn a_panicking_write_job_fails_its_batch_and_no_caller_hears_saved_for_unsaved_work(kind: Kind) {
    let Some(db) = TestDb::new(kind) else { return };
    let manager = Manager::new(&db.url).expect("url");
    manager
        .open()
        .expect("open")
        .batch_execute("CREATE TABLE writer_probe (id TEXT PRIMARY KEY)")
        .expect("probe table");
    let writer = Writer::start(manager).expect("writer");
    let (told, hear) = mpsc::channel();

    // A first job holds the writer until the next three are queued, so that they make one batch.
    let (started, has_started) = mpsc::channel::<()>();
    let (open_gate, gate) = mpsc::channel::<()>();
    let gate_told = told.clone();
    assert!(
        writer.submit(Box::new(move |conn: &mut DbConnection| -> Finish {
            let _ = started.send(());
            let _ = gate.recv_timeout(Duration::from_secs(10));
            job("gate", false, gate_told)(conn)
        }))
    );
    has_started
        .recv_timeout(Duration::from_secs(10))
        .expect("the writer took the first job");
    for (id, panic) in [("a", false), ("panics", true), ("b", false)] {
        assert!(writer.submit(job(id, panic, told.clone())));
    }
    open_gate.send(()).expect("open the gate");

    // Every job of the three either reports or is dropped unrun (cancelled).
    drop(told);
    let mut heard = Vec::new();
    while let Ok(h) = hear.recv_timeout(Duration::from_secs(10)) {
        heard.push(h);
    }

    // Then the writer must have recovered: a job of its own is saved. (On PostgreSQL's
    // parallel writers a late job may still share the panicking batch, under load, and be
    // cancelled with it: that is the right answer, so it is tried again.)
    let mut after_saved = false;
    for _ in 0..5 {
        let (told, hear) = mpsc::channel();
        assert!(writer.submit(job("after", false, told)));
        match hear.recv_timeout(Duration::from_secs(10)) {
            Ok(h) => {
                after_saved = h.1;
                heard.push(h);
                break;
            }
            Err(_) => continue,
        }
    }
    assert!(after_saved, "the writer goes on after a panic: {heard:?}");

    let on_disk = stored(&db.url);
    for (id, saved) in &heard {
        if *saved {
            assert!(
                on_disk.iter().any(|r| r == id),
                "{id} was acknowledged but is not on disk: {on_disk:?}"
            );
        }
    }
    assert!(!on_disk.iter().any(|r| r == "panics"), "{on_disk:?}");
    assert!(heard.contains(&("gate", true)), "{heard:?}");
    assert!(
        heard.contains(&("after", true)) && on_disk.iter().any(|r| r == "after"),
        "the writer goes on after a panic: {heard:?} {on_disk:?}"
    );
    if kind == Kind::Sqlite {
        // One writer thread: "a", the panicking job and "b" made one batch, and none of it was
        // kept. ("b" was never run: its caller hears that it was cancelled.)
        assert!(!on_disk.iter().any(|r| r == "a" || r == "b"), "{on_disk:?}");
        assert!(heard.contains(&("a", false)), "{heard:?}");
    }
}
