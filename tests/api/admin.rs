//! The management app as its users and an attacker meet it, over real HTTP on both backends:
//! signing in, sessions that end, throttling, CSRF, and scope enforced by URL.

use std::collections::HashMap;
use std::time::Duration;

use chrono::TimeZone;

use crate::both_backends;
use crate::helpers::{spawn_app_with, Clock, Kind, TestApp};
use mashov::domain::account::{NewPassword, Role};
use mashov::domain::language::Language;
use mashov::services::accounts::{self, NewUser};

both_backends!(
    a_manager_signs_in_and_sees_only_their_departments,
    sessions_end_when_idle_too_long_too_old_signed_out_or_disabled,
    failed_sign_ins_are_throttled_per_account_and_per_address,
    state_changing_requests_need_the_token_and_this_origin,
    the_dashboard_shows_the_reports_figures_for_its_scope,
    hostile_and_malformed_admin_input_gets_a_clear_refusal,
    behind_a_trusted_proxy_each_client_is_throttled_alone_and_bursts_are_counted,
    cookies_are_secure_when_the_base_url_is_https,
);

pub const PASSWORD: &str = "correct horse battery";

/// Creates a user straight through the service (the CLI has its own test).
pub fn user(app: &TestApp, email: &str, role: Role, departments: &str) {
    let hash = mashov::domain::password::hash(&NewPassword::parse(PASSWORD.into()).expect("ok"));
    let new = NewUser::new(email, role, departments, Language::He, hash).expect("valid user");
    accounts::create(
        &mut app.conn(),
        &new,
        &mashov::services::audit::Actor::command_line(),
        app.clock.now(),
    )
    .expect("create user");
}

/// A browser without JavaScript: keeps cookies, never follows redirects.
pub struct Visitor {
    base: String,
    agent: ureq::Agent,
    pub cookies: HashMap<String, String>,
    /// Every `Set-Cookie` seen, as sent.
    pub set_cookies: Vec<String>,
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub retry_after: Option<String>,
    pub body: String,
}

impl Visitor {
    pub fn new(app: &TestApp) -> Visitor {
        Visitor::at(&app.address)
    }

    /// A visitor of a server started some other way (the real binary).
    pub fn at(base: &str) -> Visitor {
        Visitor {
            base: base.to_string(),
            agent: ureq::AgentBuilder::new()
                .redirects(0)
                .timeout(Duration::from_secs(30))
                .build(),
            cookies: HashMap::new(),
            set_cookies: Vec::new(),
        }
    }

    /// Posts a `multipart/form-data` body: `(name, file name, bytes)` for each part.
    pub fn post_multipart(&mut self, path: &str, parts: &[(&str, Option<&str>, &[u8])]) -> Page {
        let boundary = "----mashov-test-boundary-7e3f";
        let mut body = Vec::new();
        for (name, file, bytes) in parts {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            match file {
                Some(f) => body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                    )
                    .as_bytes(),
                ),
                None => body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                ),
            }
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let req = self.agent.post(&format!("{}{path}", self.base)).set(
            "Content-Type",
            &format!("multipart/form-data; boundary={boundary}"),
        );
        self.send_bytes(req, &body)
    }

    fn send_bytes(&mut self, req: ureq::Request, body: &[u8]) -> Page {
        let req = self.with_cookies(req);
        self.finish(req.send_bytes(body))
    }

    fn send(&mut self, req: ureq::Request, form: Option<&[(&str, &str)]>) -> Page {
        let req = self.with_cookies(req);
        let result = match form {
            Some(pairs) => req.send_form(pairs),
            None => req.call(),
        };
        self.finish(result)
    }

    fn with_cookies(&self, req: ureq::Request) -> ureq::Request {
        let cookie: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if cookie.is_empty() {
            req
        } else {
            req.set("Cookie", &cookie.join("; "))
        }
    }

    fn finish(&mut self, result: Result<ureq::Response, ureq::Error>) -> Page {
        let r = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("request failed: {e}"),
        };
        for set in r.all("set-cookie") {
            self.set_cookies.push(set.to_string());
            let (pair, attrs) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').expect("cookie pair");
            let removed = attrs.to_ascii_lowercase().contains("max-age=0") || value.is_empty();
            if removed {
                self.cookies.remove(name.trim());
            } else {
                self.cookies
                    .insert(name.trim().to_string(), value.trim().to_string());
            }
        }
        Page {
            status: r.status(),
            location: r.header("location").map(str::to_string),
            retry_after: r.header("retry-after").map(str::to_string),
            body: r.into_string().expect("body"),
        }
    }

    pub fn get(&mut self, path: &str) -> Page {
        let req = self.agent.get(&format!("{}{path}", self.base));
        self.send(req, None)
    }

    pub fn post(&mut self, path: &str, form: &[(&str, &str)], headers: &[(&str, &str)]) -> Page {
        let mut req = self.agent.post(&format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.set(k, v);
        }
        self.send(req, Some(form))
    }

    /// The hidden CSRF field of the last form on a page.
    pub fn csrf_of(page: &Page) -> String {
        let at = page
            .body
            .rfind(r#"name="csrf" value=""#)
            .expect("a CSRF field");
        let rest = &page.body[at + r#"name="csrf" value=""#.len()..];
        rest[..rest.find('"').expect("end of value")].to_string()
    }

    /// Opens the sign-in form and sends it.
    pub fn sign_in(&mut self, email: &str, password: &str, next: &str) -> Page {
        let form = self.get("/admin/login");
        assert_eq!(form.status, 200);
        let csrf = Visitor::csrf_of(&form);
        self.post(
            "/admin/login",
            &[
                ("csrf", &csrf),
                ("email", email),
                ("password", password),
                ("next", next),
            ],
            &[],
        )
    }
}

fn app(kind: Kind) -> Option<TestApp> {
    // Tuesday 2026-12-01, 10:00 in Israel.
    let start = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
    spawn_app_with(kind, start, |_| {})
}

fn a_manager_signs_in_and_sees_only_their_departments(kind: Kind) {
    let Some(app) = app(kind) else { return };
    user(&app, "dana@city.example", Role::Manager, "sanitation");
    let mut v = Visitor::new(&app);

    // Without a session, every page leads to the sign-in form, which then leads back.
    let r = v.get("/admin/departments/sanitation?period=month");
    assert_eq!(r.status, 303);
    let login = r.location.expect("to the sign-in page");
    assert!(login.starts_with("/admin/login?next="), "{login}");
    let form = v.get(&login);
    assert_eq!(form.status, 200);
    assert!(form.body.contains(r#"<html lang="he" dir="rtl">"#));
    assert!(form.body.contains(r#"name="email""#) && form.body.contains(r#"name="password""#));
    // (Handlebars writes `=` as `&#x3D;` in attributes; the browser reads it back.)
    assert!(form
        .body
        .replace("&#x3D;", "=")
        .contains(r#"name="next" value="/admin/departments/sanitation?period=month""#));

    // A session id planted before sign-in is never adopted (no fixation).
    v.cookies
        .insert("mashov_session".into(), "planted-by-an-attacker".into());
    let wrong = v.sign_in("dana@city.example", "wrong password here", "/admin");
    assert_eq!(wrong.status, 401);
    let unknown = v.sign_in("nobody@city.example", PASSWORD, "/admin");
    assert_eq!(unknown.status, 401);
    let message = |p: &Page| {
        let at = p
            .body
            .find(r##"<a href="#email">"##)
            .expect("error summary");
        p.body[at..at + 200.min(p.body.len() - at)].to_string()
    };
    assert_eq!(
        message(&wrong),
        message(&unknown),
        "the same words for both"
    );

    let ok = v.sign_in(
        "Dana@City.Example",
        PASSWORD,
        "/admin/departments/sanitation?period=month",
    );
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(
        ok.location.as_deref(),
        Some("/admin/departments/sanitation?period=month")
    );
    let session = v.cookies.get("mashov_session").expect("a session").clone();
    assert_ne!(session, "planted-by-an-attacker");
    assert!(session.len() >= 22, "128 bits or more");
    let set = v
        .set_cookies
        .iter()
        .find(|c| c.starts_with("mashov_session=") && !c.contains("Max-Age=0"))
        .expect("Set-Cookie");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/admin"] {
        assert!(set.contains(attr), "{set} lacks {attr}");
    }
    assert!(!set.contains("Secure"), "plain http here: {set}");

    // Their department, and nothing of another, not even by URL.
    let own = v.get("/admin/departments/sanitation");
    assert_eq!(own.status, 200);
    assert!(own.body.contains("אגף תברואה"));
    assert_eq!(v.get("/admin/departments/engineering").status, 404);
    assert_eq!(v.get("/admin/departments/no-such-department").status, 404);
    assert_eq!(v.get("/admin").status, 200);
    // Every admin page is kept by no cache.
    let raw = ureq::get(&format!("{}/admin/login", app.address))
        .call()
        .expect("login page");
    assert_eq!(raw.header("cache-control"), Some("no-store"));
}

/// A visitor signed in as `admin@city.example`.
fn admin_visitor(app: &TestApp) -> Visitor {
    let mut v = Visitor::new(app);
    let r = v.sign_in("admin@city.example", PASSWORD, "/admin");
    assert_eq!(r.status, 303, "{}", r.body);
    v
}

fn sessions_end_when_idle_too_long_too_old_signed_out_or_disabled(kind: Kind) {
    let Some(app) = app(kind) else { return };
    user(&app, "admin@city.example", Role::Admin, "");
    let minutes = |n: i64| chrono::Duration::minutes(n);

    // Idle: 29 minutes twice is fine (each visit moves the clock), 31 is not.
    let mut v = admin_visitor(&app);
    for _ in 0..2 {
        app.clock.advance(minutes(29));
        assert_eq!(v.get("/admin").status, 200);
    }
    app.clock.advance(minutes(31));
    assert_eq!(v.get("/admin").status, 303, "idle for 31 minutes");

    // Absolute: twelve hours after sign-in, however busy.
    let mut v = admin_visitor(&app);
    for _ in 0..(12 * 60 / 25) {
        app.clock.advance(minutes(25));
        assert_eq!(v.get("/admin").status, 200);
    }
    app.clock.advance(minutes(25));
    assert_eq!(v.get("/admin").status, 303, "twelve hours after sign-in");

    // Signing out ends the session at once; the old cookie opens nothing.
    let mut v = admin_visitor(&app);
    let page = v.get("/admin");
    let old = v.cookies.clone();
    assert_eq!(v.post("/admin/logout", &[], &[]).status, 403, "no token");
    let out = v.post("/admin/logout", &[("csrf", &Visitor::csrf_of(&page))], &[]);
    assert_eq!(out.status, 303);
    assert_eq!(out.location.as_deref(), Some("/admin/login"));
    assert!(!v.cookies.contains_key("mashov_session"));
    v.cookies = old;
    assert_eq!(v.get("/admin").status, 303, "the old cookie after sign-out");

    // Disabling a user ends every session of theirs.
    let mut a = Visitor::new(&app);
    let mut b = Visitor::new(&app);
    for v in [&mut a, &mut b] {
        assert_eq!(
            v.sign_in("admin@city.example", PASSWORD, "/admin").status,
            303
        );
        assert_eq!(v.get("/admin").status, 200);
    }
    accounts::disable(
        &mut app.conn(),
        "admin@city.example",
        &mashov::services::audit::Actor::command_line(),
        app.clock.now(),
    )
    .expect("disable");
    assert_eq!(a.get("/admin").status, 303);
    assert_eq!(b.get("/admin").status, 303);
    let mut c = Visitor::new(&app);
    assert_eq!(
        c.sign_in("admin@city.example", PASSWORD, "/admin").status,
        401
    );
}

fn failed_sign_ins_are_throttled_per_account_and_per_address(kind: Kind) {
    let Some(app) = app(kind) else { return };
    user(&app, "dana@city.example", Role::Manager, "sanitation");
    user(&app, "omar@city.example", Role::Manager, "engineering");
    let mut v = Visitor::new(&app);
    for i in 0..5 {
        let r = v.sign_in(
            "dana@city.example",
            &format!("wrong password {i}"),
            "/admin",
        );
        assert_eq!(r.status, 401, "try {i}");
    }
    // Locked: even the right password waits, and the page says for how long.
    let r = v.sign_in("dana@city.example", PASSWORD, "/admin");
    assert_eq!(r.status, 429);
    let wait: i64 = r
        .retry_after
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=15 * 60).contains(&wait), "{wait}");
    assert!(r.body.contains("15"), "minutes to wait: {}", r.body);
    // Another account from the same address is not locked by Dana's failures.
    assert_eq!(
        v.sign_in("omar@city.example", PASSWORD, "/admin").status,
        303
    );
    // After the lock, the right password works.
    app.clock.advance(chrono::Duration::minutes(16));
    let mut w = Visitor::new(&app);
    assert_eq!(
        w.sign_in("dana@city.example", PASSWORD, "/admin").status,
        303
    );

    // One address trying many accounts is stopped too.
    let mut x = Visitor::new(&app);
    for i in 0..20 {
        let r = x.sign_in(
            &format!("guess{i}@city.example"),
            "wrong password",
            "/admin",
        );
        assert_eq!(r.status, 401, "guess {i}");
    }
    assert_eq!(
        x.sign_in("omar@city.example", PASSWORD, "/admin").status,
        429
    );
}

fn state_changing_requests_need_the_token_and_this_origin(kind: Kind) {
    let Some(app) = app(kind) else { return };
    user(&app, "dana@city.example", Role::Manager, "sanitation");
    let mut v = Visitor::new(&app);
    let form = v.get("/admin/login");
    let csrf = Visitor::csrf_of(&form);
    let creds = |token: &str| {
        vec![
            ("csrf", token.to_string()),
            ("email", "dana@city.example".to_string()),
            ("password", PASSWORD.to_string()),
        ]
    };
    let send = |v: &mut Visitor, pairs: Vec<(&str, String)>, headers: &[(&str, &str)]| {
        let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, x)| (*k, x.as_str())).collect();
        v.post("/admin/login", &borrowed, headers).status
    };
    assert_eq!(send(&mut v, creds(""), &[]), 403, "no token");
    assert_eq!(send(&mut v, creds("forged"), &[]), 403, "a wrong token");
    let foreign = [("Origin", "https://evil.example")];
    assert_eq!(
        send(&mut v, creds(&csrf), &foreign),
        403,
        "a foreign Origin"
    );
    let cross = [("Sec-Fetch-Site", "cross-site")];
    assert_eq!(
        send(&mut v, creds(&csrf), &cross),
        403,
        "a cross-site request"
    );
    // The token of another visitor's form does not fit this one's cookie.
    let mut other = Visitor::new(&app);
    let theirs = Visitor::csrf_of(&other.get("/admin/login"));
    assert_eq!(send(&mut v, creds(&theirs), &[]), 403);
    let ours = [
        ("Origin", app.address.as_str()),
        ("Sec-Fetch-Site", "same-origin"),
    ];
    assert_eq!(send(&mut v, creds(&csrf), &ours), 303, "the real form");
    // Signed in, a token from another session's page is refused.
    user(&app, "omar@city.example", Role::Manager, "engineering");
    assert_eq!(
        other
            .sign_in("omar@city.example", PASSWORD, "/admin")
            .status,
        303
    );
    let omars = Visitor::csrf_of(&other.get("/admin"));
    assert_eq!(
        v.post("/admin/logout", &[("csrf", &omars)], &[]).status,
        403
    );
    assert_eq!(v.get("/admin").status, 200, "still signed in");
    // A browser told to send no referrer says `Origin: null`: accepted only with
    // `Sec-Fetch-Site: same-origin`, and still only with the token.
    let mine = Visitor::csrf_of(&v.get("/admin"));
    let null_alone = [("Origin", "null")];
    assert_eq!(
        v.post("/admin/logout", &[("csrf", &mine)], &null_alone)
            .status,
        403
    );
    let null_same = [("Origin", "null"), ("Sec-Fetch-Site", "same-origin")];
    assert_eq!(
        v.post("/admin/logout", &[("csrf", &omars)], &null_same)
            .status,
        403
    );
    assert_eq!(
        v.post("/admin/logout", &[("csrf", &mine)], &null_same)
            .status,
        303
    );
    // The app's pages ask browsers to send their origin on form posts.
    let raw = ureq::get(&format!("{}/admin/login", app.address))
        .call()
        .expect("login page");
    assert_eq!(raw.header("referrer-policy"), Some("same-origin"));
}

fn the_dashboard_shows_the_reports_figures_for_its_scope(kind: Kind) {
    let Some(app) = app(kind) else { return };
    // Answers in November: four satisfied of five in sanitation, one of two in engineering.
    let day = chrono::Utc.with_ymd_and_hms(2026, 11, 10, 8, 0, 0).unwrap();
    app.clock.set(day);
    let answer = |id: &str, service: &str, overall: &str| {
        let mut body = app.interaction(id, "he");
        body["service_code"] = service.into();
        body["closed_at"] = (day - chrono::Duration::hours(1)).to_rfc3339().into();
        let r = app.report(&body);
        assert_eq!(r.status, 201, "{}", r.body);
        let url = r.json()["survey_url"].as_str().expect("url").to_string();
        let path = url.strip_prefix(&app.address).expect("own").to_string();
        let r = app.post_form(&path, &[("overall", overall), ("resolved", "resolved")]);
        assert_eq!(r.status, 303, "{}", r.body);
    };
    for (i, score) in ["5", "4", "4", "5", "2"].iter().enumerate() {
        answer(&format!("S-{i}"), "sanitation.bulky-waste", score);
    }
    for (i, score) in ["5", "1"].iter().enumerate() {
        answer(&format!("E-{i}"), "engineering.hazard", score);
    }
    app.clock
        .set(chrono::Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap());
    user(&app, "admin@city.example", Role::Admin, "");
    user(&app, "dana@city.example", Role::Viewer, "sanitation");

    let csat_shown = |who: &str| {
        let mut v = Visitor::new(&app);
        assert_eq!(v.sign_in(who, PASSWORD, "/admin").status, 303);
        let page = v.get("/admin?period=month&audience=resident");
        assert_eq!(page.status, 200, "{}", page.body);
        // The departments table lists exactly the departments in scope.
        let sees = |code: &str| page.body.contains(&format!("/admin/departments/{code}\""));
        assert!(sees("sanitation"), "{who}");
        assert_eq!(sees("engineering"), who.starts_with("admin"), "{who}");
        let at = page.body.find(r#"<p class="value">"#).expect("a figure");
        let rest = &page.body[at + r#"<p class="value">"#.len()..];
        let n_at = rest.find("n = ").expect("its n");
        let n: String = rest[n_at + 4..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        (rest[..rest.find('%').expect("a share")].to_string(), n)
    };
    // The city: 5 of 7 satisfied; the viewer of sanitation: 4 of 5. As the API says.
    assert_eq!(
        csat_shown("admin@city.example"),
        ("71".to_string(), "7".to_string())
    );
    assert_eq!(
        csat_shown("dana@city.example"),
        ("80".to_string(), "5".to_string())
    );
    let api = app
        .get_api("/api/v1/reports/summary?from=2026-11-01&to=2026-11-30&department=sanitation")
        .json();
    assert_eq!(api["csat"]["value"], 0.8);
}

fn hostile_and_malformed_admin_input_gets_a_clear_refusal(kind: Kind) {
    let Some(app) = app(kind) else { return };
    user(&app, "admin@city.example", Role::Admin, "");
    let mut v = admin_visitor(&app);
    for bad in [
        "period=decade",
        "audience=aliens",
        "channel=pigeon",
        "period=%ff%fe",
    ] {
        assert_eq!(v.get(&format!("/admin?{bad}")).status, 400, "{bad}");
    }
    let r = v.get("/admin/departments/%3Cscript%3Ealert(1)%3C%2Fscript%3E");
    assert_eq!(r.status, 404);
    assert!(!r.body.contains("<script>alert"));
    // What a visitor typed comes back escaped.
    let mut e = Visitor::new(&app);
    let r = e.sign_in(
        r#""><script>alert(1)</script>@x.example"#,
        "whatever it is",
        "/admin",
    );
    assert_eq!(r.status, 401);
    assert!(!r.body.contains("<script>alert(1)"), "{}", r.body);
    assert!(r.body.contains("&lt;script&gt;alert(1)"));
    // A sign-in that would send the person elsewhere sends them home instead.
    let mut w = Visitor::new(&app);
    let r = w.sign_in("admin@city.example", PASSWORD, "https://evil.example/admin");
    assert_eq!(r.location.as_deref(), Some("/admin"));
    let r = w.get("/admin/language/en?next=//evil.example");
    assert_eq!(r.status, 303);
    assert_eq!(r.location.as_deref(), Some("/admin"));
    assert!(w
        .get("/admin")
        .body
        .contains(r#"<html lang="en" dir="ltr">"#));
    assert_eq!(w.get("/admin/language/xx").status, 404);
    // A body that is not a form, a repeated field, an oversized body.
    let form = w.get("/admin/login");
    let csrf = Visitor::csrf_of(&form);
    let r = w.post(
        "/admin/login",
        &[
            ("csrf", &csrf),
            ("email", "a@city.example"),
            ("email", "b@city.example"),
        ],
        &[],
    );
    assert_eq!(r.status, 400);
    let huge = "x".repeat(40_000);
    let r = w.post("/admin/login", &[("csrf", &csrf), ("password", &huge)], &[]);
    assert_eq!(r.status, 400);
}

both_backends!(follow_up_cases_are_worked_in_scope_with_every_step_recorded,);

/// Answers a new resident interaction on `service` with `overall` (2 or less opens a case);
/// returns the case's id.
fn bad_experience(app: &TestApp, id: &str, service: &str, consent: &str, comment: &str) -> String {
    let mut body = app.interaction(id, "he");
    body["service_code"] = service.into();
    let r = app.report(&body);
    assert_eq!(r.status, 201, "{}", r.body);
    let url = r.json()["survey_url"].as_str().expect("url").to_string();
    let path = url.strip_prefix(&app.address).expect("own").to_string();
    let form = [
        ("overall", "1"),
        ("resolved", "not_resolved"),
        ("contact_consent", consent),
        ("comment", comment),
    ];
    let r = app.post_form(&path, &form);
    assert_eq!(r.status, 303, "{}", r.body);
    let cases = app.get_api("/api/v1/followups").json();
    cases["followups"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| c["service"] == service && c["contact"].is_null() == (consent == "no"))
        .and_then(|c| c["id"].as_str())
        .expect("a case for that answer")
        .to_string()
}

fn follow_up_cases_are_worked_in_scope_with_every_step_recorded(kind: Kind) {
    let Some(app) = app(kind) else { return };
    let ours = bad_experience(
        &app,
        "CASE-1",
        "sanitation.bulky-waste",
        "yes",
        "<b>נשאר</b> ליד הבית",
    );
    let theirs = bad_experience(&app, "CASE-2", "engineering.hazard", "no", "בור במדרכה");
    user(&app, "dana@city.example", Role::Manager, "sanitation");
    user(&app, "viewer@city.example", Role::Viewer, "sanitation");
    let mut dana = Visitor::new(&app);
    assert_eq!(
        dana.sign_in("dana@city.example", PASSWORD, "/admin").status,
        303
    );

    // The inbox holds the department's case only; the other is 404 by URL, read or acted on.
    let inbox = dana.get("/admin/followups");
    assert_eq!(inbox.status, 200);
    assert!(inbox.body.contains(&format!("/admin/followups/{ours}")));
    assert!(!inbox.body.contains(&theirs));
    assert_eq!(dana.get(&format!("/admin/followups/{theirs}")).status, 404);
    assert_eq!(
        dana.get("/admin/followups?department=engineering").status,
        404
    );
    assert_eq!(dana.get("/admin/followups?status=lost").status, 400);
    assert_eq!(
        dana.get("/admin/followups?service=engineering.hazard")
            .status,
        404
    );
    assert_eq!(dana.get("/admin/followups?service=no.such").status, 404);
    let by_service = dana.get("/admin/followups?service=sanitation.bulky-waste");
    assert!(by_service.body.contains(&ours));
    assert!(
        !by_service.body.contains(r#"value="engineering.hazard""#),
        "no other department's service to pick"
    );
    let page = dana.get(&format!("/admin/followups/{ours}"));
    assert_eq!(page.status, 200);
    let csrf = Visitor::csrf_of(&page);
    let act = |v: &mut Visitor, id: &str, action: &str, note: &str| {
        v.post(
            &format!("/admin/followups/{id}"),
            &[("csrf", &csrf), ("action", action), ("note", note)],
            &[],
        )
    };
    assert_eq!(act(&mut dana, &theirs, "take", "").status, 404);

    // Everything needed to call back: the CRM's id, the answers, the comment escaped, the
    // contact the resident agreed to give.
    assert!(page.body.contains("CASE-1"));
    assert!(page.body.contains("&lt;b&gt;נשאר&lt;/b&gt; ליד הבית"));
    assert!(page.body.contains("mailto:r-"), "consented contact shown");
    assert!(page.body.contains("+97250"), "the consented phone");

    // Without the token nothing happens.
    let r = dana.post(
        &format!("/admin/followups/{ours}"),
        &[("action", "take")],
        &[],
    );
    assert_eq!(r.status, 403);
    // Take, note, in progress; closing needs a note.
    for action in ["take", "progress"] {
        let r = act(&mut dana, &ours, action, "");
        assert_eq!(r.status, 303, "{action}: {}", r.body);
    }
    assert_eq!(
        act(&mut dana, &ours, "note", "התקשרתי, אין מענה").status,
        303
    );
    assert_eq!(act(&mut dana, &ours, "note", "   ").status, 422);
    let r = act(&mut dana, &ours, "close", "");
    assert_eq!(r.status, 422);
    assert!(r.body.contains("role=\"alert\""));
    assert_eq!(
        act(&mut dana, &ours, "close", &"א".repeat(2001)).status,
        422
    );
    assert_eq!(act(&mut dana, &ours, "dance", "").status, 400);
    let mine = dana.get("/admin/followups?mine=1");
    assert!(mine.body.contains(&ours), "taken by me");
    assert_eq!(
        act(&mut dana, &ours, "close", "הפסולת פונתה, התושבת עודכנה").status,
        303
    );
    let closed = dana.get(&format!("/admin/followups/{ours}"));
    assert!(
        closed.body.contains("dana@city.example"),
        "who wrote the notes"
    );
    assert!(closed.body.contains("התקשרתי, אין מענה"));
    assert!(closed.body.contains("הפסולת פונתה"));
    assert!(
        !closed.body.contains(r#"name="action""#),
        "no actions on a closed case"
    );
    assert_eq!(act(&mut dana, &ours, "note", "עוד משהו").status, 409);
    let api = app.get_api("/api/v1/followups?status=closed").json();
    assert_eq!(api["followups"][0]["id"], ours.as_str());
    assert_eq!(
        api["followups"][0]["notes"].as_array().map(Vec::len),
        Some(2)
    );
    // The API gives a CRM the same context: its own request id, the answers, who took it.
    let case = &api["followups"][0];
    assert_eq!(case["external_id"], "CASE-1");
    assert_eq!(case["channel"], "phone");
    assert_eq!(case["assignee"], "dana@city.example");
    assert_eq!(case["answers"]["overall"], 1);
    assert_eq!(case["answers"]["resolved"], "not_resolved");
    assert_eq!(case["comment"], "<b>נשאר</b> ליד הבית");
    assert!(case["request_closed_at"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));

    // A viewer reads the case but changes nothing.
    let mut viewer = Visitor::new(&app);
    assert_eq!(
        viewer
            .sign_in("viewer@city.example", PASSWORD, "/admin")
            .status,
        303
    );
    let open = bad_experience(&app, "CASE-3", "sanitation.bulky-waste", "no", "");
    let seen = viewer.get(&format!("/admin/followups/{open}"));
    assert_eq!(seen.status, 200);
    assert!(!seen.body.contains(r#"name="action""#));
    assert!(seen.body.contains("אין פרטי קשר"), "no consent, no contact");
    let token = Visitor::csrf_of(&seen);
    let r = viewer.post(
        &format!("/admin/followups/{open}"),
        &[("csrf", &token), ("action", "take")],
        &[],
    );
    assert_eq!(r.status, 403);
}

fn behind_a_trusted_proxy_each_client_is_throttled_alone_and_bursts_are_counted(kind: Kind) {
    let start = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
    let Some(app) = spawn_app_with(kind, start, |s| {
        s.trusted_proxies = vec!["127.0.0.1".parse().expect("ip")];
    }) else {
        return;
    };
    user(&app, "dana@city.example", Role::Manager, "sanitation");
    let try_as = |v: &mut Visitor, ip: &str, password: &str| {
        let form = v.get("/admin/login");
        let csrf = Visitor::csrf_of(&form);
        v.post(
            "/admin/login",
            &[
                ("csrf", &csrf),
                ("email", "dana@city.example"),
                ("password", password),
            ],
            &[("X-Forwarded-For", ip)],
        )
        .status
    };
    // An attacker's five guesses lock Dana's account for the attacker's address only.
    let mut attacker = Visitor::new(&app);
    for _ in 0..5 {
        assert_eq!(try_as(&mut attacker, "203.0.113.7", "a wrong guess!"), 401);
    }
    assert_eq!(try_as(&mut attacker, "203.0.113.7", PASSWORD), 429);
    // A forged address further left changes nothing: only the proxy's last hop counts.
    assert_eq!(
        try_as(&mut attacker, "198.51.100.1, 203.0.113.7", PASSWORD),
        429
    );
    let mut dana = Visitor::new(&app);
    assert_eq!(
        try_as(&mut dana, "192.0.2.10", PASSWORD),
        303,
        "Dana from her office"
    );

    // A burst of parallel guesses from one address: no more than five reach the password.
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..12)
            .map(|_| {
                let app = &app;
                let try_as = &try_as;
                scope.spawn(move || {
                    let mut v = Visitor::new(app);
                    try_as(&mut v, "2001:db8:1:2:aaaa::1", "a parallel guess")
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let guessed = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(guessed + refused, 12, "{statuses:?}");
    assert!(guessed <= 5, "{statuses:?}");
    // The same /64 is the same client.
    assert_eq!(
        try_as(&mut Visitor::new(&app), "2001:db8:1:2:bbbb::9", PASSWORD),
        429
    );
}

fn cookies_are_secure_when_the_base_url_is_https(kind: Kind) {
    let start = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
    let Some(app) = spawn_app_with(kind, start, |s| {
        s.base_url = "https://mashov.city.example".into();
    }) else {
        return;
    };
    user(&app, "dana@city.example", Role::Manager, "sanitation");
    let mut v = Visitor::new(&app);
    assert_eq!(
        v.sign_in("dana@city.example", PASSWORD, "/admin").status,
        303
    );
    assert!(!v.set_cookies.is_empty());
    assert!(
        v.set_cookies.iter().all(|c| c.contains("Secure")),
        "{:?}",
        v.set_cookies
    );
    // The origin check knows its own origin from the base URL.
    let page = v.get("/admin");
    let csrf = Visitor::csrf_of(&page);
    let http_origin = [("Origin", app.address.as_str())];
    assert_eq!(
        v.post("/admin/logout", &[("csrf", &csrf)], &http_origin)
            .status,
        403
    );
    let own = [("Origin", "https://mashov.city.example")];
    assert_eq!(
        v.post("/admin/logout", &[("csrf", &csrf)], &own).status,
        303
    );
}

both_backends!(department_and_service_pages_show_every_question_and_the_comments_in_scope);

fn department_and_service_pages_show_every_question_and_the_comments_in_scope(kind: Kind) {
    let Some(app) = app(kind) else { return };
    let day = chrono::Utc.with_ymd_and_hms(2026, 11, 10, 8, 0, 0).unwrap();
    app.clock.set(day);
    let answer = |id: &str, service: &str, overall: &str, professionalism: &str, comment: &str| {
        let mut body = app.interaction(id, "he");
        body["service_code"] = service.into();
        body["closed_at"] = (day - chrono::Duration::hours(1)).to_rfc3339().into();
        let r = app.report(&body);
        assert_eq!(r.status, 201, "{}", r.body);
        let url = r.json()["survey_url"].as_str().expect("url").to_string();
        let path = url.strip_prefix(&app.address).expect("own").to_string();
        let form = [
            ("overall", overall),
            ("professionalism", professionalism),
            ("resolved", "resolved"),
            ("comment", comment),
        ];
        assert_eq!(app.post_form(&path, &form).status, 303);
    };
    answer("D-1", "sanitation.bulky-waste", "5", "4", "פינו מהר, תודה");
    answer(
        "D-2",
        "sanitation.bulky-waste",
        "1",
        "2",
        "Nobody came: 50% of the pile is still there",
    );
    answer("D-3", "engineering.hazard", "4", "5", "בור מסוכן בהנדסה");
    app.clock
        .set(chrono::Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap());
    user(&app, "dana@city.example", Role::Manager, "sanitation");
    let mut v = Visitor::new(&app);
    assert_eq!(
        v.sign_in("dana@city.example", PASSWORD, "/admin").status,
        303
    );

    let page = v.get("/admin/departments/sanitation?period=month");
    assert_eq!(page.status, 200);
    // Every scale question, professionalism too: (4 + 2) / 2.
    assert!(
        page.body.contains("הצוות שטיפל בפנייה היה מקצועי ואדיב"),
        "{}",
        page.body
    );
    assert!(page.body.contains(r#"<td class="num">3.0</td>"#));
    // Comments of the department only, newest first, the bad one linked to its case.
    assert!(page.body.contains("פינו מהר"));
    assert!(page.body.contains("Nobody came"));
    assert!(!page.body.contains("בור מסוכן"));
    assert!(
        page.body.contains("/admin/followups/"),
        "a link to the case"
    );
    // Filtered by score, and by text (literally: % is no wildcard; case does not matter).
    let low = v.get("/admin/departments/sanitation?period=month&score=1");
    assert!(low.body.contains("Nobody came") && !low.body.contains("פינו מהר"));
    let found = v.get("/admin/departments/sanitation?period=month&q=NOBODY");
    assert!(found.body.contains("Nobody came") && !found.body.contains("פינו מהר"));
    let literal = v.get("/admin/departments/sanitation?period=month&q=50%25");
    assert!(literal.body.contains("Nobody came"));
    let none = v.get("/admin/departments/sanitation?period=month&q=%25%25%25");
    assert!(!none.body.contains("Nobody came") && !none.body.contains("פינו מהר"));
    for bad in ["score=9", "score=x", &format!("q={}", "a".repeat(201))] {
        let r = v.get(&format!("/admin/departments/sanitation?{bad}"));
        assert_eq!(r.status, 400, "{bad}");
    }
    // A service page in scope; one of another department is not there at all.
    let service = v.get("/admin/services/sanitation.bulky-waste?period=month");
    assert_eq!(service.status, 200);
    assert!(service.body.contains("Nobody came"));
    assert_eq!(v.get("/admin/services/engineering.hazard").status, 404);
    assert_eq!(v.get("/admin/services/no.such.service").status, 404);
    // Employees: nothing below the minimum group, not a figure and not a comment.
    let employees = v.get("/admin/departments/sanitation?period=month&audience=employee");
    assert_eq!(employees.status, 200);
    assert!(employees.body.contains("5 תשובות לפחות"), "withheld");
    assert!(!employees.body.contains("Nobody came"));
}
