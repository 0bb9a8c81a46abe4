//! The catalog in the admin app, over real HTTP on both backends: a department and a service
//! added and renamed with forms, a service no longer offered (new interactions refused, history
//! kept), a file previewed before it is applied, and the catalog exported as a file that
//! imports back unchanged.

use chrono::TimeZone;

use crate::admin::{user, Page, Visitor, PASSWORD};
use crate::both_backends;
use crate::helpers::{count, spawn_app_with, Kind, TestApp};
use mashov::domain::account::Role;

both_backends!(
    an_admin_adds_and_renames_a_department_and_a_service,
    a_service_no_longer_offered_refuses_new_requests_and_keeps_its_history,
    a_catalog_file_is_previewed_then_applied_and_the_export_imports_back_unchanged,
    catalog_forms_refuse_bad_input_and_non_admins,
);

fn app(kind: Kind) -> Option<TestApp> {
    spawn_app_with(
        kind,
        chrono::Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap(),
        |_| {},
    )
}

fn admin(app: &TestApp) -> Visitor {
    user(app, "admin@city.example", Role::Admin, "");
    let mut v = Visitor::new(app);
    assert_eq!(v.sign_in("admin@city.example", PASSWORD, "").status, 303);
    v
}

fn submit(v: &mut Visitor, pairs: &[(&str, &str)]) -> Page {
    let csrf = Visitor::csrf_of(&v.get("/admin/catalog"));
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(pairs);
    v.post("/admin/catalog", &all, &[])
}

fn service(v: &mut Visitor, dept: &str, code: &str, name: &str, en: &str, sla: &str) -> Page {
    submit(
        v,
        &[
            ("action", "service"),
            ("department", dept),
            ("code", code),
            ("name", name),
            ("name_ar", ""),
            ("name_en", en),
            ("name_ru", ""),
            ("sla_days", sla),
            ("audience", "residents"),
        ],
    )
}

fn an_admin_adds_and_renames_a_department_and_a_service(kind: Kind) {
    let Some(app) = app(kind) else { return };
    let mut v = admin(&app);
    let r = submit(
        &mut v,
        &[
            ("action", "department"),
            ("code", "parks"),
            ("name", "אגף גנים ונוף"),
            ("name_en", "Parks"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let r = service(
        &mut v,
        "parks",
        "parks.pruning",
        "גיזום עצים",
        "Tree pruning",
        "10",
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.location.as_deref(),
        Some("/admin/catalog?done=service_saved")
    );
    // The CRM sees it at once, with both names.
    let listed = app.get_api("/api/v1/catalog").json();
    let parks = listed["departments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "parks")
        .expect("parks")
        .clone();
    assert_eq!(parks["names"]["en"], "Parks");
    assert_eq!(parks["services"][0]["names"]["en"], "Tree pruning");
    assert_eq!(parks["services"][0]["sla_days"], 10);
    assert_eq!(parks["services"][0]["active"], true);
    // The edit link fills the form; the same code saves a new name and SLA.
    let edit = v.get("/admin/catalog?edit=parks.pruning");
    assert_eq!(edit.status, 200);
    assert!(edit.body.contains(r#"value="Tree pruning""#));
    assert_eq!(v.get("/admin/catalog?edit=no.such").status, 404);
    let r = service(
        &mut v,
        "parks",
        "parks.pruning",
        "גיזום וטיפול בעצים",
        "Tree care",
        "7",
    );
    assert_eq!(r.status, 303);
    let mut conn = app.conn();
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM services WHERE code = 'parks.pruning' AND sla_days = 7 AND name = 'גיזום וטיפול בעצים'"),
        1
    );
    // The department kept its English name through the service's save.
    let listed = app.get_api("/api/v1/catalog").json();
    assert!(listed.to_string().contains("\"Parks\""));
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM audit_log WHERE action IN ('catalog.department', 'catalog.service') AND actor = 'admin@city.example'"),
        3
    );
}

fn a_service_no_longer_offered_refuses_new_requests_and_keeps_its_history(kind: Kind) {
    let Some(app) = app(kind) else { return };
    // An answer before the change, and a request the CRM will retry.
    let old = app.interaction("OLD-1", "he");
    let first = app.report(&old);
    assert_eq!(first.status, 201, "{}", first.body);
    let url = first.json()["survey_url"]
        .as_str()
        .expect("url")
        .to_string();
    let path = url.strip_prefix(&app.address).expect("origin").to_string();
    assert_eq!(app.post_form(&path, &[("overall", "5")]).status, 303);
    let mut v = admin(&app);
    let r = submit(
        &mut v,
        &[("action", "deactivate"), ("code", "sanitation.bulky-waste")],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    // A new request for it: 422 naming the field.
    let r = app.report(&app.interaction("NEW-1", "he"));
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.json()["fields"]["service_code"]
        .as_str()
        .unwrap()
        .contains("no longer offered"));
    // The retry of a request recorded before still gets its answer.
    let retry = app.report(&old);
    assert_eq!(retry.status, 200, "{}", retry.body);
    // Its history stays, and the page says it is not offered.
    let mut conn = app.conn();
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM responses WHERE service_code = 'sanitation.bulky-waste'"
        ),
        1
    );
    let page = v.get("/admin/catalog");
    assert!(page.body.contains(r#"value="reactivate""#));
    assert_eq!(
        app.get_api("/api/v1/catalog").json()["departments"]
            .to_string()
            .matches("\"active\":false")
            .count(),
        1
    );
    // Offered again, it takes requests again; each step is in the log.
    assert_eq!(
        submit(
            &mut v,
            &[("action", "reactivate"), ("code", "sanitation.bulky-waste")]
        )
        .status,
        303
    );
    assert_eq!(app.report(&app.interaction("NEW-2", "he")).status, 201);
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM audit_log WHERE action IN ('catalog.deactivate', 'catalog.reactivate')"),
        2
    );
    assert_eq!(
        submit(&mut v, &[("action", "deactivate"), ("code", "no.such")]).status,
        404
    );
}

fn a_catalog_file_is_previewed_then_applied_and_the_export_imports_back_unchanged(kind: Kind) {
    let Some(app) = app(kind) else { return };
    let mut v = admin(&app);
    let csv = "department_code,department_name,service_code,service_name,sla_days,service_name_en\n\
               sanitation,אגף תברואה,sanitation.bulky-waste,פינוי פסולת גושית,5,Bulky waste pickup\n\
               sanitation,אגף תברואה,sanitation.bins,החלפת פחים,4,Bin replacement\n";
    let r = submit(&mut v, &[("action", "preview"), ("csv", csv)]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("sanitation.bins"));
    let switched = v.get("/admin/language/en?next=/admin/catalog");
    assert_eq!(switched.status, 303);
    let r = submit(&mut v, &[("action", "preview"), ("csv", csv)]);
    assert!(r.body.contains("New"), "{}", r.body);
    assert!(r.body.contains("Changes: SLA"), "{}", r.body);
    // Nothing is stored by a preview.
    let mut conn = app.conn();
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM services WHERE code = 'sanitation.bins'"
        ),
        0
    );
    let r = submit(&mut v, &[("action", "import"), ("csv", csv)]);
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM services WHERE code = 'sanitation.bins'"
        ),
        1
    );
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM services WHERE code = 'sanitation.bulky-waste' AND sla_days = 5"),
        1
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'catalog.import'"
        ),
        1
    );

    // The export is a file the import reads back with no change at all.
    let exported = v.get("/admin/catalog.csv");
    assert_eq!(exported.status, 200);
    assert!(exported
        .body
        .starts_with("department_code,department_name,service_code,service_name,sla_days"));
    let mut lines = exported.body.lines();
    assert!(lines
        .next()
        .is_some_and(|h| h.ends_with(",audience,active")));
    assert!(lines.all(|l| l.ends_with(",true") || l.ends_with(",false")));
    let back = submit(&mut v, &[("action", "preview"), ("csv", &exported.body)]);
    assert_eq!(back.status, 200, "{}", back.body);
    assert!(
        !back.body.contains("Changes:") && !back.body.contains(">New<"),
        "{}",
        back.body
    );
    // Hostile names travel as text and come back escaped.
    assert!(exported.body.contains("<script>alert('x')</script>"));
    assert!(!back.body.contains("<script>alert"));
}

fn catalog_forms_refuse_bad_input_and_non_admins(kind: Kind) {
    let Some(app) = app(kind) else { return };
    let mut v = admin(&app);
    for (pairs, status, why) in [
        (vec![("action", "preview"), ("csv", "")], 422, "an empty file"),
        (vec![("action", "preview"), ("csv", "a,b,c\n1,2,3\n")], 422, "a wrong header"),
        (
            vec![("action", "import"), ("csv", "department_code,department_name,service_code,service_name,sla_days\nBAD CODE,x,y,z,999\n")],
            422,
            "bad values",
        ),
    ] {
        let r = submit(&mut v, &pairs);
        assert_eq!(r.status, status, "{why}: {}", r.body);
        assert!(r.body.contains(r#"role="alert""#), "{why}");
    }
    // The problems are said in the admin's language (Hebrew here), each line by its number.
    let r = submit(
        &mut v,
        &[
            ("action", "preview"),
            ("csv", "department_code,department_name,service_code,service_name,sla_days\nBAD,x,ok.one,z,999\n"),
        ],
    );
    assert!(
        r.body.contains("שורה 2:")
            && r.body.contains("&quot;BAD&quot;")
            && r.body.contains("מ-0 עד 365"),
        "{}",
        r.body
    );
    assert!(
        !r.body.contains("must be"),
        "no English words on a Hebrew page"
    );
    for (dept, code, name, sla, why) in [
        (
            "sanitation",
            "Bad Code",
            "שם",
            "3",
            "a code with capitals and a space",
        ),
        ("sanitation", "sanitation.x", "", "3", "no name"),
        (
            "sanitation",
            "sanitation.x",
            "שם",
            "366",
            "an SLA over a year",
        ),
        (
            "sanitation",
            "sanitation.x",
            "שם",
            "three",
            "an SLA that is not a number",
        ),
    ] {
        let r = service(&mut v, dept, code, name, "", sla);
        assert_eq!(r.status, 422, "{why}: {}", r.body);
    }
    assert_eq!(
        service(&mut v, "atlantis", "atlantis.x", "שם", "", "3").status,
        404
    );
    let r = submit(
        &mut v,
        &[("action", "department"), ("code", "ok"), ("name", "")],
    );
    assert_eq!(r.status, 422);
    assert_eq!(submit(&mut v, &[("action", "drop")]).status, 400);
    let mut conn = app.conn();
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM services WHERE code = 'sanitation.x'"
        ),
        0
    );
    // A manager reads nothing here and changes nothing.
    user(&app, "dana@city.example", Role::Manager, "sanitation");
    let mut dana = Visitor::new(&app);
    assert_eq!(dana.sign_in("dana@city.example", PASSWORD, "").status, 303);
    assert_eq!(dana.get("/admin/catalog").status, 403);
    assert_eq!(dana.get("/admin/catalog.csv").status, 403);
    let token = Visitor::csrf_of(&dana.get("/admin"));
    let r = dana.post(
        "/admin/catalog",
        &[
            ("csrf", &token),
            ("action", "deactivate"),
            ("code", "sanitation.bulky-waste"),
        ],
        &[],
    );
    assert_eq!(r.status, 403);
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM services WHERE active = FALSE"
        ),
        0
    );
}
