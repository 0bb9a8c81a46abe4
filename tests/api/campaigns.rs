//! Employee campaigns as an operator runs them: the `mashov campaign` commands against the real
//! binary, the two-step survey over real HTTP, and the emails over real SMTP.

use std::process::Output;

use chrono::Utc;
use serde_json::Value;

use crate::both_backends;
use crate::helpers::{count, spawn_app_with, Kind, TestApp, TestDb};
use crate::process::{mashov, start, Server};
use crate::smtp::SmtpSink;
use mashov::clock::Clock;
use mashov::config::{SmtpSecurity, SmtpSettings};
use mashov::db::connection::Manager;
use mashov::domain::recipients::{Recipient, RecipientList};

both_backends!(
    a_campaign_runs_from_its_file_to_closed_and_keeps_only_counts,
    a_recipients_file_with_any_bad_line_adds_nothing,
    fifty_thousand_recipients_with_duplicates_import_in_one_go,
    campaign_invitations_arrive_over_smtp_and_open_the_unit_picker,
    a_campaign_closes_itself_after_its_closing_date_and_publishes_its_groups,
);

const CATALOG: &str =
    "department_code,department_name,service_code,service_name,sla_days,service_name_en,audience\n\
sanitation,תברואה,sanitation.bins,פחים,5,Bins,\n\
hr,משאבי אנוש,hr.payslip,תלוש שכר,2,Payslip,employees\n\
it,מחשוב,it.helpdesk,מוקד מחשוב,1,IT help desk,employees\n";

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn refused(o: &Output) -> String {
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn write(db: &TestDb, name: &str, bytes: &[u8]) -> String {
    let path = db.dir.path().join(name);
    std::fs::write(&path, bytes).expect("write file");
    path.display().to_string()
}

fn sql_count(db: &TestDb, sql: &str) -> i64 {
    let mut conn = Manager::new(&db.url).expect("url").open().expect("open");
    count(&mut conn, sql)
}

/// Imports the catalog and creates a campaign; returns its id.
fn campaign(db: &TestDb) -> String {
    let catalog = write(db, "catalog.csv", CATALOG.as_bytes());
    ok(&mashov(db, &["catalog", "import", &catalog]));
    let closes = (Utc::now() + chrono::Duration::days(10))
        .date_naive()
        .to_string();
    let out = ok(&mashov(
        db,
        &[
            "campaign",
            "create",
            "--name",
            "סקר שירות פנימי 2026",
            "--closes",
            &closes,
        ],
    ));
    let id = out.trim().to_string();
    assert_eq!(id.len(), 12, "the id alone on stdout: {out:?}");
    id
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new().redirects(0).build()
}

/// Status and body of a request, whatever the status.
fn call(r: Result<ureq::Response, ureq::Error>) -> (u16, String) {
    match r {
        Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
        Err(ureq::Error::Status(s, r)) => (s, r.into_string().unwrap_or_default()),
        Err(e) => panic!("request failed: {e}"),
    }
}

fn post(server: &Server, path: &str, pairs: &[(&str, &str)]) -> (u16, String) {
    let body = serde_urlencoded::to_string(pairs).expect("form");
    call(
        agent()
            .post(&format!("{}{path}", server.base))
            .set("Content-Type", "application/x-www-form-urlencoded")
            .send_string(&body),
    )
}

fn get(server: &Server, path: &str) -> (u16, String) {
    call(agent().get(&format!("{}{path}", server.base)).call())
}

fn summary(server: &Server, key: &str, service: &str) -> Value {
    let today = mashov::domain::period::local_day(Utc::now());
    let from = mashov::domain::period::month_start(today);
    let (status, body) = call(
        agent()
            .get(&format!(
                "{}/api/v1/reports/summary?from={from}&to={today}&audience=employee&service={service}",
                server.base
            ))
            .set("Authorization", &format!("Bearer {key}"))
            .call(),
    );
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("json")
}

fn a_campaign_runs_from_its_file_to_closed_and_keeps_only_counts(kind: Kind) {
    let Some(db) = TestDb::new(kind) else { return };
    crate::process::migrate(&db);
    let id = campaign(&db);
    let key = ok(&mashov(&db, &["apikey", "create", "--name", "reports"]))
        .lines()
        .last()
        .expect("key")
        .to_string();

    // Excel's "CSV UTF-8": byte-order mark, CRLF, and one address twice in another case.
    let mut file = String::from("\u{feff}email,department_code,language\r\n");
    for i in 0..6 {
        file.push_str(&format!(
            "emp{i}@city.example,hr,{}\r\n",
            ["he", "ar", "ru"][i % 3]
        ));
    }
    file.push_str("EMP0@City.Example,it,en\r\n");
    let path = write(&db, "staff.csv", file.as_bytes());
    let out = ok(&mashov(&db, &["campaign", "add-recipients", &id, &path]));
    assert!(
        out.contains("added 6; merged 1 duplicate lines; 0 already"),
        "{out}"
    );
    let out = ok(&mashov(&db, &["campaign", "add-recipients", &id, &path]));
    assert!(
        out.contains("added 0; merged 1 duplicate lines; 6 already"),
        "{out}"
    );
    assert!(
        refused(&mashov(&db, &["campaign", "links", &id, "--out", "x.csv"])).contains("launch")
    );
    assert!(refused(&mashov(&db, &["campaign", "launch", "nosuchid"])).contains("no campaign"));

    let out = ok(&mashov(&db, &["campaign", "launch", &id]));
    assert!(out.contains("invited 6; emails queued 0"), "{out}");
    assert!(
        out.contains("campaign links"),
        "without email, says how to send links: {out}"
    );
    let out = ok(&mashov(&db, &["campaign", "launch", &id]));
    assert!(
        out.contains("invited 0"),
        "launching again invites nobody twice: {out}"
    );
    let links_file = db.dir.path().join("links.csv");
    let links_path = links_file.display().to_string();
    ok(&mashov(
        &db,
        &["campaign", "links", &id, "--out", &links_path],
    ));
    let bytes = std::fs::read(&links_file).expect("links file");
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBFemail,link\r\n"),
        "BOM, header, CRLF"
    );
    let text = String::from_utf8(bytes[3..].to_vec()).expect("utf-8");
    let links: Vec<String> = text
        .lines()
        .skip(1)
        .map(|l| l.split_once(',').expect("two columns").1.to_string())
        .collect();
    assert_eq!(links.len(), 6);
    let paths: Vec<String> = links
        .iter()
        .map(|l| format!("/s/{}", l.split_once("/s/").expect("a survey link").1))
        .collect();

    let server = start(&db);
    // Step one: the unit picker, in the employee's language; asking with nothing ticked is 422.
    let (status, page) = get(&server, &paths[1]);
    assert_eq!(status, 200);
    assert!(
        page.contains(r#"lang="ar" dir="rtl""#),
        "recipient 1 reads Arabic"
    );
    assert!(page.contains(r#"name="units" value="hr.payslip""#) && page.contains("it.helpdesk"));
    assert!(
        !page.contains("sanitation.bins"),
        "only internal units are offered"
    );
    assert_eq!(get(&server, &format!("{}?pick=1", paths[1])).0, 422);
    // Step two: the chosen units only, each with its own questions.
    let (status, page) = get(
        &server,
        &format!("{}?pick=1&units=hr.payslip&units=it.helpdesk", paths[1]),
    );
    assert_eq!(status, 200);
    assert!(
        page.contains(r#"name="hr.payslip.overall""#)
            && page.contains(r#"name="it.helpdesk.timeliness""#)
    );
    let (status, page) = post(
        &server,
        &paths[1],
        &[
            ("units", "hr.payslip"),
            ("units", "it.helpdesk"),
            ("hr.payslip.overall", "5"),
        ],
    );
    assert_eq!(status, 422, "it.helpdesk.overall is required");
    assert!(
        page.contains("err-it.helpdesk.overall"),
        "the error is tied to its question"
    );
    assert!(
        page.contains(r#"value="5" checked"#),
        "the given answer is kept"
    );
    let both = [
        ("units", "hr.payslip"),
        ("units", "it.helpdesk"),
        ("hr.payslip.overall", "5"),
        ("hr.payslip.comment", "<script>x</script>"),
        ("it.helpdesk.overall", "2"),
        ("it.helpdesk.effort", "3"),
    ];
    assert_eq!(post(&server, &paths[1], &both).0, 303);
    assert_eq!(
        post(&server, &paths[1], &both).0,
        409,
        "one answer per employee"
    );
    assert_eq!(
        post(&server, &paths[0], &[("units", "nope")]).0,
        422,
        "no known unit chosen"
    );
    for (i, path) in paths.iter().enumerate() {
        if i != 1 {
            let score = ["1", "4", "5", "3", "4", "2"][i];
            let r = post(
                &server,
                path,
                &[("units", "hr.payslip"), ("hr.payslip.overall", score)],
            );
            assert_eq!(r.0, 303, "{}", r.1);
        }
    }
    // Six answers about payroll, but the campaign is open: nothing is shown yet.
    assert_eq!(summary(&server, &key, "hr.payslip")["withheld"], true);
    // Until the campaign closes, each employee's answers wait sealed, one row per unit rated.
    let waiting =
        format!("SELECT COUNT(*) AS n FROM anonymous_inbox WHERE cohort = 'campaign:{id}'");
    assert_eq!(sql_count(&db, &waiting), 7);
    assert_eq!(
        sql_count(
            &db,
            "SELECT COUNT(*) AS n FROM responses WHERE audience = 'employee'"
        ),
        0
    );

    let out = ok(&mashov(&db, &["campaign", "close", &id]));
    assert!(
        out.contains("closed: 6 recipients, 6 invited, 6 answered; addresses deleted"),
        "{out}"
    );
    let shown = summary(&server, &key, "hr.payslip");
    assert_eq!(shown["responses"], 6, "{shown}");
    assert_eq!(shown["csat"]["n"], 6);
    assert_eq!(
        summary(&server, &key, "it.helpdesk")["withheld"],
        true,
        "one answer stays hidden"
    );
    assert_eq!(get(&server, &paths[2]).0, 410, "links expire at close");
    assert!(refused(&mashov(
        &db,
        &["campaign", "links", &id, "--out", &links_path]
    ))
    .contains("closed"));
    let out = ok(&mashov(&db, &["campaign", "list"]));
    assert!(out.contains(&id) && out.contains("closed"), "{out}");

    assert_eq!(
        sql_count(
            &db,
            "SELECT COUNT(*) AS n FROM campaign_recipients WHERE email IS NOT NULL"
        ),
        0
    );
    assert_eq!(
        sql_count(
            &db,
            "SELECT COUNT(*) AS n FROM campaign_recipients WHERE answered"
        ),
        6
    );
    assert_eq!(
        sql_count(&db, &format!("SELECT COUNT(*) AS n FROM responses WHERE cohort = 'campaign:{id}' AND invitation_id IS NULL")),
        7,
        "one anonymous response per unit rated"
    );
    assert_eq!(
        sql_count(&db, &waiting),
        0,
        "closing moved them out of the inbox"
    );
    // The server's log: requests were logged, and nothing in it leads to an employee.
    drop(server);
    let log = std::fs::read_to_string(db.dir.path().join("server.log")).expect("server log");
    assert!(
        log.contains("/s/[token]"),
        "survey requests are logged: {log}"
    );
    for p in &paths {
        assert!(!log.contains(&p[3..]), "a survey token reached the log");
    }
    for i in 0..6 {
        assert!(
            !log.contains(&format!("emp{i}@")),
            "an address reached the log"
        );
    }
    let ids: Vec<String> = {
        use diesel::prelude::*;
        let mut conn = Manager::new(&db.url).expect("url").open().expect("open");
        mashov::db::schema::responses::table
            .select(mashov::db::schema::responses::id)
            .load(&mut conn)
            .expect("ids")
    };
    assert!(
        ids.iter().all(|id| !log.contains(id.as_str())),
        "a response id reached the log"
    );
}

fn a_recipients_file_with_any_bad_line_adds_nothing(kind: Kind) {
    let Some(db) = TestDb::new(kind) else { return };
    crate::process::migrate(&db);
    let id = campaign(&db);
    let header = "email,department_code,language\n";
    // "דנה" in Windows-1255, as Excel's plain "CSV" saves it in Israel.
    let mut legacy = header.as_bytes().to_vec();
    legacy.extend([0xE3, 0xF0, 0xE4]);
    legacy.extend(b"@city.example,hr,he\n");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("header.csv", b"mail,dept\na@city.example,hr\n".to_vec(), "line 1: the header must be exactly"),
        ("empty.csv", Vec::new(), "line 1: the file is empty"),
        ("only-header.csv", header.as_bytes().to_vec(), "no recipients"),
        (
            "lines.csv",
            format!("{header}ok@city.example,hr,he\nnot-an-email,hr,he\nb@city.example,sales,he\nc@city.example,hr,fr\n<script>@x,hr,he\n").into_bytes(),
            "line 3: \"not-an-email\" is not a valid email address",
        ),
        ("legacy.csv", legacy, "Windows-1255"),
    ];
    for (name, bytes, expected) in cases {
        let path = write(&db, name, &bytes);
        let err = refused(&mashov(&db, &["campaign", "add-recipients", &id, &path]));
        assert!(err.contains(expected), "{name}: {err}");
        assert!(err.contains("nothing was added"), "{name}: {err}");
    }
    let path = write(
        &db,
        "lines2.csv",
        format!("{header}b@city.example,sales,he\n").as_bytes(),
    );
    let err = refused(&mashov(&db, &["campaign", "add-recipients", &id, &path]));
    assert!(
        err.contains("line 2: department \"sales\" is not in the catalog"),
        "{err}"
    );
    let err = refused(&mashov(
        &db,
        &["campaign", "add-recipients", &id, "/no/such/file.csv"],
    ));
    assert!(err.contains("cannot read"), "{err}");
    assert_eq!(
        sql_count(&db, "SELECT COUNT(*) AS n FROM campaign_recipients"),
        0
    );
    // Bad command lines: a date that is no date is a usage error (2); a past closing day, 1.
    let o = mashov(
        &db,
        &["campaign", "create", "--name", "x", "--opens", "2026-13-01"],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = refused(&mashov(
        &db,
        &[
            "campaign",
            "create",
            "--name",
            "x",
            "--closes",
            "2020-01-01",
        ],
    ));
    assert!(err.contains("past"), "{err}");
    let err = refused(&mashov(&db, &["campaign", "create", "--name", "  "]));
    assert!(err.contains("--name"), "{err}");
}

fn fifty_thousand_recipients_with_duplicates_import_in_one_go(kind: Kind) {
    let Some(db) = TestDb::new(kind) else { return };
    crate::process::migrate(&db);
    let id = campaign(&db);
    let mut file = String::with_capacity(50_000 * 40);
    file.push_str("\u{feff}email,department_code,language\r\n");
    for i in 0..50_000 {
        // Every thousandth line repeats an earlier address.
        let n = if i % 1000 == 999 { i - 1 } else { i };
        file.push_str(&format!(
            "employee{n}@city.example,{},he\r\n",
            ["hr", "it"][i % 2]
        ));
    }
    let path = write(&db, "big.csv", file.as_bytes());
    let out = ok(&mashov(&db, &["campaign", "add-recipients", &id, &path]));
    assert!(
        out.contains("added 49950; merged 50 duplicate lines"),
        "{out}"
    );
    assert_eq!(
        sql_count(&db, "SELECT COUNT(*) AS n FROM campaign_recipients"),
        49_950
    );
}

fn campaign_invitations_arrive_over_smtp_and_open_the_unit_picker(kind: Kind) {
    let sink = SmtpSink::start();
    let port = sink.port;
    let Some(app) = spawn_app_with(kind, Utc::now(), |s| {
        s.smtp = Some(SmtpSettings {
            security: SmtpSecurity::None,
            host: "127.0.0.1".into(),
            port,
            credentials: None,
        });
        s.mail_from = "עיריית דוגמה <survey@city.example>".parse().expect("from");
        s.send_rules.quiet_hours = None;
        s.send_rules.rest_window = None;
    }) else {
        return;
    };
    let mut conn = app.conn();
    let recipients = ["he", "ar", "en", "ru"].map(|l| (format!("staff-{l}@city.example"), l));
    let (c, launched) = launch_campaign(&app, "סקר רבעוני", &recipients, None, true);
    assert_eq!((launched.invited, launched.emails), (4, 4));
    let got = sink.wait_for(4);
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(sink.count(), 4, "each once");
    for m in &got {
        let html = m.part("text/html").expect("an HTML part");
        let text = m.part("text/plain").expect("a text part");
        assert!(html.contains("סקר רבעוני"), "the campaign's name");
        assert!(
            m.header("List-Unsubscribe").is_none(),
            "internal mail has no list header"
        );
        let link = text
            .split_whitespace()
            .find(|w| w.contains("/s/"))
            .expect("a link in the text part");
        let path = format!("/s/{}", link.split_once("/s/").expect("link").1);
        let page = app.get(&path);
        assert_eq!(page.status, 200);
        assert!(page.body.contains(r#"name="units""#), "the unit picker");
        if m.to.iter().any(|t| t.contains("staff-he")) {
            assert!(html.contains(r#"lang="he" dir="rtl""#));
        }
        if m.to.iter().any(|t| t.contains("staff-en")) {
            assert!(html.contains(r#"lang="en" dir="ltr""#));
        }
    }
    // Closing deletes the addresses from the outbox too.
    let key = mashov::domain::token::ServerKey::generate().inbox_key();
    mashov::services::campaigns::close(&mut conn, &c.id, &key, app.clock.now()).expect("close");
    assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM outbox"), 0);
}

fn a_campaign_closes_itself_after_its_closing_date_and_publishes_its_groups(kind: Kind) {
    use chrono::TimeZone;
    // 2026-11-10 11:00 in Israel.
    let start = Utc.with_ymd_and_hms(2026, 11, 10, 9, 0, 0).unwrap();
    let Some(app) = spawn_app_with(kind, start, |s| {
        s.housekeeping_poll = std::time::Duration::from_millis(50);
    }) else {
        return;
    };
    let mut conn = app.conn();
    let closes = chrono::NaiveDate::from_ymd_opt(2026, 11, 12).unwrap();
    let recipients: Vec<(String, &str)> = (0..6)
        .map(|i| (format!("staff{i}@city.example"), "he"))
        .collect();
    let (c, _) = launch_campaign(&app, "רבעון", &recipients, Some(closes), false);
    let links = mashov::services::campaigns::links(&mut conn, &app.state.key, &app.address, &c.id)
        .expect("links");
    let paths: Vec<String> = links
        .iter()
        .map(|(_, url)| url.strip_prefix(&app.address).expect("own").to_string())
        .collect();
    for (i, path) in paths.iter().enumerate().skip(1) {
        let score = ["5", "4", "2", "5", "3", "4"][i];
        let r = app.post_form(
            path,
            &[("units", "hr.payslip"), ("hr.payslip.overall", score)],
        );
        assert_eq!(r.status, 303, "{}", r.body);
    }
    let status = |conn: &mut mashov::db::PooledConn| {
        count(
            conn,
            &format!(
                "SELECT COUNT(*) AS n FROM campaigns WHERE id = '{}' AND status = 'closed'",
                c.id
            ),
        )
    };
    let query = "/api/v1/reports/summary?from=2026-11-01&to=2026-11-30&audience=employee&service=hr.payslip";
    // The last evening of the closing day: still open, the answers still sealed.
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 12, 20, 0, 0).unwrap());
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(status(&mut conn), 0);
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM anonymous_inbox"),
        5
    );
    assert_eq!(app.get_api(query).json()["withheld"], true);

    // Half past midnight in Israel: the links have expired and serve closes the campaign.
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 12, 22, 30, 0).unwrap());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while status(&mut conn) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the campaign never closed"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM campaign_recipients WHERE email IS NOT NULL"
        ),
        0,
        "addresses deleted"
    );
    assert_eq!(app.get(&paths[0]).status, 410);
    // Five answers, out of the inbox and shown.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while count(&mut conn, "SELECT COUNT(*) AS n FROM anonymous_inbox") > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the inbox was never drained"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM responses WHERE audience = 'employee'"
        ),
        5
    );
    let shown = app.get_api(query).json();
    assert_eq!(shown["responses"], 5, "{shown}");
    assert_eq!(shown["csat"]["n"], 5);
}

/// Creates a campaign of `recipients` (address, language; all in HR) as of the app's clock and
/// launches it, emailing them or not.
pub fn launch_campaign(
    app: &TestApp,
    name: &str,
    recipients: &[(String, &str)],
    closes: Option<chrono::NaiveDate>,
    email: bool,
) -> (
    mashov::db::campaigns::CampaignRow,
    mashov::services::campaigns::Launched,
) {
    use mashov::services::campaigns;
    let mut conn = app.conn();
    let now = app.clock.now();
    let c = campaigns::create(&mut conn, name, None, closes, now).expect("campaign");
    let list = RecipientList {
        recipients: recipients
            .iter()
            .map(|(address, lang)| Recipient {
                email: address.clone(),
                department_code: "hr".into(),
                language: mashov::domain::language::Language::parse(lang).expect("language"),
            })
            .collect(),
        duplicates: 0,
    };
    campaigns::add_recipients(&mut conn, &c.id, &list, now).expect("add");
    let settings = &app.state.settings;
    let ctx = campaigns::LaunchContext {
        key: &app.state.key,
        link_ttl: settings.link_ttl,
        rules: &settings.send_rules,
        message_domain: "city.example",
        email,
        now,
    };
    let launched = campaigns::launch(&mut conn, &ctx, &c.id).expect("launch");
    (c, launched)
}
