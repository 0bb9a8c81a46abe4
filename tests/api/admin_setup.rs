//! The set-up pages (users, API keys, digest recipients, the change log) and `GET
//! /api/v1/catalog`, over real HTTP on both backends: what an admin does with them, what
//! everyone else is refused, hostile and malformed forms, and the audit entry every change
//! leaves.

use chrono::TimeZone;

use crate::admin::{user, Page, Visitor, PASSWORD};
use crate::both_backends;
use crate::helpers::{count, resp, spawn_app_with, Kind, TestApp};
use mashov::domain::account::Role;

both_backends!(
    an_admin_adds_a_user_who_then_signs_in_and_the_change_is_logged,
    only_an_admin_reaches_the_set_up_pages,
    set_up_forms_refuse_bad_and_hostile_input_clearly,
    an_api_key_made_in_the_browser_is_shown_once_and_works_within_its_scopes,
    digest_recipients_are_added_changed_and_removed_in_the_browser,
    every_key_reads_the_catalog_of_its_departments,
);

fn app(kind: Kind) -> Option<TestApp> {
    let start = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
    spawn_app_with(kind, start, |_| {})
}

/// An admin, signed in.
fn admin(app: &TestApp) -> Visitor {
    user(app, "admin@city.example", Role::Admin, "");
    let mut v = Visitor::new(app);
    assert_eq!(v.sign_in("admin@city.example", PASSWORD, "").status, 303);
    v
}

/// Opens `page` and posts its form with the page's own token.
fn submit(v: &mut Visitor, page: &str, pairs: &[(&str, &str)]) -> Page {
    let form = v.get(page);
    assert_eq!(form.status, 200, "{page}: {}", form.body);
    let csrf = Visitor::csrf_of(&form);
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(pairs);
    v.post(page, &all, &[])
}

fn an_admin_adds_a_user_who_then_signs_in_and_the_change_is_logged(kind: Kind) {
    let Some(app) = app(kind) else { return };
    let mut v = admin(&app);
    let page = v.get("/admin/users");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("admin@city.example"));
    assert!(page
        .body
        .contains(r#"href="/admin/users" aria-current="page""#));

    let r = submit(
        &mut v,
        "/admin/users",
        &[
            ("action", "create"),
            ("email", " Noa@City.Example "),
            ("role", "manager"),
            ("departments", "sanitation"),
            ("departments", "engineering"),
            ("language", "ar"),
            ("password", "a long enough secret"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.location.as_deref(),
        Some("/admin/users?done=user_created")
    );
    let page = v.get("/admin/users?done=user_created");
    assert!(page.body.contains("noa@city.example"));
    assert!(page.body.contains(r#"role="status""#));

    // The new manager signs in with that password, in Arabic, and sees only their departments.
    let mut noa = Visitor::new(&app);
    assert_eq!(
        noa.sign_in("noa@city.example", "a long enough secret", "")
            .status,
        303
    );
    let home = noa.get("/admin");
    assert!(home.body.contains(r#"<html lang="ar" dir="rtl">"#));
    assert_eq!(noa.get("/admin/departments/hr").status, 404);
    assert_eq!(noa.get("/admin/departments/sanitation").status, 200);

    // A new password ends Noa's sessions; disabling is logged too.
    let r = submit(
        &mut v,
        "/admin/users",
        &[
            ("action", "password"),
            ("email", "noa@city.example"),
            ("password", "another long secret"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(noa.get("/admin").status, 303, "the old session ended");
    let r = submit(
        &mut v,
        "/admin/users",
        &[("action", "disable"), ("email", "noa@city.example")],
    );
    assert_eq!(r.status, 303);
    let mut again = Visitor::new(&app);
    assert_eq!(
        again
            .sign_in("noa@city.example", "another long secret", "")
            .status,
        401,
        "a disabled user cannot sign in"
    );

    // The change log names who did what, newest first, and never holds a password or a hash.
    let log = v.get("/admin/audit");
    assert_eq!(log.status, 200);
    let disabled = log
        .body
        .find("noa@city.example")
        .expect("an entry about Noa");
    assert!(log.body.contains("admin@city.example"));
    assert!(!log.body.contains("another long secret") && !log.body.contains("argon2"));
    let mut conn = app.conn();
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM audit_log WHERE target = 'noa@city.example'"
        ),
        3
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM audit_log WHERE before_value LIKE '%argon2%' OR after_value LIKE '%argon2%'"
        ),
        0
    );
    // The newest entry (the disabling) comes first.
    let newest = &log.body[disabled..];
    assert!(newest.find("noa@city.example").is_some());
    // The command line's own changes are logged under its name.
    assert!(log.body.contains("admin@city.example"));
    assert_eq!(v.get("/admin/audit?page=0").status, 400);
    assert_eq!(v.get("/admin/audit?page=x").status, 400);
    assert_eq!(v.get("/admin/audit?page=2").status, 200);
}

fn only_an_admin_reaches_the_set_up_pages(kind: Kind) {
    let Some(app) = app(kind) else { return };
    user(&app, "dana@city.example", Role::Manager, "sanitation");
    user(&app, "vered@city.example", Role::Viewer, "sanitation");
    let pages = [
        "/admin/users",
        "/admin/keys",
        "/admin/digest",
        "/admin/audit",
    ];
    let mut anonymous = Visitor::new(&app);
    for p in pages {
        let r = anonymous.get(p);
        assert_eq!(r.status, 303, "{p} without a session");
        assert!(r.location.unwrap_or_default().starts_with("/admin/login"));
    }
    for who in ["dana@city.example", "vered@city.example"] {
        let mut v = Visitor::new(&app);
        assert_eq!(v.sign_in(who, PASSWORD, "").status, 303);
        let home = v.get("/admin");
        assert!(!home.body.contains("/admin/users"), "no link for {who}");
        let csrf = Visitor::csrf_of(&home);
        for p in pages {
            assert_eq!(v.get(p).status, 403, "{who} GET {p}");
        }
        for p in ["/admin/users", "/admin/keys", "/admin/digest"] {
            let r = v.post(
                p,
                &[
                    ("csrf", &csrf),
                    ("action", "create"),
                    ("email", "x@city.example"),
                    ("role", "admin"),
                    ("language", "he"),
                    ("password", "a long enough secret"),
                    ("name", "sneaky"),
                    ("scopes", "export:read"),
                ],
                &[],
            );
            assert_eq!(r.status, 403, "{who} POST {p}");
        }
    }
    let mut conn = app.conn();
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM users WHERE email = 'x@city.example'"
        ),
        0
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM api_keys WHERE name = 'sneaky'"
        ),
        0
    );
    // An admin's change needs the token and this origin.
    let mut v = admin(&app);
    let r = v.post(
        "/admin/keys",
        &[
            ("action", "create"),
            ("name", "no-token"),
            ("scopes", "reports:read"),
        ],
        &[],
    );
    assert_eq!(r.status, 403);
    let csrf = Visitor::csrf_of(&v.get("/admin/keys"));
    let r = v.post(
        "/admin/keys",
        &[
            ("csrf", &csrf),
            ("action", "create"),
            ("name", "foreign"),
            ("scopes", "reports:read"),
        ],
        &[("Origin", "https://evil.example")],
    );
    assert_eq!(r.status, 403);
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM api_keys WHERE name IN ('no-token', 'foreign')"
        ),
        0
    );
}

fn set_up_forms_refuse_bad_and_hostile_input_clearly(kind: Kind) {
    let Some(app) = app(kind) else { return };
    let mut v = admin(&app);
    let create = |email: &'static str,
                  role: &'static str,
                  depts: &'static [&'static str],
                  pw: &'static str| {
        let mut pairs = vec![
            ("action", "create"),
            ("email", email),
            ("role", role),
            ("language", "he"),
            ("password", pw),
        ];
        for d in depts {
            pairs.push(("departments", d));
        }
        pairs
    };
    let good = "a long enough secret";
    for (pairs, status, why) in [
        (
            create("not-an-address", "manager", &["sanitation"], good),
            422,
            "bad address",
        ),
        (
            create("a@city.example", "manager", &[], good),
            422,
            "manager without departments",
        ),
        (
            create("a@city.example", "admin", &["sanitation"], good),
            422,
            "admin with departments",
        ),
        (
            create("a@city.example", "manager", &["atlantis"], good),
            422,
            "unknown department",
        ),
        (
            create("a@city.example", "manager", &["sanitation"], "short"),
            422,
            "short password",
        ),
        (
            create("a@city.example", "overlord", &["sanitation"], good),
            422,
            "unknown role",
        ),
        (
            create("admin@city.example", "admin", &[], good),
            409,
            "an existing address",
        ),
    ] {
        let r = submit(&mut v, "/admin/users", &pairs);
        assert_eq!(r.status, status, "{why}: {}", r.body);
        assert!(
            r.body.contains(r#"role="alert""#),
            "{why}: the page says what is wrong"
        );
        assert!(
            !r.body.contains(good),
            "{why}: the password is never sent back"
        );
    }
    // What the person typed comes back escaped, never as markup.
    let r = submit(
        &mut v,
        "/admin/users",
        &create(
            "<script>alert(1)</script>@x",
            "manager",
            &["sanitation"],
            good,
        ),
    );
    assert_eq!(r.status, 422);
    assert!(!r.body.contains("<script>alert(1)"));
    assert!(r.body.contains("&lt;script&gt;"));
    // A field sent twice, an unknown action, a missing action, an oversized body: 400.
    let csrf = Visitor::csrf_of(&v.get("/admin/users"));
    for pairs in [
        vec![
            ("csrf", csrf.as_str()),
            ("action", "create"),
            ("action", "disable"),
        ],
        vec![("csrf", csrf.as_str()), ("action", "drop-table")],
        vec![("csrf", csrf.as_str())],
    ] {
        assert_eq!(v.post("/admin/users", &pairs, &[]).status, 400, "{pairs:?}");
    }
    let huge = "x".repeat(64 * 1024);
    let r = v.post(
        "/admin/digest",
        &[("csrf", &csrf), ("action", "add"), ("email", &huge)],
        &[],
    );
    assert_eq!(r.status, 400);
    // An admin cannot lock themselves out.
    let r = submit(
        &mut v,
        "/admin/users",
        &[("action", "disable"), ("email", "ADMIN@city.example")],
    );
    assert_eq!(r.status, 422);
    let r = submit(
        &mut v,
        "/admin/users",
        &[("action", "disable"), ("email", "nobody@city.example")],
    );
    assert_eq!(r.status, 404);
    // Keys: no scope, a scope that does not exist, an empty or control-character name.
    let r = submit(
        &mut v,
        "/admin/keys",
        &[("action", "create"), ("name", "crm")],
    );
    assert_eq!(r.status, 422);
    let r = submit(
        &mut v,
        "/admin/keys",
        &[
            ("action", "create"),
            ("name", "crm"),
            ("scopes", "root:everything"),
        ],
    );
    assert_eq!(r.status, 400);
    for name in ["", "   ", "bad\u{7}name"] {
        let r = submit(
            &mut v,
            "/admin/keys",
            &[
                ("action", "create"),
                ("name", name),
                ("scopes", "reports:read"),
            ],
        );
        assert_eq!(r.status, 422, "{name:?}");
    }
    let r = submit(
        &mut v,
        "/admin/keys",
        &[("action", "revoke"), ("name", "never-made")],
    );
    assert_eq!(r.status, 404);
    // Digest: a bad address, an unknown language, removing someone who is not there.
    for (pairs, status) in [
        (
            vec![("action", "add"), ("email", "nope"), ("language", "he")],
            422,
        ),
        (
            vec![
                ("action", "add"),
                ("email", "a@city.example"),
                ("language", "xx"),
            ],
            422,
        ),
        (
            vec![("action", "remove"), ("email", "ghost@city.example")],
            404,
        ),
    ] {
        let r = submit(&mut v, "/admin/digest", &pairs);
        assert_eq!(r.status, status, "{pairs:?}");
    }
    let mut conn = app.conn();
    // Only the admin made by the test setup exists, and no refused change was logged.
    assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM users"), 1);
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM audit_log WHERE actor_id IS NOT NULL"
        ),
        0
    );
}

fn an_api_key_made_in_the_browser_is_shown_once_and_works_within_its_scopes(kind: Kind) {
    let Some(app) = app(kind) else { return };
    let mut v = admin(&app);
    let r = submit(
        &mut v,
        "/admin/keys",
        &[
            ("action", "create"),
            ("name", "reports for sanitation"),
            ("scopes", "reports:read"),
            ("departments", "sanitation"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let at = r
        .body
        .find(r#"class="secret" dir="ltr">"#)
        .expect("the key, shown once");
    let rest = &r.body[at + r#"class="secret" dir="ltr">"#.len()..];
    let key = rest[..rest.find('<').unwrap()].to_string();
    assert!(key.len() >= 32, "{key}");
    // Never again: the list shows its name, scopes and departments, not the key.
    let list = v.get("/admin/keys");
    assert!(!list.body.contains(&key));
    assert!(list.body.contains("reports for sanitation"));
    assert!(list.body.contains("reports:read"));
    let mut conn = app.conn();
    assert_eq!(
        count(
            &mut conn,
            &format!("SELECT COUNT(*) AS n FROM audit_log WHERE after_value LIKE '%{key}%'")
        ),
        0,
        "the log never holds the key"
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'key.create' AND actor_id IS NOT NULL"
        ),
        1
    );

    let call = |path: &str| {
        resp(
            ureq::get(&app.url(path))
                .set("Authorization", &format!("Bearer {key}"))
                .call(),
        )
    };
    assert_eq!(
        call("/api/v1/reports/summary?from=2026-01-01&to=2026-11-30&department=sanitation").status,
        200
    );
    assert_eq!(
        call("/api/v1/reports/summary?from=2026-01-01&to=2026-11-30&department=hr").status,
        403
    );
    let r = call("/api/v1/followups");
    assert_eq!(r.status, 403);
    assert!(r.body.contains("followups:read"), "{}", r.body);

    // Revoked in the browser, it stops working at once.
    let r = submit(
        &mut v,
        "/admin/keys",
        &[("action", "revoke"), ("name", "reports for sanitation")],
    );
    assert_eq!(r.status, 303);
    assert_eq!(
        call("/api/v1/reports/summary?from=2026-01-01&to=2026-11-30").status,
        401
    );
    assert!(v
        .get("/admin/keys?done=key_revoked")
        .body
        .contains(r#"role="status""#));
}

fn digest_recipients_are_added_changed_and_removed_in_the_browser(kind: Kind) {
    let Some(app) = app(kind) else { return };
    let mut v = admin(&app);
    let add = |v: &mut Visitor, lang: &'static str, depts: &[&'static str]| {
        let mut pairs = vec![
            ("action", "add"),
            ("email", "Head@City.Example"),
            ("language", lang),
        ];
        for d in depts {
            pairs.push(("departments", *d));
        }
        submit(v, "/admin/digest", &pairs)
    };
    assert_eq!(add(&mut v, "en", &["sanitation"]).status, 303);
    let page = v.get("/admin/digest");
    assert!(page.body.contains("head@city.example"));
    // The same address again changes its language and departments (one row, two log entries).
    assert_eq!(add(&mut v, "ru", &[]).status, 303);
    let mut conn = app.conn();
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM digest_recipients"),
        1
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM digest_recipients WHERE language = 'ru' AND departments = ''"
        ),
        1
    );
    let r = submit(
        &mut v,
        "/admin/digest",
        &[("action", "remove"), ("email", "head@city.example")],
    );
    assert_eq!(r.status, 303);
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM digest_recipients"),
        0
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM audit_log WHERE target = 'head@city.example' AND actor = 'admin@city.example'"
        ),
        3
    );
}

fn every_key_reads_the_catalog_of_its_departments(kind: Kind) {
    let Some(app) = app(kind) else { return };
    let r = app.get_api("/api/v1/catalog");
    assert_eq!(r.status, 200, "{}", r.body);
    let body = r.json();
    let departments = body["departments"].as_array().unwrap();
    let codes: Vec<&str> = departments
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"sanitation") && codes.contains(&"hr"),
        "{codes:?}"
    );
    let sanitation = departments
        .iter()
        .find(|d| d["code"] == "sanitation")
        .unwrap();
    assert_eq!(sanitation["services"][0]["code"], "sanitation.bulky-waste");
    assert_eq!(
        sanitation["services"][0]["names"]["en"],
        "Bulky waste pickup"
    );
    assert_eq!(sanitation["services"][0]["sla_days"], 3);
    // Hostile names come back as data, as given.
    let hostile = departments.iter().find(|d| d["code"] == "hostile").unwrap();
    assert_eq!(hostile["name"], "<b>אגף</b>");

    // A key limited to one department, with a scope unrelated to the catalog, sees only it.
    let key = mashov::services::api_keys::create_scoped(
        &mut app.conn(),
        "engineering-only",
        &[mashov::domain::api_scope::ApiScope::InteractionsWrite],
        &["engineering".to_string()],
        &mashov::services::audit::Actor::command_line(),
        app.clock_now(),
    )
    .expect("key");
    let r = resp(
        ureq::get(&app.url("/api/v1/catalog"))
            .set("Authorization", &format!("Bearer {}", key.expose()))
            .call(),
    );
    assert_eq!(r.status, 200);
    let body = r.json();
    let codes: Vec<&str> = body["departments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["engineering"]);
    // Without a key, or with a wrong one: 401.
    assert_eq!(
        resp(ureq::get(&app.url("/api/v1/catalog")).call()).status,
        401
    );
    let r = resp(
        ureq::get(&app.url("/api/v1/catalog"))
            .set("Authorization", "Bearer not-a-key")
            .call(),
    );
    assert_eq!(r.status, 401);
}
