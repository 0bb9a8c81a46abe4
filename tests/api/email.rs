//! Survey emails over real SMTP, to a real SMTP server the test starts, with the clock in the
//! test's hands.

use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Asia::Jerusalem;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{count, spawn_app_with, Kind, TestApp, FULL_ANSWER};
use crate::smtp::{Received, SmtpSink};
use mashov::config::{Settings, SmtpSecurity, SmtpSettings};

both_backends!(
    an_invitation_arrives_once_in_each_language_with_both_parts_and_working_links,
    quiet_hours_and_the_rest_window_hold_emails_until_they_end,
    a_reminder_follows_after_three_days_only_while_unanswered,
    the_frequency_cap_and_opting_out_suppress_later_interactions,
    residents_reached_only_by_phone_are_capped_and_opt_out_from_the_page,
    a_mail_server_that_is_down_then_up_gets_everything_once,
    a_4xx_burst_is_retried_and_a_5xx_fails_only_its_own_email,
    an_employee_is_told_in_their_language_that_the_answer_is_anonymous,
);

/// An instant given in Israel's local time.
fn il(text: &str) -> DateTime<Utc> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").expect("time");
    Jerusalem
        .from_local_datetime(&naive)
        .earliest()
        .expect("exists")
        .with_timezone(&Utc)
}

fn mail_app(kind: Kind, start: &str, smtp_port: u16) -> Option<TestApp> {
    spawn_app_with(kind, il(start), |s: &mut Settings| {
        s.smtp = Some(SmtpSettings {
            security: SmtpSecurity::None,
            host: "127.0.0.1".into(),
            port: smtp_port,
            credentials: None,
        });
        s.mail_from = "עיריית דוגמה <survey@city.example>".parse().expect("from");
    })
}

fn body(app: &TestApp, external_id: &str, email: &str, lang: &str, closed: DateTime<Utc>) -> Value {
    let _ = app;
    json!({
        "external_id": external_id, "audience": "resident",
        "service_code": "sanitation.bulky-waste", "channel": "web",
        "closed_at": closed.to_rfc3339(),
        "contact": {"email": email, "language": lang}
    })
}

/// Reports a request closed three hours ago; returns the API's answer.
fn report(app: &TestApp, external_id: &str, email: &str, lang: &str) -> Value {
    let closed = app.clock_now() - Duration::hours(3);
    let r = app.report(&body(app, external_id, email, lang, closed));
    assert!(r.status == 201 || r.status == 200, "{}", r.body);
    r.json()
}

fn path_of(app: &TestApp, url: &str) -> String {
    url.strip_prefix(&app.address)
        .expect("own origin")
        .to_string()
}

fn to(app_msgs: &[Received], address: &str) -> Vec<Received> {
    app_msgs
        .iter()
        .filter(|m| m.to.iter().any(|t| t == address))
        .cloned()
        .collect()
}

fn outbox(app: &TestApp, condition: &str) -> i64 {
    let mut conn = app.conn();
    count(
        &mut conn,
        &format!("SELECT COUNT(*) AS n FROM outbox WHERE {condition}"),
    )
}

/// Waits until `n` outbox rows match (the worker acts in the background).
fn wait_until(app: &TestApp, condition: &str, n: i64) {
    for _ in 0..100 {
        if outbox(app, condition) == n {
            return;
        }
        settle();
    }
    panic!("never {n} outbox rows with {condition}");
}

/// Gives the worker (which polls every 20 ms) time to act, for checks that nothing happens.
fn settle() {
    std::thread::sleep(std::time::Duration::from_millis(300));
}

fn an_invitation_arrives_once_in_each_language_with_both_parts_and_working_links(kind: Kind) {
    let sink = SmtpSink::start();
    let Some(app) = mail_app(kind, "2026-11-24 10:00", sink.port) else {
        return;
    };
    let langs = [
        ("he", "rtl", "איך היה"),
        ("ar", "rtl", "كيف كانت"),
        ("en", "ltr", "How did we"),
        ("ru", "ltr", "Как мы"),
    ];
    let mut urls = Vec::new();
    for (lang, _, _) in langs {
        let r = report(
            &app,
            &format!("MAIL-{lang}"),
            &format!("{lang}@example.org"),
            lang,
        );
        assert_eq!(r["status"], "scheduled");
        urls.push(r["survey_url"].as_str().expect("url").to_string());
    }
    let got = sink.wait_for(4);
    settle();
    assert_eq!(sink.messages().len(), 4, "each invitation once");
    for ((lang, dir, subject_start), url) in langs.iter().zip(&urls) {
        let mine = to(&got, &format!("{lang}@example.org"));
        assert_eq!(mine.len(), 1, "{lang}");
        let m = &mine[0];
        let subject = m.header("Subject").expect("subject");
        assert!(subject.starts_with(subject_start), "{lang}: {subject}");
        assert!(subject.chars().count() < 60);
        assert!(m
            .header("From")
            .expect("from")
            .contains("survey@city.example"));
        assert!(m
            .header("Message-ID")
            .is_some_and(|id| id.contains("@city.example")));
        let token = url.rsplit('/').next().expect("token");
        let unsubscribe = m.header("List-Unsubscribe").expect("List-Unsubscribe");
        assert_eq!(unsubscribe, format!("<{}/u/{token}>", app.address));
        assert_eq!(
            m.header("List-Unsubscribe-Post").as_deref(),
            Some("List-Unsubscribe=One-Click")
        );
        let text = m.part("text/plain").expect("text part");
        let html = m.part("text/html").expect("html part");
        assert!(text.contains(url.as_str()) && html.contains(url.as_str()));
        assert!(
            html.contains(&format!("lang=\"{lang}\" dir=\"{dir}\"")),
            "{lang}"
        );
        assert!(
            !html.contains("<img") && !html.contains("src="),
            "no remote images"
        );
        assert!(html.contains("600"), "laid out for 600 px");
        // For a person to look at (for example as a headless-browser screenshot).
        let look =
            std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("email-{lang}.html"));
        let _ = std::fs::write(look, &html);
        // The one-tap link opens the survey with that answer chosen, and stores nothing.
        let tap = format!("{url}?overall=4");
        // Handlebars escapes '=' in the HTML part as an entity, which mail clients decode.
        assert!(
            html.replace("&#x3D;", "=").contains(&tap),
            "one-tap link in HTML"
        );
        assert!(text.contains(&tap), "one-tap link in text");
        let page = app.get(&path_of(&app, &tap));
        assert_eq!(page.status, 200);
        assert!(page
            .body
            .contains("id=\"overall-4\" name=\"overall\" value=\"4\" checked"));
        // The chosen score and one send button come first, with a line saying that nothing is
        // saved yet; the other questions follow, after that button.
        let body = &page.body;
        let (status, score, send, next) = (
            body.find("role=\"status\"")
                .expect("the not-saved-yet line"),
            body.find("name=\"overall\"").expect("the chosen question"),
            body.find("<button type=\"submit\">")
                .expect("a send button"),
            body.find("name=\"effort\"").expect("the other questions"),
        );
        assert!(status < score && score < send && send < next, "{body}");
        assert_eq!(body.matches("name=\"overall\"").count(), 5, "asked once");
        // A score off the scale opens the ordinary form.
        let off = app.get(&path_of(&app, &format!("{url}?overall=9")));
        assert_eq!(off.status, 200);
        assert!(!off.body.contains("role=\"status\""));
    }
    let mut conn = app.conn();
    assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM responses"), 0);
    // The worker records a batch as sent after delivering all of it.
    wait_until(&app, "kind = 'invitation' AND status = 'sent'", 4);
    assert_eq!(outbox(&app, "kind = 'reminder' AND status = 'pending'"), 4);
    // No survey link is kept in the outbox.
    let token = urls[0].rsplit('/').next().expect("token");
    assert_eq!(outbox(&app, &format!("payload LIKE '%{token}%'")), 0);
}

fn quiet_hours_and_the_rest_window_hold_emails_until_they_end(kind: Kind) {
    let sink = SmtpSink::start();
    // Friday 13:00: a request closed at 12:30 is due at 14:30, inside the rest window.
    let Some(app) = mail_app(kind, "2026-11-27 13:00", sink.port) else {
        return;
    };
    let r = app.report(&body(
        &app,
        "SHABBAT",
        "s@example.org",
        "he",
        il("2026-11-27 12:30"),
    ));
    assert_eq!(r.status, 201);
    let due = il("2026-11-28 20:00").naive_utc();
    assert_eq!(
        outbox(
            &app,
            &format!(
                "kind = 'invitation' AND next_attempt_at = '{}'",
                due.format("%Y-%m-%d %H:%M:%S")
            )
        ),
        1,
        "held until Saturday 20:00"
    );
    app.clock
        .advance(il("2026-11-28 19:59") - il("2026-11-27 13:00"));
    settle();
    assert!(sink.messages().is_empty(), "nothing during Shabbat");
    app.clock.advance(Duration::minutes(2));
    assert_eq!(sink.wait_for(1).len(), 1);

    // Saturday 20:30: closed at 20:00, due at 22:00, inside quiet hours: Sunday 08:00.
    app.clock.advance(Duration::minutes(29));
    let r = app.report(&body(
        &app,
        "QUIET",
        "q@example.org",
        "he",
        il("2026-11-28 20:00"),
    ));
    assert_eq!(r.status, 201);
    let due = il("2026-11-29 08:00").naive_utc();
    assert_eq!(
        outbox(
            &app,
            &format!(
                "kind = 'invitation' AND next_attempt_at = '{}'",
                due.format("%Y-%m-%d %H:%M:%S")
            )
        ),
        1,
        "held until 08:00"
    );
    app.clock
        .advance(il("2026-11-29 07:59") - il("2026-11-28 20:30"));
    settle();
    assert_eq!(sink.messages().len(), 1, "nothing in quiet hours");
    app.clock.advance(Duration::minutes(2));
    assert_eq!(sink.wait_for(2).len(), 2);
}

fn a_reminder_follows_after_three_days_only_while_unanswered(kind: Kind) {
    let sink = SmtpSink::start();
    let Some(app) = mail_app(kind, "2026-11-24 10:00", sink.port) else {
        return;
    };
    let answered = report(&app, "REM-A", "a@example.org", "he");
    report(&app, "REM-B", "b@example.org", "en");
    sink.wait_for(2);
    let path = path_of(&app, answered["survey_url"].as_str().expect("url"));
    assert_eq!(app.post_form(&path, FULL_ANSWER).status, 303);
    app.clock.advance(Duration::days(3) + Duration::minutes(1));
    let got = sink.wait_for(3);
    settle();
    let got_all = sink.messages();
    assert_eq!(got_all.len(), 3, "one reminder only");
    let reminder = to(&got, "b@example.org").pop().expect("reminder to b");
    assert!(reminder
        .header("Subject")
        .expect("subject")
        .starts_with("Reminder"));
    assert_eq!(
        to(&got_all, "a@example.org").len(),
        1,
        "no reminder after answering"
    );
    assert_eq!(
        outbox(
            &app,
            "kind = 'reminder' AND status = 'cancelled' AND last_error = 'answered'"
        ),
        1
    );
}

fn the_frequency_cap_and_opting_out_suppress_later_interactions(kind: Kind) {
    let sink = SmtpSink::start();
    let Some(app) = mail_app(kind, "2026-11-24 10:00", sink.port) else {
        return;
    };
    let first = report(&app, "CAP-1", "Resident@Example.org", "ar");
    assert_eq!(first["status"], "scheduled");
    sink.wait_for(1);
    let second = report(&app, "CAP-2", "resident@example.org ", "ar");
    assert_eq!(second["status"], "suppressed");
    assert_eq!(second["reason"], "frequency_cap");
    assert!(second["survey_url"].is_null());
    assert_eq!(outbox(&app, "kind = 'invitation'"), 1);
    // The same external id again answers the same, suppressed.
    assert_eq!(report(&app, "CAP-2", "resident@example.org", "ar"), second);

    app.clock.advance(Duration::days(31));
    // The first link expired on day 14: its reminder is dropped, not sent.
    wait_until(
        &app,
        "kind = 'reminder' AND status = 'cancelled' AND last_error = 'expired'",
        1,
    );
    let third = report(&app, "CAP-3", "resident@example.org", "ar");
    assert_eq!(third["status"], "scheduled", "the cap is 30 days");
    sink.wait_for(2);

    // Opting out from the newest link: GET asks, POST does it at once.
    let token = third["survey_url"]
        .as_str()
        .expect("url")
        .rsplit('/')
        .next()
        .expect("t")
        .to_string();
    let page = app.get(&format!("/u/{token}"));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("lang=\"ar\"") && page.body.contains("method=\"post\""));
    let mut conn = app.conn();
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM suppressions"),
        0,
        "GET changes nothing"
    );
    let done = app.post_raw(
        &format!("/u/{token}"),
        "application/x-www-form-urlencoded",
        b"List-Unsubscribe=One-Click",
        None,
    );
    assert_eq!(done.status, 200);
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM suppressions"),
        1
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM suppressions WHERE address_hash LIKE '%example%'"
        ),
        0,
        "kept as a keyed hash"
    );
    let fourth = report(&app, "CAP-4", "RESIDENT@example.org", "he");
    assert_eq!(fourth["status"], "suppressed");
    assert_eq!(fourth["reason"], "opted_out");
    // An email still queued for the address (the third link's reminder) is cancelled when its
    // turn comes.
    app.clock.advance(Duration::days(4));
    wait_until(&app, "status = 'cancelled' AND last_error = 'opted_out'", 1);
    settle();
    assert_eq!(sink.messages().len(), 2, "nothing after opting out");
    assert_eq!(app.get("/u/not-a-token").status, 404);
}

fn a_mail_server_that_is_down_then_up_gets_everything_once(kind: Kind) {
    let port = SmtpSink::down_port();
    let Some(app) = mail_app(kind, "2026-11-24 10:00", port) else {
        return;
    };
    for n in 0..5 {
        report(
            &app,
            &format!("DOWN-{n}"),
            &format!("down{n}@example.org"),
            "he",
        );
    }
    wait_until(
        &app,
        "kind = 'invitation' AND status = 'pending' AND attempts >= 1",
        5,
    );
    assert_eq!(
        outbox(
            &app,
            "kind = 'invitation' AND status = 'pending' AND last_error IS NOT NULL"
        ),
        5
    );
    let sink = SmtpSink::start_on(port);
    app.clock.advance(Duration::minutes(2));
    let got = sink.wait_for(5);
    settle();
    assert_eq!(sink.messages().len(), 5, "each once");
    let ids: std::collections::HashSet<_> =
        got.iter().filter_map(|m| m.header("Message-ID")).collect();
    assert_eq!(ids.len(), 5);
    assert_eq!(outbox(&app, "kind = 'invitation' AND status = 'sent'"), 5);
}

fn a_4xx_burst_is_retried_and_a_5xx_fails_only_its_own_email(kind: Kind) {
    let sink = SmtpSink::start();
    sink.fail_next(3);
    sink.reject("nobody@example.org");
    let Some(app) = mail_app(kind, "2026-11-24 10:00", sink.port) else {
        return;
    };
    for n in 0..5 {
        report(
            &app,
            &format!("BURST-{n}"),
            &format!("burst{n}@example.org"),
            "ru",
        );
    }
    report(&app, "BURST-BAD", "nobody@example.org", "ru");
    for _ in 0..100 {
        if outbox(&app, "kind = 'invitation' AND status = 'failed'") == 1
            && outbox(&app, "kind = 'invitation' AND status = 'sending'") == 0
        {
            break;
        }
        settle();
    }
    app.clock.advance(Duration::minutes(2));
    sink.wait_for(5);
    settle();
    let got = sink.messages();
    assert_eq!(got.len(), 5, "each good address once");
    assert_eq!(outbox(&app, "kind = 'invitation' AND status = 'sent'"), 5);
    assert_eq!(
        outbox(&app, "kind = 'invitation' AND status = 'failed' AND recipient = 'nobody@example.org' AND last_error LIKE '%550%'"),
        1,
        "failed with the server's reply"
    );
    assert!(
        outbox(&app, "kind = 'invitation' AND attempts >= 2") >= 3,
        "the 4xx ones were retried"
    );
}

fn an_employee_is_told_in_their_language_that_the_answer_is_anonymous(kind: Kind) {
    let sink = SmtpSink::start();
    let Some(app) = mail_app(kind, "2026-11-24 10:00", sink.port) else {
        return;
    };
    let langs = [
        ("he", "איך היה השירות שקיבלת", "התשובות אנונימיות"),
        ("ar", "كيف كانت الخدمة", "الإجابات مجهولة الهوية"),
        (
            "en",
            "How was the service you received",
            "Your answers are anonymous",
        ),
        ("ru", "Как вас обслужили", "Ответы анонимны"),
    ];
    for (lang, _, _) in langs {
        let mut ticket = app.employee_ticket(
            &format!("IT-{lang}"),
            "it.helpdesk",
            &format!("staff-{lang}@city.example"),
        );
        ticket["contact"]["language"] = json!(lang);
        let r = app.report(&ticket);
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.json()["status"], "scheduled");
    }
    // A resident's email in the same batch keeps the residents' wording.
    report(&app, "RES-1", "resident@example.org", "en");
    // Past the rest window after the tickets closed.
    app.clock.advance(Duration::hours(2));
    let got = sink.wait_for(5);
    for (lang, subject_start, promise) in langs {
        let mine = to(&got, &format!("staff-{lang}@city.example"));
        assert_eq!(mine.len(), 1, "{lang}");
        let subject = mine[0].header("Subject").expect("subject");
        assert!(subject.starts_with(subject_start), "{lang}: {subject}");
        let text = mine[0].part("text/plain").expect("text");
        let html = mine[0].part("text/html").expect("html");
        assert!(
            text.contains(promise) && html.contains(promise),
            "{lang}: {text}"
        );
        assert!(!text.contains("contacted the city") && !text.contains("פנית לעירייה"));
    }
    let resident = to(&got, "resident@example.org");
    let text = resident[0].part("text/plain").expect("text");
    assert!(
        text.contains("You received this because you contacted the city."),
        "{text}"
    );
    assert!(!text.contains("anonymous"), "{text}");
}

/// A CRM that texts the link itself reports a phone number only: the cap and an opt-out still
/// recognise the person, however the number is written.
fn residents_reached_only_by_phone_are_capped_and_opt_out_from_the_page(kind: Kind) {
    let Some(app) = spawn_app_with(kind, il("2026-11-24 10:00"), |_| {}) else {
        return;
    };
    let by_phone = |id: &str, phone: &str| {
        let r = app.report(&json!({
            "external_id": id, "audience": "resident",
            "service_code": "sanitation.bulky-waste", "channel": "phone",
            "closed_at": (app.clock_now() - Duration::hours(3)).to_rfc3339(),
            "contact": {"phone": phone, "language": "he"}
        }));
        assert!(r.status == 201 || r.status == 200, "{}", r.body);
        r.json()
    };
    let first = by_phone("TEL-1", "050-1234567");
    assert_eq!(first["status"], "scheduled");
    let second = by_phone("TEL-2", "+972 50 123 4567");
    assert_eq!(second["status"], "suppressed", "{second}");
    assert_eq!(second["reason"], "frequency_cap");
    // Another number is another person.
    assert_eq!(by_phone("TEL-3", "052-7654321")["status"], "scheduled");
    let mut conn = app.conn();
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM contact_keys WHERE hash LIKE '%050%' OR hash LIKE '%972%'"
        ),
        0,
        "numbers are kept as keyed hashes"
    );

    // The survey page links to the link's own opt-out page.
    let url = first["survey_url"].as_str().expect("a link");
    let token = url.rsplit('/').next().expect("token");
    let page = app.get(&path_of(&app, url));
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(&format!("href=\"/u/{token}\"")),
        "{}",
        page.body
    );
    let done = app.post_raw(
        &format!("/u/{token}"),
        "application/x-www-form-urlencoded",
        b"",
        None,
    );
    assert_eq!(done.status, 200);
    app.clock.advance(Duration::days(31));
    let later = by_phone("TEL-4", "972501234567");
    assert_eq!(later["status"], "suppressed", "{later}");
    assert_eq!(later["reason"], "opted_out");
    assert_eq!(by_phone("TEL-5", "0527654321")["status"], "scheduled");

    // A request may pair one person's email with another's phone (CRMs check neither): its
    // link was emailed, and opting out from it silences that email only, not the number.
    let paired = app.report(&json!({
        "external_id": "TEL-6", "audience": "resident",
        "service_code": "sanitation.bulky-waste", "channel": "web",
        "closed_at": (app.clock_now() - Duration::hours(3)).to_rfc3339(),
        "contact": {"email": "someone@example.org", "phone": "053-1112233", "language": "he"}
    }));
    assert_eq!(paired.json()["status"], "scheduled", "{}", paired.body);
    let url = paired.json()["survey_url"]
        .as_str()
        .expect("a link")
        .to_string();
    let token = url.rsplit('/').next().expect("token");
    let done = app.post_raw(
        &format!("/u/{token}"),
        "application/x-www-form-urlencoded",
        b"",
        None,
    );
    assert_eq!(done.status, 200);
    // Twice at once is still fine (a double click, a provider's one-click request).
    let again = app.post_raw(
        &format!("/u/{token}"),
        "application/x-www-form-urlencoded",
        b"",
        None,
    );
    assert_eq!(again.status, 200);
    app.clock.advance(Duration::days(31));
    assert_eq!(by_phone("TEL-7", "053-1112233")["status"], "scheduled");
    // A placeholder number is no one's: it neither caps nor silences anyone.
    assert_eq!(by_phone("TEL-8", "000-0000000")["status"], "scheduled");
    assert_eq!(by_phone("TEL-9", "000-0000000")["status"], "scheduled");
}
