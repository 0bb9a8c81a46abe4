//! Scoped API keys: a key does its job and no more (`403` naming the scope it lacks), sees only
//! its departments, never a contact without `followups:read`; keys made before scopes keep
//! every scope.

use diesel::connection::SimpleConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::both_backends;
use crate::helpers::{spawn_app, Clock, Kind, Resp, TestApp, TestDb};
use mashov::domain::api_scope::ApiScope;
use mashov::services::api_keys;

both_backends!(
    a_scoped_key_does_its_job_and_no_more,
    a_key_limited_to_departments_sees_and_reports_only_theirs,
    keys_made_before_scopes_keep_every_scope,
);

fn key(app: &TestApp, name: &str, scopes: &[ApiScope], departments: &[&str]) -> String {
    let departments: Vec<String> = departments.iter().map(|d| d.to_string()).collect();
    api_keys::create_scoped(
        &mut app.conn(),
        name,
        scopes,
        &departments,
        &mashov::services::audit::Actor::command_line(),
        app.clock.now(),
    )
    .expect("key")
    .expose()
    .clone()
}

fn get(app: &TestApp, path: &str, key: &str) -> Resp {
    let r = ureq::get(&app.url(path))
        .set("Authorization", &format!("Bearer {key}"))
        .call();
    crate::helpers::resp(r)
}

fn send(app: &TestApp, method: &str, path: &str, key: &str, body: &serde_json::Value) -> Resp {
    let r = ureq::request(method, &app.url(path))
        .set("Authorization", &format!("Bearer {key}"))
        .set("Content-Type", "application/json")
        .send_string(&body.to_string());
    crate::helpers::resp(r)
}

/// A bad experience with consent to be contacted: a case with a contact.
fn case_with_contact(app: &TestApp, external_id: &str, service: &str, key: &str) -> String {
    let mut body = app.interaction(external_id, "he");
    body["service_code"] = service.into();
    let r = send(app, "POST", "/api/v1/interactions", key, &body);
    assert_eq!(r.status, 201, "{}", r.body);
    let url = r.json()["survey_url"].as_str().expect("url").to_string();
    let path = url.strip_prefix(&app.address).expect("own").to_string();
    let form = [
        ("overall", "1"),
        ("resolved", "not_resolved"),
        ("contact_consent", "yes"),
    ];
    assert_eq!(app.post_form(&path, &form).status, 303);
    let all = app.get_api("/api/v1/followups").json();
    all["followups"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| c["external_id"] == external_id)
        .and_then(|c| c["id"].as_str())
        .expect("its case")
        .to_string()
}

fn a_scoped_key_does_its_job_and_no_more(kind: Kind) {
    let Some(app) = spawn_app(kind) else { return };
    let crm = key(&app, "crm", &[ApiScope::InteractionsWrite], &[]);
    let case = case_with_contact(&app, "SC-1", "sanitation.bulky-waste", &crm);
    for (path, scope) in [
        (
            "/api/v1/reports/summary?from=2026-01-01&to=2026-12-31",
            "reports:read",
        ),
        ("/api/v1/followups", "followups:read"),
        (
            "/api/v1/export/responses.csv?from=2026-01-01&to=2026-12-31",
            "export:read",
        ),
    ] {
        let r = get(&app, path, &crm);
        assert_eq!(r.status, 403, "{path}");
        assert_eq!(r.json()["missing_scope"], scope, "{path}");
    }
    let patch = serde_json::json!({"status": "in_progress"});
    let r = send(
        &app,
        "PATCH",
        &format!("/api/v1/followups/{case}"),
        &crm,
        &patch,
    );
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["missing_scope"], "followups:write");

    // A key that may move cases but not read them never sees a contact.
    let mover = key(&app, "mover", &[ApiScope::FollowupsWrite], &[]);
    let r = send(
        &app,
        "PATCH",
        &format!("/api/v1/followups/{case}"),
        &mover,
        &patch,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "in_progress");
    // It learns only where the case stands.
    for field in [
        "contact",
        "answers",
        "comment",
        "notes",
        "external_id",
        "assignee",
    ] {
        assert!(r.json().get(field).is_none(), "{field} in {}", r.body);
    }
    assert!(!r.body.contains("+97250"));
    // The same case through a key that may read cases shows the contact.
    let reader = key(&app, "reader", &[ApiScope::FollowupsRead], &[]);
    let listed = get(&app, "/api/v1/followups", &reader);
    assert!(listed.body.contains("+97250"));

    // The list of keys tells what each may do, and when it was last used.
    let keys = api_keys::list(&mut app.conn()).expect("keys");
    let crm_row = keys.iter().find(|k| k.name == "crm").expect("crm");
    assert_eq!(crm_row.scopes, "interactions:write");
    assert!(crm_row.last_used_at.is_some());
    let reader_row = keys.iter().find(|k| k.name == "reader").expect("reader");
    assert!(reader_row.last_used_at.is_some());
}

fn a_key_limited_to_departments_sees_and_reports_only_theirs(kind: Kind) {
    let Some(app) = spawn_app(kind) else { return };
    let all = app.api_key.clone();
    let ours = case_with_contact(&app, "DEP-1", "sanitation.bulky-waste", &all);
    let theirs = case_with_contact(&app, "DEP-2", "engineering.hazard", &all);
    let eng = key(&app, "engineering", &ApiScope::ALL, &["engineering"]);

    let cases = get(&app, "/api/v1/followups", &eng);
    assert_eq!(cases.status, 200);
    assert!(cases.body.contains(&theirs) && !cases.body.contains(&ours));
    let r = get(&app, "/api/v1/followups?department=sanitation", &eng);
    assert_eq!(r.status, 403);
    let patch = serde_json::json!({"status": "in_progress"});
    let r = send(
        &app,
        "PATCH",
        &format!("/api/v1/followups/{ours}"),
        &eng,
        &patch,
    );
    assert_eq!(r.status, 404, "another department's case is not there");

    let year = "from=2026-01-01&to=2026-12-31";
    let today = mashov::domain::period::local_day(app.clock.now());
    let period = format!("from={}&to={today}", today - chrono::Duration::days(30));
    let scoped = get(&app, &format!("/api/v1/reports/summary?{period}"), &eng).json();
    let expected = app
        .get_api(&format!(
            "/api/v1/reports/summary?{period}&department=engineering"
        ))
        .json();
    assert_eq!(scoped["responses"], expected["responses"]);
    assert_eq!(scoped["responses"], 1);
    assert_eq!(
        scoped["followups"]["opened"], 1,
        "only engineering's case is counted"
    );
    let rows = get(
        &app,
        &format!("/api/v1/reports/breakdown?{period}&by=service"),
        &eng,
    )
    .json();
    let keys: Vec<&str> = rows["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["key"].as_str())
        .collect();
    assert_eq!(keys, vec!["engineering.hazard"], "{rows}");
    let r = get(
        &app,
        &format!("/api/v1/reports/summary?{year}&department=sanitation"),
        &eng,
    );
    assert_eq!(r.status, 403);
    // Another department's service by name: refused, not answered with nothing.
    for path in [
        format!("/api/v1/reports/summary?{period}&service=sanitation.bulky-waste"),
        format!("/api/v1/export/responses.csv?{period}&service=sanitation.bulky-waste"),
    ] {
        let r = get(&app, &path, &eng);
        assert_eq!(r.status, 403, "{path}: {}", r.body);
    }
    let own = get(
        &app,
        &format!("/api/v1/reports/summary?{period}&service=engineering.hazard"),
        &eng,
    );
    assert_eq!(own.status, 200);
    let csv = get(
        &app,
        &format!("/api/v1/export/responses.csv?{period}"),
        &eng,
    );
    assert_eq!(csv.status, 200);
    assert!(
        csv.body.lines().count() == 2,
        "a header and engineering's one answer: {}",
        csv.body
    );

    // Replaying another department's external id never hands out its link.
    let mut replay = app.interaction("DEP-1", "he");
    replay["service_code"] = "engineering.hazard".into();
    let r = send(&app, "POST", "/api/v1/interactions", &eng, &replay);
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(
        r.body.contains("service_code") && !r.body.contains("/s/"),
        "{}",
        r.body
    );

    let mut body = app.interaction("DEP-3", "he");
    body["service_code"] = "sanitation.bulky-waste".into();
    let r = send(&app, "POST", "/api/v1/interactions", &eng, &body);
    assert_eq!(r.status, 403, "{}", r.body);
    body["service_code"] = "engineering.hazard".into();
    assert_eq!(
        send(&app, "POST", "/api/v1/interactions", &eng, &body).status,
        201
    );
}

fn keys_made_before_scopes_keep_every_scope(kind: Kind) {
    const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
    const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
    let Some(db) = TestDb::new(kind) else { return };
    let mut conn = mashov::db::connection::Manager::new(&db.url)
        .expect("url")
        .open()
        .expect("connect");
    // The schema as it was before scopes (nine migrations), and a key of that time.
    for _ in 0..9 {
        match &mut conn {
            mashov::db::DbConnection::Postgres(c) => c.run_next_migration(POSTGRES).map(drop),
            mashov::db::DbConnection::Sqlite(c) => c.run_next_migration(SQLITE).map(drop),
        }
        .expect("migration");
    }
    let hash = mashov::domain::token::hash_secret("mashov_old-key");
    conn.batch_execute(&format!(
        "INSERT INTO api_keys (id, name, key_hash, created_at) \
         VALUES ('old', 'old crm', '{hash}', '2026-11-01 10:00:00')"
    ))
    .expect("an old key");
    mashov::db::migrations::run_pending(&mut conn).expect("upgrade");
    let (grant, _) = api_keys::authenticate(&mut conn, "mashov_old-key", chrono::Utc::now())
        .expect("query")
        .expect("still a key");
    assert_eq!(grant.scopes, ApiScope::ALL.to_vec());
    assert!(grant.departments.is_empty());
}
