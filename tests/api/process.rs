//! The real `mashov` binary as a separate process, for tests that kill it, run two of it, or
//! read its log.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::TestDb;

pub const BIN: &str = env!("CARGO_BIN_EXE_mashov");

pub struct Server {
    pub child: Child,
    pub base: String,
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

pub fn command(db: &TestDb, args: &[&str], port: u16) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .env("MASHOV_DATABASE_URL", &db.url)
        .env("MASHOV_BIND", format!("127.0.0.1:{port}"))
        .env("MASHOV_SECRET_FILE", db.dir.path().join("secret.key"))
        .env("MASHOV_LOG", "info");
    c
}

pub fn start(db: &TestDb) -> Server {
    spawn_serve(command(db, &["serve"], 0), db)
}

/// Spawns `serve` (its command already carries the settings), logging to the test's log file
/// (stdout to `server.out`), and waits until it is healthy.
pub fn spawn_serve(mut cmd: Command, db: &TestDb) -> Server {
    let port = free_port();
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(db.dir.path().join("server.log"))
        .expect("log file");
    let out = std::fs::File::create(db.dir.path().join("server.out")).expect("stdout file");
    let child = cmd
        .env("MASHOV_BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("spawn serve");
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while ureq::get(&format!("{}/healthz", server.base))
        .call()
        .is_err()
    {
        assert!(Instant::now() < deadline, "serve did not become healthy");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

impl Server {
    /// SIGKILL: no shutdown hook, no flush, no goodbye.
    pub fn kill_9(&mut self) {
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

/// `mashov migrate` on a new database: an operator's first step (other commands never create
/// one).
pub fn migrate(db: &TestDb) {
    let o = mashov(db, &["migrate"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Runs a `mashov` command as an operator would, with only the database and key file set.
pub fn mashov(db: &TestDb, args: &[&str]) -> std::process::Output {
    mashov_with(db, args, &[])
}

/// The same, with more environment (such as `MASHOV_PASSWORD`).
pub fn mashov_with(db: &TestDb, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("MASHOV_DATABASE_URL", &db.url)
        .env("MASHOV_SECRET_FILE", db.dir.path().join("secret.key"))
        .env("MASHOV_LOG", "warn")
        .output()
        .expect("run mashov")
}
