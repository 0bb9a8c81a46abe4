//! The CRM's side: `POST /api/v1/interactions`, keys, idempotency, bad input.

use serde_json::json;

use crate::both_backends;
use crate::helpers::{count, spawn_app, Kind};
use mashov::clock::Clock;
use mashov::domain::token::hash_secret;

both_backends!(
    a_reported_interaction_gets_a_scheduled_link_stored_only_as_a_hash,
    the_same_external_id_again_answers_200_with_the_same_body,
    concurrent_retries_create_exactly_one_interaction,
    external_ids_are_per_audience,
    the_per_audience_upgrade_keeps_every_request,
    requests_without_a_valid_key_are_refused_with_401,
    malformed_json_is_400_and_an_oversized_body_is_413,
    every_bad_field_is_named_in_one_422,
    health_and_the_openapi_document_are_served,
);

fn a_reported_interaction_gets_a_scheduled_link_stored_only_as_a_hash(kind: Kind) {
    let Some(app) = spawn_app(kind) else { return };
    let r = app.report(&app.interaction("106-2026-118842", "he"));
    assert_eq!(r.status, 201, "{}", r.body);
    let body = r.json();
    assert_eq!(body["status"], "scheduled");
    assert!(body["id"].as_str().is_some_and(|s| !s.is_empty()));
    let url = body["survey_url"].as_str().expect("survey_url");
    let token = url
        .strip_prefix(&format!("{}/s/", app.address))
        .expect("base URL + /s/");
    assert!(token.len() >= 22, "at least 128 bits");
    assert!(token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    let expires =
        chrono::DateTime::parse_from_rfc3339(body["expires_at"].as_str().expect("expires_at"))
            .expect("RFC 3339");
    let days = (expires.with_timezone(&chrono::Utc) - app.clock.now()).num_hours() as f64 / 24.0;
    assert!((13.9..=14.0).contains(&days), "expires in {days} days");

    let mut conn = app.conn();
    let sql = format!(
        "SELECT COUNT(*) AS n FROM invitations WHERE token_hash = '{}'",
        hash_secret(token)
    );
    assert_eq!(count(&mut conn, &sql), 1);
    let leaked = format!(
        "SELECT COUNT(*) AS n FROM invitations WHERE token_hash LIKE '%{token}%' OR id LIKE '%{token}%'"
    );
    assert_eq!(
        count(&mut conn, &leaked),
        0,
        "the plain token is not stored"
    );
}

fn the_same_external_id_again_answers_200_with_the_same_body(kind: Kind) {
    let Some(app) = spawn_app(kind) else { return };
    let body = app.interaction("CRM-1", "ar");
    let first = app.report(&body);
    assert_eq!(first.status, 201);
    app.clock.advance(chrono::Duration::minutes(10));
    let again = app.report(&body);
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.json(), first.json());
    let mut conn = app.conn();
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM interactions"),
        1
    );
    assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM invitations"), 1);
    // The same id with another body is another request: 409 naming every field that differs,
    // and never the first request's link.
    for (changes, named) in [
        (
            vec![(
                "contact",
                json!({"email": "someone-else@example.org", "language": "ar"}),
            )],
            "contact.email",
        ),
        (
            vec![("opened_at", json!("2025-01-01T10:00:00+02:00"))],
            "opened_at",
        ),
        (
            vec![
                ("resolution", json!("not_resolved")),
                ("channel", json!("web")),
            ],
            "resolution",
        ),
    ] {
        let mut other = body.clone();
        for (k, v) in &changes {
            other[*k] = v.clone();
        }
        let r = app.report(&other);
        assert_eq!(r.status, 409, "{changes:?}: {}", r.body);
        assert!(
            r.body.contains(named) && !r.body.contains("/s/"),
            "{}",
            r.body
        );
    }
    let mut both = body.clone();
    both["resolution"] = json!("not_resolved");
    both["channel"] = json!("web");
    let r = app.report(&both);
    assert!(
        r.body.contains("resolution") && r.body.contains("channel"),
        "{}",
        r.body
    );
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM interactions"),
        1
    );
}

/// A CRM numbers residents' and employees' requests alike: the same id in the other audience is
/// another request with its own link, and a retry in either audience still finds its own.
fn external_ids_are_per_audience(kind: Kind) {
    let Some(app) = spawn_app(kind) else { return };
    let resident = app.interaction("CRM-7", "he");
    let first = app.report(&resident);
    assert_eq!(first.status, 201, "{}", first.body);
    let employee = app.employee_ticket("CRM-7", "hr.payslip", "dana@city.example");
    let other = app.report(&employee);
    assert_eq!(other.status, 201, "{}", other.body);
    assert_ne!(other.json()["id"], first.json()["id"]);
    assert_ne!(other.json()["survey_url"], first.json()["survey_url"]);
    let again = app.report(&resident);
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.json(), first.json());
    let again = app.report(&employee);
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.json(), other.json());
    // Within one audience the id still names one request.
    let mut changed = employee.clone();
    changed["service_code"] = json!("it.helpdesk");
    let r = app.report(&changed);
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("service_code"), "{}", r.body);
    let mut conn = app.conn();
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM interactions WHERE external_id = 'CRM-7'"
        ),
        2
    );
}

/// On SQLite the upgrade to per-audience ids rebuilds the table that invitations refer to: it is
/// undone and done again over live rows, which must all survive with their links.
fn the_per_audience_upgrade_keeps_every_request(kind: Kind) {
    use diesel::connection::SimpleConnection;
    use diesel_migrations::{FileBasedMigrations, MigrationHarness};
    use mashov::db::DbConnection;

    let Some(app) = spawn_app(kind) else { return };
    let bodies: Vec<_> = (0..3)
        .map(|i| app.interaction(&format!("UPGRADE-{i}"), "he"))
        .collect();
    let receipts: Vec<_> = bodies.iter().map(|b| app.report(b).json()).collect();
    let mut conn = app.conn();
    let source = |dir| FileBasedMigrations::from_path(dir).expect("migrations folder");
    // Back to before the per-audience migration (and every one after it), then up again.
    let mut reverted = 0;
    loop {
        let last = match &mut *conn {
            DbConnection::Sqlite(c) => {
                c.batch_execute("PRAGMA foreign_keys = OFF")
                    .expect("pragma");
                c.revert_last_migration(source("migrations/sqlite"))
                    .expect("down")
            }
            DbConnection::Postgres(c) => c
                .revert_last_migration(source("migrations/postgres"))
                .expect("down"),
        };
        reverted += 1;
        if last
            .to_string()
            .replace('-', "")
            .starts_with("20261202000018")
        {
            break;
        }
        assert!(reverted < 10, "the per-audience migration was not found");
    }
    assert_eq!(
        mashov::db::migrations::run_pending(&mut conn).expect("up again"),
        reverted
    );
    let joined = "SELECT COUNT(*) AS n FROM invitations v JOIN interactions i \
                  ON i.id = v.interaction_id WHERE i.external_id LIKE 'UPGRADE-%'";
    assert_eq!(count(&mut conn, joined), 3);
    drop(conn);
    for (body, receipt) in bodies.iter().zip(&receipts) {
        let again = app.report(body);
        assert_eq!(again.status, 200, "{}", again.body);
        assert_eq!(&again.json(), receipt);
    }
}

fn concurrent_retries_create_exactly_one_interaction(kind: Kind) {
    let Some(app) = spawn_app(kind) else { return };
    let body = app.interaction("CRM-RACE", "he");
    let results: Vec<(u16, serde_json::Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..12)
            .map(|_| {
                s.spawn(|| {
                    let r = app.report(&body);
                    (r.status, r.json())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let created = results.iter().filter(|(s, _)| *s == 201).count();
    let repeated = results.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!((created, repeated), (1, 11), "{results:?}");
    let urls: std::collections::HashSet<_> = results
        .iter()
        .map(|(_, b)| b["survey_url"].to_string())
        .collect();
    assert_eq!(urls.len(), 1, "every retry got the same link");
    let mut conn = app.conn();
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM interactions"),
        1
    );
}

fn requests_without_a_valid_key_are_refused_with_401(kind: Kind) {
    let Some(app) = spawn_app(kind) else { return };
    let body = app.interaction("CRM-AUTH", "he").to_string();
    for key in [None, Some("wrong"), Some(""), Some(&*"x".repeat(5000))] {
        let r = app.post_raw(
            "/api/v1/interactions",
            "application/json",
            body.as_bytes(),
            key,
        );
        assert_eq!(r.status, 401, "key {key:?}");
        assert_eq!(r.json()["error"], "unauthorized");
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    }
    // A Basic header carrying the real key is not a Bearer key.
    let r = ureq::post(&app.url("/api/v1/interactions"))
        .set("Authorization", &format!("Basic {}", app.api_key))
        .send_string(&body);
    assert!(matches!(r, Err(ureq::Error::Status(401, _))));
    // A revoked key stops working at once.
    let mut conn = app.conn();
    mashov::services::api_keys::revoke(
        &mut conn,
        "test-crm",
        &mashov::services::audit::Actor::command_line(),
        chrono::Utc::now(),
    )
    .expect("revoke");
    let r = app.report(&app.interaction("CRM-AUTH", "he"));
    assert_eq!(r.status, 401);
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM interactions"),
        0
    );
}

fn malformed_json_is_400_and_an_oversized_body_is_413(kind: Kind) {
    let Some(app) = spawn_app(kind) else { return };
    let key = Some(app.api_key.as_str());
    for bad in [
        &b"{"[..],
        b"",
        b"not json",
        b"{\"external_id\": }",
        b"\xff\xfe{}",
    ] {
        let r = app.post_raw("/api/v1/interactions", "application/json", bad, key);
        assert_eq!(r.status, 400, "{:?}", String::from_utf8_lossy(bad));
        assert_eq!(r.json()["error"], "bad_request");
    }
    let mut big = app.interaction("CRM-BIG", "he");
    big["padding"] = json!("x".repeat(70 * 1024));
    let r = app.post_raw(
        "/api/v1/interactions",
        "application/json",
        big.to_string().as_bytes(),
        key,
    );
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["error"], "payload_too_large");
    // Just under the limit is read (and then judged on its fields).
    let mut fits = app.interaction("CRM-FITS", "he");
    fits["padding"] = json!("x".repeat(60 * 1024));
    assert_eq!(app.report(&fits).status, 201);
    let mut conn = app.conn();
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM interactions"),
        1
    );
}

fn every_bad_field_is_named_in_one_422(kind: Kind) {
    let Some(app) = spawn_app(kind) else { return };
    let future = (app.clock.now() + chrono::Duration::days(1)).to_rfc3339();
    let r = app.report(&json!({
        "external_id": "x".repeat(129), "audience": "tourist", "service_code": "no.such",
        "channel": "pigeon", "opened_at": "yesterday", "closed_at": future, "resolution": "maybe",
        "contact": {"email": "not@an@email", "language": "fr", "phone": "<script>"}
    }));
    assert_eq!(r.status, 422, "{}", r.body);
    let fields = r.json()["fields"].clone();
    for f in [
        "external_id",
        "audience",
        "service_code",
        "channel",
        "opened_at",
        "closed_at",
        "resolution",
        "contact.email",
        "contact.language",
        "contact.phone",
    ] {
        assert!(fields[f].is_string(), "{f} missing from {fields}");
    }
    // Missing required fields, wrong types, non-objects, employee-only services.
    let r = app.report(&json!({"external_id": 5}));
    let fields = r.json()["fields"].clone();
    for f in ["external_id", "audience", "service_code", "closed_at"] {
        assert!(fields[f].is_string(), "{f} missing from {fields}");
    }
    assert_eq!(app.report(&json!([1, 2, 3])).status, 422);
    assert_eq!(app.report(&json!("text")).status, 422);
    let mut employee_service = app.interaction("CRM-HR", "he");
    employee_service["service_code"] = json!("hr.payslip");
    let r = app.report(&employee_service);
    assert_eq!(r.status, 422);
    assert!(r.json()["fields"]["service_code"].is_string());
    let mut conn = app.conn();
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM interactions"),
        0
    );
}

fn health_and_the_openapi_document_are_served(kind: Kind) {
    let Some(app) = spawn_app(kind) else { return };
    assert_eq!(app.get("/healthz").status, 200);
    let doc = app.get("/api/v1/openapi.json");
    assert_eq!(doc.status, 200);
    let doc = doc.json();
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    assert!(doc["paths"]["/api/v1/interactions"]["post"].is_object());
    for (path, method) in [
        ("/api/v1/reports/summary", "get"),
        ("/api/v1/reports/breakdown", "get"),
        ("/api/v1/export/responses.csv", "get"),
        ("/api/v1/followups", "get"),
        ("/api/v1/followups/{id}", "patch"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{path} is documented"
        );
    }
    let unknown = app.get("/api/v1/nothing-here");
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json()["error"], "not_found");
}

/// PostgreSQL drops every connection of the database (a restart, a failover): mashov reconnects
/// by itself, at the cost of at most a failed request or a second of failed writes.
#[test]
fn the_service_recovers_when_postgresql_drops_its_connections() {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    let Some(app) = spawn_app(Kind::Postgres) else {
        return;
    };
    let path = app.new_survey_path("RECONNECT-1", "he");
    assert_eq!(app.get(&path).status, 200);
    let admin = std::env::var("MASHOV_TEST_POSTGRES_URL").expect("admin URL");
    let name = app
        .db
        .url
        .rsplit('/')
        .next()
        .expect("database name")
        .to_string();
    let mut conn = diesel::PgConnection::establish(&admin).expect("admin connection");
    conn.batch_execute(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    ))
    .expect("terminate");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut n = 0;
    loop {
        n += 1;
        let page = app.get(&path).status;
        let report = app
            .report(&app.interaction(&format!("RECONNECT-{}", n + 1), "he"))
            .status;
        if page == 200 && report == 201 {
            break;
        }
        assert!([503, 500, 200].contains(&page), "page {page}");
        assert!(
            std::time::Instant::now() < deadline,
            "never recovered: page {page}, report {report}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}
