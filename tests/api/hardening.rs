//! What an attacker found and what must keep holding (issue "fit for production"), over real
//! HTTP on both backends: the headers every answer carries, JSON never kept by a cache, pages
//! with no inline style (their stylesheet served from here), `405` with `Allow` for a wrong
//! method, the health check that fails when the database takes no write, and times before
//! 2000 refused.

use diesel::connection::SimpleConnection;

use crate::both_backends;
use crate::helpers::{resp, spawn_app_with, Kind, TestApp};
use mashov::db::connection::Manager;

both_backends!(
    every_answer_carries_the_security_headers_and_json_is_never_cached,
    pages_take_their_style_from_a_versioned_stylesheet_of_this_origin,
    a_wrong_method_is_405_naming_the_methods_allowed,
    the_health_check_fails_while_the_database_takes_no_write,
    times_before_2000_are_refused,
    a_body_that_trickles_is_cut_off_while_others_are_served,
    a_flooding_address_is_refused_with_429_while_others_are_served,
    wrong_api_keys_lock_the_address_out_and_each_key_has_its_rate,
    every_read_of_personal_data_and_every_export_is_logged_with_who_and_where,
    metrics_speak_prometheus_to_the_configured_addresses_only,
);

fn app(kind: Kind) -> Option<TestApp> {
    spawn_app_with(kind, chrono::Utc::now(), |_| {})
}

fn request(app: &TestApp, method: &str, path: &str) -> crate::helpers::Resp {
    resp(
        ureq::AgentBuilder::new()
            .redirects(0)
            .build()
            .request(method, &app.url(path))
            .call(),
    )
}

fn every_answer_carries_the_security_headers_and_json_is_never_cached(kind: Kind) {
    let Some(app) = app(kind) else { return };
    let page = app.get(&app.new_survey_path("H-1", "he"));
    let api = app.get_api("/api/v1/followups");
    let missing = app.get("/no/such/page");
    for (what, r) in [("page", &page), ("api", &api), ("404", &missing)] {
        let csp = r.header("content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("style-src 'self'") && !csp.contains("unsafe-inline"),
            "{what}: {csp}"
        );
        assert!(r
            .header("permissions-policy")
            .is_some_and(|p| p.contains("camera=()")));
        assert_eq!(r.header("cross-origin-opener-policy"), Some("same-origin"));
        assert_eq!(
            r.header("cross-origin-resource-policy"),
            Some("same-origin")
        );
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert!(
            r.header("strict-transport-security").is_none(),
            "no HSTS over http"
        );
    }
    // JSON with personal data is never stored; the public summary says how long it may be kept.
    assert_eq!(api.status, 200);
    assert_eq!(api.header("cache-control"), Some("no-store"));
    let unauthorized = app.get("/api/v1/followups");
    assert_eq!(unauthorized.status, 401);
    assert_eq!(unauthorized.header("cache-control"), Some("no-store"));
    let public = app.get("/api/v1/public/summary.json");
    assert!(public
        .header("cache-control")
        .is_some_and(|c| c.starts_with("public")));

    // Behind https, browsers are told to keep to it.
    let Some(secure) = spawn_app_with(kind, chrono::Utc::now(), |s| {
        s.base_url = "https://mashov.city.example".into();
    }) else {
        return;
    };
    let hsts = secure.get("/healthz");
    assert!(hsts
        .header("strict-transport-security")
        .is_some_and(|h| h.starts_with("max-age=31536000")));
}

fn pages_take_their_style_from_a_versioned_stylesheet_of_this_origin(kind: Kind) {
    let Some(app) = app(kind) else { return };
    for path in [app.new_survey_path("H-2", "ar"), "/admin/login".to_string()] {
        let body = app.get(&path).body;
        assert!(!body.contains("<style"), "{path} has inline style");
        let at = body
            .find(r#"<link rel="stylesheet" href=""#)
            .expect("a stylesheet link");
        let href = &body[at + r#"<link rel="stylesheet" href=""#.len()..];
        let href = href[..href.find('"').expect("end")].replace("&#x3D;", "=");
        assert!(
            href.starts_with("/assets/") && href.contains(".css?v="),
            "{href}"
        );
        let sheet = app.get(&href);
        assert_eq!(sheet.status, 200);
        assert_eq!(
            sheet.header("content-type"),
            Some("text/css; charset=utf-8")
        );
        assert!(sheet
            .header("cache-control")
            .is_some_and(|c| c.contains("immutable")));
        assert!(sheet.body.contains("body") && !sheet.body.contains("{{"));
        // Another version's address is served but checked again every time.
        let stale = app.get(&format!("{}x", href));
        assert_eq!(stale.header("cache-control"), Some("no-cache"));
        let etag = sheet.header("etag").expect("etag").to_string();
        let again = resp(
            ureq::get(&app.url(&href))
                .set("If-None-Match", &etag)
                .call(),
        );
        assert_eq!(again.status, 304);
    }
    // The city's colour is in the public stylesheet.
    let page = app.get(&app.new_survey_path("H-3", "he")).body;
    let at = page.find("/assets/page.css?v").expect("page sheet");
    let href = page[at..page[at..].find('"').map(|e| at + e).expect("end")].replace("&#x3D;", "=");
    assert!(app
        .get(&href)
        .body
        .contains(&app.state.templates.city().color));
    assert_eq!(app.get("/assets/nope.css").status, 404);
    assert_eq!(app.get("/assets/page.js").status, 404);
}

fn a_wrong_method_is_405_naming_the_methods_allowed(kind: Kind) {
    let Some(app) = app(kind) else { return };
    for (method, path, allowed) in [
        ("POST", "/healthz", "GET, HEAD"),
        ("DELETE", "/api/v1/interactions", "POST"),
        ("POST", "/api/v1/followups", "GET"),
        ("PUT", "/admin/users", "GET, POST"),
        ("POST", "/transparency", "GET"),
        ("DELETE", "/api/v1/followups/abc", "PATCH"),
    ] {
        let r = request(&app, method, path);
        assert_eq!(r.status, 405, "{method} {path}");
        let allow = r.header("allow").unwrap_or_default().to_string();
        let mut got: Vec<&str> = allow.split(',').map(str::trim).collect();
        let mut want: Vec<&str> = allowed.split(", ").collect();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want, "{method} {path}");
    }
    // A path nobody serves is still 404, in JSON under the API.
    let r = request(&app, "GET", "/api/v1/nothing");
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"], "not_found");
    assert_eq!(request(&app, "DELETE", "/nothing").status, 404);
}

fn the_health_check_fails_while_the_database_takes_no_write(kind: Kind) {
    let Some(app) = app(kind) else { return };
    // Another connection holds the database's write lock: every write waits, then fails.
    let mut holder = Manager::new(&app.db.url)
        .expect("url")
        .open()
        .expect("open");
    let lock = match kind {
        Kind::Sqlite => "BEGIN IMMEDIATE",
        Kind::Postgres => "BEGIN; LOCK TABLE heartbeats IN ACCESS EXCLUSIVE MODE",
    };
    holder.batch_execute(lock).expect("lock");
    let blocked = app.get("/healthz");
    assert_eq!(blocked.status, 503, "{}", blocked.body);
    assert_eq!(blocked.json()["status"], "writes_failing");
    holder.batch_execute("ROLLBACK").expect("release");
    let healthy = app.get("/healthz");
    assert_eq!(healthy.status, 200, "{}", healthy.body);
    assert_eq!(healthy.json()["status"], "ok");
}

fn times_before_2000_are_refused(kind: Kind) {
    let Some(app) = app(kind) else { return };
    for (field, value) in [
        ("closed_at", "1999-12-31T23:59:59+02:00"),
        ("opened_at", "1970-01-01T00:00:00Z"),
    ] {
        let mut body = app.interaction(&format!("OLD-{field}"), "he");
        body[field] = value.into();
        let r = app.report(&body);
        assert_eq!(r.status, 422, "{field} {value}: {}", r.body);
        assert!(
            r.body.contains(field) && r.body.contains("2000"),
            "{}",
            r.body
        );
    }
}

/// SQLite only: PostgreSQL keeps its files itself.
#[test]
fn the_sqlite_database_and_its_write_ahead_log_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let Some(app) = app(Kind::Sqlite) else {
        panic!("SQLite is always there")
    };
    // A write, so that the write-ahead log exists.
    app.new_survey_path("H-4", "he");
    let path = app
        .db
        .url
        .strip_prefix("sqlite://")
        .expect("a SQLite URL")
        .to_string();
    for file in [path.clone(), format!("{path}-wal")] {
        let mode = std::fs::metadata(&file).expect(&file).permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{file} is {mode:o}");
    }
}

fn a_body_that_trickles_is_cut_off_while_others_are_served(kind: Kind) {
    use std::io::{Read, Write};
    let Some(app) = spawn_app_with(kind, chrono::Utc::now(), |s| {
        s.body_timeout = std::time::Duration::from_secs(1);
    }) else {
        return;
    };
    let addr = app
        .address
        .strip_prefix("http://")
        .expect("http")
        .to_string();
    // Twenty clients announce a body and send one byte of it.
    let mut slow: Vec<std::net::TcpStream> = (0..20)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(&addr).expect("connect");
            s.set_read_timeout(Some(std::time::Duration::from_secs(8)))
                .expect("timeout");
            write!(
                s,
                "POST /api/v1/interactions HTTP/1.1\r\nHost: {addr}\r\n\
                 Authorization: Bearer {}\r\nContent-Type: application/json\r\n\
                 Content-Length: 1000\r\n\r\n{{",
                app.api_key
            )
            .expect("send");
            s
        })
        .collect();
    // Meanwhile a resident is served at once.
    let started = std::time::Instant::now();
    let page = app.get(&app.new_survey_path("H-5", "he"));
    assert_eq!(page.status, 200);
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    // Each slow client is answered with an error and its connection closed, within seconds.
    for s in &mut slow {
        let mut answer = Vec::new();
        s.read_to_end(&mut answer).expect("closed, not timed out");
        let answer = String::from_utf8_lossy(&answer);
        let status: u16 = answer
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        assert!((400..500).contains(&status), "{answer}");
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(8));
    // Nothing was recorded from the half bodies.
    let mut conn = app.conn();
    assert_eq!(
        crate::helpers::count(&mut conn, "SELECT COUNT(*) AS n FROM interactions"),
        1
    );
}

fn from(app: &TestApp, address: &str, path: &str, key: Option<&str>) -> crate::helpers::Resp {
    let mut r = ureq::AgentBuilder::new()
        .redirects(0)
        .build()
        .get(&app.url(path))
        .set("X-Forwarded-For", address);
    if let Some(k) = key {
        r = r.set("Authorization", &format!("Bearer {k}"));
    }
    resp(r.call())
}

fn limited(kind: Kind) -> Option<TestApp> {
    spawn_app_with(kind, chrono::Utc::now(), |s| {
        s.rate_limit = 30;
        s.api_rate_limit = 60;
        s.trusted_proxies = vec!["127.0.0.1".parse().expect("ip")];
    })
}

fn a_flooding_address_is_refused_with_429_while_others_are_served(kind: Kind) {
    let Some(app) = limited(kind) else { return };
    let flood = "203.0.113.9";
    let mut refused = None;
    for i in 0..30 {
        let r = from(&app, flood, &format!("/s/unknown-link-{i}"), None);
        if r.status == 429 {
            refused = Some((i, r));
            break;
        }
        assert_eq!(r.status, 404);
    }
    let (after, refused) = refused.expect("the flood is refused");
    assert_eq!(after, 10, "a burst of ten, then refused");
    let wait: u64 = refused
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=2).contains(&wait), "{wait}");
    assert!(refused.body.contains(r#"lang="ar""#) && refused.body.contains("יותר מדי בקשות"));
    // The same address's JSON is refused in JSON; its health check is never limited.
    let json = from(&app, flood, "/api/v1/public/summary.json", None);
    assert_eq!(json.status, 429);
    assert_eq!(json.json()["error"], "too_many_requests");
    assert_eq!(from(&app, flood, "/healthz", None).status, 200);
    // A resident elsewhere is served as ever.
    let page = app.new_survey_path("L-1", "he");
    assert_eq!(from(&app, "198.51.100.7", &page, None).status, 200);
    // Without a trusted proxy in front, the header is the client's own words: not believed.
    let direct = app.get("/transparency");
    assert_eq!(direct.status, 200);
}

fn wrong_api_keys_lock_the_address_out_and_each_key_has_its_rate(kind: Kind) {
    let Some(app) = limited(kind) else { return };
    let guesser = "203.0.113.10";
    for i in 0..20 {
        let r = from(
            &app,
            guesser,
            "/api/v1/catalog",
            Some(&format!("mashov_guess{i}")),
        );
        assert_eq!(r.status, 401, "guess {i}");
    }
    let locked = from(&app, guesser, "/api/v1/catalog", Some("mashov_guess20"));
    assert_eq!(locked.status, 429);
    assert!(locked.header("retry-after").is_some());
    // Locked out whatever it sends now, even a right key: a guesser learns nothing more.
    let right = from(&app, guesser, "/api/v1/catalog", Some(&app.api_key));
    assert_eq!(right.status, 429);
    // The CRM elsewhere is served, up to its key's own rate (a burst of twelve).
    let crm = "192.0.2.44";
    let mut served = 0;
    let mut refused = None;
    for _ in 0..30 {
        let r = from(&app, crm, "/api/v1/catalog", Some(&app.api_key));
        if r.status == 429 {
            refused = Some(r);
            break;
        }
        assert_eq!(r.status, 200);
        served += 1;
    }
    assert_eq!(served, 12);
    let refused = refused.expect("the key's rate holds");
    assert_eq!(refused.json()["error"], "too_many_requests");
    assert!(refused.header("retry-after").is_some());
}

fn every_read_of_personal_data_and_every_export_is_logged_with_who_and_where(kind: Kind) {
    use crate::admin::{user, Visitor, PASSWORD};
    use mashov::domain::account::Role;
    use mashov::services::audit::{self, Action, Actor};
    let Some(app) = spawn_app_with(kind, chrono::Utc::now(), |s| {
        s.trusted_proxies = vec!["127.0.0.1".parse().expect("ip")];
        s.send_rules.frequency_cap = None;
    }) else {
        return;
    };
    // A bad experience opens a case that carries the resident's contact.
    let mut body = app.interaction("PD-1", "he");
    body["contact"]["email"] = "ruth@example.org".into();
    let r = app.report(&body);
    let url = r.json()["survey_url"].as_str().expect("url").to_string();
    let path = url.strip_prefix(&app.address).expect("origin").to_string();
    let answered = app.post_form(&path, &[("overall", "1"), ("contact_consent", "yes")]);
    assert_eq!(answered.status, 303);

    let crm = "198.51.100.20";
    let list = from(&app, crm, "/api/v1/followups", Some(&app.api_key));
    assert_eq!(list.status, 200);
    let case_id = list.json()["followups"][0]["id"]
        .as_str()
        .expect("a case")
        .to_string();
    let today = chrono::Utc::now().date_naive();
    let export = from(
        &app,
        crm,
        &format!(
            "/api/v1/export/responses.csv?from={}&to={today}",
            today - chrono::Duration::days(7)
        ),
        Some(&app.api_key),
    );
    assert_eq!(export.status, 200);
    user(&app, "admin@city.example", Role::Admin, "");
    let mut v = Visitor::new(&app);
    assert_eq!(v.sign_in("admin@city.example", PASSWORD, "").status, 303);
    assert_eq!(v.get(&format!("/admin/followups/{case_id}")).status, 200);

    let mut conn = app.conn();
    let logged = |action: &str| {
        crate::helpers::count(
            &mut app.conn(),
            &format!("SELECT COUNT(*) AS n FROM audit_log WHERE action = '{action}'"),
        )
    };
    assert_eq!(logged("data.cases"), 1);
    assert_eq!(logged("data.export"), 1);
    assert_eq!(logged("data.case"), 1);
    let from_crm = crate::helpers::count(
        &mut conn,
        &format!(
            "SELECT COUNT(*) AS n FROM audit_log WHERE address = '{crm}' AND actor = 'test-crm' \
             AND actor_id LIKE 'key:%'"
        ),
    );
    assert_eq!(
        from_crm, 2,
        "the key and its address, for the list and the export"
    );
    assert_eq!(
        crate::helpers::count(
            &mut conn,
            &format!(
                "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'data.case' \
                 AND target = '{case_id}' AND actor = 'admin@city.example'"
            ),
        ),
        1
    );
    // Admins read it, with where each read came from.
    let page = v.get("/admin/audit");
    assert!(page.body.contains(crm) && page.body.contains("test-crm"));

    // Reads are kept 24 months; set-up changes are not purged with them.
    let old = chrono::Utc::now() - chrono::Duration::days(audit::READS_KEPT_DAYS + 1);
    audit::record_read(
        &mut conn,
        &Actor::command_line(),
        Action::Exported,
        "old.csv",
        serde_json::json!({}),
        old,
    )
    .expect("an old read");
    let before = logged("data.export");
    let purged = audit::purge_reads(&mut conn, chrono::Utc::now()).expect("purge");
    assert_eq!(purged, 1);
    assert_eq!(logged("data.export"), before - 1);
    assert!(
        crate::helpers::count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM audit_log WHERE action NOT LIKE 'data.%'"
        ) >= 1
    );

    // The command line reads the same log.
    drop(conn);
    let out = crate::process::mashov(&app.db, &["audit", "list", "--reads", "--limit", "10"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("data.cases") && text.contains(crm), "{text}");
    assert!(!text.contains("user.create"), "only reads with --reads");
    let bad = crate::process::mashov(&app.db, &["audit", "list", "--limit", "0"]);
    assert!(!bad.status.success());
}

fn metrics_speak_prometheus_to_the_configured_addresses_only(kind: Kind) {
    let Some(app) = app(kind) else { return };
    let path = app.new_survey_path("M-1", "he");
    let token = path.trim_start_matches("/s/").to_string();
    assert_eq!(app.get(&path).status, 200);
    assert_eq!(app.post_form(&path, &[("overall", "5")]).status, 303);
    let m = app.get("/metrics");
    assert_eq!(m.status, 200);
    assert!(m
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/plain; version=0.0.4")));
    let text = m.body;
    for line in [
        "mashov_http_requests_total{route=\"/s\",status=\"200\"} 1",
        "mashov_http_requests_total{route=\"/s\",status=\"303\"} 1",
        "mashov_answers_stored_total 1",
        "mashov_http_request_duration_seconds_count{route=\"/s\"} 2",
        "mashov_up 1",
    ] {
        assert!(text.contains(line), "{line} in\n{text}");
    }
    assert!(
        text.contains("mashov_emails{kind=\"invitation\",state=\"pending\"} 1"),
        "{text}"
    );
    assert!(text.contains("mashov_writer_queue ") && text.contains("mashov_inbox_waiting 0"));
    assert!(text.contains("mashov_email_oldest_waiting_seconds "));
    assert!(!text.contains(&token), "no link in the metrics");
    // Anyone else finds nothing there.
    let Some(elsewhere) = spawn_app_with(kind, chrono::Utc::now(), |s| {
        s.metrics_from = vec!["10.0.0.5".parse().expect("ip")];
    }) else {
        return;
    };
    assert_eq!(elsewhere.get("/metrics").status, 404);
}

/// The log as a collector reads it: one JSON object a line, each request's lines with its id
/// (sent back as `X-Request-Id`), and never a token or a key.
#[test]
fn json_logs_carry_the_request_id_and_never_a_secret() {
    use crate::helpers::TestDb;
    use crate::process::{command, free_port, spawn_serve};
    let db = TestDb::new(Kind::Sqlite).expect("sqlite");
    crate::process::migrate(&db);
    let key = {
        let o = command(&db, &["apikey", "create", "--name", "crm"], free_port())
            .output()
            .expect("key");
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .last()
            .expect("key")
            .to_string()
    };
    let mut cmd = command(&db, &["serve"], 0);
    cmd.env("MASHOV_LOG_FORMAT", "json");
    let server = spawn_serve(cmd, &db);
    let token = "Zm9vYmFyYmF6cXV4cXV1eHh5enp5MTIzNDU2Nzg5MA";
    let r = resp(ureq::get(&format!("{}/s/{token}", server.base)).call());
    assert_eq!(r.status, 404);
    let id = r.header("x-request-id").expect("a request id").to_string();
    let r = resp(
        ureq::get(&format!("{}/api/v1/catalog", server.base))
            .set("Authorization", &format!("Bearer {key}"))
            .call(),
    );
    assert_eq!(r.status, 200);
    drop(server);
    let log = std::fs::read_to_string(db.dir.path().join("server.log")).expect("log");
    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["span"]["id"] == id.as_str() && l["fields"]["path"] == "/s/[token]"),
        "{log}"
    );
    assert!(!log.contains(token) && !log.contains(&key));
}
