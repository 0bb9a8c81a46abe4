//! The survey editor over real HTTP on both backends: a preview in each language that stores
//! nothing, a save that makes a new version for new invitations while links already sent keep
//! theirs, an untranslated text that falls back to Hebrew and is marked, and refusals.

use chrono::TimeZone;

use crate::admin::{user, Visitor, PASSWORD};
use crate::both_backends;
use crate::helpers::{count, spawn_app_with, Kind, TestApp};
use mashov::domain::account::Role;

both_backends!(
    an_edited_survey_is_previewed_then_saved_as_a_version_for_new_invitations_only,
    the_survey_editor_refuses_bad_edits_and_non_admins,
);

fn app(kind: Kind) -> Option<TestApp> {
    spawn_app_with(
        kind,
        chrono::Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap(),
        |_| {},
    )
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x3D;", "=")
        .replace("&#x60;", "`")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    let end = tag[at..].find('"')? + at;
    Some(unescape(&tag[at..end]))
}

/// The editor form's fields as a browser would send them (ticked checkboxes only).
fn form_of(body: &str) -> Vec<(String, String)> {
    // The editor's own form, not the sign-out form in the header.
    let start = body
        .find(r#"action="/admin/surveys/"#)
        .expect("the editor form");
    let body = &body[start..];
    let body = &body[..body.find("</form>").expect("its end")];
    body.split("<input")
        .skip(1)
        .filter_map(|rest| {
            let tag = &rest[..rest.find('>')?];
            let name = attr(tag, "name")?;
            if attr(tag, "type").as_deref() == Some("checkbox") && !tag.contains(" checked") {
                return None;
            }
            Some((name, attr(tag, "value").unwrap_or_default()))
        })
        .collect()
}

fn set(form: &mut [(String, String)], name: &str, value: &str) {
    let field = form.iter_mut().find(|(k, _)| k == name).expect(name);
    field.1 = value.to_string();
}

fn post(v: &mut Visitor, form: &[(String, String)], action: &str) -> crate::admin::Page {
    let mut pairs: Vec<(&str, &str)> = form.iter().map(|(k, x)| (k.as_str(), x.as_str())).collect();
    pairs.push(("action", action));
    v.post("/admin/surveys/resident.post_interaction", &pairs, &[])
}

fn an_edited_survey_is_previewed_then_saved_as_a_version_for_new_invitations_only(kind: Kind) {
    let Some(app) = app(kind) else { return };
    user(&app, "admin@city.example", Role::Admin, "");
    let mut v = Visitor::new(&app);
    assert_eq!(v.sign_in("admin@city.example", PASSWORD, "").status, 303);
    let list = v.get("/admin/surveys");
    assert_eq!(list.status, 200);
    assert!(list
        .body
        .contains("/admin/surveys/resident.post_interaction"));
    assert!(list
        .body
        .contains("/admin/surveys/employee.internal_service"));
    // A link sent before the edit.
    let before = app.new_survey_path("EDIT-1", "ar");

    let editor = v.get("/admin/surveys/resident.post_interaction");
    assert_eq!(editor.status, 200);
    let mut form = form_of(&editor.body);
    set(&mut form, "text_overall_he", "עד כמה השירות היה טוב?");
    set(&mut form, "text_overall_ar", "");
    // The comment moves to the top.
    set(&mut form, "order_comment", "0");
    let mut conn = app.conn();
    let versions = || {
        count(
            &mut app.conn(),
            "SELECT COUNT(*) AS n FROM surveys WHERE survey_key = 'resident.post_interaction'",
        )
    };
    let stored_before = versions();

    // A preview in Arabic: the page as residents would see it, the Hebrew text where the
    // Arabic one was left empty; nothing stored.
    let preview = post(&mut v, &form, "preview_ar");
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(preview.body.contains(r#"<html lang="ar" dir="rtl">"#));
    assert!(preview.body.contains("עד כמה השירות היה טוב?"));
    assert!(preview.body.contains(r#"role="note""#));
    let comment_at = preview.body.find("name=\"comment\"").expect("comment");
    let overall_at = preview.body.find("name=\"overall\"").expect("overall");
    assert!(comment_at < overall_at, "the comment comes first");
    assert_eq!(versions(), stored_before);

    // Saved: a new version; the editor marks the fallback.
    let saved = post(&mut v, &form, "save");
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(versions(), stored_before + 1);
    let editor = v.get("/admin/surveys/resident.post_interaction?done=survey_saved");
    assert!(editor.body.contains(r#"role="status""#));
    assert!(
        editor.body.contains(r#"class="flag""#),
        "the untranslated text is marked"
    );
    // New invitations get it; the link sent before keeps its own.
    let after = app.new_survey_path("EDIT-2", "he");
    assert!(app.get(&after).body.contains("עד כמה השירות היה טוב?"));
    assert!(!app.get(&before).body.contains("עד כמה השירות היה טוב?"));
    // A restart (the shipped defaults stored again if missing) keeps the admin's version.
    mashov::services::surveys::ensure_defaults(&mut conn, app.clock_now()).expect("defaults");
    assert_eq!(versions(), stored_before + 1);
    assert!(app
        .get(&app.new_survey_path("EDIT-3", "he"))
        .body
        .contains("עד כמה השירות היה טוב?"));
    // Saving it again unchanged makes no version; the change is in the log once.
    let again = form_of(&v.get("/admin/surveys/resident.post_interaction").body);
    assert_eq!(post(&mut v, &again, "save").status, 303);
    assert_eq!(versions(), stored_before + 1);
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'survey.save'"
        ),
        1
    );
}

fn the_survey_editor_refuses_bad_edits_and_non_admins(kind: Kind) {
    let Some(app) = app(kind) else { return };
    user(&app, "admin@city.example", Role::Admin, "");
    let mut v = Visitor::new(&app);
    assert_eq!(v.sign_in("admin@city.example", PASSWORD, "").status, 303);
    let editor = v.get("/admin/surveys/resident.post_interaction");
    let good = form_of(&editor.body);
    let mut no_hebrew = good.clone();
    set(&mut no_hebrew, "text_overall_he", "");
    let r = post(&mut v, &no_hebrew, "save");
    assert_eq!(r.status, 422);
    assert!(r.body.contains(r#"role="alert""#));
    let mut long = good.clone();
    let text = "x".repeat(501);
    set(&mut long, "text_overall_en", &text);
    assert_eq!(post(&mut v, &long, "save").status, 422);
    let mut order = good.clone();
    set(&mut order, "order_overall", "first");
    assert_eq!(post(&mut v, &order, "save").status, 400);
    let mut hostile = good.clone();
    set(&mut hostile, "text_overall_he", "<script>alert(1)</script>");
    let r = post(&mut v, &hostile, "preview_he");
    assert_eq!(r.status, 200);
    assert!(!r.body.contains("<script>alert(1)") && r.body.contains("&lt;script&gt;"));
    assert_eq!(post(&mut v, &good, "preview_xx").status, 400);
    assert_eq!(post(&mut v, &good, "publish").status, 400);
    assert_eq!(v.get("/admin/surveys/no.such").status, 404);
    let mut conn = app.conn();
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM surveys WHERE definition LIKE '%alert(1)%'"
        ),
        0
    );
    // A manager sees none of it and changes nothing.
    user(&app, "dana@city.example", Role::Manager, "sanitation");
    let mut dana = Visitor::new(&app);
    assert_eq!(dana.sign_in("dana@city.example", PASSWORD, "").status, 303);
    assert_eq!(dana.get("/admin/surveys").status, 403);
    assert_eq!(
        dana.get("/admin/surveys/resident.post_interaction").status,
        403
    );
    let mut pairs = good.clone();
    set(&mut pairs, "csrf", &Visitor::csrf_of(&dana.get("/admin")));
    assert_eq!(post(&mut dana, &pairs, "save").status, 403);
}
