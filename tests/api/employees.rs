//! Employees rate internal units after a ticket, anonymously: what is stored keeps nothing that
//! leads back to them, and no report surface shows a group smaller than the minimum.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{TimeZone, Utc};
use diesel::prelude::*;
use serde_json::Value;

use crate::both_backends;
use crate::helpers::{count, spawn_app_with, Clock, Kind, TestApp};
use mashov::db::inbox::InboxRow;
use mashov::db::responses::{AnswerRow, ResponseRow};
use mashov::db::schema::{anonymous_inbox, answers, invitations, responses};

both_backends!(
    an_internal_ticket_gets_the_internal_survey_and_its_answer_keeps_nothing_of_the_employee,
    a_curious_unit_manager_cannot_read_or_compute_any_group_below_the_minimum,
    sealed_answers_survive_a_wrong_key_and_tampering_and_move_exactly_once,
    every_sealed_answer_has_one_size_whatever_was_answered,
);

fn path_of(app: &TestApp, r: &crate::helpers::Resp) -> String {
    let url = r.json()["survey_url"]
        .as_str()
        .expect("survey_url")
        .to_string();
    url.strip_prefix(&app.address)
        .expect("own origin")
        .to_string()
}

fn an_internal_ticket_gets_the_internal_survey_and_its_answer_keeps_nothing_of_the_employee(
    kind: Kind,
) {
    let start = Utc.with_ymd_and_hms(2026, 10, 14, 9, 30, 0).unwrap();
    // Without the general frequency cap, so that the employee rule is what is seen.
    let Some(app) = spawn_app_with(kind, start, |s| s.send_rules.frequency_cap = None) else {
        return;
    };
    let email = "dana.levi@city.example";
    let r = app.report(&app.employee_ticket("HR-1", "hr.payslip", email));
    assert_eq!(r.status, 201, "{}", r.body);
    let path = path_of(&app, &r);

    // A resident service cannot be an employee's, nor the other way round.
    let r = app.report(&app.employee_ticket("HR-2", "sanitation.bulky-waste", "x@city.example"));
    assert_eq!(r.status, 422);
    assert!(r.json()["fields"]["service_code"]
        .as_str()
        .unwrap()
        .contains("internal"));

    let page = app.get(&path);
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"<html lang="he" dir="rtl">"#));
    assert!(
        page.body.contains(r#"name="timeliness""#),
        "the internal survey"
    );
    assert!(
        !page.body.contains(r#"name="resolved""#),
        "not the residents' survey"
    );
    assert!(page.body.contains("התשובות אנונימיות"));

    let r = app.post_form(
        &path,
        &[
            ("overall", "2"),
            ("effort", "3"),
            ("timeliness", "4"),
            ("comment", "<b>slow</b> & late"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(app.post_form(&path, &[("overall", "5")]).status, 409);

    let mut conn = app.conn();
    // Until its month is over the answer waits sealed: nothing of it is readable, and the
    // sealed row is as long as anyone's.
    assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM responses"), 0);
    let waiting: Vec<InboxRow> = anonymous_inbox::table
        .select(InboxRow::as_select())
        .load(&mut *conn)
        .expect("inbox");
    assert_eq!(waiting.len(), 1);
    assert_eq!(
        (waiting[0].cohort.as_str(), waiting[0].month.as_str()),
        ("tickets", "2026-10-01")
    );
    let sealed = &waiting[0].sealed;
    assert_eq!(sealed.len(), mashov::domain::sealed::SEALED_LEN);
    for needle in ["slow", "late", "overall", "timeliness", "hr.payslip"] {
        assert!(
            !sealed.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "{needle} readable in the sealed row"
        );
    }

    // The invitation keeps "answered", and no time.
    let answered: Vec<(bool, Option<chrono::NaiveDateTime>)> = invitations::table
        .select((invitations::answered, invitations::answered_at))
        .load(&mut *conn)
        .expect("invitations");
    assert_eq!(answered, vec![(true, None)]);

    // Nothing in the answer's rows names the employee, the ticket, or the link.
    let (interaction_id, invitation_id, external_id): (String, String, String) = invitations::table
        .inner_join(mashov::db::schema::interactions::table)
        .select((
            invitations::interaction_id,
            invitations::id,
            mashov::db::schema::interactions::external_id,
        ))
        .first(&mut *conn)
        .expect("invitation");
    let needles = [
        email.to_string(),
        "dana".to_string(),
        interaction_id,
        invitation_id,
        external_id,
        path[3..].to_string(),
    ];
    let waiting_text = format!(
        "{} {} {}",
        waiting[0].id, waiting[0].cohort, waiting[0].month
    );
    for needle in &needles {
        assert!(
            !waiting_text.contains(needle.as_str()),
            "{needle} in the inbox"
        );
    }

    // One survey per employee, unit and month: the same unit again is suppressed.
    let r = app.report(&app.employee_ticket("HR-3", "hr.payslip", email));
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["status"], "suppressed");
    assert_eq!(r.json()["reason"], "once_a_month");
    // Another unit, or the same unit next month, is asked.
    let r = app.report(&app.employee_ticket("IT-1", "it.helpdesk", email));
    assert_eq!(r.json()["status"], "scheduled");
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap());
    let r = app.report(&app.employee_ticket("HR-4", "hr.payslip", email));
    assert_eq!(r.json()["status"], "scheduled");
    assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM invitations"), 3);

    // October is over: the first report moves its group out of the inbox. The group of one is
    // not shown, but its answer is stored as the anonymous row it was sealed as.
    let r = app.get_api("/api/v1/reports/summary?from=2026-10-01&to=2026-10-31&audience=employee");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["withheld"], true);
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM anonymous_inbox"),
        0
    );
    let stored: Vec<ResponseRow> = responses::table
        .select(ResponseRow::as_select())
        .load(&mut *conn)
        .expect("responses");
    assert_eq!(stored.len(), 1);
    let row = &stored[0];
    assert_eq!(row.audience, "employee");
    assert_eq!(row.service_code, "hr.payslip");
    assert_eq!(row.invitation_id, None, "no invitation id");
    assert_eq!(row.channel, None, "no channel");
    assert_eq!(row.language, "", "no language");
    assert_eq!(row.day, "2026-10-01", "the month only");
    assert_eq!(
        row.submitted_at,
        chrono::NaiveDate::from_ymd_opt(2026, 10, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap(),
        "no time finer than the day"
    );
    assert_eq!(row.cohort.as_deref(), Some("tickets"));
    assert_eq!((row.overall, row.effort), (Some(2), Some(3)));
    let id = uuid::Uuid::parse_str(&row.id).expect("a UUID");
    assert_eq!(
        id.get_version(),
        Some(uuid::Version::Random),
        "random, never a sequence"
    );
    let rows: Vec<AnswerRow> = answers::table
        .select(AnswerRow::as_select())
        .load(&mut *conn)
        .expect("answers");
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert!(rows
        .iter()
        .any(|a| a.text_value.as_deref() == Some("<b>slow</b> & late")));
    let stored_text = format!("{stored:?} {rows:?}");
    for needle in &needles {
        assert!(
            !stored_text.contains(needle.as_str()),
            "{needle} is in {stored_text}"
        );
    }
    // On PostgreSQL, the answer was written by the drain, not with the invitation's flag.
    if kind == Kind::Postgres {
        assert_eq!(
            count(
                &mut conn,
                "SELECT COUNT(*) AS n FROM responses r JOIN invitations i \
                 ON r.xmin::text = i.xmin::text"
            ),
            0
        );
    }
}

/// The inbox never loses an answer: a server key that cannot open a group leaves it where it
/// is, an altered row holds its whole group back, a month not yet frozen is not touched, and of
/// drains racing on separate connections exactly one moves each answer.
fn sealed_answers_survive_a_wrong_key_and_tampering_and_move_exactly_once(kind: Kind) {
    use mashov::services::inbox::{drain_frozen, Drained};
    let october = Utc.with_ymd_and_hms(2026, 10, 6, 8, 0, 0).unwrap();
    let Some(app) = spawn_app_with(kind, october, |_| {}) else {
        return;
    };
    fill_group(&app, "K", "hr.payslip", 6, &["4", "2"]);
    let key = app.state.key.inbox_key();
    let wrong = mashov::domain::token::ServerKey::generate().inbox_key();
    let mut conn = app.conn();
    let waiting = "SELECT COUNT(*) AS n FROM anonymous_inbox";
    let published = "SELECT COUNT(*) AS n FROM responses WHERE audience = 'employee'";

    // October is not frozen until the second of November (answers may still be in flight).
    for now in [
        Utc.with_ymd_and_hms(2026, 10, 31, 21, 59, 0).unwrap(),
        Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap(),
    ] {
        assert_eq!(
            drain_frozen(&mut conn, &key, now).expect("drain"),
            Drained::default()
        );
    }
    let frozen = Utc.with_ymd_and_hms(2026, 11, 5, 8, 0, 0).unwrap();
    let d = drain_frozen(&mut conn, &wrong, frozen).expect("drain");
    assert_eq!((d.answers, d.unreadable), (0, 6));
    assert_eq!(
        (count(&mut conn, waiting), count(&mut conn, published)),
        (6, 0)
    );

    // One altered byte in one row: that row cannot be opened, so the group waits.
    let (id, mut sealed): (String, Vec<u8>) = anonymous_inbox::table
        .select((anonymous_inbox::id, anonymous_inbox::sealed))
        .first(&mut *conn)
        .expect("a row");
    sealed[40] ^= 0x20;
    diesel::update(anonymous_inbox::table.find(&id))
        .set(anonymous_inbox::sealed.eq(&sealed))
        .execute(&mut *conn)
        .expect("alter");
    let d = drain_frozen(&mut conn, &key, frozen).expect("drain");
    assert_eq!((d.answers, d.unreadable), (0, 6));
    assert_eq!(count(&mut conn, published), 0);
    sealed[40] ^= 0x20;
    diesel::update(anonymous_inbox::table.find(&id))
        .set(anonymous_inbox::sealed.eq(&sealed))
        .execute(&mut *conn)
        .expect("restore");
    drop(conn);

    // Four drains at once, each on its own connection: six answers, moved once.
    let moved: usize = std::thread::scope(|s| {
        let racers: Vec<_> = (0..4)
            .map(|_| {
                let (key, app) = (&key, &app);
                s.spawn(move || {
                    let mut conn = app.conn();
                    drain_frozen(&mut conn, key, frozen).expect("drain").answers
                })
            })
            .collect();
        racers.into_iter().map(|r| r.join().expect("racer")).sum()
    });
    assert_eq!(moved, 6);
    let mut conn = app.conn();
    assert_eq!(
        (count(&mut conn, waiting), count(&mut conn, published)),
        (0, 6)
    );
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM answers a JOIN responses r ON r.id = a.response_id WHERE r.audience = 'employee' AND a.question_id = 'comment'"),
        6
    );
}

/// The groups of the adversarial story: (unit, month, how many employees answered).
const GROUPS: &[(&str, &str, &str, usize)] = &[
    ("G1", "hr.payslip", "2026-10", 6),
    ("G2", "it.helpdesk", "2026-10", 5),
    ("G3", "procurement.orders", "2026-10", 4),
    ("G4", "legal.contracts", "2026-10", 1),
    ("G6", "hr.recruiting", "2026-10", 5),
    ("G5", "hr.payslip", "2026-11", 7),
];

/// The attack: pair inbox rows with the answered flags written in the same transaction (one
/// `xmin` on PostgreSQL, polling on SQLite), then, once the group is published, tell whose
/// answer is whose by its length. Every sealed row must therefore have one size: two employees
/// rate every unit with 2,000-character comments (Hebrew, emoji), a third clicks one rating.
fn every_sealed_answer_has_one_size_whatever_was_answered(kind: Kind) {
    const UNITS: [&str; 5] = [
        "hr.payslip",
        "hr.recruiting",
        "it.helpdesk",
        "procurement.orders",
        "legal.contracts",
    ];
    let start = Utc.with_ymd_and_hms(2026, 11, 10, 9, 0, 0).unwrap();
    let Some(app) = spawn_app_with(kind, start, |_| {}) else {
        return;
    };
    let recipients: Vec<(String, &str)> = (0..3)
        .map(|i| (format!("staff{i}@city.example"), "he"))
        .collect();
    let (c, _) = crate::campaigns::launch_campaign(&app, "שקט", &recipients, None, false);
    let mut conn = app.conn();
    let links = mashov::services::campaigns::links(&mut conn, &app.state.key, &app.address, &c.id)
        .expect("links");
    let paths: Vec<String> = links
        .iter()
        .map(|(_, url)| url.strip_prefix(&app.address).expect("own").to_string())
        .collect();
    let hebrew = "ש".repeat(2000);
    let emoji = "😀".repeat(2000);
    for (path, comment) in paths.iter().zip([&hebrew, &emoji]) {
        let mut form: Vec<(String, String)> = Vec::new();
        for unit in UNITS {
            form.push(("units".into(), unit.into()));
            for (q, v) in [("overall", "3"), ("effort", "5"), ("timeliness", "4")] {
                form.push((format!("{unit}.{q}"), v.into()));
            }
            form.push((format!("{unit}.comment"), comment.clone()));
        }
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let r = app.post_form(path, &pairs);
        assert_eq!(r.status, 303, "{}", r.body);
    }
    let r = app.post_form(
        &paths[2],
        &[("units", "hr.payslip"), ("hr.payslip.overall", "5")],
    );
    assert_eq!(r.status, 303, "{}", r.body);

    let waiting: Vec<InboxRow> = anonymous_inbox::table
        .select(InboxRow::as_select())
        .load(&mut *conn)
        .expect("inbox");
    assert_eq!(waiting.len(), 2 * UNITS.len() + 1, "a row per unit rated");
    let lengths: BTreeSet<usize> = waiting.iter().map(|r| r.sealed.len()).collect();
    assert_eq!(
        lengths,
        BTreeSet::from([mashov::domain::sealed::SEALED_LEN]),
        "one size for every sealed row"
    );

    // Closed, the campaign publishes every comment whole.
    let inbox = app.state.key.inbox_key();
    let (_, drained) =
        mashov::services::campaigns::close(&mut conn, &c.id, &inbox, app.clock.now())
            .expect("close");
    assert_eq!(drained.answers, 2 * UNITS.len() + 1);
    let texts: Vec<Option<String>> = answers::table
        .filter(answers::question_id.eq("comment"))
        .select(answers::text_value)
        .load(&mut *conn)
        .expect("comments");
    for comment in [&hebrew, &emoji] {
        let whole = texts.iter().filter(|t| t.as_ref() == Some(comment)).count();
        assert_eq!(whole, UNITS.len());
    }
}

fn department_of(unit: &str) -> &str {
    unit.split('.').next().unwrap_or_default()
}

/// Answers one employee ticket for each member of a group, each with a comment naming it.
fn fill_group(app: &TestApp, name: &str, unit: &str, size: usize, overall: &[&str]) {
    for i in 0..size {
        let email = format!("{name}-{i}@city.example");
        let r = app.report(&app.employee_ticket(&format!("{name}-{i}"), unit, &email));
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.json()["status"], "scheduled", "{}", r.body);
        let path = path_of(app, &r);
        let comment = format!("{name}-comment-{i}");
        let score = overall[i % overall.len()];
        let r = app.post_form(
            &path,
            &[("overall", score), ("effort", "4"), ("comment", &comment)],
        );
        assert_eq!(r.status, 303, "{}", r.body);
    }
}

/// The months a report period touches (employee periods are whole months).
fn months(from: &str, to: &str) -> BTreeSet<String> {
    ["2026-09", "2026-10", "2026-11", "2026-12"]
        .iter()
        .filter(|m| **m >= &from[..7] && **m <= &to[..7])
        .map(|m| m.to_string())
        .collect()
}

fn a_curious_unit_manager_cannot_read_or_compute_any_group_below_the_minimum(kind: Kind) {
    let october = Utc.with_ymd_and_hms(2026, 10, 6, 8, 0, 0).unwrap();
    let Some(app) = spawn_app_with(kind, october, |_| {}) else {
        return;
    };
    for (name, unit, month, size) in GROUPS {
        if *month == "2026-11" {
            app.clock
                .set(Utc.with_ymd_and_hms(2026, 11, 9, 8, 0, 0).unwrap());
        }
        fill_group(
            &app,
            name,
            unit,
            *size,
            &["1", "5", "4", "2", "5", "3", "4"],
        );
    }

    // Mid-November: October is over, November is not.
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap());
    probe_every_surface(&app, &["G1", "G2", "G6"]);
    // November's group is not "too small": it is still being counted, and says until when.
    let (_, g5_unit, _, _) = GROUPS.iter().find(|g| g.0 == "G5").expect("G5");
    let r = app.get_api(&format!(
        "/api/v1/reports/summary?from=2026-11-01&to=2026-11-30&audience=employee&service={g5_unit}&lang=en"
    ));
    assert_eq!(r.status, 200);
    let reason = r.json()["reason"].as_str().unwrap_or_default().to_string();
    assert!(reason.contains("still being counted"), "{reason}");
    assert!(reason.contains("02.12.2026"), "{reason}");
    // Once November is over its group of 7 is shown too: the rule hides what it must, not all.
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 12, 2, 12, 0, 0).unwrap());
    probe_every_surface(&app, &["G1", "G2", "G6", "G5"]);
    // A shown group has every scale question's figure, counted over the same answers.
    let shown = app.get_api(&format!(
        "/api/v1/reports/summary?from=2026-11-01&to=2026-11-30&audience=employee&service={g5_unit}"
    ));
    let body = shown.json();
    let overall = &body["questions"][0];
    assert_eq!(overall["id"], "overall", "{body}");
    assert_eq!(overall["n"], body["csat"]["n"]);
    assert_eq!(overall["top_two"]["value"], body["csat"]["value"]);
    rows_keep_no_trace_of_arrival(&app, kind);

    // A query that reaches nothing shown says so, with the minimum in the reason.
    let r = app.get_api("/api/v1/reports/summary?from=2026-10-01&to=2026-10-31&audience=employee&service=procurement.orders");
    assert_eq!(r.status, 200);
    let body = r.json();
    assert_eq!(body["withheld"], true);
    assert!(body["responses"].is_null() && body["csat"].is_null());
    assert!(body["reason"].as_str().unwrap().contains('5'), "{body}");
    let en = app.get_api("/api/v1/reports/summary?from=2026-10-01&to=2026-10-31&audience=employee&service=procurement.orders&lang=en");
    let reason = en.json()["reason"].as_str().unwrap_or_default().to_string();
    assert!(
        reason.starts_with("fewer than 5"),
        "a closed month is withheld as small: {reason}"
    );
    // Employees' answers carry no channel and no day: those questions are refused, not answered.
    for q in [
        "summary?from=2026-10-01&to=2026-10-31&audience=employee&channel=phone",
        "breakdown?from=2026-10-01&to=2026-10-31&audience=employee&by=channel",
        "breakdown?from=2026-10-01&to=2026-10-31&audience=employee&by=week",
    ] {
        assert_eq!(
            app.get_api(&format!("/api/v1/reports/{q}")).status,
            422,
            "{q}"
        );
    }
}

/// Every group has left the inbox, and nothing in how its rows are stored follows the order in
/// which people answered: the physical order (PostgreSQL's `ctid`, SQLite's clustered random
/// id) is not the order of arrival, and on PostgreSQL each group was written by one
/// transaction that wrote no invitation.
fn rows_keep_no_trace_of_arrival(app: &TestApp, kind: Kind) {
    #[derive(QueryableByName)]
    struct Comment {
        #[diesel(sql_type = diesel::sql_types::Text)]
        t: String,
    }
    let mut conn = app.conn();
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM anonymous_inbox"),
        0
    );
    let physical = match kind {
        Kind::Postgres => "r.ctid",
        Kind::Sqlite => "r.id",
    };
    let stored: Vec<String> = diesel::sql_query(format!(
        "SELECT a.text_value AS t FROM responses r JOIN answers a ON a.response_id = r.id \
         WHERE r.audience = 'employee' AND a.question_id = 'comment' ORDER BY {physical}"
    ))
    .load::<Comment>(&mut *conn)
    .expect("comments")
    .into_iter()
    .map(|c| c.t)
    .collect();
    let arrival: Vec<String> = GROUPS
        .iter()
        .flat_map(|(name, _, _, size)| (0..*size).map(move |i| format!("{name}-comment-{i}")))
        .collect();
    let mut sorted = stored.clone();
    sorted.sort();
    let mut expected = arrival.clone();
    expected.sort();
    assert_eq!(sorted, expected, "every answer stored once");
    // 28 answers in arrival order by chance: about 1 in 10^13 with groups shuffled.
    assert_ne!(stored, arrival, "rows lie in the order people answered");
    if kind == Kind::Postgres {
        let mixed = count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM (SELECT service_code, day, cohort FROM responses \
             WHERE audience = 'employee' GROUP BY service_code, day, cohort \
             HAVING COUNT(DISTINCT xmin::text) > 1) g",
        );
        assert_eq!(mixed, 0, "a group written by more than one transaction");
        let shared = count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM responses r JOIN invitations i \
             ON r.xmin::text = i.xmin::text WHERE r.audience = 'employee'",
        );
        assert_eq!(shared, 0, "an answer written with its invitation");
    }
}

/// Queries every surface with every filter combination and checks that each figure shown is
/// exactly the sum of whole groups that may be shown (`shown`), so that no difference of any
/// figures can isolate fewer than the minimum; and that comments appear only from those groups.
fn probe_every_surface(app: &TestApp, shown: &[&str]) {
    let periods = [
        ("2026-10-01", "2026-10-31"),
        ("2026-10-10", "2026-10-10"),
        ("2026-09-15", "2026-11-30"),
        ("2026-11-01", "2026-11-30"),
        ("2026-10-20", "2026-11-05"),
    ];
    let departments = [
        None,
        Some("hr"),
        Some("it"),
        Some("procurement"),
        Some("legal"),
    ];
    let units = [
        None,
        Some("hr.payslip"),
        Some("hr.recruiting"),
        Some("it.helpdesk"),
        Some("procurement.orders"),
        Some("legal.contracts"),
    ];
    let groups: BTreeMap<&str, (&str, &str, usize)> = GROUPS
        .iter()
        .map(|(n, u, m, s)| (*n, (*u, *m, *s)))
        .collect();
    let mut figures_seen = 0;
    for (from, to) in periods {
        for dept in departments {
            for unit in units {
                let mut query = format!("from={from}&to={to}&audience=employee");
                if let Some(d) = dept {
                    query.push_str(&format!("&department={d}"));
                }
                if let Some(u) = unit {
                    query.push_str(&format!("&service={u}"));
                }
                // The groups this query's scope holds, and the part of them that may be shown.
                let in_scope = |extra: &dyn Fn(&str, &str) -> bool| -> (usize, usize) {
                    let mut all = 0;
                    let mut allowed = 0;
                    for (name, (u, m, size)) in &groups {
                        let ok = dept.is_none_or(|d| department_of(u) == d)
                            && unit.is_none_or(|x| x == *u)
                            && months(from, to).contains(*m)
                            && extra(u, m);
                        if ok {
                            all += size;
                            if shown.contains(name) {
                                allowed += size;
                            }
                        }
                    }
                    (all, allowed)
                };
                let mut check = |figure: &Value, extra: &dyn Fn(&str, &str) -> bool, what: &str| {
                    let (_, allowed) = in_scope(extra);
                    if figure["responses"].is_null() {
                        assert_eq!(allowed, 0, "{what}: withheld though {allowed} may be shown");
                        assert_eq!(figure["withheld"], true, "{what}");
                        assert!(
                            figure["csat"].is_null() && figure["ces"].is_null(),
                            "{what}"
                        );
                    } else {
                        figures_seen += 1;
                        let n = figure["responses"].as_u64().expect("n") as usize;
                        assert_eq!(
                            n, allowed,
                            "{what}: shows {n}, whole shown groups sum to {allowed}"
                        );
                        assert!(n >= 5, "{what}: a figure of {n}");
                        assert_eq!(figure["csat"]["n"].as_u64(), Some(n as u64), "{what}");
                    }
                };
                let summary = app.get_api(&format!("/api/v1/reports/summary?{query}"));
                assert_eq!(summary.status, 200, "{query}: {}", summary.body);
                check(&summary.json(), &|_, _| true, &format!("summary {query}"));
                for by in ["department", "service", "month"] {
                    let r = app.get_api(&format!("/api/v1/reports/breakdown?{query}&by={by}"));
                    assert_eq!(r.status, 200, "{query}&by={by}: {}", r.body);
                    for row in r.json()["rows"].as_array().expect("rows") {
                        let key = row["key"].as_str().expect("key").to_string();
                        let what = format!("breakdown {query}&by={by} row {key}");
                        let matches = move |u: &str, m: &str| match by {
                            "department" => department_of(u) == key,
                            "service" => u == key,
                            _ => m == key,
                        };
                        check(row, &matches, &what);
                    }
                }
                let comments = app.get_api(&format!("/api/v1/reports/comments?{query}&limit=500"));
                assert_eq!(comments.status, 200);
                let texts: BTreeSet<String> = comments.json()["comments"]
                    .as_array()
                    .expect("comments")
                    .iter()
                    .map(|c| c["text"].as_str().expect("text").to_string())
                    .collect();
                for text in &texts {
                    let group = text.split('-').next().unwrap_or_default();
                    assert!(
                        shown.contains(&group),
                        "{query}: comment {text} of a hidden group"
                    );
                }
                let (_, allowed) = in_scope(&|_, _| true);
                assert_eq!(texts.len(), allowed, "{query}: the shown groups' comments");
                // The same comments, two at a time.
                let mut paged = BTreeSet::new();
                let mut next = String::new();
                loop {
                    let r = app.get_api(&format!("/api/v1/reports/comments?{query}&limit=2{next}"));
                    assert_eq!(r.status, 200, "{}", r.body);
                    let page = r.json();
                    for c in page["comments"].as_array().expect("comments") {
                        assert!(paged.insert(c["text"].as_str().expect("text").to_string()));
                    }
                    match page["next"].as_str() {
                        Some(n) => next = format!("&next={n}"),
                        None => break,
                    }
                }
                assert_eq!(paged, texts, "{query}: paged as a whole");
            }
        }
    }
    assert!(figures_seen > 100, "the probe saw figures: {figures_seen}");
}
