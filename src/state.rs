//! What every request handler can reach, built once at start and shared through `web::Data`.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::{DbConnection, DbError, DbPool};
use crate::domain::token::ServerKey;
use crate::http::public::pages::PageCache;
use crate::services::surveys::SurveyCache;
use crate::templates::Templates;

pub struct AppState {
    pub pool: DbPool,
    pub settings: Settings,
    pub key: ServerKey,
    pub templates: Templates,
    pub surveys: SurveyCache,
    pub pages: PageCache,
    pub clock: Arc<dyn Clock>,
}

impl AppState {
    pub fn new(
        pool: DbPool,
        settings: Settings,
        key: ServerKey,
        templates: Templates,
        clock: Arc<dyn Clock>,
    ) -> Self {
        AppState {
            pool,
            settings,
            key,
            templates,
            surveys: SurveyCache::default(),
            pages: PageCache::default(),
            clock,
        }
    }
}

/// Runs blocking database work on actix's blocking pool with a pooled connection.
pub async fn with_conn<T, E, F>(state: &actix_web::web::Data<AppState>, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection, &AppState) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    let state = state.clone();
    actix_web::web::block(move || {
        let mut conn = state.pool.get().map_err(DbError::Pool)?;
        f(&mut conn, &state)
    })
    .await
    .map_err(|_| E::from(DbError::Cancelled))?
}
