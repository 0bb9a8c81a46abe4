//! The management app in a real headless Chromium, without a line of JavaScript of its own:
//! sign in, read the dashboard, open a department, take and close a case; axe-core finds no
//! WCAG 2.1 A/AA violation on any of those pages, in Hebrew and in English; screenshots at 360
//! and 1280 px are kept under target/tmp.

use crate::admin::{user, PASSWORD};
use crate::both_backends;
use crate::browser::Browser;
use crate::helpers::{spawn_app_with, Kind, TestApp};
use chrono::TimeZone;
use mashov::domain::account::Role;

both_backends!(
    a_manager_works_the_app_in_a_browser_and_every_page_passes_axe,
    an_admin_sets_the_city_up_in_a_browser_and_every_page_passes_axe,
);

/// A few weeks of answers in sanitation, one of them bad enough to open a case.
fn seed(app: &TestApp) -> usize {
    let mut cases = 0;
    for week in 0..4 {
        for (i, overall) in ["5", "4", "2", "5", "3"].iter().enumerate() {
            let at = chrono::Utc
                .with_ymd_and_hms(2026, 11, 3 + week * 7, 8, 0, 0)
                .unwrap();
            app.clock.set(at);
            let mut body = app.interaction(&format!("W{week}-{i}"), "he");
            body["closed_at"] = (at - chrono::Duration::hours(1)).to_rfc3339().into();
            let r = app.report(&body);
            assert_eq!(r.status, 201, "{}", r.body);
            let url = r.json()["survey_url"].as_str().expect("url").to_string();
            let path = url.strip_prefix(&app.address).expect("own").to_string();
            let comment = format!("הערה {week}-{i}");
            let consent = if *overall == "2" { "yes" } else { "no" };
            let form = [
                ("overall", *overall),
                ("resolved", "resolved"),
                ("contact_consent", consent),
                ("comment", comment.as_str()),
            ];
            assert_eq!(app.post_form(&path, &form).status, 303);
            cases += usize::from(*overall == "2");
        }
    }
    app.clock
        .set(chrono::Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap());
    cases
}

fn check_page(b: &Browser, name: &str) {
    let title = b.title();
    assert!(!title.is_empty(), "{name} has a title");
    let lang = b.execute(
        "return document.documentElement.lang;",
        serde_json::json!([]),
    );
    let dir = b.execute(
        "return document.documentElement.dir;",
        serde_json::json!([]),
    );
    assert!(lang.as_str().is_some_and(|l| !l.is_empty()), "{name}: lang");
    assert!(
        dir.as_str().is_some_and(|d| d == "rtl" || d == "ltr"),
        "{name}: dir"
    );
    let h1s = b.execute(
        "return document.querySelectorAll('h1').length;",
        serde_json::json!([]),
    );
    assert_eq!(h1s, 1, "{name}: one h1");
    if let Some(violations) = b.axe_violations() {
        assert!(violations.is_empty(), "{name}: {violations:#?}");
    }
    for width in [360, 1280] {
        b.resize(width, 900);
        b.screenshot(&format!("admin-{name}-{width}"));
        // Nothing wider than the window: no sideways scrolling on a phone.
        let overflow = b.execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
            serde_json::json!([]),
        );
        if overflow != 0 {
            let culprits = b.execute(
                "const w = document.documentElement.clientWidth; return Array.from(document.querySelectorAll('body *')).filter(e => { const r = e.getBoundingClientRect(); return !(e.parentElement && e.parentElement.closest('.scroll')) && (r.left < -1 || r.right > w + 1); }).slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().left) + '..' + Math.round(e.getBoundingClientRect().right));",
                serde_json::json!([]),
            );
            panic!("{name} at {width} px scrolls sideways by {overflow}: {culprits}");
        }
    }
    b.resize(390, 844);
}

fn a_manager_works_the_app_in_a_browser_and_every_page_passes_axe(kind: Kind) {
    let start = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
    let Some(app) = spawn_app_with(kind, start, |_| {}) else {
        return;
    };
    let Some(b) = Browser::start() else { return };
    // The checker itself finds what it should: an image without a text alternative.
    b.open("data:text/html,<!doctype html><html lang=en><title>t</title><main><h1>x</h1><img src=x.png></main></html>");
    if let Some(found) = b.axe_violations() {
        assert!(
            found.iter().any(|v| v.starts_with("image-alt")),
            "{found:?}"
        );
    }
    assert!(seed(&app) >= 4);
    user(&app, "dana@city.example", Role::Manager, "sanitation");

    // Signed out, the app leads to its sign-in form.
    b.open(&app.url("/admin"));
    b.wait_for("the sign-in form", |b| b.url().contains("/admin/login"));
    check_page(&b, "login-he");
    b.type_into("#email", "dana@city.example");
    b.type_into("#password", PASSWORD);
    b.click("button[type=submit]");
    b.wait_for("the dashboard", |b| b.url().ends_with("/admin"));
    check_page(&b, "dashboard-he");

    b.open(&app.url("/admin/departments/sanitation?period=month"));
    check_page(&b, "department-he");

    b.open(&app.url("/admin/followups"));
    check_page(&b, "followups-he");
    b.click("tbody a");
    b.wait_for("a case", |b| b.url().contains("/admin/followups/"));
    check_page(&b, "case-he");
    let case = b.url();
    b.click("button[value=take]");
    b.wait_for("the case taken", |b| {
        b.execute(
            "return document.body.innerText.includes('dana@city.example (')",
            serde_json::json!([]),
        ) == true
            && b.execute(
                "return !document.querySelector('button[value=take]')",
                serde_json::json!([]),
            ) == true
    });
    b.type_into("#note", "דיברתי עם התושבת, הפח הוחלף");
    b.click("button[value=close]");
    b.wait_until_true(
        "the case closed",
        "return !document.querySelector('#note') && document.body.innerText.includes('הפח הוחלף')",
    );
    assert_eq!(b.url(), case);

    // The same pages in English, chosen with the switch on the page.
    b.click("a[lang=en]");
    b.wait_for("English", |b| {
        b.execute(
            "return document.documentElement.lang",
            serde_json::json!([]),
        ) == "en"
    });
    check_page(&b, "case-en");
    for (path, name) in [
        ("/admin", "dashboard-en"),
        ("/admin/departments/sanitation", "department-en"),
        (
            "/admin/services/sanitation.bulky-waste?score=2",
            "service-en",
        ),
        (
            "/admin/departments/sanitation?audience=employee",
            "employees-en",
        ),
        ("/admin/followups?status=closed", "followups-en"),
    ] {
        b.open(&app.url(path));
        check_page(&b, name);
    }
    // Signing out leads back to the form, in English too.
    b.click("header button[type=submit]");
    b.wait_for("signed out", |b| b.url().contains("/admin/login"));
    check_page(&b, "login-en");
}

fn an_admin_sets_the_city_up_in_a_browser_and_every_page_passes_axe(kind: Kind) {
    let start = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
    let Some(app) = spawn_app_with(kind, start, |_| {}) else {
        return;
    };
    let Some(b) = Browser::start() else { return };
    user(&app, "admin@city.example", Role::Admin, "");
    b.open(&app.url("/admin/login"));
    b.type_into("#email", "admin@city.example");
    b.type_into("#password", PASSWORD);
    b.click("button[type=submit]");
    b.wait_for("the dashboard", |b| b.url().ends_with("/admin"));

    // A key for the CRM, made with the form: shown once, on the page that answers it.
    b.open(&app.url("/admin/keys"));
    check_page(&b, "keys-he");
    b.type_into("#key-name", "מוקד 106");
    b.click("button.button[type=submit]:not(.small-button)");
    b.wait_until_true("the new key", "return !!document.querySelector('.secret')");
    check_page(&b, "key-created-he");

    b.open(&app.url("/admin/digest"));
    b.type_into("#r-email", "head@city.example");
    b.click("input[name=departments][value=sanitation]");
    b.click("form.stack button[type=submit]");
    b.wait_for("the recipient saved", |b| {
        b.url().contains("done=recipient_added")
    });
    check_page(&b, "digest-he");

    b.open(&app.url("/admin/settings"));
    check_page(&b, "settings-he");
    b.type_into("#name-en", "Holon");
    b.type_into("#contact", "Hotline 106");
    b.click("form.stack > button[type=submit]");
    b.wait_for("the settings saved", |b| {
        b.url().contains("done=settings_saved")
    });
    check_page(&b, "settings-saved-he");
    // A logo, uploaded with the page's file field; then a survey page shows it.
    let logo = std::env::temp_dir().join(format!("mashov-logo-{}.svg", std::process::id()));
    std::fs::write(
        &logo,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 10"><rect width="40" height="10" fill="#7a1f3d"/></svg>"##,
    )
    .expect("logo file");
    b.type_into("#logo", logo.to_str().expect("path"));
    b.click("#logo-title ~ form button[type=submit]");
    b.wait_for("the logo saved", |b| {
        b.url().contains("done=settings_saved")
            && b.execute(
                "return !!document.querySelector('#logo-title ~ p img')",
                serde_json::json!([]),
            ) == true
    });
    let survey = app.new_survey_path("BROWSER-LOGO", "he");
    b.open(&app.url(&survey));
    b.wait_until_true("the logo shown", "const i = document.querySelector('img.logo'); return !!i && i.complete && i.naturalWidth > 0;");
    check_page(&b, "survey-with-logo-he");
    // A one-tap score from the email: the chosen score and its send button first.
    b.open(&app.url(&format!("{survey}?overall=4")));
    check_page(&b, "survey-one-tap-he");
    let survey_en = app.new_survey_path("BROWSER-ONE-TAP-EN", "en");
    b.open(&app.url(&format!("{survey_en}?overall=2")));
    check_page(&b, "survey-one-tap-en");
    b.open(&app.url("/admin/catalog"));
    check_page(&b, "catalog-he");
    b.type_into(
        "#csv",
        "department_code,department_name,service_code,service_name,sla_days\nsanitation,אגף תברואה,sanitation.bins,החלפת פחים,4\n",
    );
    b.click("#import-title + form button[type=submit]");
    b.wait_until_true(
        "the preview",
        "return !!document.querySelector('#preview-title')",
    );
    check_page(&b, "catalog-preview-he");
    b.open(&app.url("/admin/surveys"));
    check_page(&b, "surveys-he");
    // A questionnaire of the city's own, from the list's form, then its editor.
    b.type_into("#n-title", "סקר חניה");
    b.type_into("#n-code", "parking");
    b.click("#new-title ~ form button[type=submit]");
    b.wait_until_true(
        "the new questionnaire's editor",
        "return location.pathname === '/admin/surveys/city.parking' && !!document.querySelector('[role=status]')",
    );
    check_page(&b, "city-survey-editor-he");
    // The first questionnaire for the whole audience: the list then shows the setting.
    b.open(&app.url("/admin/surveys"));
    b.click("#assigned-title ~ form button[type=submit]");
    b.wait_until_true(
        "the setting",
        "return !!document.querySelector('#assigned-caption')",
    );
    check_page(&b, "surveys-assigned-he");
    b.open(&app.url("/admin/surveys/resident.post_interaction"));
    check_page(&b, "survey-editor-he");
    b.type_into("#f-text_overall_ar", " ");
    b.click("button[value=preview_ar]");
    b.wait_until_true(
        "the preview",
        "return document.documentElement.lang === 'ar' && !!document.querySelector('[role=note]')",
    );
    check_page(&b, "survey-preview-ar");
    b.open(&app.url("/admin/users"));
    check_page(&b, "users-he");
    b.open(&app.url("/admin/audit"));
    check_page(&b, "audit-he");
    // A refusal page is a page like the others.
    b.open(&app.url("/admin/departments/atlantis"));
    check_page(&b, "not-found-he");

    b.click("a[lang=en]");
    b.wait_for("English", |b| {
        b.execute(
            "return document.documentElement.lang",
            serde_json::json!([]),
        ) == "en"
    });
    check_page(&b, "not-found-en");
    for (path, name) in [
        ("/", "home-he"),
        ("/privacy", "privacy-he"),
        ("/accessibility?lang=ar", "accessibility-ar"),
        ("/accessibility?lang=en", "accessibility-en"),
        ("/admin/settings", "settings-en"),
        ("/admin/surveys", "surveys-en"),
        ("/admin/surveys/city.parking", "city-survey-editor-en"),
        (
            "/admin/surveys/employee.internal_service",
            "survey-editor-en",
        ),
        ("/admin/catalog?edit=sanitation.bulky-waste", "catalog-en"),
        ("/transparency", "transparency-he"),
        ("/transparency?lang=ar", "transparency-ar"),
        ("/transparency?lang=en", "transparency-en"),
        ("/admin/users", "users-en"),
        ("/admin/keys", "keys-en"),
        ("/admin/digest", "digest-en"),
        ("/admin/audit", "audit-en"),
    ] {
        b.open(&app.url(path));
        check_page(&b, name);
    }
}
