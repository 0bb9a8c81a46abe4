//! `spawn_app`: the real application on port 0 with its own database (a temporary SQLite file,
//! or a fresh PostgreSQL database when MASHOV_TEST_POSTGRES_URL is set) and a clock the test
//! controls. Every story runs on both backends.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use chrono::Utc;
use diesel::connection::SimpleConnection;
use diesel::Connection;
pub use mashov::clock::Clock;
use mashov::clock::ManualClock;
use mashov::config::Settings;
use mashov::db::{DbConnection, PooledConn};
use mashov::domain::catalog::parse_catalog;
use mashov::domain::token::ServerKey;
use mashov::state::AppState;
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// Generates `mod NAME { fn sqlite(); fn postgres(); }` for each story `fn NAME(kind: Kind)`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn sqlite() {
                super::$name($crate::helpers::Kind::Sqlite)
            }
            #[test]
            fn postgres() {
                super::$name($crate::helpers::Kind::Postgres)
            }
        }
    )*};
}

pub const CATALOG: &str =
    "department_code,department_name,service_code,service_name,sla_days,service_name_en,audience\n\
sanitation,אגף תברואה,sanitation.bulky-waste,פינוי פסולת גושית,3,Bulky waste pickup,\n\
engineering,אגף הנדסה,engineering.hazard,מפגע בטיחותי,3,Safety hazard,residents\n\
hostile,<b>אגף</b>,hostile.svc,\"<script>alert('x')</script> & \"\"שירות\"\"\",5,,\n\
hr,משאבי אנוש,hr.payslip,תלוש שכר,2,Payslip,employees\n\
hr,משאבי אנוש,hr.recruiting,גיוס עובדים,10,Recruiting,employees\n\
it,מחשוב,it.helpdesk,מוקד מחשוב,1,IT help desk,employees\n\
procurement,רכש,procurement.orders,הזמנות רכש,5,Purchase orders,employees\n\
legal,לשכה משפטית,legal.contracts,חוות דעת לחוזים,7,Contract reviews,employees\n";

/// A database of its own for one test; PostgreSQL databases are dropped afterwards.
pub struct TestDb {
    pub url: String,
    pub dir: tempfile::TempDir,
    pg_admin: Option<(String, String)>,
}

impl TestDb {
    /// `None` only when PostgreSQL is not configured and not required (the story is skipped).
    pub fn new(kind: Kind) -> Option<TestDb> {
        let dir = tempfile::tempdir().expect("temp dir");
        match kind {
            Kind::Sqlite => Some(TestDb {
                url: format!("sqlite://{}", dir.path().join("mashov.db").display()),
                dir,
                pg_admin: None,
            }),
            Kind::Postgres => {
                let Ok(admin) = std::env::var("MASHOV_TEST_POSTGRES_URL") else {
                    if std::env::var("MASHOV_TEST_REQUIRE_POSTGRES").is_ok() {
                        panic!("MASHOV_TEST_REQUIRE_POSTGRES is set but MASHOV_TEST_POSTGRES_URL is not");
                    }
                    eprintln!("skipped: set MASHOV_TEST_POSTGRES_URL to run the PostgreSQL half");
                    return None;
                };
                let name = format!("mashov_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn = diesel::PgConnection::establish(&admin)
                    .unwrap_or_else(|e| panic!("cannot reach MASHOV_TEST_POSTGRES_URL: {e}"));
                conn.batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create test database");
                let base = admin.rsplit_once('/').expect("URL with a database").0;
                Some(TestDb {
                    url: format!("{base}/{name}"),
                    dir,
                    pg_admin: Some((admin, name)),
                })
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.pg_admin {
            if let Ok(mut conn) = diesel::PgConnection::establish(admin) {
                let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub api_key: String,
    pub clock: ManualClock,
    pub state: web::Data<AppState>,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
    pub db: TestDb,
}

/// Settings for a test database, as the environment would give them.
pub fn settings_for(db: &TestDb, port: u16) -> Settings {
    let env: HashMap<String, String> = [
        ("MASHOV_DATABASE_URL", db.url.clone()),
        ("MASHOV_BIND", format!("127.0.0.1:{port}")),
        ("MASHOV_SECRET", ServerKey::generate().encode()),
        // Every test client shares one address: the limits have stories of their own.
        ("MASHOV_RATE_LIMIT", "0".to_string()),
        ("MASHOV_API_RATE_LIMIT", "0".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Settings::from_sources(None, &env).expect("test settings")
}

pub fn spawn_app(kind: Kind) -> Option<TestApp> {
    spawn_app_with(kind, Utc::now(), |_| {})
}

/// The same, with the clock starting at `start` and settings adjusted by `configure`.
pub fn spawn_app_with(
    kind: Kind,
    start: chrono::DateTime<Utc>,
    configure: impl FnOnce(&mut Settings),
) -> Option<TestApp> {
    let db = TestDb::new(kind)?;
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let clock = ManualClock::new(start);
    let mut settings = settings_for(&db, port);
    settings.outbox_poll = Duration::from_millis(20);
    configure(&mut settings);
    let state =
        mashov::startup::build_state(settings, Arc::new(clock.clone())).expect("application state");
    let state = web::Data::new(state);
    let catalog = parse_catalog(CATALOG.as_bytes()).expect("test catalog");
    let mut conn = state.db.connection().expect("connection");
    mashov::services::catalog::import(&mut conn, &catalog, clock.now()).expect("import");
    let api_key = mashov::services::api_keys::create(
        &mut conn,
        "test-crm",
        &mashov::services::audit::Actor::command_line(),
        clock.now(),
    )
    .expect("api key")
    .expose()
    .clone();
    drop(conn);
    let (tx, rx) = std::sync::mpsc::channel();
    let server_state = state.clone();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = mashov::startup::run(server_state, listener).expect("server");
            tx.send(server.handle()).expect("send handle");
            let _ = server.await;
        })
    });
    let handle = rx.recv().expect("server handle");
    Some(TestApp {
        address: format!("http://127.0.0.1:{port}"),
        api_key,
        clock,
        state,
        handle,
        thread: Some(thread),
        db,
    })
}

impl Drop for TestApp {
    fn drop(&mut self) {
        actix_web::rt::System::new().block_on(self.handle.stop(false));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A response, whatever its status.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .redirects(0)
        .timeout(Duration::from_secs(30))
        .build()
}

pub fn resp(result: Result<ureq::Response, ureq::Error>) -> Resp {
    let r = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("request failed: {e}"),
    };
    let status = r.status();
    let headers = r
        .headers_names()
        .into_iter()
        .map(|n| {
            let v = r.header(&n).unwrap_or("").to_string();
            (n.to_ascii_lowercase(), v)
        })
        .collect();
    let body = r.into_string().expect("body");
    Resp {
        status,
        headers,
        body,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn get(&self, path: &str) -> Resp {
        resp(agent().get(&self.url(path)).call())
    }

    /// A page and, after it, the stylesheet it links (where its colours are).
    pub fn styled(&self, path: &str) -> String {
        let page = self.get(path).body;
        let start = r#"<link rel="stylesheet" href=""#;
        let at = page.find(start).expect("a stylesheet") + start.len();
        let href = page[at..at + page[at..].find('"').expect("its end")].replace("&#x3D;", "=");
        let sheet = self.get(&href);
        assert_eq!(sheet.status, 200, "{href}");
        format!("{page}\n{}", sheet.body)
    }

    pub fn post_raw(&self, path: &str, content_type: &str, body: &[u8], key: Option<&str>) -> Resp {
        let mut req = agent()
            .post(&self.url(path))
            .set("Content-Type", content_type);
        if let Some(k) = key {
            req = req.set("Authorization", &format!("Bearer {k}"));
        }
        resp(req.send_bytes(body))
    }

    /// `POST /api/v1/interactions` with this app's key.
    pub fn report(&self, body: &Value) -> Resp {
        self.post_raw(
            "/api/v1/interactions",
            "application/json",
            body.to_string().as_bytes(),
            Some(&self.api_key),
        )
    }

    pub fn post_form(&self, path: &str, pairs: &[(&str, &str)]) -> Resp {
        let body = serde_urlencoded::to_string(pairs).expect("form");
        self.post_raw(
            path,
            "application/x-www-form-urlencoded",
            body.as_bytes(),
            None,
        )
    }

    /// A valid interaction body for a resident speaking `language`, with an address of their own
    /// (so that the frequency cap does not suppress the next one).
    pub fn interaction(&self, external_id: &str, language: &str) -> Value {
        let closed = self.clock.now() - chrono::Duration::hours(2);
        // Each request its own resident: the frequency cap knows people by email and by phone.
        let person = uuid::Uuid::new_v4();
        json!({
            "external_id": external_id,
            "audience": "resident",
            "service_code": "sanitation.bulky-waste",
            "channel": "phone",
            "opened_at": (closed - chrono::Duration::days(3)).to_rfc3339(),
            "closed_at": closed.to_rfc3339(),
            "resolution": "resolved",
            "contact": {
                "email": format!("r-{}@example.org", person.simple()),
                "phone": format!("+97250{:07}", person.as_u128() % 10_000_000),
                "name": "רות כהן", "language": language
            }
        })
    }

    /// A valid interaction body for an employee served by an internal unit.
    pub fn employee_ticket(&self, external_id: &str, service: &str, email: &str) -> Value {
        let closed = self.clock.now() - chrono::Duration::hours(1);
        json!({
            "external_id": external_id,
            "audience": "employee",
            "service_code": service,
            "channel": "web",
            "closed_at": closed.to_rfc3339(),
            "contact": {"email": email, "name": "דנה לוי", "language": "he"}
        })
    }

    /// `GET` with this app's API key.
    pub fn get_api(&self, path: &str) -> Resp {
        resp(
            agent()
                .get(&self.url(path))
                .set("Authorization", &format!("Bearer {}", self.api_key))
                .call(),
        )
    }

    /// Reports an interaction and returns the path of its survey link (`/s/TOKEN`).
    pub fn new_survey_path(&self, external_id: &str, language: &str) -> String {
        let r = self.report(&self.interaction(external_id, language));
        assert_eq!(r.status, 201, "{}", r.body);
        let url = r.json()["survey_url"]
            .as_str()
            .expect("survey_url")
            .to_string();
        url.strip_prefix(&self.address)
            .expect("link on this app's origin")
            .to_string()
    }

    /// A resident of `service` answers now (by the test clock): the CRM reports the request,
    /// the resident sends the form.
    pub fn resident_answer(&self, external_id: &str, service: &str, answers: &[(&str, &str)]) {
        let mut body = self.interaction(external_id, "he");
        body["service_code"] = service.into();
        let r = self.report(&body);
        assert_eq!(r.status, 201, "{}", r.body);
        let url = r.json()["survey_url"].as_str().expect("url").to_string();
        let path = url
            .strip_prefix(&self.address)
            .expect("own origin")
            .to_string();
        let sent = self.post_form(&path, answers);
        assert_eq!(sent.status, 303, "{}", sent.body);
    }

    pub fn clock_now(&self) -> chrono::DateTime<Utc> {
        self.clock.now()
    }

    pub fn conn(&self) -> PooledConn {
        self.state.db.connection().expect("connection")
    }
}

/// Runs a raw SQL count on either backend.
pub fn count(conn: &mut DbConnection, sql: &str) -> i64 {
    use diesel::sql_types::BigInt;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    diesel::RunQueryDsl::get_result::<Count>(diesel::sql_query(sql), conn)
        .expect("count query")
        .n
}

pub const FULL_ANSWER: &[(&str, &str)] = &[
    ("overall", "4"),
    ("resolved", "resolved"),
    ("effort", "6"),
    ("professionalism", "5"),
    ("comment", "שירות מצוין"),
    ("contact_consent", "no"),
];
