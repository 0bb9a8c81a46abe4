//! The public figures, over real HTTP on both backends: only departments with enough answers,
//! the change against the 90 days before, no comments and nothing about a person, the same
//! figures as JSON, and served from memory between computations.

use chrono::{Duration, TimeZone};

use crate::both_backends;
use crate::helpers::{resp, spawn_app_with, Kind, TestApp};

both_backends!(
    the_public_page_shows_departments_with_enough_answers_and_nothing_personal,
    the_public_figures_are_computed_once_and_served_from_memory,
);

fn app(kind: Kind, min: i64) -> Option<TestApp> {
    let start = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
    spawn_app_with(kind, start, move |s| s.transparency_min_answers = min)
}

/// `n` residents of `service` answer on `day`, `happy` of them with a 5, the others with a 1.
fn answers(
    app: &TestApp,
    tag: &str,
    service: &str,
    day: chrono::DateTime<chrono::Utc>,
    n: usize,
    happy: usize,
) {
    app.clock.set(day);
    for i in 0..n {
        let overall = if i < happy { "5" } else { "1" };
        let comment = format!("סוד של תושב {tag}-{i}");
        app.resident_answer(
            &format!("{tag}-{i}"),
            service,
            &[
                ("overall", overall),
                ("resolved", "resolved"),
                ("comment", &comment),
            ],
        );
    }
}

fn get(app: &TestApp, path: &str) -> crate::helpers::Resp {
    resp(ureq::get(&app.url(path)).call())
}

fn the_public_page_shows_departments_with_enough_answers_and_nothing_personal(kind: Kind) {
    let Some(app) = app(kind, 10) else { return };
    let now = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
    // Sanitation: 12 answers in the period (9 happy), 10 before it (5 happy). Engineering: 9.
    answers(
        &app,
        "san-now",
        "sanitation.bulky-waste",
        now - Duration::days(20),
        12,
        9,
    );
    answers(
        &app,
        "san-before",
        "sanitation.bulky-waste",
        now - Duration::days(120),
        10,
        5,
    );
    answers(
        &app,
        "eng",
        "engineering.hazard",
        now - Duration::days(10),
        9,
        9,
    );
    app.clock.set(now);

    let r = get(&app, "/api/v1/public/summary.json");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.header("cache-control").unwrap_or("").contains("public"));
    let body = r.json();
    assert_eq!(body["min_answers"], 10);
    assert_eq!(body["to"], "2026-11-30");
    assert_eq!(body["from"], "2026-09-02");
    let departments = body["departments"].as_array().unwrap();
    assert_eq!(departments.len(), 1, "engineering has 9 answers: {body}");
    let san = &departments[0];
    assert_eq!(san["code"], "sanitation");
    assert_eq!(san["answers"], 12);
    assert_eq!(san["csat"], 0.75);
    assert_eq!(san["csat_before"], 0.5);
    assert_eq!(san["csat_change"], 0.25);
    assert_eq!(san["resolution_rate"], 1.0);
    // Three bad answers opened three cases, still within their time: neither on time nor
    // late yet, so no share is shown.
    assert_eq!(san["followups"], 3);
    assert!(san["followups_within_sla"].is_null(), "{san}");
    assert_eq!(san["names"]["he"], "אגף תברואה");
    assert!(!r.body.contains("סוד") && !r.body.contains("@example.org"));

    let page = get(&app, "/transparency");
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"<html lang="he" dir="rtl">"#));
    assert!(page.body.contains("אגף תברואה") && page.body.contains("75%"));
    assert!(!page.body.contains("אגף הנדסה"), "too few answers to show");
    assert!(!page.body.contains("סוד") && !page.body.contains("@example.org"));
    let en = get(&app, "/transparency?lang=en");
    assert!(en.body.contains(r#"<html lang="en" dir="ltr">"#));
    assert!(en.body.contains("up 25 points"), "{}", en.body);
    assert_eq!(get(&app, "/transparency?lang=xx").status, 404);
}

fn the_public_figures_are_computed_once_and_served_from_memory(kind: Kind) {
    let Some(app) = app(kind, 10) else { return };
    let day = |d: u32, h: u32, m: u32| chrono::Utc.with_ymd_and_hms(2026, 11, d, h, m, 0).unwrap();
    answers(&app, "a", "sanitation.bulky-waste", day(26, 8, 0), 10, 10);
    answers(&app, "b", "sanitation.bulky-waste", day(30, 10, 0), 2, 0);
    // Two minutes before midnight in Israel (21:58 UTC) on 30 November: the period ends on the
    // 29th, so the two answers of the 30th are not in it.
    app.clock.set(day(30, 21, 58));
    let first = get(&app, "/api/v1/public/summary.json").json();
    assert_eq!(first["to"], "2026-11-29");
    assert_eq!(first["departments"][0]["answers"], 10);
    // Four minutes later it is 1 December: a new computation would end on the 30th, but the
    // figures computed four minutes ago are served as they were.
    app.clock.set(day(30, 22, 2));
    assert_eq!(get(&app, "/api/v1/public/summary.json").json(), first);
    assert!(get(&app, "/transparency").body.contains("29.11.2026"));
    // Past five minutes they are computed again.
    app.clock.set(day(30, 22, 4));
    let later = get(&app, "/api/v1/public/summary.json").json();
    assert_eq!(later["to"], "2026-11-30");
    assert_eq!(later["departments"][0]["answers"], 12);
    // Other methods are not served.
    let r = resp(ureq::post(&app.url("/api/v1/public/summary.json")).send_string("{}"));
    assert!(r.status == 404 || r.status == 405, "{}", r.status);
}
