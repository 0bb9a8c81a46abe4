//! The city sets itself up at /admin/settings: its name in four languages, its colour, contact
//! line and privacy notice, seen on the next survey page and email without a restart, over the
//! configuration only where the configuration is silent; and the public pages made from them.

use chrono::TimeZone;

use crate::admin::{user, Page, Visitor, PASSWORD};
use crate::both_backends;
use crate::helpers::{count, resp, spawn_app_with, Kind, TestApp};
use crate::smtp::SmtpSink;
use mashov::config::{SmtpSecurity, SmtpSettings};
use mashov::domain::account::Role;

both_backends!(
    a_new_name_and_colour_show_on_the_next_survey_page_and_email,
    the_configuration_wins_over_what_an_admin_stores,
    settings_refuse_bad_and_hostile_values_and_only_admins_change_them,
    the_public_pages_say_who_the_city_is_and_how_to_reach_it,
    rules_set_in_the_browser_apply_at_once_unless_the_configuration_sets_them,
    a_logo_is_checked_kept_and_shown_on_the_survey_page,
);

fn start() -> chrono::DateTime<chrono::Utc> {
    // Tuesday 1 December 2026, 10:00 in Israel: no quiet hours.
    chrono::Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap()
}

fn admin(app: &TestApp) -> Visitor {
    user(app, "admin@city.example", Role::Admin, "");
    let mut v = Visitor::new(app);
    assert_eq!(v.sign_in("admin@city.example", PASSWORD, "").status, 303);
    v
}

/// Sends the settings form as the page gives it, with `changes` over its values.
fn save(v: &mut Visitor, changes: &[(&str, &str)]) -> Page {
    let form = v.get("/admin/settings");
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = Visitor::csrf_of(&form);
    let mut pairs: Vec<(&str, &str)> = vec![("csrf", &csrf), ("action", "city")];
    for field in [
        "name_he",
        "name_ar",
        "name_en",
        "name_ru",
        "color",
        "contact",
        "privacy_he",
        "privacy_ar",
        "privacy_en",
        "privacy_ru",
    ] {
        let value = changes
            .iter()
            .find(|(k, _)| *k == field)
            .map_or("", |(_, v)| *v);
        pairs.push((field, value));
    }
    v.post("/admin/settings", &pairs, &[])
}

fn a_new_name_and_colour_show_on_the_next_survey_page_and_email(kind: Kind) {
    let sink = SmtpSink::start();
    let Some(app) = spawn_app_with(kind, start(), |s| {
        s.smtp = Some(SmtpSettings {
            security: SmtpSecurity::None,
            host: "127.0.0.1".into(),
            port: sink.port,
            credentials: None,
        });
    }) else {
        return;
    };
    // Before: the locale's placeholder name, on a page rendered (and kept) once.
    let before = app.new_survey_path("CITY-1", "ar");
    assert!(app.get(&before).body.contains("بلدية نموذجية"));
    sink.wait_for(1);

    let mut v = admin(&app);
    let r = save(
        &mut v,
        &[
            ("name_he", "עיריית חולון"),
            ("name_ar", "بلدية حولون"),
            ("name_en", "Holon"),
            ("color", "#7A1F3D"),
            ("contact", "מוקד 106"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.location.as_deref(),
        Some("/admin/settings?done=settings_saved")
    );

    // The same survey page, asked again: the new name and colour, no restart.
    let page = app.styled(&before);
    assert!(
        page.contains("بلدية حولون") && !page.contains("بلدية نموذجية"),
        "{page}"
    );
    assert!(page.contains("#7a1f3d"));
    // Russian has no name of its own: Hebrew's.
    let ru = app.new_survey_path("CITY-2", "ru");
    assert!(app.get(&ru).body.contains("עיריית חולון"));
    // The next email says it too, in its language, with the colour.
    app.new_survey_path("CITY-3", "en");
    let mails = sink.wait_for(3);
    // Mails go out side by side, in any order: the English one is the one to read.
    let english = mails
        .iter()
        .find(|m| {
            m.part("text/html")
                .is_some_and(|h| h.contains(r#"<html lang="en""#))
        })
        .expect("the English invitation");
    let html = english.part("text/html").expect("html part");
    assert!(html.contains("Holon") && html.contains("#7a1f3d"), "{html}");
    assert!(!html.contains("<img"), "no logo is set, so none is shown");
    assert!(english.part("text/plain").expect("text").contains("Holon"));
    // And the Russian one, with no Russian name, says the Hebrew one.
    let russian = mails
        .iter()
        .find(|m| {
            m.part("text/html")
                .is_some_and(|h| h.contains(r#"<html lang="ru""#))
        })
        .expect("the Russian invitation");
    assert!(russian.part("text/html").unwrap().contains("עיריית חולון"));
    // And the admin app's own header.
    assert!(v.get("/admin").body.contains("עיריית חולון"));
    // The change is in the log, before and after.
    let mut conn = app.conn();
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'settings.city' AND after_value LIKE '%7a1f3d%'"),
        1
    );
    // Saving the same values again changes nothing and logs nothing.
    let same = save(
        &mut v,
        &[
            ("name_he", "עיריית חולון"),
            ("name_ar", "بلدية حولون"),
            ("name_en", "Holon"),
            ("color", "#7a1f3d"),
            ("contact", "מוקד 106"),
        ],
    );
    assert_eq!(same.status, 303);
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'settings.city'"
        ),
        1
    );
}

fn the_configuration_wins_over_what_an_admin_stores(kind: Kind) {
    let Some(app) = spawn_app_with(kind, start(), |s| {
        s.city_name = Some("Configured City".into());
        s.brand_color = "#123456".into();
        s.brand_color_configured = true;
    }) else {
        return;
    };
    let mut v = admin(&app);
    let form = v.get("/admin/settings");
    assert!(form.body.contains("MASHOV_CITY_NAME") && form.body.contains("Configured City"));
    assert!(form.body.contains("MASHOV_BRAND_COLOR") && form.body.contains("#123456"));
    let r = save(&mut v, &[("name_he", "עיריית חולון"), ("color", "#7a1f3d")]);
    assert_eq!(r.status, 303);
    let page = app.styled(&app.new_survey_path("WIN-1", "he"));
    assert!(page.contains("Configured City") && !page.contains("עיריית חולון"));
    assert!(page.contains("#123456") && !page.contains("#7a1f3d"));
    // The fields the configuration sets are read-only: whatever a post says, what was stored
    // before stays (for the day the configuration no longer sets them).
    let mut conn = app.conn();
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM city_settings WHERE value LIKE '%7a1f3d%' OR value LIKE '%חולון%'"
        ),
        0
    );
}

fn settings_refuse_bad_and_hostile_values_and_only_admins_change_them(kind: Kind) {
    let Some(app) = spawn_app_with(kind, start(), |_| {}) else {
        return;
    };
    let mut v = admin(&app);
    let long_name = "א".repeat(101);
    let long_notice = "x".repeat(4001);
    for (changes, why) in [
        (
            vec![("color", "#ffff00")],
            "a colour white text cannot be read on",
        ),
        (vec![("color", "blue")], "not a colour"),
        (vec![("color", "#12345")], "too short"),
        (
            vec![("name_ar", long_name.as_str())],
            "a name over 100 characters",
        ),
        (vec![("name_en", "Holon\u{7}")], "a control character"),
        (vec![("contact", "line\u{0}")], "a NUL"),
        (
            vec![("privacy_ru", long_notice.as_str())],
            "a notice over 4,000 characters",
        ),
    ] {
        let r = save(&mut v, &changes);
        assert_eq!(r.status, 422, "{why}: {}", r.body);
        assert!(
            r.body.contains(r#"role="alert""#) && r.body.contains("aria-invalid"),
            "{why}"
        );
    }
    // What was typed comes back escaped.
    let r = save(
        &mut v,
        &[("name_he", "<script>x</script>"), ("color", "nope")],
    );
    assert_eq!(r.status, 422);
    assert!(!r.body.contains("<script>x") && r.body.contains("&lt;script&gt;"));
    // Nothing was stored, nothing logged.
    let mut conn = app.conn();
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM city_settings"),
        0
    );
    // A hostile name is stored as text and shown escaped on every page.
    let r = save(&mut v, &[("name_he", "<img src=x onerror=alert(1)>")]);
    assert_eq!(r.status, 303);
    let page = app.get(&app.new_survey_path("XSS-1", "he")).body;
    assert!(
        !page.contains("<img") && page.contains("&lt;img src"),
        "{page}"
    );
    // A body over 256 KiB, a repeated field: 400.
    let csrf = Visitor::csrf_of(&v.get("/admin/settings"));
    let huge = "x".repeat(300 * 1024);
    assert_eq!(
        v.post(
            "/admin/settings",
            &[("csrf", &csrf), ("privacy_he", &huge)],
            &[]
        )
        .status,
        400
    );
    assert_eq!(
        v.post(
            "/admin/settings",
            &[("csrf", &csrf), ("color", "#000000"), ("color", "#111111")],
            &[]
        )
        .status,
        400
    );
    // Without the token, or as a manager: refused, nothing changes.
    assert_eq!(
        v.post("/admin/settings", &[("color", "#000000")], &[])
            .status,
        403
    );
    user(&app, "dana@city.example", Role::Manager, "sanitation");
    let mut dana = Visitor::new(&app);
    assert_eq!(dana.sign_in("dana@city.example", PASSWORD, "").status, 303);
    assert_eq!(dana.get("/admin/settings").status, 403);
    let token = Visitor::csrf_of(&dana.get("/admin"));
    for action in ["city", "rules", "logo_remove"] {
        let r = dana.post(
            "/admin/settings",
            &[("csrf", &token), ("action", action), ("color", "#000000")],
            &[],
        );
        assert_eq!(r.status, 403, "{action}");
    }
    let r = dana.post_multipart(
        "/admin/settings/logo",
        &[
            ("csrf", None, token.as_bytes()),
            ("logo", Some("l.svg"), b"<svg></svg>"),
        ],
    );
    assert_eq!(r.status, 403);
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM city_settings WHERE value LIKE '%000000%'"
        ),
        0
    );
}

fn the_public_pages_say_who_the_city_is_and_how_to_reach_it(kind: Kind) {
    let Some(app) = spawn_app_with(kind, start(), |_| {}) else {
        return;
    };
    // Attribute values come with `=` escaped (`&#x3D;`); read them as a browser would.
    let get = |path: &str| {
        let mut r = resp(ureq::get(&app.url(path)).call());
        r.body = r.body.replace("&#x3D;", "=");
        r
    };
    // Before anything is set: the city's public page, mashov's own privacy notice.
    let home = get("/");
    assert_eq!(home.status, 200);
    assert!(home.body.contains(r#"<html lang="he" dir="rtl">"#));
    assert!(
        home.body.contains("/transparency?lang=he") && home.body.contains("/accessibility?lang=he")
    );
    assert!(get("/privacy").body.contains("לשיפור השירות"));
    // The public figures' page, computed and kept for a few minutes, is rendered again when
    // the city's name changes.
    assert!(get("/transparency").body.contains("עיריית דוגמה"));

    let mut v = admin(&app);
    let r = save(
        &mut v,
        &[
            ("name_he", "עיריית חולון"),
            ("name_en", "Holon"),
            ("contact", "Hotline 106 <24/7>"),
            ("privacy_he", "פסקה ראשונה.\r\n\r\nפסקה שנייה."),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let figures = get("/transparency").body;
    assert!(figures.contains("עיריית חולון") && !figures.contains("עיריית דוגמה"));
    let privacy = get("/privacy?lang=ar");
    assert_eq!(privacy.status, 200);
    assert!(privacy.body.contains(r#"<html lang="ar" dir="rtl">"#));
    assert!(
        privacy.body.contains("<p>פסקה ראשונה.</p>") && privacy.body.contains("<p>פסקה שנייה.</p>")
    );
    let statement = get("/accessibility?lang=en");
    assert!(
        statement.body.contains("Holon is committed"),
        "{}",
        statement.body
    );
    assert!(statement.body.contains("5568") && statement.body.contains("WCAG 2.1"));
    assert!(
        statement.body.contains("Hotline 106 &lt;24&#x2F;7&gt;")
            || statement.body.contains("Hotline 106 &lt;24/7&gt;")
    );
    // The survey page links to both.
    let survey = app
        .get(&app.new_survey_path("LINKS-1", "en"))
        .body
        .replace("&#x3D;", "=");
    assert!(
        survey.contains(r#"href="/privacy?lang=en""#)
            && survey.contains(r#"href="/accessibility?lang=en""#)
    );
    assert_eq!(get("/privacy?lang=xx").status, 404);
    assert_eq!(get("/accessibility?lang=").status, 404);
}

fn rules_set_in_the_browser_apply_at_once_unless_the_configuration_sets_them(kind: Kind) {
    let Some(app) = spawn_app_with(kind, start(), |s| {
        // As if the environment said MASHOV_FREQUENCY_CAP=off.
        s.configured
            .insert("MASHOV_FREQUENCY_CAP".into(), "off".into());
        s.send_rules.frequency_cap = None;
    }) else {
        return;
    };
    let mut v = admin(&app);
    let form = v.get("/admin/settings");
    assert!(
        form.body.contains("MASHOV_FREQUENCY_CAP=off"),
        "the configured rule is shown"
    );
    let csrf = Visitor::csrf_of(&form);
    fn with<'a>(csrf: &'a str, pairs: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut all = vec![("csrf", csrf), ("action", "rules")];
        all.extend_from_slice(pairs);
        all
    }
    let rules = |pairs: &[(&'static str, &'static str)]| with(&csrf, pairs);
    // A link lifetime of one day, from the next interaction on.
    let r = v.post(
        "/admin/settings",
        &rules(&[("MASHOV_LINK_TTL", "1d"), ("MASHOV_FREQUENCY_CAP", "30d")]),
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let receipt = app.report(&app.interaction("RULE-1", "he")).json();
    let expires = chrono::DateTime::parse_from_rfc3339(receipt["expires_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc);
    assert_eq!(
        expires - app.clock_now(),
        chrono::Duration::days(1),
        "{receipt}"
    );
    // The configuration's cap (off) still wins: the same address is invited again at once.
    let mut again = app.interaction("RULE-2", "he");
    again["contact"]["email"] = "same@example.org".into();
    assert_eq!(app.report(&again).json()["status"], "scheduled");
    again["external_id"] = "RULE-3".into();
    assert_eq!(app.report(&again).json()["status"], "scheduled");
    // A rule that does not read is refused by name; nothing changes.
    let r = v.post(
        "/admin/settings",
        &rules(&[("MASHOV_MIN_GROUP_SIZE", "2")]),
        &[],
    );
    assert_eq!(r.status, 422);
    assert!(r.body.contains(r#"aria-invalid="true""#));
    let r = v.post(
        "/admin/settings",
        &rules(&[("MASHOV_QUIET_HOURS", "late")]),
        &[],
    );
    assert_eq!(r.status, 422);
    let r = v.post(
        "/admin/settings",
        &rules(&[("MASHOV_DIGEST_SCHEDULE", "sunday 8am")]),
        &[],
    );
    assert_eq!(r.status, 422);
    let mut conn = app.conn();
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM city_settings WHERE value LIKE '%MASHOV_LINK_TTL%'"
        ),
        1
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'settings.rules'"
        ),
        1
    );
    // A setting that is not a rule cannot be set this way.
    let r = v.post(
        "/admin/settings",
        &rules(&[("MASHOV_DATABASE_URL", "sqlite:///tmp/x.db")]),
        &[],
    );
    assert_eq!(r.status, 303);
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM city_settings WHERE value LIKE '%DATABASE%'"
        ),
        0
    );
    // Emptied, the rule is gone and the default applies again.
    let r = v.post("/admin/settings", &rules(&[("MASHOV_LINK_TTL", "")]), &[]);
    assert_eq!(r.status, 303);
    let receipt = app.report(&app.interaction("RULE-4", "he")).json();
    let expires = chrono::DateTime::parse_from_rfc3339(receipt["expires_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc);
    assert_eq!(expires - app.clock_now(), chrono::Duration::days(14));
}

fn a_logo_is_checked_kept_and_shown_on_the_survey_page(kind: Kind) {
    let sink = SmtpSink::start();
    let Some(app) = spawn_app_with(kind, start(), |s| {
        s.smtp = Some(SmtpSettings {
            security: SmtpSecurity::None,
            host: "127.0.0.1".into(),
            port: sink.port,
            credentials: None,
        });
    }) else {
        return;
    };
    let mut v = admin(&app);
    let csrf = Visitor::csrf_of(&v.get("/admin/settings"));
    let upload = |v: &mut Visitor, bytes: &[u8]| {
        v.post_multipart(
            "/admin/settings/logo",
            &[
                ("csrf", None, csrf.as_bytes()),
                ("logo", Some("logo.svg"), bytes),
            ],
        )
    };
    // Refused, each with its words, and nothing kept.
    for (bytes, status, why) in [
        (b"GIF89a not a logo".to_vec(), 422, "a GIF"),
        (
            br#"<svg onload="alert(1)"></svg>"#.to_vec(),
            422,
            "an SVG with a handler",
        ),
        (
            br#"<svg><script>alert(1)</script></svg>"#.to_vec(),
            422,
            "an SVG with a script",
        ),
        (
            format!("<svg>{}</svg>", "x".repeat(210 * 1024)).into_bytes(),
            413,
            "over 200 KB",
        ),
        (Vec::new(), 422, "no file"),
    ] {
        let r = upload(&mut v, &bytes);
        assert_eq!(r.status, status, "{why}: {}", r.body);
        assert!(r.body.contains(r#"id="logo-error""#), "{why}");
    }
    let mut conn = app.conn();
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM city_settings WHERE name = 'logo'"
        ),
        0
    );
    assert_eq!(resp(ureq::get(&app.url("/logo")).call()).status, 404);
    // Without the token: refused, nothing kept.
    let r = v.post_multipart(
        "/admin/settings/logo",
        &[("logo", Some("logo.svg"), b"<svg></svg>")],
    );
    assert_eq!(r.status, 403);
    // A bypass of the SVG check, spelled with a character reference: refused.
    let r = upload(
        &mut v,
        br#"<svg xmlns="http://www.w3.org/2000/svg"><a href="&#106;avascript:alert(1)"><rect/></a></svg>"#,
    );
    assert_eq!(r.status, 422);

    // A good SVG: kept, served from here with a policy that runs nothing, on the next page.
    let svg = br##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#7a1f3d"/></svg>"##;
    let r = upload(&mut v, svg);
    assert_eq!(r.status, 303, "{}", r.body);
    let page = app
        .get(&app.new_survey_path("LOGO-1", "he"))
        .body
        .replace("&#x3D;", "=");
    let at = page
        .find(r#"<img class="logo" src="/logo?v="#)
        .expect("the logo on the page");
    let src = &page[at + r#"<img class="logo" src=""#.len()..];
    let src = &src[..src.find('"').unwrap()];
    let served = resp(ureq::get(&app.url(src)).call());
    assert_eq!(served.status, 200);
    assert_eq!(served.header("content-type"), Some("image/svg+xml"));
    assert!(served
        .header("content-security-policy")
        .unwrap_or("")
        .contains("sandbox"));
    assert_eq!(served.body.as_bytes(), svg);
    assert_eq!(served.header("x-content-type-options"), Some("nosniff"));
    // The invitation shows it too, from mashov's own address (mail is read elsewhere).
    let mail = sink.wait_for(1);
    let html = mail[0]
        .part("text/html")
        .expect("html")
        .replace("&#x3D;", "=");
    assert!(
        html.contains(&format!(r#"<img src="{}{src}""#, app.address)),
        "{html}"
    );
    // A browser that has this version gets 304 and no body.
    let etag = served.header("etag").expect("etag").to_string();
    let again = resp(ureq::get(&app.url(src)).set("If-None-Match", &etag).call());
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'settings.logo'"
        ),
        1
    );
    // Removed, it is gone from the pages.
    let token = Visitor::csrf_of(&v.get("/admin/settings"));
    let r = v.post(
        "/admin/settings",
        &[("csrf", &token), ("action", "logo_remove")],
        &[],
    );
    assert_eq!(r.status, 303);
    assert!(!app
        .get(&app.new_survey_path("LOGO-2", "he"))
        .body
        .contains("class=\"logo\""));
    assert_eq!(resp(ureq::get(&app.url("/logo")).call()).status, 404);
}
