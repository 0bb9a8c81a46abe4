//! What every request handler can reach, built once at start and shared through `web::Data`.

use std::sync::{Arc, RwLock};

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::domain::token::ServerKey;
use crate::services::surveys::SurveyCache;
use crate::templates::Templates;

pub struct AppState {
    /// The one road to the database: reads, scans and writes (see `db::handle`).
    pub db: Db,
    /// What the environment and the file set (the base; `policy` adds what admins stored).
    pub settings: Settings,
    /// The settings in force: `settings` with the rules an admin stored where the
    /// configuration is silent (quiet hours, link lifetime, minimum group size, …).
    policy: RwLock<Arc<Settings>>,
    pub key: ServerKey,
    pub templates: Templates,
    pub surveys: SurveyCache,
    pub clock: Arc<dyn Clock>,
    /// Password checks that may run at once: each argon2id check takes 19 MiB and tens of
    /// milliseconds of a core, so a burst of sign-ins waits here instead of exhausting memory.
    pub password_checks: tokio::sync::Semaphore,
    /// How much one client or key may ask (see `crate::limits`).
    pub limits: crate::limits::Limits,
    /// What `GET /metrics` counts in memory.
    pub metrics: crate::metrics::Metrics,
    /// Set when `serve` is told to stop: background work finishes what it holds and takes
    /// nothing new.
    stopping: std::sync::atomic::AtomicBool,
    /// Held by the email worker while it sends a batch; `serve` waits for it before exiting.
    pub sending: tokio::sync::RwLock<()>,
}

impl AppState {
    pub fn new(
        db: Db,
        settings: Settings,
        key: ServerKey,
        templates: Templates,
        clock: Arc<dyn Clock>,
    ) -> Self {
        AppState {
            db,
            limits: crate::limits::Limits::new(
                settings.rate_limit,
                settings.api_rate_limit,
                settings.wrong_key_limit,
            ),
            stopping: std::sync::atomic::AtomicBool::new(false),
            metrics: crate::metrics::Metrics::default(),
            sending: tokio::sync::RwLock::new(()),
            policy: RwLock::new(Arc::new(settings.clone())),
            settings,
            key,
            templates,
            surveys: SurveyCache::default(),
            clock,
            password_checks: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get() * 2),
            ),
        }
    }

    /// Whether `serve` is stopping.
    pub fn stopping(&self) -> bool {
        self.stopping.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Tells background work to take nothing new.
    pub fn stop(&self) {
        self.stopping
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// The settings in force now.
    pub fn policy(&self) -> Arc<Settings> {
        match self.policy.read() {
            Ok(p) => p.clone(),
            Err(e) => e.into_inner().clone(),
        }
    }

    /// Puts new settings in force (after an admin saved rules, or another instance did).
    pub fn set_policy(&self, settings: Settings) {
        match self.policy.write() {
            Ok(mut p) => *p = Arc::new(settings),
            Err(e) => *e.into_inner() = Arc::new(settings),
        }
    }
}
