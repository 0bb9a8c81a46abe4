//! Privacy retention: residents' contact details are erased a set period after their survey
//! closes (cases keep theirs until closed plus the same period), answers stay, and a person's
//! details are erased everywhere on request, by the command line, with a log entry that does not
//! name them.

use chrono::TimeZone;

use crate::both_backends;
use crate::helpers::{count, spawn_app_with, Kind, TestApp};
use crate::process::mashov;
use mashov::services::privacy;

both_backends!(
    contact_details_are_erased_after_their_retention_and_answers_stay,
    a_person_is_erased_everywhere_on_request,
);

fn app(kind: Kind) -> Option<TestApp> {
    spawn_app_with(
        kind,
        chrono::Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap(),
        |s| s.send_rules.frequency_cap = None,
    )
}

/// Reports a request with `email` and answers it with `answers` (none: left unanswered).
fn request(app: &TestApp, id: &str, email: &str, answers: &[(&str, &str)]) {
    let mut body = app.interaction(id, "he");
    body["contact"]["email"] = email.into();
    let r = app.report(&body);
    assert_eq!(r.status, 201, "{}", r.body);
    if answers.is_empty() {
        return;
    }
    let url = r.json()["survey_url"].as_str().expect("url").to_string();
    let path = url.strip_prefix(&app.address).expect("origin").to_string();
    assert_eq!(app.post_form(&path, answers).status, 303);
}

fn with_contact(app: &TestApp, table: &str) -> i64 {
    count(
        &mut app.conn(),
        &format!(
            "SELECT COUNT(*) AS n FROM {table} WHERE contact_email IS NOT NULL \
             OR contact_phone IS NOT NULL OR contact_name IS NOT NULL"
        ),
    )
}

fn contact_details_are_erased_after_their_retention_and_answers_stay(kind: Kind) {
    let Some(app) = app(kind) else { return };
    request(&app, "P-1", "a@example.org", &[("overall", "5")]);
    request(
        &app,
        "P-2",
        "b@example.org",
        &[("overall", "1"), ("contact_consent", "yes")],
    );
    let cases = app.get_api("/api/v1/followups").json();
    let case = cases["followups"][0]["id"]
        .as_str()
        .expect("case")
        .to_string();
    let r = ureq::AgentBuilder::new()
        .build()
        .request("PATCH", &app.url(&format!("/api/v1/followups/{case}")))
        .set("Authorization", &format!("Bearer {}", app.api_key))
        .set("Content-Type", "application/json")
        .send_string(r#"{"status": "closed", "note": "called back"}"#)
        .expect("closed");
    assert_eq!(r.status(), 200);
    // Unanswered: its link stays open for two weeks.
    app.clock.advance(chrono::Duration::days(80));
    request(&app, "P-3", "c@example.org", &[]);
    assert_eq!(with_contact(&app, "interactions"), 3);
    assert_eq!(with_contact(&app, "followups"), 1);
    let answers = count(&mut app.conn(), "SELECT COUNT(*) AS n FROM answers");

    // 91 days on: the first two surveys closed more than 90 days ago, the third is still open.
    app.clock.advance(chrono::Duration::days(11));
    let now = app.clock_now();
    let ninety = chrono::Duration::days(90);
    let dry = privacy::purge(&mut app.conn(), ninety, now, true).expect("dry run");
    assert_eq!((dry.interactions, dry.cases), (2, 1));
    assert_eq!(
        with_contact(&app, "interactions"),
        3,
        "a dry run erases nothing"
    );
    let done = privacy::purge(&mut app.conn(), ninety, now, false).expect("purge");
    assert_eq!(done, dry);
    assert_eq!(with_contact(&app, "interactions"), 1);
    assert_eq!(with_contact(&app, "followups"), 0);
    let kept = count(
        &mut app.conn(),
        "SELECT COUNT(*) AS n FROM interactions WHERE contact_email = 'c@example.org'",
    );
    assert_eq!(kept, 1, "a survey still open keeps its address");
    assert_eq!(
        count(&mut app.conn(), "SELECT COUNT(*) AS n FROM answers"),
        answers
    );
    // Nothing left to erase: a second run is a no-op.
    let again = privacy::purge(&mut app.conn(), ninety, now, false).expect("purge");
    assert_eq!((again.interactions, again.cases, again.emails), (0, 0, 0));
    // The reports still count every answer.
    let summary = app.get_api("/api/v1/reports/summary?from=2026-03-01&to=2026-03-31");
    assert_eq!(summary.json()["responses"], 2);
}

fn a_person_is_erased_everywhere_on_request(kind: Kind) {
    let Some(app) = app(kind) else { return };
    request(
        &app,
        "E-1",
        "Dana@Example.org",
        &[("overall", "1"), ("contact_consent", "yes")],
    );
    request(&app, "E-2", "dana@example.org", &[]);
    request(&app, "E-3", "other@example.org", &[]);
    assert_eq!(with_contact(&app, "followups"), 1);

    let out = mashov(
        &app.db,
        &["privacy", "erase", "--email", "DANA@example.org"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("erased the contact details of 2 requests"),
        "{said}"
    );
    assert!(
        said.contains("erased the contact details of 1 follow-up cases"),
        "{said}"
    );
    assert_eq!(
        with_contact(&app, "interactions"),
        1,
        "only the other person's stays"
    );
    assert_eq!(with_contact(&app, "followups"), 0);
    let mut conn = app.conn();
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM outbox WHERE lower(recipient) = 'dana@example.org'"
        ),
        0
    );
    // The log says what was erased, never whose.
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'privacy.erase'"
        ),
        1
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM audit_log WHERE lower(target) LIKE '%dana%' \
             OR lower(after_value) LIKE '%dana%'"
        ),
        0
    );
    // Bad requests change nothing.
    for args in [
        vec!["privacy", "erase"],
        vec!["privacy", "erase", "--email", " "],
        vec!["privacy", "purge", "--now"],
    ] {
        let out = mashov(&app.db, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    let dry = mashov(&app.db, &["privacy", "purge", "--dry-run"]);
    assert!(dry.status.success());
    assert!(String::from_utf8_lossy(&dry.stdout).contains("would erase"));
    assert_eq!(with_contact(&app, "interactions"), 1);
}
