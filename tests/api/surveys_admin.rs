//! The survey editor over real HTTP on both backends: a preview in each language that stores
//! nothing, a save that makes a new version for new invitations while links already sent keep
//! theirs, an untranslated text that falls back to Hebrew and is marked, and refusals; a
//! city's own questionnaire, created, given a question of its own and one less, and assigned to
//! a department and a service, which new requests then get.

use chrono::TimeZone;

use crate::admin::{user, Visitor, PASSWORD};
use crate::both_backends;
use crate::helpers::{count, spawn_app_with, Kind, TestApp};
use mashov::domain::account::Role;

both_backends!(
    an_edited_survey_is_previewed_then_saved_as_a_version_for_new_invitations_only,
    the_survey_editor_refuses_bad_edits_and_non_admins,
    a_city_questionnaire_is_created_changed_and_assigned_to_a_department_and_a_service,
    city_questionnaires_and_assignments_refuse_what_is_wrong,
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
    post_to(v, "resident.post_interaction", form, action)
}

fn post_to(
    v: &mut Visitor,
    key: &str,
    form: &[(String, String)],
    action: &str,
) -> crate::admin::Page {
    let mut pairs: Vec<(&str, &str)> = form.iter().map(|(k, x)| (k.as_str(), x.as_str())).collect();
    pairs.push(("action", action));
    v.post(&format!("/admin/surveys/{key}"), &pairs, &[])
}

/// The editor's form with the new question's fields as given (the form's empty ones dropped).
fn with_new(form: &[(String, String)], fields: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = form
        .iter()
        .filter(|(k, _)| !k.starts_with("new_"))
        .cloned()
        .collect();
    out.extend(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    out
}

/// The survey page a new request of `service` gets.
fn page_for(app: &TestApp, external_id: &str, service: &str) -> String {
    let mut body = app.interaction(external_id, "he");
    body["service_code"] = service.into();
    let r = app.report(&body);
    assert_eq!(r.status, 201, "{}", r.body);
    let url = r.json()["survey_url"].as_str().expect("url").to_string();
    let path = url
        .strip_prefix(&app.address)
        .expect("own origin")
        .to_string();
    app.get(&path).body
}

const PARKED: &str = "איפה חניתם?";

fn a_city_questionnaire_is_created_changed_and_assigned_to_a_department_and_a_service(kind: Kind) {
    let Some(app) = app(kind) else { return };
    user(&app, "admin@city.example", Role::Admin, "");
    let mut v = Visitor::new(&app);
    assert_eq!(v.sign_in("admin@city.example", PASSWORD, "").status, 303);
    let list = v.get("/admin/surveys");
    let csrf = Visitor::csrf_of(&list);
    let created = v.post(
        "/admin/surveys",
        &[
            ("csrf", csrf.as_str()),
            ("audience", "resident"),
            ("code", "parking"),
            ("title", "סקר חניה"),
        ],
        &[],
    );
    assert_eq!(created.status, 303, "{}", created.body);
    let editor = v.get("/admin/surveys/city.parking?done=survey_created");
    assert_eq!(editor.status, 200);
    assert!(editor.body.contains("סקר חניה") && editor.body.contains(r#"role="status""#));
    assert!(
        !editor.body.contains("name=\"remove_overall\""),
        "the overall question cannot be removed"
    );

    // A choice question added (blank lines ignored), the effort question removed: one save.
    let mut form = with_new(
        &form_of(&editor.body),
        &[
            ("new_type", "single_choice"),
            ("new_text", PARKED),
            ("new_options", "ברחוב\r\n\r\nבחניון העירוני"),
            ("new_required", "1"),
        ],
    );
    form.push(("remove_effort".into(), "1".into()));
    let added = post_to(&mut v, "city.parking", &form, "add");
    assert_eq!(added.status, 303, "{}", added.body);
    let editor = v.get("/admin/surveys/city.parking");
    assert!(editor.body.contains(PARKED) && editor.body.contains("בחניון העירוני"));
    assert!(!editor.body.contains("name=\"order_effort\""));
    let mut conn = app.conn();
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM surveys WHERE survey_key = 'city.parking'"
        ),
        2,
        "created, then one new version"
    );
    // Nothing assigned yet: requests get the built-in questionnaire.
    assert!(!page_for(&app, "P-0", "sanitation.bulky-waste").contains(PARKED));

    // Assigned to the sanitation department: its requests get it, others do not.
    let assign = |v: &mut Visitor, survey: &str, target: &str| {
        let csrf = Visitor::csrf_of(&v.get("/admin/surveys"));
        v.post(
            "/admin/surveys/assignments",
            &[
                ("csrf", csrf.as_str()),
                ("action", "assign"),
                ("survey", survey),
                ("target", target),
            ],
            &[],
        )
    };
    assert_eq!(
        assign(&mut v, "city.parking", "department:sanitation").status,
        303
    );
    let page = page_for(&app, "P-1", "sanitation.bulky-waste");
    assert!(page.contains(PARKED) && !page.contains("name=\"effort\""));
    assert!(!page_for(&app, "P-2", "engineering.hazard").contains(PARKED));
    let list = v.get("/admin/surveys?done=survey_assigned");
    assert!(
        list.body.contains("סקר חניה") && list.body.contains(r#"value="department:sanitation""#)
    );

    // A service's own setting wins over its department's.
    assert_eq!(
        assign(
            &mut v,
            "resident.post_interaction",
            "service:sanitation.bulky-waste"
        )
        .status,
        303
    );
    assert!(!page_for(&app, "P-3", "sanitation.bulky-waste").contains(PARKED));
    // Removed again: back to the department's.
    let csrf = Visitor::csrf_of(&v.get("/admin/surveys"));
    let removed = v.post(
        "/admin/surveys/assignments",
        &[
            ("csrf", csrf.as_str()),
            ("action", "remove"),
            ("audience", "resident"),
            ("target", "service:sanitation.bulky-waste"),
        ],
        &[],
    );
    assert_eq!(removed.status, 303);
    assert!(page_for(&app, "P-4", "sanitation.bulky-waste").contains(PARKED));

    // An answer to the city's question is stored under the question's own id.
    let stored = count(
        &mut conn,
        "SELECT COUNT(*) AS n FROM survey_assignments WHERE target_kind = 'department'",
    );
    assert_eq!(stored, 1);
    for action in [
        "survey.create",
        "survey.save",
        "survey.assign",
        "survey.unassign",
    ] {
        let n = count(
            &mut conn,
            &format!("SELECT COUNT(*) AS n FROM audit_log WHERE action = '{action}'"),
        );
        assert!(n >= 1, "{action} is in the change log");
    }
}

fn city_questionnaires_and_assignments_refuse_what_is_wrong(kind: Kind) {
    let Some(app) = app(kind) else { return };
    user(&app, "admin@city.example", Role::Admin, "");
    let mut v = Visitor::new(&app);
    assert_eq!(v.sign_in("admin@city.example", PASSWORD, "").status, 303);
    let create = |v: &mut Visitor, audience: &str, code: &str, title: &str| {
        let csrf = Visitor::csrf_of(&v.get("/admin/surveys"));
        v.post(
            "/admin/surveys",
            &[
                ("csrf", csrf.as_str()),
                ("audience", audience),
                ("code", code),
                ("title", title),
            ],
            &[],
        )
    };
    for (code, title) in [
        ("Bad Code", "שם"),
        ("", "שם"),
        (&"x".repeat(41) as &str, "שם"),
        ("ok", ""),
        ("ok", &"א".repeat(501)),
    ] {
        let r = create(&mut v, "resident", code, title);
        assert_eq!(r.status, 422, "{code:?} {title:?}");
        assert!(r.body.contains(r#"role="alert""#));
    }
    assert_eq!(create(&mut v, "visitor", "ok", "שם").status, 400);
    assert_eq!(
        create(&mut v, "employee", "units", "<b>יחידות</b>").status,
        303
    );
    let again = create(&mut v, "resident", "units", "שוב");
    assert_eq!(again.status, 422, "the code is taken");
    let list = v.get("/admin/surveys");
    assert!(list.body.contains("&lt;b&gt;יחידות&lt;/b&gt;"));

    // The editor: the overall question stays, a choice needs two answers, a type must exist.
    let editor = v.get("/admin/surveys/city.units");
    let form = form_of(&editor.body);
    let mut no_overall = form.clone();
    no_overall.push(("remove_overall".into(), "1".into()));
    let r = post_to(&mut v, "city.units", &no_overall, "save");
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("name=\"order_overall\""),
        "shown again whole"
    );
    let one_option = with_new(
        &form,
        &[
            ("new_type", "multi_choice"),
            ("new_text", "מה?"),
            ("new_options", "רק אחת"),
        ],
    );
    assert_eq!(
        post_to(&mut v, "city.units", &one_option, "add").status,
        422
    );
    let odd = with_new(&form, &[("new_type", "slider"), ("new_text", "מה?")]);
    assert_eq!(post_to(&mut v, "city.units", &odd, "add").status, 400);
    // Employees' answers are sealed at one size: text questions are added until none fits.
    let mut refused = None;
    for _ in 0..10 {
        let more = with_new(
            &form_of(&v.get("/admin/surveys/city.units").body),
            &[("new_type", "text"), ("new_text", "עוד משהו?")],
        );
        let r = post_to(&mut v, "city.units", &more, "add");
        if r.status != 303 {
            refused = Some(r);
            break;
        }
    }
    let refused = refused.expect("the sealed size runs out");
    assert_eq!(refused.status, 422);

    // Assignments: a survey that does not exist, a department that does not, a service of the
    // other audience, a setting that is not there to remove.
    let assign = |v: &mut Visitor, action: &str, survey: &str, target: &str| {
        let csrf = Visitor::csrf_of(&v.get("/admin/surveys"));
        v.post(
            "/admin/surveys/assignments",
            &[
                ("csrf", csrf.as_str()),
                ("action", action),
                ("audience", "resident"),
                ("survey", survey),
                ("target", target),
            ],
            &[],
        )
    };
    assert_eq!(
        assign(&mut v, "assign", "city.nope", "audience").status,
        422
    );
    assert_eq!(
        assign(
            &mut v,
            "assign",
            "resident.post_interaction",
            "department:nope"
        )
        .status,
        422
    );
    assert_eq!(
        assign(
            &mut v,
            "assign",
            "city.units",
            "service:sanitation.bulky-waste"
        )
        .status,
        422
    );
    assert_eq!(
        assign(&mut v, "remove", "", "department:sanitation").status,
        422
    );
    assert_eq!(
        assign(&mut v, "assign", "city.units", "street:x").status,
        400
    );
    assert_eq!(
        assign(&mut v, "delete", "city.units", "audience").status,
        400
    );
    let mut conn = app.conn();
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM survey_assignments"),
        0
    );

    // A manager can do none of it.
    user(&app, "dana@city.example", Role::Manager, "sanitation");
    let mut dana = Visitor::new(&app);
    assert_eq!(dana.sign_in("dana@city.example", PASSWORD, "").status, 303);
    let csrf = Visitor::csrf_of(&dana.get("/admin"));
    let r = dana.post(
        "/admin/surveys",
        &[
            ("csrf", csrf.as_str()),
            ("audience", "resident"),
            ("code", "mine"),
            ("title", "שלי"),
        ],
        &[],
    );
    assert_eq!(r.status, 403);
    let r = dana.post(
        "/admin/surveys/assignments",
        &[
            ("csrf", csrf.as_str()),
            ("action", "assign"),
            ("survey", "resident.post_interaction"),
            ("target", "audience"),
        ],
        &[],
    );
    assert_eq!(r.status, 403);
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
