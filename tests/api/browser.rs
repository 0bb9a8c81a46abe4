//! The survey in a real headless Chromium, driven over WebDriver: labels select their radio
//! buttons, scales run in the page's direction, and the form works without JavaScript.
//! Runs where `chromedriver` and `chromium` are installed (CI installs them); elsewhere it is
//! skipped unless MASHOV_TEST_REQUIRE_BROWSER is set.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{count, spawn_app, Kind, TestApp};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    _profile: tempfile::TempDir,
}

fn find(binary: &str) -> Option<String> {
    ["/usr/bin/", "/usr/local/bin/"]
        .iter()
        .map(|d| format!("{d}{binary}"))
        .find(|p| std::path::Path::new(p).exists())
}

impl Browser {
    pub fn start() -> Option<Browser> {
        let (Some(driver), Some(chromium)) = (find("chromedriver"), find("chromium")) else {
            if std::env::var("MASHOV_TEST_REQUIRE_BROWSER").is_ok() {
                panic!(
                    "MASHOV_TEST_REQUIRE_BROWSER is set but chromium or chromedriver is missing"
                );
            }
            eprintln!("skipped: install chromium and chromium-driver to run the browser tests");
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("port");
        let driver = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::tempdir().expect("profile dir");
        let mut browser = Browser {
            driver,
            base: format!("http://127.0.0.1:{port}"),
            session: String::new(),
            _profile: profile,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while ureq::get(&format!("{}/status", browser.base))
            .call()
            .is_err()
        {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-quic", "--window-size=390,844",
                format!("--user-data-dir={}", browser._profile.path().display()),
            ]}
        }}});
        let created = browser.call("POST", "/session", Some(caps));
        browser.session = created["sessionId"]
            .as_str()
            .expect("session id")
            .to_string();
        Some(browser)
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{}", self.base, path);
        let req = ureq::request(method, &url).timeout(Duration::from_secs(60));
        let res = match body {
            Some(b) => req.send_string(&b.to_string()),
            None => req.call(),
        };
        let text = match res {
            Ok(r) => r.into_string().expect("body"),
            Err(ureq::Error::Status(code, r)) => {
                panic!(
                    "WebDriver {method} {path}: {code} {}",
                    r.into_string().unwrap_or_default()
                )
            }
            Err(e) => panic!("WebDriver {method} {path}: {e}"),
        };
        let v: Value = serde_json::from_str(&text).expect("WebDriver JSON");
        v["value"].clone()
    }

    fn session(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.call(method, &format!("/session/{}{path}", self.session), body)
    }

    pub fn open(&self, url: &str) {
        self.session("POST", "/url", Some(json!({ "url": url })));
    }

    pub fn element(&self, css: &str) -> String {
        let v = self.session(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_string()
    }

    pub fn click(&self, css: &str) {
        let id = self.element(css);
        self.session("POST", &format!("/element/{id}/click"), Some(json!({})));
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css);
        self.session(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        );
    }

    pub fn x(&self, css: &str) -> f64 {
        let id = self.element(css);
        self.session("GET", &format!("/element/{id}/rect"), None)["x"]
            .as_f64()
            .expect("x")
    }

    pub fn selected(&self, css: &str) -> bool {
        let id = self.element(css);
        self.session("GET", &format!("/element/{id}/selected"), None)
            .as_bool()
            .expect("selected")
    }

    /// Waits for a navigation that a click started: WebDriver may return before it ends.
    pub fn wait_for(&self, what: &str, done: impl Fn(&Browser) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while !done(self) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; at {}",
                self.url()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until a script (returning a boolean) says the page is as expected.
    pub fn wait_until_true(&self, what: &str, script: &str) {
        self.wait_for(what, |b| b.execute(script, serde_json::json!([])) == true);
    }

    pub fn title(&self) -> String {
        self.session("GET", "/title", None)
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    pub fn url(&self) -> String {
        self.session("GET", "/url", None)
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// Runs a script in the page and returns its value.
    pub fn execute(&self, script: &str, args: Value) -> Value {
        self.session(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
    }

    /// The window's size in CSS pixels (360 wide is the smallest phone the app must serve).
    pub fn resize(&self, width: u32, height: u32) {
        self.session(
            "POST",
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        );
    }

    /// Runs axe-core (installed by `.ci/run` from npm) against the page for WCAG 2.1 A and AA;
    /// returns each violation as "rule: targets". Without axe-core the test fails where
    /// browsers are required and is skipped elsewhere.
    pub fn axe_violations(&self) -> Option<Vec<String>> {
        let path = std::env::var("MASHOV_AXE_JS").unwrap_or_else(|_| {
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/.ci/npm/node_modules/axe-core/axe.min.js"
            )
            .into()
        });
        let Ok(source) = std::fs::read_to_string(&path) else {
            assert!(
                std::env::var("MASHOV_TEST_REQUIRE_BROWSER").is_err(),
                "axe-core is missing at {path}: run `npm ci --prefix .ci/npm`"
            );
            eprintln!("skipped axe-core: {path} is missing");
            return None;
        };
        self.execute(&format!("{source}\nreturn true;"), json!([]));
        let found = self.session(
            "POST",
            "/execute/async",
            Some(json!({"args": [], "script": "const done = arguments[arguments.length - 1];\
                axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})\
                .then(r => done(r.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(' | '))))\
                .catch(e => done(['axe failed: ' + e]));"})),
        );
        Some(
            found
                .as_array()
                .expect("a list of violations")
                .iter()
                .map(|v| v.as_str().unwrap_or_default().to_string())
                .collect(),
        )
    }

    /// Saves a screenshot under target/ for a person to look at.
    pub fn screenshot(&self, name: &str) {
        use base64::Engine;
        let png = self.session("GET", "/screenshot", None);
        if let Some(data) = png.as_str() {
            if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(data) {
                let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
                let _ = std::fs::write(dir.join(format!("{name}.png")), bytes);
            }
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = ureq::delete(&format!("{}/session/{}", self.base, self.session)).call();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

both_backends!(
    a_resident_answers_in_a_real_browser_without_javascript,
    an_employee_picks_units_then_rates_them_in_a_real_browser,
);

/// The campaign's two steps in a browser: tick the units, continue, rate each, send.
fn an_employee_picks_units_then_rates_them_in_a_real_browser(kind: Kind) {
    use mashov::clock::Clock;
    use mashov::services::campaigns;
    let Some(browser) = Browser::start() else {
        return;
    };
    let Some(app) = spawn_app(kind) else { return };
    let mut conn = app.conn();
    let now = app.clock.now();
    let recipients = [("dana@city.example".to_string(), "he")];
    let (c, _) =
        crate::campaigns::launch_campaign(&app, "סקר שירות פנימי", &recipients, None, false);
    let (_, link) = campaigns::links(&mut conn, &app.state.key, &app.address, &c.id)
        .expect("links")
        .remove(0);
    browser.open(&link);
    browser.screenshot(&format!("campaign-pick-{kind:?}"));
    // Continuing with nothing ticked says so.
    browser.click("button[type=submit]");
    browser.wait_for("the picker's error", |b| b.title().starts_with("שגיאה"));
    browser.click("label[for='u-hr.payslip']");
    browser.click("label[for='u-it.helpdesk']");
    assert!(browser.selected("#u-hr\\.payslip"));
    // Each unit shows a box that is ticked once chosen: the picker reads as a multi-select.
    let ticked = |css: &str| {
        browser.execute(
            "return getComputedStyle(document.querySelector(arguments[0]), '::before').backgroundColor;",
            serde_json::json!([css]),
        )
    };
    let white = serde_json::json!("rgb(255, 255, 255)");
    assert_ne!(
        ticked("label[for='u-hr.payslip']>span"),
        white,
        "a chosen unit's box is filled"
    );
    assert_eq!(
        ticked("label[for='u-hr.recruiting']>span"),
        white,
        "an unchosen one is empty"
    );
    browser.resize(360, 800);
    browser.screenshot(&format!("campaign-pick-chosen-360-{kind:?}"));
    if let Some(violations) = browser.axe_violations() {
        assert!(violations.is_empty(), "the unit picker: {violations:#?}");
    }
    browser.click("button[type=submit]");
    browser.wait_for("the ratings page", |b| b.url().contains("units="));
    browser.screenshot(&format!("campaign-rate-{kind:?}"));
    if let Some(violations) = browser.axe_violations() {
        assert!(violations.is_empty(), "the units' ratings: {violations:#?}");
    }
    browser.click("label[for='hr.payslip.overall-5']");
    browser.click("label[for='it.helpdesk.overall-2']");
    browser.click("label[for='it.helpdesk.timeliness-1']");
    browser.click("button[type=submit]");
    browser.wait_for("the thank-you page", |b| b.url().ends_with("/thanks/he"));
    // Sealed in the inbox, one row of one size per unit rated, until the campaign closes.
    let waiting = format!(
        "SELECT COUNT(*) AS n FROM anonymous_inbox WHERE cohort = 'campaign:{}'",
        c.id
    );
    assert_eq!(count(&mut conn, &waiting), 2);
    let (_, drained) =
        campaigns::close(&mut conn, &c.id, &app.state.key.inbox_key(), now).expect("close");
    assert_eq!(drained.answers, 2);
    let sql = format!(
        "SELECT COUNT(*) AS n FROM responses WHERE cohort = 'campaign:{}' AND invitation_id IS NULL",
        c.id
    );
    assert_eq!(count(&mut conn, &sql), 2, "one anonymous response per unit");
    assert_eq!(count(&mut conn, &waiting), 0);
}

fn a_resident_answers_in_a_real_browser_without_javascript(kind: Kind) {
    let Some(browser) = Browser::start() else {
        return;
    };
    let Some(app) = spawn_app(kind) else { return };
    check_direction(&browser, &app);

    let path = app.new_survey_path("BROWSER-HE", "he");
    browser.open(&app.url(&path));
    browser.screenshot(&format!("survey-he-{kind:?}"));
    // Sending the form empty shows the errors, in Hebrew, on the same link.
    browser.click("button[type=submit]");
    browser.wait_for("the error page", |b| b.title().starts_with("שגיאה"));
    assert!(browser.url().ends_with(&path));
    browser.screenshot(&format!("survey-he-errors-{kind:?}"));
    // Clicking a label chooses its radio button.
    browser.click("label[for='overall-4']");
    assert!(browser.selected("#overall-4"));
    browser.click("label[for='effort-7']");
    browser.click("label[for='resolved-partially']");
    browser.type_into("#f-comment", "השירות היה טוב <b>מאוד</b>");
    browser.click("button[type=submit]");
    browser.wait_for("the thank-you page", |b| b.url().ends_with("/thanks/he"));
    assert_eq!(browser.title(), "תודה רבה! · עיריית דוגמה");

    let mut conn = app.conn();
    let stored =
        "SELECT COUNT(*) AS n FROM answers WHERE (question_id = 'overall' AND int_value = 4) \
                  OR (question_id = 'effort' AND int_value = 7) \
                  OR (question_id = 'comment' AND text_value = 'השירות היה טוב <b>מאוד</b>')";
    assert_eq!(count(&mut conn, stored), 3);
    // Back to the link: it is closed now.
    browser.open(&app.url(&path));
    assert_eq!(browser.title(), "כבר ענית על הסקר הזה · עיריית דוגמה");
}

/// Scales run in the page's direction: 1 at the start of the line (right in Hebrew and Arabic,
/// left in English and Russian), each point with its number.
fn check_direction(browser: &Browser, app: &TestApp) {
    for (lang, rtl) in [("he", true), ("ar", true), ("en", false), ("ru", false)] {
        let path = app.new_survey_path(&format!("BROWSER-DIR-{lang}"), lang);
        browser.open(&app.url(&path));
        let (one, five) = (
            browser.x("label[for='overall-1']"),
            browser.x("label[for='overall-5']"),
        );
        assert_eq!(one > five, rtl, "{lang}: 1 at x={one}, 5 at x={five}");
        if lang == "ar" {
            browser.screenshot("survey-ar");
        }
    }
}
