//! What every request handler can reach, built once at start and shared through `web::Data`,
//! and the two ways handlers reach the database.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use actix_web::web;

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::connection::Manager;
use crate::db::writer::{Finish, Writer};
use crate::db::{DbConnection, DbError, DbPool};
use crate::domain::token::ServerKey;
use crate::http::public::pages::PageCache;
use crate::services::surveys::SurveyCache;
use crate::templates::Templates;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// One SQLite reader connection per worker thread and application.
    static READERS: RefCell<HashMap<u64, DbConnection>> = RefCell::new(HashMap::new());
}

pub struct AppState {
    /// Identifies this application's reader connections on worker threads.
    id: u64,
    pub pool: DbPool,
    /// The group-commit writer every write goes through.
    writer: Writer,
    manager: Manager,
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
        writer: Writer,
        settings: Settings,
        key: ServerKey,
        templates: Templates,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, DbError> {
        let manager = Manager::new(&settings.database_url).map_err(DbError::Migration)?;
        Ok(AppState {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            pool,
            writer,
            manager,
            settings,
            key,
            templates,
            surveys: SurveyCache::default(),
            pages: PageCache::default(),
            clock,
        })
    }
}

/// Runs a read right here on the worker thread, on that thread's own connection. Handing a read
/// to a pool thread costs more than the read: on two cores the thread hand-offs of a blocking
/// pool cut PostgreSQL page views from about 19,000/s to 5,500/s, and a SQLite WAL read never
/// waits for a writer. The price is that a slow query holds its worker's other connections for
/// that long; PostgreSQL connections carry a statement timeout to bound it.
pub async fn read<T, E, F>(state: &web::Data<AppState>, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection, &AppState) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    READERS.with(|cell| {
        let mut readers = cell.borrow_mut();
        let conn = match readers.entry(state.id) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => v.insert(state.manager.open_reader()?),
        };
        let result = f(conn, state);
        // After a failure, make sure the connection itself still works (the database may have
        // restarted); a broken one is dropped and the next read opens a new one.
        if result.is_err() && !crate::db::connection::is_alive(conn) {
            readers.remove(&state.id);
        }
        result
    })
}

/// Runs work that writes: it joins the writer's next group commit, and its result is returned
/// once that commit is durable.
pub async fn write<T, E, F>(state: &web::Data<AppState>, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection, &AppState) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel::<Result<T, E>>();
    let st = state.clone();
    let queued = state
        .writer
        .submit(Box::new(move |conn: &mut DbConnection| -> Finish {
            let result = f(conn, &st);
            Box::new(move |commit_error: Option<&str>| {
                let result = match commit_error {
                    None => result,
                    Some(e) => Err(E::from(DbError::Commit(e.to_string()))),
                };
                let _ = tx.send(result);
            })
        }));
    if !queued {
        return Err(E::from(DbError::Cancelled));
    }
    rx.await
        .unwrap_or_else(|_| Err(E::from(DbError::Cancelled)))
}
