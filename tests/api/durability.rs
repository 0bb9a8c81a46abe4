//! An answer acknowledged with `303` survives `kill -9` of the server right after it, and the
//! server's log never holds a survey link.

use std::io::Read;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::both_backends;
use crate::helpers::{count, Kind, TestDb, FULL_ANSWER};
use mashov::db::connection::Manager;

const BIN: &str = env!("CARGO_BIN_EXE_mashov");

struct Server {
    child: Child,
    base: String,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn command(db: &TestDb, args: &[&str], port: u16) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .env("MASHOV_DATABASE_URL", &db.url)
        .env("MASHOV_BIND", format!("127.0.0.1:{port}"))
        .env("MASHOV_SECRET_FILE", db.dir.path().join("secret.key"))
        .env("MASHOV_LOG", "info");
    c
}

fn start(db: &TestDb) -> Server {
    let port = free_port();
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(db.dir.path().join("server.log"))
        .expect("log file");
    let child = command(db, &["serve"], port)
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .expect("spawn serve");
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if ureq::get(&format!("{}/healthz", server.base))
            .call()
            .is_ok()
        {
            return server;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("serve did not become healthy");
}

impl Server {
    /// SIGKILL: no shutdown hook, no flush, no goodbye.
    fn kill_9(&mut self) {
        self.child.kill().expect("kill -9");
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

both_backends!(an_acknowledged_answer_survives_kill_9_and_no_link_reaches_the_log);

fn an_acknowledged_answer_survives_kill_9_and_no_link_reaches_the_log(kind: Kind) {
    let Some(db) = TestDb::new(kind) else { return };
    let csv = db.dir.path().join("c.csv");
    std::fs::write(
        &csv,
        "department_code,department_name,service_code,service_name,sla_days\nsanitation,תברואה,sanitation.bins,פחים,5\n",
    )
    .expect("csv");
    let port = free_port();
    let o = command(
        &db,
        &["catalog", "import", csv.to_str().expect("utf-8")],
        port,
    )
    .output()
    .expect("import");
    assert!(o.status.success());
    let o = command(&db, &["apikey", "create", "--name", "crm"], port)
        .output()
        .expect("key");
    let key = String::from_utf8_lossy(&o.stdout)
        .lines()
        .last()
        .expect("key")
        .to_string();

    let mut server = start(&db);
    let closed = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let body = serde_json::json!({"external_id": "KILL-1", "audience": "resident",
        "service_code": "sanitation.bins", "closed_at": closed, "contact": {"language": "he"}});
    let r = ureq::post(&format!("{}/api/v1/interactions", server.base))
        .set("Authorization", &format!("Bearer {key}"))
        .set("Content-Type", "application/json")
        .send_string(&body.to_string())
        .expect("report");
    let url: serde_json::Value =
        serde_json::from_str(&r.into_string().expect("body")).expect("json");
    let url = url["survey_url"].as_str().expect("url").to_string();
    let path = url
        .split_once("/s/")
        .map(|(_, t)| format!("/s/{t}"))
        .expect("path");
    let token = path.trim_start_matches("/s/").to_string();

    let agent = ureq::AgentBuilder::new().redirects(0).build();
    assert_eq!(
        agent
            .get(&format!("{}{path}", server.base))
            .call()
            .expect("page")
            .status(),
        200
    );
    let form = serde_urlencoded::to_string(FULL_ANSWER).expect("form");
    let r = agent
        .post(&format!("{}{path}", server.base))
        .set("Content-Type", "application/x-www-form-urlencoded")
        .send_string(&form)
        .expect("submit");
    assert_eq!(r.status(), 303);
    server.kill_9();

    let mut restarted = start(&db);
    let r = agent.get(&format!("{}{path}", restarted.base)).call();
    assert!(
        matches!(r, Err(ureq::Error::Status(410, _))),
        "the answered link is closed"
    );
    let mut conn = Manager::new(&db.url).expect("url").open().expect("open");
    assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM responses"), 1);
    assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM answers"), 6);
    restarted.kill_9();

    let mut log = String::new();
    std::fs::File::open(db.dir.path().join("server.log"))
        .and_then(|mut f| f.read_to_string(&mut log))
        .expect("read log");
    assert!(log.contains("/s/[token]"), "requests are logged: {log}");
    assert!(!log.contains(&token), "the token never reaches the log");
    assert!(!log.contains(&key), "the API key never reaches the log");
}
