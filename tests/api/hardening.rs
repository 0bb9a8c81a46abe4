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
