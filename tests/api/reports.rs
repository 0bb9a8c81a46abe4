//! The reports API on hand-built data with known answers, its refusals, and the same numbers
//! from SQLite and PostgreSQL.

use chrono::{Duration, TimeZone, Utc};
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{spawn_app_with, Kind, TestApp};

both_backends!(
    figures_match_their_definitions_on_a_known_data_set,
    bad_report_parameters_are_named_with_422,
    comments_are_paged_newest_first_by_a_next_token,
);

/// Reports a resident request on `service` by `channel` and answers it with `answer` (unless
/// empty); returns nothing, asserts everything went through.
fn answered(app: &TestApp, id: &str, service: &str, channel: &str, answer: &[(&str, &str)]) {
    let mut body = app.interaction(id, "he");
    body["service_code"] = json!(service);
    body["channel"] = json!(channel);
    let r = app.report(&body);
    assert_eq!(r.status, 201, "{}", r.body);
    if answer.is_empty() {
        return;
    }
    let url = r.json()["survey_url"].as_str().expect("url").to_string();
    let path = url.strip_prefix(&app.address).expect("origin").to_string();
    let r = app.post_form(&path, answer);
    assert_eq!(r.status, 303, "{}", r.body);
}

/// Removes a key from every object in a JSON value.
fn strip(v: &mut Value, key: &str) {
    match v {
        Value::Object(map) => {
            map.remove(key);
            for child in map.values_mut() {
                strip(child, key);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|c| strip(c, key)),
        _ => {}
    }
}

fn get(app: &TestApp, query: &str) -> Value {
    let r = app.get_api(&format!("/api/v1/reports/{query}"));
    assert_eq!(r.status, 200, "{query}: {}", r.body);
    r.json()
}

fn figures_match_their_definitions_on_a_known_data_set(kind: Kind) {
    // Thursday 12 November 2026, 10:00 in Israel.
    let start = Utc.with_ymd_and_hms(2026, 11, 12, 8, 0, 0).unwrap();
    let Some(app) = spawn_app_with(kind, start, |s| s.send_rules.frequency_cap = None) else {
        return;
    };
    let empty = get(&app, "summary?from=2026-11-01&to=2026-11-30");
    assert_eq!(empty["responses"], 0);
    assert_eq!(empty["csat"], json!({"value": null, "n": 0, "ci95": null}));
    assert_eq!(empty["nps"], json!({"value": null, "n": 0}));

    let s = "sanitation.bulky-waste";
    answered(
        &app,
        "A",
        s,
        "phone",
        &[("overall", "5"), ("effort", "7"), ("resolved", "resolved")],
    );
    answered(
        &app,
        "B",
        s,
        "phone",
        &[
            ("overall", "4"),
            ("effort", "1"),
            ("resolved", "not_resolved"),
        ],
    );
    answered(
        &app,
        "C",
        s,
        "web",
        &[("overall", "2"), ("resolved", "partially")],
    );
    answered(&app, "D", s, "web", &[]);
    answered(
        &app,
        "E",
        "engineering.hazard",
        "phone",
        &[("overall", "1"), ("effort", "4")],
    );
    // The next week (Sunday 15 November): one more, on the web.
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 15, 8, 0, 0).unwrap());
    answered(
        &app,
        "F",
        s,
        "web",
        &[("overall", "3"), ("resolved", "resolved")],
    );

    let all = get(&app, "summary?from=2026-11-01&to=2026-11-30");
    assert_eq!(all["from"], "2026-11-01");
    assert_eq!(all["invitations"], 6);
    assert_eq!(all["responses"], 5);
    assert_eq!(all["response_rate"], json!({"value": 0.8333, "n": 6}));
    // CSAT: 4s and 5s of the overall answers: 2 of 5.
    assert_eq!(all["csat"]["value"], 0.4);
    assert_eq!(all["csat"]["n"], 5);
    let ci = all["csat"]["ci95"].as_array().expect("interval");
    let (lo, hi) = (ci[0].as_f64().unwrap(), ci[1].as_f64().unwrap());
    assert!(
        (lo - 0.1176).abs() < 0.0001 && (hi - 0.7693).abs() < 0.0001,
        "{ci:?}"
    );
    // CES: mean of 7, 1, 4.
    assert_eq!(all["ces"], json!({"value": 4.0, "n": 3}));
    // Resolution: "resolved" of all answers to it, partially counting as not: 2 of 4.
    assert_eq!(all["resolution_rate"]["value"], 0.5);
    assert_eq!(all["resolution_rate"]["n"], 4);
    // This survey asks no NPS question.
    assert_eq!(all["nps"], json!({"value": null, "n": 0}));
    // Every scale question has its figure: the mean, the share of its two top points, n.
    let questions = all["questions"].as_array().expect("questions");
    let ids: Vec<&str> = questions.iter().filter_map(|q| q["id"].as_str()).collect();
    assert_eq!(ids, ["overall", "effort", "professionalism"]);
    // Overall 5, 4, 2, 1, 3: its top two points are CSAT's.
    assert_eq!(questions[0]["mean"], 3.0);
    assert_eq!(questions[0]["top_two"]["value"], all["csat"]["value"]);
    // Effort 7, 1, 4 of 7: one of three in 6–7.
    assert_eq!(questions[1]["mean"], 4.0);
    assert_eq!(questions[1]["top_two"]["value"], 0.3333);
    assert_eq!(questions[1]["n"], 3);
    // Asked, never answered here: no value, n 0.
    assert_eq!(questions[2]["mean"], Value::Null);
    assert_eq!(questions[2]["n"], 0);
    assert!(questions[2]["text"]
        .as_str()
        .is_some_and(|t| t.contains("מקצועי")));

    let by_service = get(&app, "breakdown?from=2026-11-01&to=2026-11-30&by=service");
    let rows = by_service["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 2);
    let eng = &rows[0];
    assert_eq!(eng["key"], "engineering.hazard");
    assert_eq!(eng["label"], "מפגע בטיחותי");
    // Asked in English, labels are the catalog's English names (Hebrew where it has none).
    let english = get(
        &app,
        "breakdown?from=2026-11-01&to=2026-11-30&by=service&lang=en",
    );
    assert_eq!(english["rows"][0]["label"], "Safety hazard");
    let arabic = get(
        &app,
        "breakdown?from=2026-11-01&to=2026-11-30&by=service&lang=ar",
    );
    assert_eq!(arabic["rows"][0]["label"], "מפגע בטיחותי");
    assert_eq!(
        (eng["invitations"].clone(), eng["responses"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(eng["csat"]["value"], 0.0);
    let san = &rows[1];
    assert_eq!(san["responses"], 4);
    assert_eq!(san["csat"]["value"], 0.5);
    assert_eq!(san["response_rate"]["value"], 0.8);

    let by_channel = get(
        &app,
        "breakdown?from=2026-11-01&to=2026-11-30&by=channel&lang=en",
    );
    let keys: Vec<(String, String, i64)> = by_channel["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap().to_string(),
                r["label"].as_str().unwrap().to_string(),
                r["responses"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        vec![
            ("phone".into(), "Phone".into(), 3),
            ("web".into(), "Web site".into(), 2)
        ]
    );

    // Weeks run Sunday to Saturday: 8–14 November and 15–21 November.
    let weeks = get(&app, "breakdown?from=2026-11-01&to=2026-11-30&by=week");
    let weeks = weeks["rows"].as_array().expect("rows");
    assert_eq!(weeks.len(), 2);
    assert_eq!(weeks[0]["key"], "2026-11-08");
    assert_eq!(weeks[0]["label"], "2026-11-08 – 2026-11-14");
    assert_eq!(weeks[0]["responses"], 4);
    assert_eq!(weeks[1]["key"], "2026-11-15");
    assert_eq!(weeks[1]["responses"], 1);

    let by_dept = get(
        &app,
        "breakdown?from=2026-11-01&to=2026-11-30&by=department",
    );
    let depts = by_dept["rows"].as_array().expect("rows");
    assert_eq!(depts[0]["key"], "engineering");
    assert_eq!(depts[1]["key"], "sanitation");
    assert_eq!(depts[1]["label"], "אגף תברואה");

    // Filters: by department, by service, by channel, and a period with one answer in it.
    let eng = get(
        &app,
        "summary?from=2026-11-01&to=2026-11-30&department=engineering",
    );
    assert_eq!(eng["responses"], 1);
    let web = get(
        &app,
        "summary?from=2026-11-01&to=2026-11-30&channel=web&service=sanitation.bulky-waste",
    );
    assert_eq!(
        (web["invitations"].clone(), web["responses"].clone()),
        (json!(3), json!(2))
    );
    let one = get(&app, "summary?from=2026-11-15&to=2026-11-15");
    assert_eq!(one["responses"], 1);
    assert_eq!(one["csat"]["value"], 0.0);
    let ci = one["csat"]["ci95"].as_array().expect("interval");
    assert_eq!(ci[0], 0.0);
    assert!(ci[1].as_f64().unwrap() > 0.7, "one answer: a wide interval");
    let october = get(&app, "summary?from=2026-10-01&to=2026-10-31");
    assert_eq!(october["responses"], 0);

    // A month later every day above is frozen into the rollups: the same figures.
    let queries = [
        "summary?from=2026-11-01&to=2026-11-30",
        "breakdown?from=2026-11-01&to=2026-11-30&by=service",
        "breakdown?from=2026-11-01&to=2026-11-30&by=week",
        "summary?from=2026-11-01&to=2026-11-30&channel=web&service=sanitation.bulky-waste",
    ];
    // (Cases are left out: what is overdue changes with the day, as it should.)
    let without_cases = |q: &&str| {
        let mut v = get(&app, q);
        strip(&mut v, "followups");
        v
    };
    let live: Vec<Value> = queries.iter().map(without_cases).collect();
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 12, 20, 8, 0, 0).unwrap());
    let rolled: Vec<Value> = queries.iter().map(without_cases).collect();
    assert!(live == rolled, "live {live:?}\nrolled {rolled:?}");
    let mut conn = app.conn();
    assert!(crate::helpers::count(&mut conn, "SELECT COUNT(*) AS n FROM report_response_days") > 0);
    assert!(
        crate::helpers::count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM report_invitation_days"
        ) > 0
    );
    assert!(
        crate::helpers::count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM report_response_months"
        ) > 0
    );
    for table in ["report_answer_days", "report_answer_months"] {
        let n = crate::helpers::count(&mut conn, &format!("SELECT COUNT(*) AS n FROM {table}"));
        assert!(n > 0, "{table} is empty");
    }
    drop(conn);

    // A hostile comment comes back as data, to be escaped by whoever shows it.
    answered(
        &app,
        "G",
        s,
        "web",
        &[
            ("overall", "5"),
            ("comment", "<img src=x onerror=alert(1)>"),
        ],
    );
    let comments = get(&app, "comments?from=2026-11-01&to=2026-12-31");
    assert_eq!(
        comments["comments"][0]["text"],
        "<img src=x onerror=alert(1)>"
    );
    let r = app.get_api("/api/v1/reports/comments?from=2026-11-01&to=2026-12-31");
    assert!(r
        .header("content-type")
        .unwrap_or_default()
        .starts_with("application/json"));
}

fn bad_report_parameters_are_named_with_422(kind: Kind) {
    let Some(app) = spawn_app_with(kind, Utc::now(), |_| {}) else {
        return;
    };
    let cases = [
        ("summary", "to=2026-11-30", vec!["from"]),
        ("summary", "from=2026-11-31&to=2026-12-01", vec!["from"]),
        ("summary", "from=2026-11-10&to=2026-11-01", vec!["to"]),
        ("summary", "from=2023-01-01&to=2026-01-01", vec!["to"]),
        (
            "summary",
            "from=2026-11-01&to=2026-11-30&audience=everyone",
            vec!["audience"],
        ),
        (
            "summary",
            "from=2026-11-01&to=2026-11-30&department=nowhere",
            vec!["department"],
        ),
        (
            "summary",
            "from=2026-11-01&to=2026-11-30&service=%3Cscript%3E",
            vec!["service"],
        ),
        (
            "summary",
            "from=2026-11-01&to=2026-11-30&channel=fax",
            vec!["channel"],
        ),
        (
            "summary",
            "from=2026-11-01&to=2026-11-30&depatment=hr",
            vec!["depatment"],
        ),
        (
            "summary",
            "from=2026-11-01&from=2026-11-02&to=2026-11-30",
            vec!["from"],
        ),
        ("breakdown", "from=2026-11-01&to=2026-11-30", vec!["by"]),
        (
            "breakdown",
            "from=2026-11-01&to=2026-11-30&by=mood",
            vec!["by"],
        ),
        (
            "comments",
            "from=2026-11-01&to=2026-11-30&limit=100000",
            vec!["limit"],
        ),
    ];
    for (what, query, fields) in cases {
        let r = app.get_api(&format!("/api/v1/reports/{what}?{query}"));
        assert_eq!(r.status, 422, "{what}?{query}: {}", r.body);
        let body = r.json();
        for f in fields {
            assert!(
                body["fields"][f].is_string(),
                "{what}?{query} names {f}: {body}"
            );
        }
    }
    let r = app.get("/api/v1/reports/summary?from=2026-11-01&to=2026-11-30");
    assert_eq!(r.status, 401, "reports need a key");
    let long = "x".repeat(10_000);
    let r = app.get_api(&format!(
        "/api/v1/reports/summary?from={long}&to=2026-11-30"
    ));
    assert!(
        r.status == 422 || r.status == 431 || r.status == 400,
        "{}",
        r.status
    );
}

/// The same generated data set gives the same figures, to the last digit, on both backends.
#[test]
fn sqlite_and_postgresql_give_the_same_numbers() {
    let start = Utc.with_ymd_and_hms(2026, 9, 1, 7, 0, 0).unwrap();
    let configure = |s: &mut mashov::config::Settings| s.send_rules.frequency_cap = None;
    let Some(pg) = spawn_app_with(Kind::Postgres, start, configure) else {
        return;
    };
    let lite = spawn_app_with(Kind::Sqlite, start, configure).expect("sqlite");
    let services = ["sanitation.bulky-waste", "engineering.hazard"];
    let channels = ["phone", "web", "app", "walk_in"];
    // A small linear congruential generator: the same "random" answers on both.
    let mut seed: u64 = 20261128;
    let mut next = |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    for i in 0..240 {
        let service = services[next(2) as usize];
        let channel = channels[next(4) as usize];
        let overall = (1 + next(5)).to_string();
        let effort = (1 + next(7)).to_string();
        let resolved = ["resolved", "partially", "not_resolved"][next(3) as usize];
        let answer_it = next(10) < 7;
        let answer: Vec<(&str, &str)> = if answer_it {
            vec![
                ("overall", &overall),
                ("effort", &effort),
                ("resolved", resolved),
            ]
        } else {
            Vec::new()
        };
        for app in [&pg, &lite] {
            answered(app, &format!("GEN-{i}"), service, channel, &answer);
        }
        // Spread over about four months, crossing midnights and weeks.
        let step = Duration::minutes(300 + next(900) as i64);
        pg.clock.advance(step);
        lite.clock.advance(step);
    }
    for query in [
        "summary?from=2026-09-01&to=2026-12-31",
        "summary?from=2026-10-04&to=2026-10-17&channel=web",
        "breakdown?from=2026-09-01&to=2026-12-31&by=service",
        "breakdown?from=2026-09-01&to=2026-12-31&by=department",
        "breakdown?from=2026-09-01&to=2026-12-31&by=channel",
        "breakdown?from=2026-09-01&to=2026-12-31&by=week",
        "breakdown?from=2026-09-01&to=2026-12-31&by=month",
    ] {
        let a = get(&pg, query);
        let b = get(&lite, query);
        assert_eq!(a, b, "{query}");
        assert!(a.to_string().contains("\"responses\""), "{query}");
    }
    let total = get(&pg, "summary?from=2026-09-01&to=2027-03-31");
    assert_eq!(total["invitations"], 240);
    assert!(total["responses"].as_i64().unwrap() > 120);
}

fn comments_are_paged_newest_first_by_a_next_token(kind: Kind) {
    let start = Utc.with_ymd_and_hms(2026, 11, 10, 8, 0, 0).unwrap();
    let Some(app) = spawn_app_with(kind, start, |s| s.send_rules.frequency_cap = None) else {
        return;
    };
    // Seven comments over three days.
    for i in 0..7 {
        let text = format!("הערה {i}");
        answered(
            &app,
            &format!("C-{i}"),
            "sanitation.bulky-waste",
            "web",
            &[("overall", "4"), ("comment", &text)],
        );
        if i % 3 == 2 {
            app.clock.advance(chrono::Duration::days(1));
        }
    }
    let query = "comments?from=2026-11-01&to=2026-11-30";
    let all = get(&app, &format!("{query}&limit=500"));
    assert!(all["next"].is_null());
    let all: Vec<Value> = all["comments"].as_array().expect("list").clone();
    assert_eq!(all.len(), 7);
    let days: Vec<&str> = all
        .iter()
        .map(|c| c["period"].as_str().expect("day"))
        .collect();
    let mut newest_first = days.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(days, newest_first);
    let mut walked = Vec::new();
    let mut next: Option<String> = None;
    for page in 1.. {
        let q = match &next {
            None => format!("{query}&limit=3"),
            Some(n) => format!("{query}&limit=3&next={n}"),
        };
        let p = get(&app, &q);
        walked.extend(p["comments"].as_array().expect("list").iter().cloned());
        next = p["next"].as_str().map(str::to_string);
        if next.is_none() {
            assert_eq!(page, 3);
            break;
        }
        assert!(page < 5, "the walk ends");
    }
    assert_eq!(walked, all, "every comment once, in order");
    for bad in ["&next=x", "&next=Ygo", "&limit=0", "&limit=501"] {
        let r = app.get_api(&format!("/api/v1/reports/{query}{bad}"));
        assert_eq!(r.status, 422, "{bad}: {}", r.body);
    }
}
