//! Follow-up cases: a bad answer opens one for the service's department, due in business days;
//! managers move it on through the API; reports count it.

use chrono::{TimeZone, Utc};
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{spawn_app_with, Kind, Resp, TestApp};

both_backends!(
    bad_answers_open_cases_that_are_listed_moved_on_and_counted,
    case_changes_refuse_bad_input,
    the_citys_holidays_do_not_count_toward_a_cases_due_day,
    the_case_list_is_paged_by_a_next_token_that_skips_and_repeats_nothing,
);

/// Reports a request on `service` and answers it; returns the answer's path.
fn answer(app: &TestApp, id: &str, service: &str, pairs: &[(&str, &str)]) {
    let mut body = app.interaction(id, "he");
    body["service_code"] = json!(service);
    let r = app.report(&body);
    assert_eq!(r.status, 201, "{}", r.body);
    let url = r.json()["survey_url"].as_str().expect("url").to_string();
    let path = url.strip_prefix(&app.address).expect("origin").to_string();
    let r = app.post_form(&path, pairs);
    assert_eq!(r.status, 303, "{}", r.body);
}

fn patch(app: &TestApp, id: &str, body: &Value) -> Resp {
    let r = ureq::AgentBuilder::new()
        .build()
        .request("PATCH", &app.url(&format!("/api/v1/followups/{id}")))
        .set("Authorization", &format!("Bearer {}", app.api_key))
        .set("Content-Type", "application/json")
        .send_string(&body.to_string());
    let r = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{e}"),
    };
    Resp {
        status: r.status(),
        headers: Default::default(),
        body: r.into_string().expect("body"),
    }
}

fn cases(app: &TestApp, query: &str) -> Vec<Value> {
    let r = app.get_api(&format!("/api/v1/followups{query}"));
    assert_eq!(r.status, 200, "{query}: {}", r.body);
    r.json()["followups"].as_array().expect("list").clone()
}

fn bad_answers_open_cases_that_are_listed_moved_on_and_counted(kind: Kind) {
    // Thursday 26 November 2026, 10:00 in Israel.
    let start = Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap();
    let Some(app) = spawn_app_with(kind, start, |s| s.send_rules.frequency_cap = None) else {
        return;
    };
    let s = "sanitation.bulky-waste"; // SLA 3 business days
    answer(
        &app,
        "LOW",
        s,
        &[("overall", "2"), ("contact_consent", "yes")],
    );
    answer(
        &app,
        "UNRESOLVED",
        s,
        &[
            ("overall", "5"),
            ("resolved", "not_resolved"),
            ("contact_consent", "no"),
        ],
    );
    answer(
        &app,
        "FINE",
        s,
        &[("overall", "4"), ("resolved", "resolved")],
    );
    answer(&app, "HAZARD", "engineering.hazard", &[("overall", "1")]);
    // An employee's bad answer opens nothing: a case would name them.
    let r = app.report(&app.employee_ticket("HR-9", "hr.payslip", "emp@city.example"));
    let url = r.json()["survey_url"].as_str().expect("url").to_string();
    let r = app.post_form(
        url.strip_prefix(&app.address).expect("origin"),
        &[("overall", "1")],
    );
    assert_eq!(r.status, 303);

    let all = cases(&app, "");
    assert_eq!(all.len(), 3, "{all:?}");
    let low = all
        .iter()
        .find(|c| c["reason"] == json!(["low_overall"]) && c["department"] == "sanitation")
        .expect("low case");
    assert_eq!(low["department"], "sanitation");
    assert_eq!(low["status"], "open");
    assert_eq!(low["opened_on"], "2026-11-26");
    // Thursday + 3 business days: Sunday, Monday, Tuesday.
    assert_eq!(low["due_on"], "2026-12-01");
    assert_eq!(
        low["contact"]["name"], "רות כהן",
        "consented: the contact comes along"
    );
    assert!(low["contact"]["email"]
        .as_str()
        .unwrap()
        .ends_with("@example.org"));
    let unresolved = all
        .iter()
        .find(|c| c["reason"] == json!(["not_resolved"]))
        .expect("case");
    assert!(
        unresolved["contact"].is_null(),
        "no consent, no contact details"
    );
    assert_eq!(cases(&app, "?department=sanitation").len(), 2);
    assert_eq!(cases(&app, "?department=engineering").len(), 1);
    assert_eq!(cases(&app, "?status=open").len(), 3);
    assert_eq!(cases(&app, "?overdue=true").len(), 0);

    // Monday: the first case is closed, within its SLA; the hazard is being handled.
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap());
    let id = low["id"].as_str().unwrap();
    let r = patch(
        &app,
        id,
        &json!({"status": "closed", "note": "התקשרנו והפינוי בוצע"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let closed = r.json();
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["closed_on"], "2026-11-30");
    assert_eq!(closed["notes"][0]["note"], "התקשרנו והפינוי בוצע");
    let hazard = cases(&app, "?department=engineering")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        patch(&app, &hazard, &json!({"status": "in_progress"})).status,
        200
    );
    assert_eq!(cases(&app, "?status=in_progress").len(), 1);

    // Wednesday 2 December: the two still open are past their due day.
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).unwrap());
    let overdue = cases(&app, "?overdue=true");
    assert_eq!(overdue.len(), 2);
    assert!(overdue.iter().all(|c| c["overdue"] == true));
    assert_eq!(cases(&app, "?overdue=true&department=engineering").len(), 1);

    let r = app.get_api("/api/v1/reports/summary?from=2026-11-01&to=2026-12-31");
    assert_eq!(
        r.json()["followups"],
        json!({"opened": 3, "closed_within_sla": 1, "open": 2, "overdue": 2})
    );
    let r = app.get_api("/api/v1/reports/breakdown?from=2026-11-01&to=2026-12-31&by=department");
    let rows = r.json()["rows"].as_array().expect("rows").clone();
    let sanitation = rows.iter().find(|r| r["key"] == "sanitation").expect("row");
    assert_eq!(
        sanitation["followups"],
        json!({"opened": 2, "closed_within_sla": 1, "open": 1, "overdue": 1})
    );
    let r = app.get_api("/api/v1/reports/summary?from=2026-11-01&to=2026-12-31&audience=employee");
    assert!(
        r.json().get("followups").is_none(),
        "employees have no cases"
    );
}

fn case_changes_refuse_bad_input(kind: Kind) {
    let start = Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap();
    let Some(app) = spawn_app_with(kind, start, |_| {}) else {
        return;
    };
    answer(&app, "LOW", "sanitation.bulky-waste", &[("overall", "1")]);
    let id = cases(&app, "")[0]["id"].as_str().unwrap().to_string();
    for (body, field) in [
        (json!({"status": "closed"}), "note"),
        (json!({"status": "closed", "note": "   "}), "note"),
        (json!({"status": "open"}), "status"),
        (json!({"status": 5}), "status"),
        (json!({"note": "x"}), "status"),
        (
            json!({"status": "in_progress", "note": "x".repeat(2001)}),
            "note",
        ),
        (json!({"status": "in_progress", "note": ["x"]}), "note"),
        (json!([1, 2]), "body"),
    ] {
        let r = patch(&app, &id, &body);
        assert_eq!(r.status, 422, "{body}: {}", r.body);
        assert!(
            r.json()["fields"][field].is_string(),
            "{body} names {field}: {}",
            r.body
        );
    }
    let raw = ureq::AgentBuilder::new()
        .build()
        .request("PATCH", &app.url(&format!("/api/v1/followups/{id}")))
        .set("Authorization", &format!("Bearer {}", app.api_key))
        .set("Content-Type", "application/json")
        .send_string("{not json");
    assert!(matches!(raw, Err(ureq::Error::Status(400, _))));
    assert_eq!(
        patch(&app, "no-such-case", &json!({"status": "in_progress"})).status,
        404
    );
    let ok = patch(
        &app,
        &id,
        &json!({"status": "closed", "note": "<b>done</b>"}),
    );
    assert_eq!(ok.status, 200);
    assert_eq!(ok.json()["notes"][0]["note"], "<b>done</b>");
    assert_eq!(
        patch(
            &app,
            &id,
            &json!({"status": "in_progress", "note": "again"})
        )
        .status,
        409
    );
    for q in [
        "?status=lost",
        "?overdue=maybe",
        "?department=nowhere",
        "?sort=asc",
        "?status=open&status=closed",
    ] {
        assert_eq!(
            app.get_api(&format!("/api/v1/followups{q}")).status,
            422,
            "{q}"
        );
    }
    assert_eq!(app.get("/api/v1/followups").status, 401);
}

fn the_citys_holidays_do_not_count_toward_a_cases_due_day(kind: Kind) {
    // Thursday 17 September 2026 in Israel; Yom Kippur is Monday 21 September, and the city
    // closes for Sukkot from Friday 25 September to Saturday 3 October.
    let start = Utc.with_ymd_and_hms(2026, 9, 17, 8, 0, 0).unwrap();
    let Some(app) = spawn_app_with(kind, start, |s| {
        s.send_rules.frequency_cap = None;
        s.followup.holidays =
            mashov::domain::followup::Holidays::parse("2026-09-21,2026-09-25..2026-10-03")
                .expect("holidays");
    }) else {
        return;
    };
    // SLA 3 business days: Sunday 20, Tuesday 22, Wednesday 23.
    answer(
        &app,
        "BEFORE",
        "sanitation.bulky-waste",
        &[("overall", "1")],
    );
    // Opened on Thursday 24 September: Sunday 4, Monday 5 and Tuesday 6 October.
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 9, 24, 8, 0, 0).unwrap());
    answer(
        &app,
        "SUKKOT",
        "sanitation.bulky-waste",
        &[("overall", "2")],
    );
    let mut due: Vec<String> = cases(&app, "")
        .iter()
        .map(|c| c["due_on"].as_str().expect("due").to_string())
        .collect();
    due.sort();
    assert_eq!(due, ["2026-09-23", "2026-10-06"]);
    // On the last day of Sukkot the second case is not overdue yet.
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 10, 3, 8, 0, 0).unwrap());
    let overdue = cases(&app, "?overdue=true");
    assert_eq!(overdue.len(), 1, "{overdue:?}");
    assert_eq!(overdue[0]["due_on"], "2026-09-23");
}

fn the_case_list_is_paged_by_a_next_token_that_skips_and_repeats_nothing(kind: Kind) {
    let start = Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap();
    let Some(app) = spawn_app_with(kind, start, |s| s.send_rules.frequency_cap = None) else {
        return;
    };
    // Seven cases, two services with different SLAs, some opened at the same second.
    for i in 0..7 {
        let service = if i % 2 == 0 {
            "sanitation.bulky-waste"
        } else {
            "engineering.hazard"
        };
        answer(&app, &format!("PAGE-{i}"), service, &[("overall", "1")]);
        if i % 3 == 2 {
            app.clock.advance(chrono::Duration::minutes(5));
        }
    }
    let all: Vec<String> = cases(&app, "")
        .iter()
        .map(|c| c["id"].as_str().expect("id").to_string())
        .collect();
    assert_eq!(all.len(), 7);
    let page = |query: &str| {
        let r = app.get_api(&format!("/api/v1/followups{query}"));
        assert_eq!(r.status, 200, "{query}: {}", r.body);
        r.json()
    };
    let mut walked = Vec::new();
    let mut query = "?limit=3".to_string();
    let mut pages = 0;
    loop {
        let p = page(&query);
        pages += 1;
        let items = p["followups"].as_array().expect("list");
        assert!(items.len() <= 3);
        walked.extend(
            items
                .iter()
                .map(|c| c["id"].as_str().expect("id").to_string()),
        );
        match p["next"].as_str() {
            Some(next) => query = format!("?limit=3&next={next}"),
            None => break,
        }
        assert!(pages < 10, "the walk ends");
    }
    assert_eq!(pages, 3);
    assert_eq!(walked, all, "every case once, in the list's order");
    // A full last page says so: no token to an empty page.
    assert!(page("?limit=7")["next"].is_null());
    // Filters apply on every page.
    let first = page("?limit=1&status=open");
    let next = first["next"].as_str().expect("more open cases");
    let second = page(&format!("?limit=1&status=open&next={next}"));
    assert_ne!(first["followups"][0]["id"], second["followups"][0]["id"]);

    for bad in [
        "?limit=0",
        "?limit=1001",
        "?limit=ten",
        "?next=nonsense",
        "?next=MQoyMDI2LTEyLTAyCjEKJyBPUiAxPTEgLS0",
        "?limit=2&limit=3",
    ] {
        let r = app.get_api(&format!("/api/v1/followups{bad}"));
        assert_eq!(r.status, 422, "{bad}: {}", r.body);
    }
}
