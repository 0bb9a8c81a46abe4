//! The one road to the database. Every caller (request handlers, the outbox worker, the
//! scheduler, housekeeping) reads and writes through a [`Db`]; nothing else opens connections
//! while the service runs. Why one road: on SQLite a write that does not go through the writer
//! competes with it for the one write lock through `busy_timeout`, stalling whatever thread it
//! runs on; and a connection picked from the wrong place for the work (a long report on a
//! request worker, a write on a reader) is the kind of mistake that only shows under load.
//!
//! Three doors, chosen by the work, not by the caller's habit:
//! - [`Db::read`]: short reads (one page, one lookup) right on the request's worker thread, on
//!   that thread's own connection. Handing a sub-millisecond read to another thread costs more
//!   than the read itself: on two cores the hand-offs of a blocking pool cut PostgreSQL page
//!   views from about 19,000/s to 5,500/s. A SQLite WAL read never waits for the writer, and
//!   PostgreSQL reader connections carry a 5-second statement timeout.
//! - [`Db::scan`]: long reads (reports, exports, digests) on the blocking pool, so that they never
//!   hold a request worker.
//! - [`Db::write`]: everything that writes joins the group-commit writer (`db::writer`); its
//!   result is returned once the commit is durable.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::connection::{build_pool, Manager};
use super::writer::{Finish, Writer};
use super::{Backend, DbConnection, DbError, DbPool, PooledConn};

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// One reader connection per worker thread and database handle.
    static READERS: RefCell<HashMap<u64, DbConnection>> = RefCell::new(HashMap::new());
}

/// A handle on the database: cheap to clone, shared by everything that runs in `serve`.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    /// Identifies this handle's reader connections on worker threads.
    id: u64,
    manager: Manager,
    pool: DbPool,
    writer: Writer,
    /// When a write last went through the health probe (a success holds for a few seconds).
    written: std::sync::Mutex<Option<std::time::Instant>>,
}

impl Db {
    /// Connects (failing with the driver's own error when the database cannot be reached) and
    /// starts the writer. Migrations are the caller's: `services::setup::migrate` on
    /// [`Db::connection`] before anything else.
    pub fn start(url: &str) -> Result<Db, DbError> {
        let manager = Manager::new(url).map_err(DbError::Migration)?;
        // Scans run side by side (a dashboard runs four), so more than the two cores.
        let pool = build_pool(url, 8)?;
        let writer = Writer::start(manager.clone())?;
        Ok(Db {
            inner: Arc::new(Inner {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                manager,
                pool,
                writer,
                written: std::sync::Mutex::new(None),
            }),
        })
    }

    pub fn backend(&self) -> Backend {
        self.inner.manager.backend()
    }

    /// A connection of the pool, for work that runs before serving (migrations, start-up
    /// checks) and for tests that look at what was stored. Not for request handlers.
    pub fn connection(&self) -> Result<PooledConn, DbError> {
        self.inner.pool.get().map_err(DbError::Pool)
    }

    /// Runs a short read on this worker thread's own connection (see the module's note).
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<DbError>,
    {
        let inner = &self.inner;
        READERS.with(|cell| {
            let mut readers = cell.borrow_mut();
            let conn = match readers.entry(inner.id) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(inner.manager.open_reader()?)
                }
            };
            let result = f(conn);
            // After a failure, make sure the connection itself still works (the database may
            // have restarted); a broken one is dropped and the next read opens a new one.
            if result.is_err() && !super::connection::is_alive(conn) {
                readers.remove(&inner.id);
            }
            result
        })
    }

    /// Checks that the database answers a query (for the health check).
    pub async fn ping(&self) -> Result<(), DbError> {
        use diesel::connection::SimpleConnection;
        self.read(|conn| conn.batch_execute("SELECT 1").map_err(DbError::Query))
            .await
    }

    /// How busy the database's doors are (for `/metrics`): write jobs waiting for a writer,
    /// and the scan pool's connections and idle ones.
    pub fn load(&self) -> (usize, u32, u32) {
        let pool = self.inner.pool.state();
        (
            self.inner.writer.queued(),
            pool.connections,
            pool.idle_connections,
        )
    }

    /// Checks that the database takes a durable write, through the writer like every write: a
    /// full disk, a read-only database or a writer stuck on a lock fails it (after `patience`).
    /// A success holds for five seconds, so that frequent probes cost one write at most.
    pub async fn probe_write(
        &self,
        now: chrono::NaiveDateTime,
        patience: std::time::Duration,
    ) -> Result<(), DbError> {
        let fresh = |t: &Option<std::time::Instant>| {
            t.is_some_and(|t| t.elapsed() < std::time::Duration::from_secs(5))
        };
        if self.inner.written.lock().is_ok_and(|t| fresh(&t)) {
            return Ok(());
        }
        let write = self.write(move |conn| super::heartbeat::beat(conn, "healthz", now));
        match tokio::time::timeout(patience, write).await {
            Ok(Ok(())) => {
                if let Ok(mut t) = self.inner.written.lock() {
                    *t = Some(std::time::Instant::now());
                }
                Ok(())
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err(DbError::Commit(
                "the write probe did not finish in time".into(),
            )),
        }
    }

    /// Runs a long read on the blocking pool with a pooled connection.
    pub async fn scan<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let pool = self.inner.pool.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get().map_err(DbError::Pool)?;
            f(&mut conn)
        })
        .await
        .unwrap_or_else(|_| Err(E::from(DbError::Cancelled)))
    }

    /// Runs work that writes: it joins the writer's next group commit, and its result is
    /// returned once that commit is durable (or as an error if it is not).
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel::<Result<T, E>>();
        let queued = self
            .inner
            .writer
            .submit(Box::new(move |conn: &mut DbConnection| -> Finish {
                let result = f(conn);
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
}
