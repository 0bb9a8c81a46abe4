//! One connection type for both backends, chosen from the URL scheme (never by trial, which hides
//! the real error), with SQLite tuned for durable concurrent use.

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, Pool, PooledConnection};

/// The database behind mashov: SQLite embedded by default, PostgreSQL in production.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Which backend a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    /// Splits a `MASHOV_DATABASE_URL` into its backend and the string the driver expects.
    pub fn parse_url(url: &str) -> Result<(Backend, String), String> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok((Backend::Postgres, url.to_string()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(|| {
                format!("database URL must start with sqlite:// or postgres://, got {url:?}")
            })?;
        if path.is_empty() || path.contains(":memory:") {
            return Err(
                "a sqlite:// URL needs a file path (in-memory databases are not kept)".into(),
            );
        }
        Ok((Backend::Sqlite, path.to_string()))
    }
}

/// Errors from reaching or using the database; wraps diesel's and the pool's.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("could not get a database connection: {0}")]
    Pool(#[from] r2d2::PoolError),
    #[error("could not connect to the database: {0}")]
    Connect(#[from] ConnectionError),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("the database worker was cancelled")]
    Cancelled,
    #[error("the commit failed: {0}")]
    Commit(String),
}

/// The r2d2 manager: establishes the right inner connection and applies per-connection settings.
#[derive(Debug, Clone)]
pub struct Manager {
    backend: Backend,
    target: String,
}

impl Manager {
    pub fn new(url: &str) -> Result<Self, String> {
        let (backend, target) = Backend::parse_url(url)?;
        Ok(Self { backend, target })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Opens one connection outside any pool (CLI commands, migrations).
    pub fn open(&self) -> Result<DbConnection, DbError> {
        match self.backend {
            Backend::Postgres => Ok(DbConnection::Postgres(diesel::PgConnection::establish(
                &self.target,
            )?)),
            Backend::Sqlite => {
                create_private(&self.target);
                let mut conn = diesel::SqliteConnection::establish(&self.target)?;
                // WAL lets readers run beside the writer; synchronous=FULL makes an acknowledged
                // answer survive a power cut, not only a crash; busy_timeout queues writers.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
                     PRAGMA journal_size_limit = 67108864;",
                )
                .map_err(DbError::Query)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

/// Creates a new SQLite database file readable by its owner only (`0600`): it holds residents'
/// contact details. SQLite gives its write-ahead log and shared-memory files the same mode. An
/// existing file keeps the mode it has (an operator may have chosen another).
fn create_private(path: &str) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Fails harmlessly when the file exists; SQLite reports any other problem on open.
        let _ = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path);
    }
    #[cfg(not(unix))]
    let _ = path;
}

impl Manager {
    /// A connection for reads on a request's worker thread. On PostgreSQL its statements time out
    /// after 5 seconds, so that a stuck query cannot hold a worker's other requests for longer.
    pub fn open_reader(&self) -> Result<DbConnection, DbError> {
        let mut conn = self.open()?;
        if let DbConnection::Postgres(c) = &mut conn {
            c.batch_execute("SET statement_timeout = '5s'")
                .map_err(DbError::Query)?;
        }
        Ok(conn)
    }
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = DbError;

    fn connect(&self) -> Result<DbConnection, DbError> {
        self.open()
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), DbError> {
        conn.batch_execute("SELECT 1").map_err(DbError::Query)
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}

pub type DbPool = Pool<Manager>;
pub type PooledConn = PooledConnection<Manager>;

/// Builds the pool; fails fast with the driver's own error if the database cannot be reached.
pub fn build_pool(url: &str, max_size: u32) -> Result<DbPool, DbError> {
    let manager = Manager::new(url).map_err(DbError::Migration)?;
    // Surface the real connection error (not r2d2's generic time-out) before building the pool.
    drop(manager.open()?);
    Pool::builder()
        .max_size(max_size)
        // Open connections as load needs them, not all at start (tests run many apps at once).
        .min_idle(Some(2.min(max_size)))
        .connection_timeout(Duration::from_secs(10))
        .build(manager)
        .map_err(DbError::Pool)
}

/// Runs `f` in a write transaction. On SQLite it is `BEGIN IMMEDIATE`, so that concurrent
/// read-then-write transactions queue on the write lock instead of failing with "database is
/// locked" when they upgrade; on PostgreSQL it is an ordinary transaction.
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let nested = match conn {
        DbConnection::Postgres(_) => true,
        DbConnection::Sqlite(inner) => <AnsiTransactionManager as TransactionManager<
            diesel::SqliteConnection,
        >>::transaction_manager_status_mut(inner)
        .transaction_depth()?
        .is_some(),
    };
    // PostgreSQL, and SQLite inside a group commit's transaction: diesel's own (a savepoint
    // when nested).
    if nested {
        return conn.transaction(f);
    }
    if let DbConnection::Sqlite(inner) = conn {
        AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
    }
    let result = f(conn);
    if let DbConnection::Sqlite(inner) = conn {
        match &result {
            Ok(_) => AnsiTransactionManager::commit_transaction(inner)?,
            Err(_) => AnsiTransactionManager::rollback_transaction(inner)?,
        }
    }
    result
}

/// True when the connection answers a trivial query.
pub fn is_alive(conn: &mut DbConnection) -> bool {
    conn.batch_execute("SELECT 1").is_ok()
}

/// True when an error is a unique-constraint violation (a concurrent duplicate).
pub fn is_unique_violation(err: &diesel::result::Error) -> bool {
    matches!(
        err,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

/// Readies a connection for one large write (an import): on SQLite a 64 MiB page cache, so that
/// the transaction's index pages stay in memory instead of spilling to the WAL again and again
/// (half the time of a 50,000-line import went to those writes). Nothing on PostgreSQL.
pub fn prepare_bulk_write(conn: &mut DbConnection) -> Result<(), DbError> {
    if let DbConnection::Sqlite(c) = conn {
        c.batch_execute("PRAGMA cache_size = -65536")
            .map_err(DbError::Query)?;
    }
    Ok(())
}
