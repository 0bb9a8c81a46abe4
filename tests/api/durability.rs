//! An answer acknowledged with `303` survives `kill -9` of the server right after it, and the
//! server's log never holds a survey link.

use std::io::Read;
use std::time::{Duration, Instant};

use crate::both_backends;
use crate::helpers::{count, Kind, TestDb, FULL_ANSWER};
use crate::process::{command, free_port, spawn_serve, start, Server};
use mashov::db::connection::Manager;

both_backends!(
    an_acknowledged_answer_survives_kill_9_and_no_link_reaches_the_log,
    an_acknowledged_employee_answer_survives_kill_9_sealed_and_opens_with_the_key_on_disk,
);

fn an_acknowledged_answer_survives_kill_9_and_no_link_reaches_the_log(kind: Kind) {
    let Some(db) = TestDb::new(kind) else { return };
    let key = setup_catalog_and_key(&db);

    let mut server = start(&db);
    let closed = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let body = serde_json::json!({"external_id": "KILL-1", "audience": "resident",
        "service_code": "sanitation.bins", "closed_at": closed, "contact": {"language": "he"}});
    let r = ureq::post(&format!("{}/api/v1/interactions", server.base))
        .set("Authorization", &format!("Bearer {key}"))
        .set("Content-Type", "application/json")
        .send_string(&body.to_string())
        .expect("report");
    let url: serde_json::Value =
        serde_json::from_str(&r.into_string().expect("body")).expect("json");
    let url = url["survey_url"].as_str().expect("url").to_string();
    let path = url
        .split_once("/s/")
        .map(|(_, t)| format!("/s/{t}"))
        .expect("path");
    let token = path.trim_start_matches("/s/").to_string();

    let agent = ureq::AgentBuilder::new().redirects(0).build();
    assert_eq!(
        agent
            .get(&format!("{}{path}", server.base))
            .call()
            .expect("page")
            .status(),
        200
    );
    let form = serde_urlencoded::to_string(FULL_ANSWER).expect("form");
    let r = agent
        .post(&format!("{}{path}", server.base))
        .set("Content-Type", "application/x-www-form-urlencoded")
        .send_string(&form)
        .expect("submit");
    assert_eq!(r.status(), 303);
    server.kill_9();

    let mut restarted = start(&db);
    // An unsubscribe link carries the same secret: its request is logged without it too.
    let _ = agent.get(&format!("{}/u/{token}", restarted.base)).call();
    let r = agent.get(&format!("{}{path}", restarted.base)).call();
    assert!(
        matches!(r, Err(ureq::Error::Status(410, _))),
        "the answered link is closed"
    );
    let mut conn = Manager::new(&db.url).expect("url").open().expect("open");
    assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM responses"), 1);
    assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM answers"), 6);
    restarted.kill_9();

    let mut log = String::new();
    std::fs::File::open(db.dir.path().join("server.log"))
        .and_then(|mut f| f.read_to_string(&mut log))
        .expect("read log");
    assert!(log.contains("/s/[token]"), "requests are logged: {log}");
    assert!(
        log.contains("/u/[token]"),
        "unsubscribe requests are logged: {log}"
    );
    assert!(!log.contains(&token), "the token never reaches the log");
    assert!(!log.contains(&key), "the API key never reaches the log");
}

/// An employee's answer is acknowledged once it is in the inbox: it survives `kill -9` right
/// after the `303`, and the key file the server created opens it after the restart.
fn an_acknowledged_employee_answer_survives_kill_9_sealed_and_opens_with_the_key_on_disk(
    kind: Kind,
) {
    let Some(db) = TestDb::new(kind) else { return };
    let key = setup_catalog_and_key(&db);
    let mut server = start(&db);
    let closed = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let body = serde_json::json!({"external_id": "IT-KILL", "audience": "employee",
        "service_code": "it.helpdesk", "closed_at": closed,
        "contact": {"email": "noa@city.example", "language": "he"}});
    let r = ureq::post(&format!("{}/api/v1/interactions", server.base))
        .set("Authorization", &format!("Bearer {key}"))
        .set("Content-Type", "application/json")
        .send_string(&body.to_string())
        .expect("report");
    let reply: serde_json::Value =
        serde_json::from_str(&r.into_string().expect("body")).expect("json");
    let url = reply["survey_url"].as_str().expect("url");
    let path = format!("/s/{}", url.split_once("/s/").expect("link").1);
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    let r = agent
        .post(&format!("{}{path}", server.base))
        .set("Content-Type", "application/x-www-form-urlencoded")
        .send_string("overall=2&effort=5&comment=%D7%90%D7%99%D7%98%D7%99")
        .expect("submit");
    assert_eq!(r.status(), 303);
    server.kill_9();

    let mut restarted = start(&db);
    let r = agent.get(&format!("{}{path}", restarted.base)).call();
    assert!(matches!(r, Err(ureq::Error::Status(410, _))), "answered");
    restarted.kill_9();
    let log = || std::fs::read_to_string(db.dir.path().join("server.log")).expect("log");
    let warning = "cannot be opened with this server key";
    assert!(!log().contains(warning), "the right key opens it");
    // Started with another key, serve says at once that the waiting answers cannot be opened.
    let mut other = command(&db, &["serve"], 0);
    other.env(
        "MASHOV_SECRET",
        mashov::domain::token::ServerKey::generate().encode(),
    );
    let mut wrong = spawn_serve(other, &db);
    wrong.kill_9();
    assert!(log().contains(warning), "{}", log());
    let mut conn = Manager::new(&db.url).expect("url").open().expect("open");
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM anonymous_inbox"),
        1
    );
    let secret = std::fs::read_to_string(db.dir.path().join("secret.key")).expect("key file");
    let inbox = mashov::domain::token::ServerKey::decode(&secret)
        .expect("key")
        .inbox_key();
    // Once its month is complete, the answer opens and moves with the key on disk.
    let later = chrono::Utc::now() + chrono::Duration::days(40);
    let drained = mashov::services::inbox::drain_frozen(&mut conn, &inbox, later).expect("drain");
    assert_eq!((drained.answers, drained.unreadable), (1, 0));
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM answers WHERE text_value = 'איטי'"
        ),
        1
    );
}

/// Starts `mashov serve` with email on, in real time, with every sending rule off so that the
/// hour of the test run does not matter.
/// `lease` is how long a claim holds: short where a test kills a server and waits for its claims
/// to pass to the next, long where a loaded machine must not see a slow batch as a dead one.
fn start_mailing(db: &TestDb, smtp_port: u16, secret: &str, lease: &str) -> Server {
    let mut cmd = command(db, &["serve"], 0);
    cmd.env("MASHOV_SMTP_URL", format!("smtp://127.0.0.1:{smtp_port}"))
        .env("MASHOV_MAIL_FROM", "City <survey@city.example>")
        .env("MASHOV_SECRET", secret)
        .env("MASHOV_SEND_DELAY", "0s")
        .env("MASHOV_QUIET_HOURS", "")
        .env("MASHOV_SHABBAT", "off")
        .env("MASHOV_REMINDER_AFTER", "off")
        .env("MASHOV_FREQUENCY_CAP", "off")
        .env("MASHOV_OUTBOX_LEASE", lease);
    spawn_serve(cmd, db)
}

fn setup_catalog_and_key(db: &TestDb) -> String {
    crate::process::migrate(db);
    let csv = db.dir.path().join("c.csv");
    std::fs::write(
        &csv,
        "department_code,department_name,service_code,service_name,sla_days,audience\n\
         sanitation,תברואה,sanitation.bins,פחים,5,residents\n\
         it,מחשוב,it.helpdesk,מוקד מחשוב,1,employees\n",
    )
    .expect("csv");
    let port = free_port();
    let o = command(
        db,
        &["catalog", "import", csv.to_str().expect("utf-8")],
        port,
    )
    .output()
    .expect("import");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = command(db, &["apikey", "create", "--name", "crm"], port)
        .output()
        .expect("key");
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .last()
        .expect("key")
        .to_string()
}

/// Reports `range` interactions, each with its own address, spread over the servers.
fn report_many(servers: &[&Server], key: &str, range: std::ops::Range<usize>) {
    let closed = (chrono::Utc::now() - chrono::Duration::minutes(5)).to_rfc3339();
    let ids: Vec<usize> = range.collect();
    std::thread::scope(|s| {
        for chunk in ids.chunks(ids.len().div_ceil(8).max(1)) {
            let closed = &closed;
            s.spawn(move || {
                for n in chunk {
                    let server = servers[n % servers.len()];
                    let body = serde_json::json!({"external_id": format!("BULK-{n}"),
                        "audience": "resident", "service_code": "sanitation.bins",
                        "closed_at": closed, "contact": {"email": format!("bulk{n}@example.org")}});
                    let r = ureq::post(&format!("{}/api/v1/interactions", server.base))
                        .set("Authorization", &format!("Bearer {key}"))
                        .set("Content-Type", "application/json")
                        .send_string(&body.to_string())
                        .expect("report");
                    assert_eq!(r.status(), 201);
                }
            });
        }
    });
}

both_backends!(kill_9_in_the_middle_of_a_thousand_invitations_loses_none);

fn kill_9_in_the_middle_of_a_thousand_invitations_loses_none(kind: Kind) {
    use crate::smtp::SmtpSink;
    let Some(db) = TestDb::new(kind) else { return };
    let key = setup_catalog_and_key(&db);
    let secret = mashov::domain::token::ServerKey::generate().encode();
    let sink = SmtpSink::start();
    sink.slow_down(Duration::from_millis(40));
    let mut server = start_mailing(&db, sink.port, &secret, "3s");
    report_many(&[&server], &key, 0..1000);
    let deadline = Instant::now() + Duration::from_secs(60);
    while sink.messages().len() < 50 {
        assert!(Instant::now() < deadline, "sending never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    server.kill_9();
    let before = sink.messages().len();
    assert!(before < 1000, "the kill came mid-batch ({before} sent)");
    sink.slow_down(Duration::ZERO);
    let mut restarted = start_mailing(&db, sink.port, &secret, "3s");
    let got = sink.wait_for(1000);
    std::thread::sleep(Duration::from_secs(4)); // past the lease: nothing more may come
    let got_all = sink.messages();
    restarted.kill_9();

    let recipients: std::collections::HashSet<String> =
        got_all.iter().flat_map(|m| m.to.clone()).collect();
    assert_eq!(recipients.len(), 1000, "every invitation arrived");
    let mut by_recipient: std::collections::HashMap<String, Vec<String>> = Default::default();
    for m in &got_all {
        let id = m.header("Message-ID").expect("Message-ID");
        by_recipient.entry(m.to[0].clone()).or_default().push(id);
    }
    let duplicates: usize = by_recipient.values().map(|ids| ids.len() - 1).sum();
    for ids in by_recipient.values() {
        assert!(
            ids.iter().all(|id| *id == ids[0]),
            "a resend keeps its Message-ID"
        );
    }
    eprintln!(
        "kill -9 after {before} of 1000: {} delivered in all, {duplicates} duplicates",
        got_all.len()
    );
    assert!(got.len() >= 1000);
    assert!(
        duplicates <= 200,
        "at most the batch in flight at the kill (200) was resent"
    );
    let mut conn = Manager::new(&db.url).expect("url").open().expect("open");
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM outbox WHERE status = 'sent'"
        ),
        1000
    );
}

#[test]
fn two_instances_on_one_postgresql_send_five_thousand_invitations_exactly_once() {
    use crate::smtp::SmtpSink;
    let Some(db) = TestDb::new(Kind::Postgres) else {
        return;
    };
    let key = setup_catalog_and_key(&db);
    let secret = mashov::domain::token::ServerKey::generate().encode();
    let sink = SmtpSink::start();
    let mut a = start_mailing(&db, sink.port, &secret, "60s");
    let mut b = start_mailing(&db, sink.port, &secret, "60s");
    report_many(&[&a, &b], &key, 0..5000);
    sink.wait_for(5000);
    std::thread::sleep(Duration::from_secs(4));
    let got = sink.messages();
    a.kill_9();
    b.kill_9();
    let recipients: std::collections::HashSet<String> =
        got.iter().flat_map(|m| m.to.clone()).collect();
    assert_eq!(recipients.len(), 5000);
    assert_eq!(got.len(), 5000, "each exactly once");
}

both_backends!(sigterm_finishes_the_answers_in_flight_and_exits_0_within_ten_seconds);

/// `SIGTERM` in the middle of a stream of answers: the server stops accepting, finishes what it
/// holds, and exits 0 within 10 seconds; every answer it acknowledged is on disk.
fn sigterm_finishes_the_answers_in_flight_and_exits_0_within_ten_seconds(kind: Kind) {
    let Some(db) = TestDb::new(kind) else { return };
    let key = setup_catalog_and_key(&db);
    let mut server = start(&db);
    let closed = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let paths: Vec<String> = (0..400)
        .map(|n| {
            let body = serde_json::json!({"external_id": format!("TERM-{n}"), "audience": "resident",
                "service_code": "sanitation.bins", "closed_at": closed,
                "contact": {"email": format!("term{n}@example.org")}});
            let r = ureq::post(&format!("{}/api/v1/interactions", server.base))
                .set("Authorization", &format!("Bearer {key}"))
                .set("Content-Type", "application/json")
                .send_string(&body.to_string())
                .expect("report");
            let v: serde_json::Value =
                serde_json::from_str(&r.into_string().expect("body")).expect("json");
            let url = v["survey_url"].as_str().expect("url").to_string();
            url.split_once("/s/").map(|(_, t)| format!("/s/{t}")).expect("path")
        })
        .collect();
    let form = serde_urlencoded::to_string(FULL_ANSWER).expect("form");
    let base = server.base.clone();
    let pid = server.child.id().to_string();
    let acknowledged: Vec<String> = std::thread::scope(|s| {
        let workers: Vec<_> = paths
            .chunks(100)
            .map(|chunk| {
                let (form, base) = (&form, &base);
                s.spawn(move || {
                    let agent = ureq::AgentBuilder::new()
                        .redirects(0)
                        .timeout(std::time::Duration::from_secs(15))
                        .build();
                    let mut acked = Vec::new();
                    for path in chunk {
                        let r = agent
                            .post(&format!("{base}{path}"))
                            .set("Content-Type", "application/x-www-form-urlencoded")
                            .send_string(form);
                        if matches!(&r, Ok(r) if r.status() == 303) {
                            acked.push(path.clone());
                        }
                    }
                    acked
                })
            })
            .collect();
        std::thread::sleep(std::time::Duration::from_millis(150));
        let term = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill -TERM");
        assert!(term.success());
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("worker"))
            .collect()
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let status = loop {
        if let Some(status) = server.child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "serve did not exit within 10 s of SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0), "a clean exit");
    assert!(
        !acknowledged.is_empty(),
        "some answers went through before the signal"
    );
    assert!(
        acknowledged.len() < paths.len(),
        "the signal came mid-stream"
    );

    // Every acknowledged answer is there: its link is closed after a restart.
    let mut restarted = start(&db);
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    for path in &acknowledged {
        let r = agent.get(&format!("{}{path}", restarted.base)).call();
        assert!(
            matches!(r, Err(ureq::Error::Status(410, _))),
            "{path} was acknowledged but is not answered"
        );
    }
    let mut conn = Manager::new(&db.url).expect("url").open().expect("open");
    assert!(count(&mut conn, "SELECT COUNT(*) AS n FROM responses") >= acknowledged.len() as i64);
    restarted.kill_9();
    let mut log = String::new();
    std::fs::File::open(db.dir.path().join("server.log"))
        .and_then(|mut f| f.read_to_string(&mut log))
        .expect("read log");
    assert!(log.contains("stopped"), "the server said it stopped");
}

both_backends!(a_backup_taken_while_serving_restores_every_answer);

/// `mashov backup` copies a SQLite database while `serve` writes to it; the copy opens as a
/// database of its own with every answer acknowledged before it. PostgreSQL is pg_dump's.
fn a_backup_taken_while_serving_restores_every_answer(kind: Kind) {
    use std::os::unix::fs::PermissionsExt;
    let Some(db) = TestDb::new(kind) else { return };
    let key = setup_catalog_and_key(&db);
    let out = db.dir.path().join("backup.db");
    let out_arg = out.to_str().expect("utf-8").to_string();
    if kind == Kind::Postgres {
        let o = command(&db, &["backup", "--out", &out_arg], free_port())
            .output()
            .expect("backup");
        assert_eq!(o.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&o.stderr).contains("pg_dump"));
        assert!(!out.exists());
        return;
    }
    let server = start(&db);
    report_many(&[&server], &key, 0..50);
    // Taken while more requests are being written.
    let o = std::thread::scope(|s| {
        s.spawn(|| report_many(&[&server], &key, 50..250));
        std::thread::sleep(std::time::Duration::from_millis(100));
        command(&db, &["backup", "--out", &out_arg], free_port())
            .output()
            .expect("backup")
    });
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mode = std::fs::metadata(&out)
        .expect("the copy")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    // Again to the same file: refused, the copy untouched.
    let again = command(&db, &["backup", "--out", &out_arg], free_port())
        .output()
        .expect("backup");
    assert_eq!(again.status.code(), Some(2));
    drop(server);
    // Restored: the copy is a database the service opens, with every interaction.
    let url = format!("sqlite://{}", out.display());
    let mut conn = Manager::new(&url)
        .expect("url")
        .open()
        .expect("open the copy");
    let copied = count(&mut conn, "SELECT COUNT(*) AS n FROM interactions");
    assert!((50..=250).contains(&copied), "{copied}");
    // Consistent: each interaction with its invitation, whatever moment the copy caught.
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM interactions i WHERE NOT EXISTS \
             (SELECT 1 FROM invitations v WHERE v.interaction_id = i.id)"
        ),
        0
    );
    let migrate = command(&db, &["migrate"], free_port())
        .env("MASHOV_DATABASE_URL", &url)
        .output()
        .expect("migrate");
    assert!(migrate.status.success());
    assert!(String::from_utf8_lossy(&migrate.stdout).contains("migrations applied: 0"));
    // No database to copy: said, nothing created.
    let missing = db.dir.path().join("none.db");
    let o = command(
        &db,
        &["backup", "--out", &format!("{out_arg}.2")],
        free_port(),
    )
    .env(
        "MASHOV_DATABASE_URL",
        format!("sqlite://{}", missing.display()),
    )
    .output()
    .expect("backup");
    assert_eq!(o.status.code(), Some(1));
    assert!(!missing.exists());
}
