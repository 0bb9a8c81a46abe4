//! The survey page's language switch, without JavaScript: each language is a button of the
//! form, so that the answers already chosen travel with it and come back checked in the other
//! language; nothing is stored until the person sends the form.

use crate::both_backends;
use crate::helpers::{count, spawn_app, Kind};

both_backends!(switching_language_keeps_the_answers_and_stores_nothing,);

fn switching_language_keeps_the_answers_and_stores_nothing(kind: Kind) {
    let Some(app) = spawn_app(kind) else { return };
    let path = app.new_survey_path("LANG-1", "he");
    let page = app.get(&path).body;
    assert!(
        page.contains(r#"name="_switch" value="ar""#)
            || page.contains(r#"name="_switch" value&#x3D;"#)
    );
    // Chosen so far: a 4 and a comment; then the Arabic button.
    let r = app.post_form(
        &path,
        &[
            ("overall", "4"),
            ("comment", "תגובה שלא תאבד"),
            ("_lang", "he"),
            ("_switch", "ar"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains(r#"<html lang="ar" dir="rtl">"#));
    assert!(r.body.contains("תגובה שלא תאבד"), "the comment stays");
    let checked = r
        .body
        .split("<input")
        .filter(|i| i.contains("name=\"overall\"") && i.contains("checked"))
        .count();
    assert_eq!(checked, 1, "the chosen score stays chosen");
    assert!(
        !r.body.contains(r#"role="alert""#),
        "a switch is not a refused answer"
    );
    let mut conn = app.conn();
    assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM responses"), 0);
    // Sent from the Arabic page, the answer is stored once and thanked in Arabic.
    let mut answer: Vec<(&str, &str)> = crate::helpers::FULL_ANSWER.to_vec();
    answer.push(("_lang", "ar"));
    let r = app.post_form(&path, &answer);
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some("/thanks/ar"));
    assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM responses"), 1);
    // Once answered, a switch is refused like any other post to the link.
    assert_eq!(app.post_form(&path, &[("_switch", "en")]).status, 409);
    // A link can ask for a language too (an unknown one is ignored: the invitation's stays).
    let other = app.new_survey_path("LANG-2", "he");
    assert!(app
        .get(&format!("{other}?lang=en"))
        .body
        .contains(r#"<html lang="en" dir="ltr">"#));
    assert!(app
        .get(&format!("{other}?lang=xx"))
        .body
        .contains(r#"<html lang="he" dir="rtl">"#));
    // A switch to a language mashov does not speak is refused, not guessed.
    let r = app.post_form(&other, &[("_switch", "xx")]);
    assert_eq!(r.status, 400);
    assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM responses"), 1);
}
