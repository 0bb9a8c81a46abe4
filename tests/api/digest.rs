//! The weekly digest over real SMTP: once per recipient and week, with the reports' figures, in
//! the recipient's scope and language; and exactly once across restarts and two instances.

use std::time::Duration;

use chrono::{Datelike, TimeZone, Utc};
use serde_json::json;

use crate::both_backends;
use crate::helpers::{count, spawn_app_with, Clock, Kind, TestApp, TestDb};
use crate::process::{command, spawn_serve};
use crate::smtp::SmtpSink;
use mashov::config::{SmtpSecurity, SmtpSettings};

both_backends!(
    each_manager_gets_one_digest_a_week_with_the_reports_figures_in_scope,
    digests_go_out_exactly_once_across_restarts_and_two_instances,
);

fn answered(app: &TestApp, id: &str, service: &str, pairs: &[(&str, &str)]) {
    let mut body = app.interaction(id, "he");
    body["service_code"] = json!(service);
    let r = app.report(&body);
    assert_eq!(r.status, 201, "{}", r.body);
    let url = r.json()["survey_url"].as_str().expect("url").to_string();
    let r = app.post_form(url.strip_prefix(&app.address).expect("origin"), pairs);
    assert_eq!(r.status, 303, "{}", r.body);
}

fn each_manager_gets_one_digest_a_week_with_the_reports_figures_in_scope(kind: Kind) {
    let sink = SmtpSink::start();
    let port = sink.port;
    // Tuesday 17 November 2026, 10:00 in Israel.
    let start = Utc.with_ymd_and_hms(2026, 11, 17, 8, 0, 0).unwrap();
    let Some(app) = spawn_app_with(kind, start, |s| {
        s.smtp = Some(SmtpSettings {
            security: SmtpSecurity::None,
            host: "127.0.0.1".into(),
            port,
            credentials: None,
        });
        s.send_rules.frequency_cap = None;
        s.send_rules.delay = chrono::Duration::days(30); // invitations wait: only digests here
        s.digest_poll = Duration::from_millis(50);
    }) else {
        return;
    };
    for i in 0..12 {
        let score = ["5", "4", "2", "5"][i % 4];
        answered(
            &app,
            &format!("S{i}"),
            "sanitation.bulky-waste",
            &[("overall", score)],
        );
    }
    answered(
        &app,
        "C1",
        "sanitation.bulky-waste",
        &[
            ("overall", "1"),
            ("comment", "<script>alert(1)</script> איטי"),
        ],
    );
    answered(
        &app,
        "E1",
        "engineering.hazard",
        &[("overall", "3"), ("comment", "engineering-only remark")],
    );
    // An employee's answer: never in a digest (digests report residents).
    let r = app.report(&app.employee_ticket("HR-1", "hr.payslip", "emp@city.example"));
    let url = r.json()["survey_url"].as_str().expect("url").to_string();
    let r = app.post_form(
        url.strip_prefix(&app.address).expect("origin"),
        &[("overall", "1"), ("comment", "employee-secret")],
    );
    assert_eq!(r.status, 303);
    let mut conn = app.conn();
    let now = app.clock.now();
    for (email, lang, depts) in [
        ("head@city.example", "he", vec![]),
        (
            "sanitation@city.example",
            "ar",
            vec!["sanitation".to_string()],
        ),
        (
            "engineering@city.example",
            "en",
            vec!["engineering".to_string()],
        ),
    ] {
        mashov::services::digest::add_recipient(
            &mut conn,
            email,
            lang,
            &depts,
            &mashov::services::audit::Actor::command_line(),
            now,
        )
        .expect("add");
    }
    drop(conn);
    // Saturday night: nothing yet.
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 21, 20, 0, 0).unwrap());
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(sink.count(), 0);
    // Sunday 08:05 in Israel: the week of 15–21 November goes out, once each.
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 22, 6, 5, 0).unwrap());
    let got = sink.wait_for(3);
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap());
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(
        sink.count(),
        3,
        "one each, however often the scheduler looks"
    );

    let summary = app
        .get_api("/api/v1/reports/summary?from=2026-11-15&to=2026-11-21")
        .json();
    let csat = format!(
        "{:.0}% (n={})",
        summary["csat"]["value"].as_f64().unwrap() * 100.0,
        summary["csat"]["n"]
    );
    let find = |to: &str| {
        got.iter()
            .find(|m| m.to.iter().any(|t| t.contains(to)))
            .expect(to)
    };
    let head = find("head@");
    let html = head.part("text/html").expect("html");
    assert!(html.contains(r#"<html lang="he" dir="rtl">"#));
    let text = head.part("text/plain").expect("text");
    assert!(
        text.contains(&csat),
        "the reports' CSAT {csat} is in the digest: {text}"
    );
    assert!(
        html.contains(&csat.replace('=', "&#x3D;")),
        "and in its HTML"
    );
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "comments are escaped"
    );
    assert!(!html.contains("<script>alert"));
    assert!(
        got.iter().all(|m| !m.data.contains("employee-secret")),
        "no employee answer"
    );
    assert!(html.contains("cid:trend"));
    assert!(
        head.data.contains("Content-ID: <trend>"),
        "the chart travels inline"
    );
    assert!(head.data.contains("image/png"));
    let subject = head.header("Subject").expect("subject");
    assert!(subject.contains("15.11–21.11.2026"), "{subject}");

    let sanitation = find("sanitation@").part("text/html").expect("html");
    assert!(sanitation.contains(r#"<html lang="ar" dir="rtl">"#));
    assert!(
        !sanitation.contains("engineering-only remark"),
        "another department's comment"
    );
    let engineering = find("engineering@").part("text/html").expect("html");
    assert!(engineering.contains(r#"<html lang="en" dir="ltr">"#));
    assert!(engineering.contains("engineering-only remark"));
    assert!(
        !engineering.contains("איטי"),
        "sanitation's comment stays with sanitation"
    );
    let eng_summary = app
        .get_api("/api/v1/reports/summary?from=2026-11-15&to=2026-11-21&department=engineering")
        .json();
    let eng_text = find("engineering@").part("text/plain").expect("text");
    assert!(
        eng_text.contains(&format!("(n={})", eng_summary["csat"]["n"])),
        "{eng_text}"
    );

    // The next Sunday brings the next week's, once more each.
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 29, 6, 30, 0).unwrap());
    sink.wait_for(6);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(sink.count(), 6);
    let mut conn = app.conn();
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM outbox WHERE kind = 'digest'"
        ),
        6
    );
}

/// Today's weekday, as the schedule setting names it, so that a digest is due now whatever day
/// the test runs.
fn today_schedule() -> String {
    let today = mashov::domain::period::local_day(Utc::now());
    let day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        [today.weekday().num_days_from_monday() as usize];
    format!("{day} 00:00")
}

fn digests_go_out_exactly_once_across_restarts_and_two_instances(kind: Kind) {
    let Some(db) = TestDb::new(kind) else { return };
    crate::process::migrate(&db);
    let catalog = db.dir.path().join("c.csv");
    std::fs::write(
        &catalog,
        "department_code,department_name,service_code,service_name,sla_days\nsanitation,תברואה,sanitation.bins,פחים,5\n",
    )
    .expect("csv");
    let o = command(&db, &["catalog", "import", catalog.to_str().unwrap()], 0)
        .output()
        .expect("import");
    assert!(o.status.success());
    for i in 0..20 {
        let o = command(
            &db,
            &[
                "digest",
                "recipients",
                "add",
                &format!("m{i}@city.example"),
                "--all",
            ],
            0,
        )
        .output()
        .expect("add");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let sink = SmtpSink::start();
    let secret = mashov::domain::token::ServerKey::generate().encode();
    let serve = || {
        let mut cmd = command(&db, &["serve"], 0);
        cmd.env("MASHOV_SMTP_URL", format!("smtp://127.0.0.1:{}", sink.port))
            .env("MASHOV_SECRET", &secret)
            .env("MASHOV_DIGEST_SCHEDULE", today_schedule());
        spawn_serve(cmd, &db)
    };
    let mut a = serve();
    let mut b = serve();
    sink.wait_for(20);
    std::thread::sleep(Duration::from_secs(2));
    a.kill_9();
    b.kill_9();
    let mut c = serve();
    std::thread::sleep(Duration::from_secs(3));
    c.kill_9();
    let got = sink.messages();
    assert_eq!(
        got.len(),
        20,
        "each recipient once, across two instances and a restart"
    );
    let to: std::collections::BTreeSet<String> = got.iter().flat_map(|m| m.to.clone()).collect();
    assert_eq!(to.len(), 20);
    // `digest send --now` for the same week queues nothing more.
    let o = command(&db, &["digest", "send", "--now"], 0)
        .output()
        .expect("send");
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("queued 0 digests"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

both_backends!(digest_recipients_are_checked_and_a_preview_is_written_to_disk);

fn digest_recipients_are_checked_and_a_preview_is_written_to_disk(kind: Kind) {
    let Some(db) = TestDb::new(kind) else { return };
    crate::process::migrate(&db);
    let run = |args: &[&str]| command(&db, args, 0).output().expect("run");
    let text = |o: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    let catalog = db.dir.path().join("c.csv");
    std::fs::write(
        &catalog,
        "department_code,department_name,service_code,service_name,sla_days\nsanitation,תברואה,sanitation.bins,פחים,5\n",
    )
    .expect("csv");
    assert!(run(&["catalog", "import", catalog.to_str().unwrap()])
        .status
        .success());
    let o = run(&[
        "digest",
        "recipients",
        "add",
        "Head@City.example",
        "--language",
        "he",
        "--all",
    ]);
    assert!(
        o.status.success() && text(&o).contains("added head@city.example"),
        "{}",
        text(&o)
    );
    let o = run(&[
        "digest",
        "recipients",
        "add",
        "head@city.example",
        "--language",
        "ru",
        "--departments",
        "sanitation",
    ]);
    assert!(
        text(&o).contains("updated"),
        "the same address is updated, not doubled: {}",
        text(&o)
    );
    for (args, expected, code) in [
        (vec!["not-an-email", "--all"], "not a valid email", 1),
        (
            vec!["x@city.example", "--language", "fr", "--all"],
            "--language",
            1,
        ),
        (
            vec!["x@city.example", "--departments", "sanitation,nowhere"],
            "nowhere",
            1,
        ),
        (vec!["x@city.example"], "--all", 2),
        (
            vec!["x@city.example", "--all", "--departments", "sanitation"],
            "cannot be used with",
            2,
        ),
    ] {
        let mut full = vec!["digest", "recipients", "add"];
        full.extend(args.iter());
        let o = run(&full);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(expected), "{args:?}: {}", text(&o));
    }
    let list = text(&run(&["digest", "recipients", "list"]));
    assert!(
        list.contains("head@city.example") && list.contains("ru") && list.contains("sanitation"),
        "{list}"
    );
    assert!(!list.contains("x@city.example"));

    let out = db.dir.path().join("preview.html");
    let o = run(&[
        "digest",
        "preview",
        "--recipient",
        "head@city.example",
        "--week",
        "2026-11-18",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let html = std::fs::read_to_string(&out).expect("html");
    assert!(html.contains(r#"<html lang="ru" dir="ltr">"#));
    assert!(
        html.contains("15.11–21.11.2026"),
        "any day names its Sunday-to-Saturday week"
    );
    assert!(html.contains(r#"src="preview.png""#));
    let png = std::fs::read(db.dir.path().join("preview.png")).expect("chart");
    assert!(png.starts_with(b"\x89PNG"));
    let o = run(&[
        "digest",
        "preview",
        "--recipient",
        "nobody@city.example",
        "--week",
        "2026-11-18",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let o = run(&[
        "digest",
        "preview",
        "--recipient",
        "head@city.example",
        "--week",
        "18/11/2026",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    // This week (it has not ended) and a week in the future have no digest yet.
    let today = mashov::domain::period::local_day(chrono::Utc::now()).to_string();
    for week in [today.as_str(), "2099-01-07"] {
        let o = run(&[
            "digest",
            "preview",
            "--recipient",
            "head@city.example",
            "--week",
            week,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(2), "{week}: {}", text(&o));
        assert!(text(&o).contains("has not ended"), "{}", text(&o));
    }

    assert!(
        run(&["digest", "recipients", "remove", "HEAD@city.example"])
            .status
            .success()
    );
    assert_eq!(
        run(&["digest", "recipients", "remove", "head@city.example"])
            .status
            .code(),
        Some(1)
    );
}
