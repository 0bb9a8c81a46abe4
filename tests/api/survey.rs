//! The resident's side: opening and answering a survey link.

use std::collections::HashSet;

use crate::both_backends;
use crate::helpers::{count, spawn_app, Kind, FULL_ANSWER};

both_backends!(
    the_page_speaks_the_residents_language_in_the_right_direction,
    the_page_is_accessible_small_and_self_contained,
    opening_a_link_changes_nothing,
    unknown_and_tampered_links_are_404,
    an_incomplete_answer_gets_422_with_errors_named_and_answers_kept,
    a_valid_answer_is_stored_once_then_the_link_is_closed,
    racing_submissions_store_exactly_one_answer,
    an_expired_link_is_410_and_takes_no_answer,
    hostile_text_is_stored_verbatim_and_always_escaped,
    oversized_and_repeated_form_input_is_refused,
    a_changed_questionnaire_is_a_new_version_and_old_links_keep_theirs,
);

/// The attributes of every `<tag ...>` in a page.
fn tags(html: &str, tag: &str) -> Vec<Vec<(String, String)>> {
    let open = format!("<{tag}");
    html.match_indices(&open)
        .filter(|(i, _)| {
            html[i + open.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_whitespace() || c == '>')
        })
        .map(|(i, _)| {
            let end = html[i..].find('>').map_or(html.len(), |e| i + e);
            let inner = &html[i + open.len()..end];
            let mut attrs = Vec::new();
            let mut rest = inner;
            while let Some(eq) = rest.find("=\"") {
                let name = rest[..eq]
                    .split_whitespace()
                    .last()
                    .unwrap_or("")
                    .to_string();
                let after = &rest[eq + 2..];
                let close = after.find('"').unwrap_or(after.len());
                attrs.push((name, after[..close].to_string()));
                rest = &after[(close + 1).min(after.len())..];
            }
            for flag in ["checked"] {
                if inner.split_whitespace().any(|w| w == flag) {
                    attrs.push((flag.to_string(), String::new()));
                }
            }
            attrs
        })
        .collect()
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn the_page_speaks_the_residents_language_in_the_right_direction(kind: Kind) {
    let Some(app) = spawn_app(kind) else { return };
    for (lang, dir, submit) in [
        ("he", "rtl", "שליחה"),
        ("ar", "rtl", "إرسال"),
        ("en", "ltr", "Send"),
        ("ru", "ltr", "Отправить"),
    ] {
        let path = app.new_survey_path(&format!("LANG-{lang}"), lang);
        let page = app.get(&path);
        assert_eq!(page.status, 200);
        assert!(page
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/html")));
        let html = &tags(&page.body, "html")[0];
        assert_eq!(attr(html, "lang"), Some(lang));
        assert_eq!(attr(html, "dir"), Some(dir));
        assert!(
            page.body.contains(submit),
            "{lang} page lacks its submit label"
        );
        // The English page names the service by its English name, the others fall back to Hebrew.
        if lang == "en" {
            assert!(page.body.contains("Bulky waste pickup"));
        } else {
            assert!(page.body.contains("פינוי פסולת גושית"));
        }
        // Thank-you page in the same language.
        let r = app.post_form(&path, FULL_ANSWER);
        assert_eq!(r.status, 303);
        let thanks = app.get(r.header("location").expect("location"));
        assert_eq!(thanks.status, 200);
        assert_eq!(attr(&tags(&thanks.body, "html")[0], "lang"), Some(lang));
        // And the closed page too.
        let closed = app.get(&path);
        assert_eq!(closed.status, 410);
        assert_eq!(attr(&tags(&closed.body, "html")[0], "dir"), Some(dir));
    }
}

fn the_page_is_accessible_small_and_self_contained(kind: Kind) {
    let Some(app) = spawn_app(kind) else { return };
    let page = app.get(&app.new_survey_path("A11Y", "he")).body;
    assert!(page.len() < 30 * 1024, "page is {} bytes", page.len());
    let fieldsets = tags(&page, "fieldset").len();
    let legends = tags(&page, "legend").len();
    assert_eq!(fieldsets, 6, "one fieldset per question");
    assert_eq!(legends, fieldsets, "every fieldset has a legend");
    let labels: HashSet<String> = tags(&page, "label")
        .iter()
        .filter_map(|a| attr(a, "for").map(str::to_string))
        .collect();
    let mut controls = tags(&page, "input");
    controls.extend(tags(&page, "textarea"));
    assert!(controls.len() > 20);
    for c in &controls {
        if attr(c, "type") == Some("hidden") {
            continue;
        }
        let id = attr(c, "id").expect("every control has an id");
        assert!(labels.contains(id), "control {id} has no label");
    }
    // Scales are radio groups whose values read 1..n in document order, each with its number.
    let overall: Vec<&str> = controls
        .iter()
        .filter(|c| attr(c, "name") == Some("overall"))
        .map(|c| attr(c, "value").expect("value"))
        .collect();
    assert_eq!(overall, ["1", "2", "3", "4", "5"]);
    assert!(controls
        .iter()
        .filter(|c| attr(c, "name") == Some("overall"))
        .all(|c| attr(c, "type") == Some("radio")));
    let effort = controls
        .iter()
        .filter(|c| attr(c, "name") == Some("effort"))
        .count();
    assert_eq!(effort, 7);
    assert!(!page.contains("<script"), "no JavaScript");
    assert!(!page.contains("src="), "no external resources");
    assert!(!page.contains("href=\"http"), "no external links");
    let forms = tags(&page, "form");
    assert_eq!(attr(&forms[0], "method"), Some("post"));
}

fn opening_a_link_changes_nothing(kind: Kind) {
    let Some(app) = spawn_app(kind) else { return };
    let path = app.new_survey_path("GET-SAFE", "he");
    for _ in 0..3 {
        assert_eq!(app.get(&path).status, 200);
    }
    let head = ureq::head(&app.url(&path)).call().expect("HEAD");
    assert_eq!(head.status(), 200);
    let mut conn = app.conn();
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM invitations WHERE answered_at IS NOT NULL"
        ),
        0
    );
    assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM responses"), 0);
    // Still answerable after being opened.
    assert_eq!(app.post_form(&path, FULL_ANSWER).status, 303);
}

fn unknown_and_tampered_links_are_404(kind: Kind) {
    let Some(app) = spawn_app(kind) else { return };
    let path = app.new_survey_path("TAMPER", "ar");
    let token = path.strip_prefix("/s/").expect("path").to_string();
    let mut flipped: Vec<char> = token.chars().collect();
    flipped[5] = if flipped[5] == 'A' { 'B' } else { 'A' };
    let flipped: String = flipped.into_iter().collect();
    let long = "a".repeat(2000);
    for bad in [
        flipped.as_str(),
        &token[..token.len() - 1],
        &long,
        "%3Cscript%3E",
        "..%2F..%2Fetc%2Fpasswd",
        "%D7%A9%D7%9C%D7%95%D7%9D",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let r = app.get(&format!("/s/{bad}"));
        assert_eq!(r.status, 404, "GET /s/{bad}");
        assert!(r.body.contains("lang=\"he\""));
        let r = app.post_form(&format!("/s/{bad}"), FULL_ANSWER);
        assert_eq!(r.status, 404, "POST /s/{bad}");
    }
    let mut conn = app.conn();
    assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM responses"), 0);
}

fn an_incomplete_answer_gets_422_with_errors_named_and_answers_kept(kind: Kind) {
    let Some(app) = spawn_app(kind) else { return };
    let path = app.new_survey_path("INCOMPLETE", "en");
    let r = app.post_form(
        &path,
        &[("effort", "6"), ("comment", "Kept <verbatim> & safe")],
    );
    assert_eq!(r.status, 422);
    let page = &r.body;
    assert!(
        page.contains("class=\"summary\""),
        "an error summary at the top"
    );
    assert!(
        page.contains("href=\"#overall-1\""),
        "the summary links to the question"
    );
    assert!(
        page.contains("id=\"err-overall\""),
        "the error sits next to its question"
    );
    assert!(
        page.contains("aria-describedby=\"err-overall\""),
        "and is tied to it"
    );
    assert!(page.contains("Please choose an answer to this question"));
    assert!(page.contains("<title>Error: "));
    assert!(
        page.contains("Kept &lt;verbatim&gt; &amp; safe"),
        "the comment is kept, escaped"
    );
    let effort6 = tags(page, "input")
        .into_iter()
        .find(|a| attr(a, "id") == Some("effort-6"))
        .expect("effort-6");
    assert!(
        attr(&effort6, "checked").is_some(),
        "the chosen point stays chosen"
    );
    let mut conn = app.conn();
    assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM responses"), 0);
    // The same link then takes a complete answer.
    assert_eq!(app.post_form(&path, FULL_ANSWER).status, 303);
}

fn a_valid_answer_is_stored_once_then_the_link_is_closed(kind: Kind) {
    let Some(app) = spawn_app(kind) else { return };
    let path = app.new_survey_path("ANSWER", "ru");
    let r = app.post_form(&path, FULL_ANSWER);
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/thanks/ru"));
    let again = app.post_form(&path, FULL_ANSWER);
    assert_eq!(again.status, 409);
    assert!(again.body.contains("lang=\"ru\""));
    assert_eq!(app.get(&path).status, 410);

    let mut conn = app.conn();
    assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM responses"), 1);
    assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM answers"), 6);
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM answers WHERE question_id = 'overall' AND int_value = 4"
        ),
        1
    );
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM answers WHERE question_id = 'contact_consent' AND int_value = 0"),
        1
    );
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM responses WHERE service_code = 'sanitation.bulky-waste' AND channel = 'phone' AND language = 'ru'"),
        1
    );
}

fn racing_submissions_store_exactly_one_answer(kind: Kind) {
    let Some(app) = spawn_app(kind) else { return };
    let path = app.new_survey_path("RACE", "he");
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let app = &app;
                let path = &path;
                s.spawn(move || {
                    let score = (1 + i % 5).to_string();
                    app.post_form(path, &[("overall", score.as_str())]).status
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 303).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| [303, 409].contains(s)),
        "{statuses:?}"
    );
    let mut conn = app.conn();
    assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM responses"), 1);
    assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM answers"), 1);
}

fn an_expired_link_is_410_and_takes_no_answer(kind: Kind) {
    let Some(app) = spawn_app(kind) else { return };
    let path = app.new_survey_path("EXPIRED", "ar");
    app.clock.advance(chrono::Duration::days(13));
    assert_eq!(app.get(&path).status, 200, "still open on day 13");
    app.clock
        .advance(chrono::Duration::days(1) + chrono::Duration::minutes(1));
    let r = app.get(&path);
    assert_eq!(r.status, 410);
    assert!(r.body.contains("lang=\"ar\"") && r.body.contains("dir=\"rtl\""));
    assert!(r.body.contains("تم إغلاق هذا الاستطلاع"));
    assert_eq!(app.post_form(&path, FULL_ANSWER).status, 410);
    let mut conn = app.conn();
    assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM responses"), 0);
}

fn hostile_text_is_stored_verbatim_and_always_escaped(kind: Kind) {
    let Some(app) = spawn_app(kind) else { return };
    let mut body = app.interaction("<img src=x onerror=alert(1)>", "he");
    body["service_code"] = serde_json::json!("hostile.svc");
    body["contact"]["name"] = serde_json::json!("\"><script>alert(2)</script>");
    let r = app.report(&body);
    assert_eq!(r.status, 201, "{}", r.body);
    let url = r.json()["survey_url"].as_str().expect("url").to_string();
    let path = url.strip_prefix(&app.address).expect("path").to_string();
    let page = app.get(&path).body;
    assert!(!page.contains("<script>alert"), "service name escaped");
    assert!(page.contains("&lt;script&gt;alert("), "{page}");
    let comment = "</textarea><script>alert(3)</script> ' \" & שלום";
    let r = app.post_form(&path, &[("comment", comment)]);
    assert_eq!(r.status, 422);
    assert!(!r.body.contains("</textarea><script>"));
    assert!(r
        .body
        .contains("&lt;/textarea&gt;&lt;script&gt;alert(3)&lt;/script&gt;"));
    let mut answer = FULL_ANSWER.to_vec();
    answer.retain(|(k, _)| *k != "comment");
    answer.push(("comment", comment));
    assert_eq!(app.post_form(&path, &answer).status, 303);
    let mut conn = app.conn();
    let invitation_id = single_invitation_id(&mut conn);
    let stored =
        mashov::db::responses::answers_for_invitation(&mut conn, &invitation_id).expect("answers");
    let text = stored
        .iter()
        .find(|a| a.question_id == "comment")
        .and_then(|a| a.text_value.clone());
    assert_eq!(text.as_deref(), Some(comment), "stored verbatim");
    let sql =
        "SELECT COUNT(*) AS n FROM interactions WHERE external_id = '<img src=x onerror=alert(1)>'";
    assert_eq!(count(&mut conn, sql), 1);
}

fn single_invitation_id(conn: &mut mashov::db::DbConnection) -> String {
    use diesel::prelude::*;
    use mashov::db::schema::invitations;
    invitations::table
        .select(invitations::id)
        .first::<String>(conn)
        .expect("one invitation")
}

fn oversized_and_repeated_form_input_is_refused(kind: Kind) {
    let Some(app) = spawn_app(kind) else { return };
    let path = app.new_survey_path("BIG-FORM", "he");
    let huge = "א".repeat(100_000);
    let r = app.post_form(&path, &[("overall", "5"), ("comment", huge.as_str())]);
    assert_eq!(r.status, 413);
    let long = "ب".repeat(2001);
    let r = app.post_form(&path, &[("overall", "5"), ("comment", long.as_str())]);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("id=\"err-comment\""));
    let r = app.post_form(&path, &[("overall", "5"), ("overall", "1")]);
    assert_eq!(r.status, 422);
    for bad in ["0", "6", "-1", "4.5", "five", "", "99999999999999999999"] {
        let r = app.post_form(&path, &[("overall", bad)]);
        assert_eq!(r.status, 422, "overall={bad}");
    }
    let r = app.post_raw(
        &path,
        "application/x-www-form-urlencoded",
        b"overall=%FF%FE&&&===",
        None,
    );
    assert_eq!(r.status, 422);
    let mut conn = app.conn();
    assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM responses"), 0);
    let exact = "ب".repeat(2000);
    let r = app.post_form(&path, &[("overall", "5"), ("comment", exact.as_str())]);
    assert_eq!(r.status, 303);
}

fn a_changed_questionnaire_is_a_new_version_and_old_links_keep_theirs(kind: Kind) {
    use diesel::prelude::*;
    use mashov::db::schema::{interactions, invitations, surveys};
    let Some(app) = spawn_app(kind) else { return };
    let old_path = app.new_survey_path("VERSION-1", "en");
    let mut conn = app.conn();
    // Running migrate again with the same shipped questionnaire stores nothing new.
    mashov::services::setup::migrate(&mut conn, chrono::Utc::now()).expect("migrate");
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM surveys WHERE survey_key = 'resident.post_interaction'"
        ),
        1
    );
    // Pretend the stored version was an older wording: the shipped one then differs from it.
    let resident = surveys::survey_key.eq("resident.post_interaction");
    let stored: String = surveys::table
        .filter(resident)
        .select(surveys::definition)
        .first(&mut conn)
        .expect("survey");
    let older = stored.replace("Overall, how satisfied", "All in all, how happy");
    assert_ne!(older, stored);
    diesel::update(surveys::table.filter(surveys::survey_key.eq("resident.post_interaction")))
        .set(surveys::definition.eq(&older))
        .execute(&mut conn)
        .expect("update");
    mashov::services::setup::migrate(&mut conn, chrono::Utc::now()).expect("migrate");
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM surveys WHERE survey_key = 'resident.post_interaction'"
        ),
        2
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM surveys WHERE version = 2"
        ),
        1
    );

    let new_path = app.new_survey_path("VERSION-2", "en");
    let version_of = |conn: &mut mashov::db::DbConnection, external_id: &str| -> String {
        invitations::table
            .inner_join(interactions::table)
            .filter(interactions::external_id.eq(external_id))
            .select(invitations::survey_id)
            .first(conn)
            .expect("invitation")
    };
    let versions = [
        version_of(&mut conn, "VERSION-1"),
        version_of(&mut conn, "VERSION-2"),
    ];
    assert_ne!(versions[0], versions[1], "a new link gets the new version");
    assert!(
        app.get(&old_path).body.contains("All in all, how happy"),
        "old link, old wording"
    );
    assert!(
        app.get(&new_path).body.contains("Overall, how satisfied"),
        "new link, new wording"
    );
    assert_eq!(app.post_form(&old_path, FULL_ANSWER).status, 303);
    let sql = format!(
        "SELECT COUNT(*) AS n FROM responses WHERE survey_id = '{}'",
        versions[0]
    );
    assert_eq!(
        count(&mut conn, &sql),
        1,
        "the answer keeps the version it was given"
    );
}
