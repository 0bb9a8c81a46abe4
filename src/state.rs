//! What every request handler can reach, built once at start and shared through `web::Data`.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::domain::token::ServerKey;
use crate::services::surveys::SurveyCache;
use crate::templates::Templates;

pub struct AppState {
    /// The one road to the database: reads, scans and writes (see `db::handle`).
    pub db: Db,
    pub settings: Settings,
    pub key: ServerKey,
    pub templates: Templates,
    pub surveys: SurveyCache,
    pub clock: Arc<dyn Clock>,
    /// Password checks that may run at once: each argon2id check takes 19 MiB and tens of
    /// milliseconds of a core, so a burst of sign-ins waits here instead of exhausting memory.
    pub password_checks: tokio::sync::Semaphore,
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
}
