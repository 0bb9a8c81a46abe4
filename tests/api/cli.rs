//! The `mashov` binary's commands, as an operator runs them.

use std::process::{Command, Output};

use crate::both_backends;
use crate::helpers::{count, spawn_app, Kind, TestDb};
use crate::process::{mashov, mashov_with, BIN};
use mashov::db::connection::Manager;

const HEADER: &str = "department_code,department_name,service_code,service_name,sla_days";

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn write(db: &TestDb, name: &str, bytes: &[u8]) -> String {
    let path = db.dir.path().join(name);
    std::fs::write(&path, bytes).expect("write file");
    path.display().to_string()
}

fn services(db: &TestDb) -> i64 {
    let mut conn = Manager::new(&db.url).expect("url").open().expect("open");
    count(&mut conn, "SELECT COUNT(*) AS n FROM services")
}

/// A command run where there is no database says so, and creates none; every command says which
/// database and base URL it used.
#[test]
fn a_command_never_creates_a_database_and_says_which_it_used() {
    let db = TestDb::new(Kind::Sqlite).expect("sqlite");
    let path = db.dir.path().join("mashov.db");
    for args in [
        vec!["outbox", "status"],
        vec!["apikey", "list"],
        vec!["audit", "list"],
        vec!["privacy", "purge", "--dry-run"],
    ] {
        let o = mashov(&db, &args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert!(stderr(&o).contains("no database at"), "{}", stderr(&o));
        assert!(!path.exists(), "{args:?} created a database");
    }
    crate::process::migrate(&db);
    let o = mashov(&db, &["outbox", "status"]);
    assert!(o.status.success());
    assert!(
        stderr(&o).contains(&format!("database {}", db.url))
            && stderr(&o).contains("links on http"),
        "{}",
        stderr(&o)
    );
}

both_backends!(
    catalog_import_loads_updates_by_code_and_accepts_excel_files,
    a_catalog_file_with_any_bad_row_is_refused_whole_with_line_numbers,
    api_keys_are_printed_once_listed_without_secrets_and_revocable,
    management_users_are_created_listed_disabled_and_bad_input_changes_nothing,
);

fn management_users_are_created_listed_disabled_and_bad_input_changes_nothing(kind: Kind) {
    let Some(db) = TestDb::new(kind) else { return };
    crate::process::migrate(&db);
    let file = write(
        &db,
        "c.csv",
        format!("{HEADER}\nsanitation,תברואה,sanitation.bins,פחים,5\nit,מחשוב,it.help,תמיכה,1\n")
            .as_bytes(),
    );
    assert!(mashov(&db, &["catalog", "import", &file]).status.success());
    let good = [("MASHOV_PASSWORD", "correct horse battery")];
    let create = |args: &[&str], env: &[(&str, &str)]| {
        let mut all = vec!["user", "create"];
        all.extend_from_slice(args);
        mashov_with(&db, &all, env)
    };
    let o = create(
        &["--email", " Dana@City.Example ", "--role", "admin"],
        &good,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("dana@city.example"));
    let o = create(
        &[
            "--email",
            "omar@city.example",
            "--role",
            "viewer",
            "--departments",
            "sanitation,it",
            "--language",
            "ar",
        ],
        &good,
    );
    assert!(o.status.success(), "{}", stderr(&o));

    // Each refusal says why and adds nobody.
    type Refusal<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);
    let refusals: Vec<Refusal> = vec![
        (
            vec!["--email", "dana@city.example", "--role", "admin"],
            good.to_vec(),
            "already exists",
        ),
        (
            vec!["--email", "x@city.example", "--role", "admin"],
            vec![("MASHOV_PASSWORD", "short")],
            "12 characters",
        ),
        (
            vec!["--email", "x@city.example", "--role", "admin"],
            vec![],
            "MASHOV_PASSWORD",
        ),
        (
            vec!["--email", "x@city.example", "--role", "manager"],
            good.to_vec(),
            "--departments",
        ),
        (
            vec![
                "--email",
                "x@city.example",
                "--role",
                "manager",
                "--departments",
                "nope,it",
            ],
            good.to_vec(),
            "nope",
        ),
        (
            vec![
                "--email",
                "x@city.example",
                "--role",
                "admin",
                "--departments",
                "it",
            ],
            good.to_vec(),
            "admin sees every",
        ),
        (
            vec!["--email", "not-an-address", "--role", "admin"],
            good.to_vec(),
            "not an email",
        ),
        (
            vec!["--email", "x@city.example", "--role", "root"],
            good.to_vec(),
            "admin, manager or viewer",
        ),
        (
            vec![
                "--email",
                "x@city.example",
                "--role",
                "admin",
                "--language",
                "fr",
            ],
            good.to_vec(),
            "he, ar, en or ru",
        ),
        (
            vec![
                "--email",
                "x@city.example",
                "--role",
                "admin",
                "--password",
                "x",
            ],
            good.to_vec(),
            "--password",
        ),
    ];
    for (args, env, why) in refusals {
        let o = create(&args, &env);
        assert!(!o.status.success(), "{args:?} was accepted");
        assert!(stderr(&o).contains(why), "{args:?}: {}", stderr(&o));
    }

    let list = stdout(&mashov(&db, &["user", "list"]));
    assert!(list.contains("dana@city.example") && list.contains("omar@city.example"));
    assert!(list.contains("sanitation,it"), "{list}");
    assert!(!list.contains("x@city.example"), "{list}");
    assert!(!list.contains("argon2"), "no hash is shown: {list}");
    let mut conn = Manager::new(&db.url).expect("url").open().expect("open");
    assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM users"), 2);
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM users WHERE password_hash LIKE '$argon2id$%'"
        ),
        2
    );

    let o = mashov(&db, &["user", "disable", "omar@city.example"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&mashov(&db, &["user", "list"])).contains("disabled"));
    let o = mashov(&db, &["user", "disable", "ghost@city.example"]);
    assert!(!o.status.success() && stderr(&o).contains("no user"));
    let hash = |conn: &mut mashov::db::DbConnection| {
        mashov::db::users::by_email(conn, "dana@city.example")
            .expect("query")
            .expect("dana")
            .password_hash
    };
    let before = hash(&mut conn);
    let o = mashov_with(
        &db,
        &["user", "set-password", "dana@city.example"],
        &[("MASHOV_PASSWORD", "another long passphrase")],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let after = hash(&mut conn);
    assert_ne!(before, after);
    assert!(mashov::domain::password::verify(
        &after,
        "another long passphrase"
    ));
    let o = mashov_with(
        &db,
        &["user", "set-password", "dana@city.example"],
        &[("MASHOV_PASSWORD", "tiny")],
    );
    assert!(!o.status.success());
    assert_eq!(hash(&mut conn), after, "a refused password changes nothing");
}

fn catalog_import_loads_updates_by_code_and_accepts_excel_files(kind: Kind) {
    let Some(db) = TestDb::new(kind) else { return };
    crate::process::migrate(&db);
    let file = write(
        &db,
        "c.csv",
        format!("{HEADER}\nsanitation,תברואה,sanitation.bins,פחים,5\n").as_bytes(),
    );
    let o = mashov(&db, &["catalog", "import", &file]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("services: 1 added, 0 updated"),
        "{}",
        stdout(&o)
    );
    // Excel's "CSV UTF-8": a byte-order mark and CRLF line ends; one service renamed, one new.
    let excel = format!(
        "\u{feff}{HEADER},service_name_en\r\nsanitation,תברואה,sanitation.bins,החלפת פחים,4,Bins\r\nsanitation,תברואה,sanitation.new,חדש,2,New\r\n"
    );
    let file = write(&db, "excel.csv", excel.as_bytes());
    let o = mashov(&db, &["catalog", "import", &file]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("services: 1 added, 1 updated"),
        "{}",
        stdout(&o)
    );
    let mut conn = Manager::new(&db.url).expect("url").open().expect("open");
    let renamed = "SELECT COUNT(*) AS n FROM services WHERE code = 'sanitation.bins' AND name = 'החלפת פחים' AND sla_days = 4";
    assert_eq!(count(&mut conn, renamed), 1);
    assert_eq!(services(&db), 2);
}

fn a_catalog_file_with_any_bad_row_is_refused_whole_with_line_numbers(kind: Kind) {
    let Some(db) = TestDb::new(kind) else { return };
    assert!(mashov(&db, &["migrate"]).status.success());
    let bad = format!(
        "{HEADER}\nok,אגף,ok.one,שירות,3\nok,אגף,ok.two,שירות,soon\nBAD CODE,אגף,ok.three,שירות,3\nok,אגף,ok.one,כפול,3\n"
    );
    let file = write(&db, "bad.csv", bad.as_bytes());
    let o = mashov(&db, &["catalog", "import", &file]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    for line in ["line 3:", "line 4:", "line 5:"] {
        assert!(err.contains(line), "{line} not in {err}");
    }
    assert!(err.contains("nothing was imported"));
    assert_eq!(services(&db), 0, "nothing of the file was written");

    let mut legacy = format!("{HEADER}\nok,").into_bytes();
    legacy.extend_from_slice(&[0xE0, 0xE2, 0xF3]); // "אגף" in Windows-1255
    legacy.extend_from_slice(b",ok.one,x,3\n");
    for (name, bytes, expect) in [
        ("empty.csv", Vec::new(), "empty"),
        (
            "header.csv",
            b"code,name\nx,y\n".to_vec(),
            "header must start with",
        ),
        ("legacy.csv", legacy, "UTF-8"),
        ("only-header.csv", HEADER.as_bytes().to_vec(), "no services"),
    ] {
        let file = write(&db, name, &bytes);
        let o = mashov(&db, &["catalog", "import", &file]);
        assert_eq!(o.status.code(), Some(1), "{name}");
        assert!(stderr(&o).contains(expect), "{name}: {}", stderr(&o));
    }
    let o = mashov(&db, &["catalog", "import", "/no/such/file.csv"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("cannot read"));
    assert_eq!(services(&db), 0);
}

fn api_keys_are_printed_once_listed_without_secrets_and_revocable(kind: Kind) {
    let Some(app) = spawn_app(kind) else { return };
    let db = &app.db;
    let o = mashov(db, &["apikey", "create", "--name", "crm-prod"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let key = out.lines().last().expect("key line").trim().to_string();
    assert!(key.starts_with("mashov_") && key.len() > 40, "{out}");
    let again = mashov(db, &["apikey", "create", "--name", "crm-prod"]);
    assert_eq!(
        again.status.code(),
        Some(1),
        "a second active key of one name is refused"
    );
    let list = stdout(&mashov(db, &["apikey", "list"]));
    assert!(list.contains("crm-prod") && list.contains("test-crm"));
    assert!(!list.contains(&key), "list never shows a key");

    let body = app.interaction("CLI-KEY", "he").to_string();
    let with_key = |k: &str| {
        app.post_raw(
            "/api/v1/interactions",
            "application/json",
            body.as_bytes(),
            Some(k),
        )
        .status
    };
    assert_eq!(with_key(&key), 201);
    let o = mashov(db, &["apikey", "revoke", "crm-prod"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(with_key(&key), 401, "revoked at once");
    assert_eq!(
        mashov(db, &["apikey", "revoke", "crm-prod"]).status.code(),
        Some(1)
    );
    // The name is free again after revocation.
    assert!(mashov(db, &["apikey", "create", "--name", "crm-prod"])
        .status
        .success());
    let o = mashov(db, &["apikey", "create", "--name", ""]);
    assert_eq!(o.status.code(), Some(1));

    // Scopes and departments: checked, shown, and each refusal says why.
    let o = mashov(
        db,
        &[
            "apikey",
            "create",
            "--name",
            "reports-hr",
            "--scopes",
            "reports:read",
            "--departments",
            "hr",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("reports:read on hr"), "{}", stdout(&o));
    let list = stdout(&mashov(db, &["apikey", "list"]));
    let line = list
        .lines()
        .find(|l| l.starts_with("reports-hr"))
        .expect("listed");
    assert!(
        line.contains("reports:read") && line.contains(" hr "),
        "{line}"
    );
    assert!(!line.contains("export:read"), "{line}");
    let o = mashov(
        db,
        &[
            "apikey",
            "create",
            "--name",
            "x",
            "--scopes",
            "reports:read,root",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("root"), "{}", stderr(&o));
    let o = mashov(db, &["apikey", "create", "--name", "x", "--scopes", ""]);
    assert_eq!(o.status.code(), Some(2));
    let o = mashov(
        db,
        &[
            "apikey",
            "create",
            "--name",
            "x",
            "--departments",
            "atlantis",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("atlantis"), "{}", stderr(&o));
    let o = mashov(
        db,
        &["apikey", "create", "--name", "x", "--departments", " , "],
    );
    assert_eq!(
        o.status.code(),
        Some(2),
        "an empty list is never every department"
    );
    assert!(!stdout(&mashov(db, &["apikey", "list"])).contains("\nx "));
}

#[test]
fn bad_settings_are_one_line_and_exit_code_2() {
    let db = TestDb::new(Kind::Sqlite).expect("db");
    for (key, value) in [
        ("MASHOV_DATABASE_URL", "mysql://localhost/x"),
        ("MASHOV_BIND", "localhost:http"),
        ("MASHOV_BASE_URL", "javascript:alert(1)"),
        ("MASHOV_LINK_TTL", "14 days"),
    ] {
        let o = Command::new(BIN)
            .arg("migrate")
            .env("MASHOV_DATABASE_URL", &db.url)
            .env(key, value)
            .output()
            .expect("run");
        assert_eq!(o.status.code(), Some(2), "{key}={value}");
        let err = stderr(&o);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains(key), "{err}");
    }
    let missing = db.dir.path().join("missing.toml");
    let o = Command::new(BIN)
        .args(["--config", missing.to_str().expect("utf-8"), "migrate"])
        .env("MASHOV_DATABASE_URL", &db.url)
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
    let o = Command::new(BIN)
        .arg("no-such-command")
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn an_unreachable_database_is_a_clear_error() {
    let o = Command::new(BIN)
        .arg("migrate")
        .env("MASHOV_DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("could not connect"), "{err}");
    assert!(!err.contains("multiconnection"), "{err}");
}

#[test]
fn a_config_file_sets_what_the_environment_does_not() {
    let db = TestDb::new(Kind::Sqlite).expect("db");
    let toml = db.dir.path().join("mashov.toml");
    std::fs::write(&toml, format!("database_url = \"{}\"\n", db.url)).expect("write");
    let o = Command::new(BIN)
        .args(["--config", toml.to_str().expect("utf-8"), "migrate"])
        .env_remove("MASHOV_DATABASE_URL")
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(db.dir.path().join("mashov.db").exists());
}
