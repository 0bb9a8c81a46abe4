//! Exports: the CSV over HTTP (streamed), and `mashov export responses` to CSV and Excel.

use std::io::Read;
use std::process::Command;

use chrono::{TimeZone, Utc};
use diesel::connection::SimpleConnection;
use serde_json::json;

use crate::both_backends;
use crate::helpers::{spawn_app_with, Kind, TestApp};
use crate::process::BIN;

both_backends!(
    the_csv_export_has_a_column_per_question_in_hebrew_and_keeps_every_answer,
    a_big_export_streams_every_row_once_across_pages,
    employee_exports_hold_only_groups_the_reports_show,
    the_export_command_writes_csv_and_excel,
);

fn answered(app: &TestApp, id: &str, pairs: &[(&str, &str)]) {
    let r = app.report(&app.interaction(id, "he"));
    assert_eq!(r.status, 201, "{}", r.body);
    let url = r.json()["survey_url"].as_str().expect("url").to_string();
    let r = app.post_form(url.strip_prefix(&app.address).expect("origin"), pairs);
    assert_eq!(r.status, 303, "{}", r.body);
}

fn csv_rows(body: &str) -> Vec<Vec<String>> {
    let body = body.strip_prefix('\u{feff}').expect("a byte-order mark");
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body.as_bytes());
    r.records()
        .map(|x| x.expect("csv").iter().map(str::to_string).collect())
        .collect()
}

fn app_at_november(kind: Kind) -> Option<TestApp> {
    let start = Utc.with_ymd_and_hms(2026, 11, 10, 8, 0, 0).unwrap();
    spawn_app_with(kind, start, |s| s.send_rules.frequency_cap = None)
}

fn the_csv_export_has_a_column_per_question_in_hebrew_and_keeps_every_answer(kind: Kind) {
    let Some(app) = app_at_november(kind) else {
        return;
    };
    let comment = "תור ארוך, \"מאוד\"\nאבל בסוף טופל; =cmd|' /C calc'!A0";
    answered(
        &app,
        "E1",
        &[
            ("overall", "5"),
            ("resolved", "resolved"),
            ("contact_consent", "no"),
            ("comment", comment),
        ],
    );
    answered(
        &app,
        "E2",
        &[
            ("overall", "2"),
            ("effort", "3"),
            ("comment", "=HYPERLINK(\"http://x\")"),
        ],
    );
    let r = app.get_api("/api/v1/export/responses.csv?from=2026-11-01&to=2026-11-30");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r
        .header("content-type")
        .unwrap_or_default()
        .starts_with("text/csv"));
    assert!(r
        .header("content-disposition")
        .unwrap_or_default()
        .contains("responses-resident-2026-11-01-2026-11-30.csv"));
    let rows = csv_rows(&r.body);
    assert_eq!(rows.len(), 3, "a header and two responses");
    let header = &rows[0];
    assert_eq!(header[0], "מזהה תשובה");
    let col = |text: &str| {
        header
            .iter()
            .position(|h| h.starts_with(text))
            .unwrap_or_else(|| panic!("{text} in {header:?}"))
    };
    let (overall, resolved, consent, comment_col, effort) = (
        col("באופן כללי"),
        col("האם הבעיה שפנית בגללה נפתרה"),
        col("אפשר לחזור אליך"),
        col("רוצה לספר לנו"),
        col("היה לי קל"),
    );
    let first = rows
        .iter()
        .find(|r| r[overall] == "5")
        .expect("the first answer");
    assert_eq!(
        first[resolved], "כן, לגמרי",
        "choices as their Hebrew labels"
    );
    assert_eq!(first[consent], "לא");
    assert_eq!(
        first[comment_col], comment,
        "commas, quotes and new lines survive"
    );
    assert_eq!(first[col("ערוץ")], "טלפון");
    assert_eq!(first[col("תאריך")], "2026-11-10");
    let second = rows
        .iter()
        .find(|r| r[overall] == "2")
        .expect("the second answer");
    assert_eq!(second[effort], "3");
    assert_eq!(second[resolved], "", "unanswered stays empty");
    assert_eq!(
        second[comment_col], "'=HYPERLINK(\"http://x\")",
        "a formula is defused"
    );

    for q in [
        "from=2026-11-01",
        "from=2026-11-01&to=2026-13-01",
        "from=2026-11-01&to=2026-11-30&audience=all",
    ] {
        let r = app.get_api(&format!("/api/v1/export/responses.csv?{q}"));
        assert_eq!(r.status, 422, "{q}");
    }
    assert_eq!(
        app.get("/api/v1/export/responses.csv?from=2026-11-01&to=2026-11-30")
            .status,
        401
    );
}

/// Inserts `n` answered resident responses straight into the database (the export reads them;
/// how they were answered is covered elsewhere).
fn seed(app: &TestApp, n: usize) {
    let mut conn = app.conn();
    let survey: String = {
        use diesel::prelude::*;
        mashov::db::schema::surveys::table
            .filter(mashov::db::schema::surveys::survey_key.eq("resident.post_interaction"))
            .select(mashov::db::schema::surveys::id)
            .first(&mut *conn)
            .expect("survey")
    };
    let mut sql = String::new();
    for i in 0..n {
        let day = format!("2026-11-{:02}", 1 + i % 28);
        sql.push_str(&format!(
            "INSERT INTO responses (id, invitation_id, survey_id, audience, service_code, channel, language, submitted_at, day, overall, effort, nps, resolved, cohort) \
             VALUES ('r{i:06}', NULL, '{survey}', 'resident', 'sanitation.bulky-waste', 'web', 'he', '{day} 10:00:00', '{day}', {}, NULL, NULL, NULL, NULL);\n\
             INSERT INTO answers (response_id, question_id, int_value, text_value) VALUES ('r{i:06}', 'overall', {}, NULL);\n",
            1 + i % 5,
            1 + i % 5
        ));
    }
    conn.batch_execute(&format!("BEGIN; {sql} COMMIT;"))
        .expect("seed");
}

fn a_big_export_streams_every_row_once_across_pages(kind: Kind) {
    let Some(app) = app_at_november(kind) else {
        return;
    };
    seed(&app, 4500);
    let r = app.get_api("/api/v1/export/responses.csv?from=2026-11-01&to=2026-11-30");
    assert_eq!(r.status, 200);
    let rows = csv_rows(&r.body);
    assert_eq!(rows.len(), 4501);
    let ids: std::collections::BTreeSet<&String> = rows[1..].iter().map(|r| &r[0]).collect();
    assert_eq!(ids.len(), 4500, "every row once");
    let days: Vec<&String> = rows[1..].iter().map(|r| &r[1]).collect();
    assert!(days.windows(2).all(|w| w[0] <= w[1]), "in day order");
}

fn employee_exports_hold_only_groups_the_reports_show(kind: Kind) {
    let october = Utc.with_ymd_and_hms(2026, 10, 6, 8, 0, 0).unwrap();
    let Some(app) = spawn_app_with(kind, october, |_| {}) else {
        return;
    };
    for (unit, n) in [("hr.payslip", 6), ("it.helpdesk", 4)] {
        for i in 0..n {
            let r = app.report(&app.employee_ticket(
                &format!("{unit}-{i}"),
                unit,
                &format!("{unit}-{i}@city.example"),
            ));
            let url = r.json()["survey_url"].as_str().expect("url").to_string();
            let r = app.post_form(
                url.strip_prefix(&app.address).expect("origin"),
                &[
                    ("overall", "4"),
                    ("comment", &format!("{unit} comment {i}")),
                ],
            );
            assert_eq!(r.status, 303);
        }
    }
    let query = "/api/v1/export/responses.csv?from=2026-10-01&to=2026-10-31&audience=employee";
    // October is not over: nothing may be exported yet.
    assert_eq!(
        csv_rows(&app.get_api(query).body).len(),
        1,
        "only the header"
    );
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 3, 8, 0, 0).unwrap());
    let rows = csv_rows(&app.get_api(query).body);
    assert_eq!(
        rows.len(),
        7,
        "the six of the shown group, none of the four"
    );
    assert_eq!(rows[0][0], "חודש");
    assert!(rows[1..]
        .iter()
        .all(|r| r[0] == "2026-10" && r[3] == "hr.payslip"));
    assert!(!rows
        .iter()
        .flatten()
        .any(|c| c.contains("it.helpdesk comment")));
    let r = app.get_api(
        "/api/v1/export/responses.csv?from=2026-10-01&to=2026-10-31&audience=employee&channel=web",
    );
    assert_eq!(r.status, 422);
    let _ = json!({});
}

fn the_export_command_writes_csv_and_excel(kind: Kind) {
    let Some(app) = app_at_november(kind) else {
        return;
    };
    answered(&app, "X1", &[("overall", "4"), ("comment", "שירות טוב")]);
    seed(&app, 2100);
    let run = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .env("MASHOV_DATABASE_URL", &app.db.url)
            .env("MASHOV_SECRET_FILE", app.db.dir.path().join("k"))
            .env("MASHOV_LOG", "warn")
            .output()
            .expect("run")
    };
    let csv_path = app.db.dir.path().join("out.csv");
    let o = run(&[
        "export",
        "responses",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-30",
        "--out",
        csv_path.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("wrote 2101 responses"));
    let text = std::fs::read_to_string(&csv_path).expect("csv");
    let rows = csv_rows(&text);
    assert_eq!(rows.len(), 2102);
    assert!(rows.iter().any(|r| r.iter().any(|c| c == "שירות טוב")));

    let xlsx_path = app.db.dir.path().join("out.xlsx");
    let o = run(&[
        "export",
        "responses",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-30",
        "--format",
        "xlsx",
        "--out",
        xlsx_path.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&xlsx_path).expect("xlsx"))
        .expect("an xlsx is a zip");
    let mut sheet = String::new();
    zip.by_name("xl/worksheets/sheet1.xml")
        .expect("a sheet")
        .read_to_string(&mut sheet)
        .expect("xml");
    assert!(sheet.contains("rightToLeft=\"1\""), "a right-to-left sheet");
    assert!(
        sheet.contains("שירות טוב") && sheet.contains("מזהה תשובה"),
        "Hebrew inline"
    );
    assert_eq!(sheet.matches("<row ").count(), 2102);

    // Bad usage is exit code 2 and writes nothing.
    let bad = app.db.dir.path().join("bad.csv");
    let o = run(&[
        "export",
        "responses",
        "--from",
        "2026-11-30",
        "--to",
        "2026-11-01",
        "--out",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!bad.exists());
    let o = run(&[
        "export",
        "responses",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-30",
        "--format",
        "pdf",
        "--out",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&[
        "export",
        "responses",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-30",
        "--out",
        "/no/such/dir/x.csv",
    ]);
    assert_eq!(o.status.code(), Some(1));
}
