//! `serve --demo`, the README's first command: the demo city loads through the real use cases,
//! prints what a newcomer needs, and every surface it points to answers.

use chrono::{Duration, Months, Utc};
use serde_json::Value;

use crate::both_backends;
use crate::helpers::{count, Kind, TestDb};
use crate::process::{command, spawn_serve, Server};
use mashov::db::connection::Manager;
use mashov::domain::period::{local_day, month_start};

both_backends!(the_demo_city_loads_once_and_every_surface_it_names_answers);
both_backends!(a_demo_that_fails_half_way_leaves_nothing_and_the_next_run_loads_it_whole);

fn get(server: &Server, path: &str, key: Option<&str>) -> (u16, String) {
    let mut req = ureq::get(&format!("{}{path}", server.base));
    if let Some(k) = key {
        req = req.set("Authorization", &format!("Bearer {k}"));
    }
    match req.call() {
        Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
        Err(ureq::Error::Status(s, r)) => (s, r.into_string().unwrap_or_default()),
        Err(e) => panic!("request failed: {e}"),
    }
}

fn json(server: &Server, path: &str, key: &str) -> Value {
    let (status, body) = get(server, path, Some(key));
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).expect("json")
}

fn printed(db: &TestDb, prefix: &str) -> String {
    let out = std::fs::read_to_string(db.dir.path().join("server.out")).expect("stdout");
    out.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} in {out}"))
        .trim()
        .to_string()
}

fn the_demo_city_loads_once_and_every_surface_it_names_answers(kind: Kind) {
    let Some(db) = TestDb::new(kind) else { return };
    let server = spawn_serve(command(&db, &["serve", "--demo"], 0), &db);
    let loaded = printed(&db, "demo city loaded: ");
    assert!(loaded.contains("closed requests"), "{loaded}");
    let key = printed(&db, "API key (demo): ");
    let link = printed(&db, "open survey link: ");
    let path = link
        .strip_prefix(&server.base)
        .expect("a link to this server");

    let (status, page) = get(&server, path, None);
    assert_eq!(status, 200);
    assert!(page.contains(r#"<html lang="he" dir="rtl">"#));

    // The management app, with the admin the demo printed.
    let admin = printed(&db, "management app: ");
    let password = admin
        .split_once("the password ")
        .and_then(|(_, rest)| rest.split_once(' '))
        .map(|(p, _)| p.to_string())
        .expect("a password");
    assert!(
        admin.starts_with(&format!("{}/admin", server.base)),
        "{admin}"
    );
    let mut visitor = crate::admin::Visitor::at(&server.base);
    let signed = visitor.sign_in("admin@demo.example", &password, "/admin");
    assert_eq!(signed.status, 303, "{}", signed.body);
    let dashboard = visitor.get("/admin");
    assert_eq!(dashboard.status, 200);
    assert!(
        dashboard.body.contains("/admin/departments/"),
        "departments listed"
    );
    assert_eq!(visitor.get("/admin/followups").status, 200);

    let today = local_day(Utc::now());
    let from = today - Duration::weeks(12);
    let residents = json(
        &server,
        &format!("/api/v1/reports/summary?from={from}&to={today}"),
        &key,
    );
    let answers = residents["responses"].as_u64().expect("resident answers");
    assert!((100..=250).contains(&answers), "{residents}");

    // Employees: the three months before this one, through the inbox like any answer.
    let this_month = month_start(today);
    let first = this_month - Months::new(3);
    let last = this_month - Duration::days(1);
    let units = json(
        &server,
        &format!("/api/v1/reports/breakdown?from={first}&to={last}&audience=employee&by=service"),
        &key,
    );
    let rows = units["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 7, "every internal unit is listed: {units}");
    let shown: Vec<u64> = rows
        .iter()
        .filter_map(|r| r["responses"].as_u64())
        .collect();
    assert!(!shown.is_empty(), "some groups are shown: {units}");
    assert!(shown.iter().all(|n| *n >= 5), "{units}");
    drop(server);

    let mut conn = Manager::new(&db.url).expect("url").open().expect("open");
    // A believable city: residents whose problem was solved are happier than those whose was
    // not, nobody writes another's comment, and the city has closed cases, some late.
    let share_satisfied = |conn: &mut mashov::db::DbConnection, said: &str| {
        let answered = format!(
            "SELECT COUNT(*) AS n FROM responses r JOIN answers a ON a.response_id = r.id \
             WHERE a.question_id = 'resolved' AND a.text_value = '{said}'"
        );
        let all = count(conn, &answered);
        let happy = count(conn, &format!("{answered} AND r.overall >= 4"));
        assert!(all > 0, "some residents said {said}");
        happy as f64 / all as f64
    };
    let solved = share_satisfied(&mut conn, "resolved");
    let unsolved = share_satisfied(&mut conn, "not_resolved");
    assert!(solved > unsolved + 0.4, "{solved} vs {unsolved}");
    let comments = "SELECT COUNT(*) AS n FROM answers WHERE question_id = 'comment'";
    let distinct =
        "SELECT COUNT(DISTINCT text_value) AS n FROM answers WHERE question_id = 'comment'";
    assert!(count(&mut conn, comments) >= 10);
    assert_eq!(
        count(&mut conn, comments),
        count(&mut conn, distinct),
        "a comment repeated"
    );
    let closed = "SELECT COUNT(*) AS n FROM followups WHERE status = 'closed' AND closed_on";
    assert!(
        count(&mut conn, &format!("{closed} <= due_on")) > 0,
        "closed in time"
    );
    assert!(
        count(&mut conn, &format!("{closed} > due_on")) > 0,
        "closed late"
    );
    let open = "SELECT COUNT(*) AS n FROM followups WHERE status <> 'closed'";
    assert!(count(&mut conn, open) > 0, "cases still open");
    let employee = count(
        &mut conn,
        "SELECT COUNT(*) AS n FROM responses WHERE audience = 'employee'",
    );
    let waiting = count(&mut conn, "SELECT COUNT(*) AS n FROM anonymous_inbox");
    assert!(employee + waiting >= 50, "{employee} + {waiting}");
    // On the first of a month last month is not complete yet, and waits sealed.
    if today.format("%d").to_string() != "01" {
        assert_eq!(waiting, 0);
    }
    drop(conn);

    // Run again: the data is kept and nothing is loaded twice.
    let server = spawn_serve(command(&db, &["serve", "--demo"], 0), &db);
    let out = std::fs::read_to_string(db.dir.path().join("server.out")).expect("stdout");
    assert!(out.contains("demo data not loaded"), "{out}");
    let again = json(
        &server,
        &format!("/api/v1/reports/summary?from={from}&to={today}"),
        &key,
    );
    assert_eq!(again["responses"].as_u64(), Some(answers));
}

fn a_demo_that_fails_half_way_leaves_nothing_and_the_next_run_loads_it_whole(kind: Kind) {
    let Some(db) = TestDb::new(kind) else { return };
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = command(&db, args, 0);
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().expect("run mashov")
    };
    let nothing_loaded = || {
        let mut conn = Manager::new(&db.url).expect("url").open().expect("open");
        for table in [
            "departments",
            "services",
            "interactions",
            "responses",
            "users",
        ] {
            let n = count(&mut conn, &format!("SELECT COUNT(*) AS n FROM {table}"));
            assert_eq!(n, 0, "{table} after a failed demo");
        }
    };
    assert!(run(&["migrate"], &[]).status.success());

    // Links that close before the demo's residents answer: refused before anything is written.
    let out = run(&["serve", "--demo"], &[("MASHOV_LINK_TTL", "1h")]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("MASHOV_LINK_TTL"), "{err}");
    nothing_loaded();

    // A failure after the catalog was imported (an active key already named "demo"): the
    // catalog goes with the rest.
    assert!(run(&["apikey", "create", "--name", "demo"], &[])
        .status
        .success());
    let out = run(&["serve", "--demo"], &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    nothing_loaded();
    let mut conn = Manager::new(&db.url).expect("url").open().expect("open");
    assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM api_keys"), 1);
    drop(conn);

    // Once the way is clear, the demo loads whole and prints its key.
    assert!(run(&["apikey", "revoke", "demo"], &[]).status.success());
    let server = spawn_serve(command(&db, &["serve", "--demo"], 0), &db);
    let key = printed(&db, "API key (demo): ");
    let (status, _) = get(&server, "/api/v1/catalog", Some(&key));
    assert_eq!(status, 200);
}
