//! Group commit. Each durable commit costs an fsync, so one thread owns a write connection and
//! runs every waiting write job in a single transaction (`BEGIN IMMEDIATE` on SQLite), each job
//! in its own savepoint, then commits once. A job's result reaches its caller only after that
//! commit: nothing is acknowledged before it is on disk, and one fsync acknowledges the batch.
//!
//! SQLite admits one writer at a time anyway, and this way writers queue in memory instead of in
//! SQLite's busy handler, which sleeps in milliseconds: one writer thread. PostgreSQL takes
//! writers in parallel and each statement is a round trip, so there several writer threads share
//! the queue, each committing its own batches.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc, Mutex};

use super::connection::{write_transaction, Manager};
use super::{Backend, DbConnection, DbError};

/// Runs after the batch's commit; receives the commit's error, if any.
pub type Finish = Box<dyn FnOnce(Option<&str>) + Send>;
/// A unit of write work; returns what to do once the batch is committed.
pub type Job = Box<dyn FnOnce(&mut DbConnection) -> Finish + Send>;

/// Writer threads and the most jobs in one of their transactions (which bounds the time a batch
/// holds locks). PostgreSQL slows down past 64 subtransactions (savepoints) in a transaction.
fn shape(backend: Backend) -> (usize, usize) {
    match backend {
        Backend::Sqlite => (1, 256),
        Backend::Postgres => (8, 16),
    }
}

/// The handle callers send jobs through; the threads stop when every handle is dropped.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
    /// Jobs queued and not yet taken into a batch (for `/metrics`).
    queued: Arc<std::sync::atomic::AtomicUsize>,
    /// The checkpointer stops when the last handle is gone.
    _alive: Arc<()>,
}

impl Writer {
    /// Opens the write connections and starts their threads.
    pub fn start(manager: Manager) -> Result<Writer, DbError> {
        let (threads, limit) = shape(manager.backend());
        let (jobs, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let queued = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        for i in 0..threads {
            let conn = open(&manager)?;
            let (manager, rx, q) = (manager.clone(), rx.clone(), queued.clone());
            std::thread::Builder::new()
                .name(format!("mashov-writer-{i}"))
                .spawn(move || run(manager, conn, &rx, limit, &q))
                .map_err(|e| DbError::Migration(format!("cannot start a writer thread: {e}")))?;
        }
        let alive = Arc::new(());
        if manager.backend() == Backend::Sqlite {
            start_checkpointer(manager, Arc::downgrade(&alive))?;
        }
        Ok(Writer {
            jobs,
            queued,
            _alive: alive,
        })
    }

    /// Queues a job; `false` when the writers have stopped.
    pub fn submit(&self, job: Job) -> bool {
        self.queued
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.jobs.send(job).is_ok()
    }

    /// Jobs waiting for a writer.
    pub fn queued(&self) -> usize {
        self.queued.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// SQLite: copies the write-ahead log back into the database from a thread of its own, twice a
/// second, instead of in whichever commit crosses SQLite's 1,000-page mark: the writer then
/// spends its time on commits, not on checkpoints and their fsyncs.
///
/// A passive checkpoint never waits, so under a steady stream of page views some reader always
/// holds an old snapshot, the log is never started over, and it grows without bound (7.6 GB in
/// two and a half minutes of `bench/fault.sh`), making every read slower. Once the log is past
/// `RESTART_FRAMES`, the checkpoint waits up to 50 ms for the readers to move on and restarts
/// it; `journal_size_limit` (on every connection) then gives the space back.
fn start_checkpointer(manager: Manager, alive: std::sync::Weak<()>) -> Result<(), DbError> {
    use diesel::connection::SimpleConnection;
    let mut conn = manager.open()?;
    conn.batch_execute("PRAGMA busy_timeout = 50")
        .map_err(DbError::Query)?;
    std::thread::Builder::new()
        .name("mashov-checkpoint".into())
        .spawn(move || {
            let mut mode = "PASSIVE";
            while alive.upgrade().is_some() {
                std::thread::sleep(std::time::Duration::from_millis(500));
                match checkpoint(&mut conn, mode) {
                    Ok(frames) => {
                        mode = if frames > RESTART_FRAMES {
                            "RESTART"
                        } else {
                            "PASSIVE"
                        };
                    }
                    Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
                }
            }
        })
        .map_err(|e| DbError::Migration(format!("cannot start the checkpoint thread: {e}")))?;
    Ok(())
}

/// Frames (pages of 4 KiB) in the log past which the next checkpoint restarts it: 16 MiB.
const RESTART_FRAMES: i64 = 4096;

/// Runs one checkpoint; returns how many frames the log held.
fn checkpoint(conn: &mut DbConnection, mode: &str) -> Result<i64, DbError> {
    use diesel::sql_types::BigInt;
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Outcome {
        #[diesel(sql_type = BigInt)]
        log: i64,
    }
    let DbConnection::Sqlite(c) = conn else {
        return Ok(0);
    };
    let outcome: Vec<Outcome> = diesel::sql_query(format!("PRAGMA wal_checkpoint({mode})"))
        .load(c)
        .map_err(DbError::Query)?;
    Ok(outcome.first().map_or(0, |o| o.log))
}

/// A writer's connection. On SQLite its commits never checkpoint: the checkpointer does.
fn open(manager: &Manager) -> Result<DbConnection, DbError> {
    use diesel::connection::SimpleConnection;
    let mut conn = manager.open()?;
    if manager.backend() == Backend::Sqlite {
        conn.batch_execute("PRAGMA wal_autocheckpoint = 0")
            .map_err(DbError::Query)?;
    }
    Ok(conn)
}

/// Takes the next batch: waits for one job, then whatever else is already waiting.
fn next_batch(rx: &Mutex<mpsc::Receiver<Job>>, limit: usize) -> Option<Vec<Job>> {
    let rx = rx.lock().ok()?;
    let mut batch = vec![rx.recv().ok()?];
    while batch.len() < limit {
        match rx.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
    Some(batch)
}

fn run(
    manager: Manager,
    conn: DbConnection,
    rx: &Mutex<mpsc::Receiver<Job>>,
    limit: usize,
    queued: &std::sync::atomic::AtomicUsize,
) {
    let mut conn = Some(conn);
    let mut checked = std::time::Instant::now();
    while let Some(batch) = next_batch(rx, limit) {
        queued.fetch_sub(batch.len(), std::sync::atomic::Ordering::Relaxed);
        // A connection the database dropped (a restart, a killed backend) is replaced within a
        // second, instead of failing every write after it.
        if checked.elapsed() > std::time::Duration::from_secs(1) {
            checked = std::time::Instant::now();
            if !conn.as_mut().is_some_and(super::connection::is_alive) {
                conn = None;
            }
        }
        if conn.is_none() {
            match open(&manager) {
                Ok(fresh) => conn = Some(fresh),
                Err(e) => tracing::error!(error = %e, "cannot reconnect the writer"),
            }
        }
        // Without a connection the batch's jobs are dropped unrun: their callers hear that the
        // work was cancelled, never that it was saved.
        let Some(c) = conn.as_mut() else { continue };
        if run_batch(c, batch) == After::Reconnect {
            // The connection may be inside a transaction that a panic left open (diesel then
            // counts one level too many, and the next "commit" only releases a savepoint): it is
            // closed, which rolls that transaction back, and the next batch gets a fresh one.
            conn = None;
        }
    }
}

/// What the writer's connection is fit for after a batch.
#[derive(Debug, PartialEq, Eq)]
enum After {
    /// Committed: go on with it.
    Keep,
    /// A job panicked or the commit failed: its state is unknown, open a new one.
    Reconnect,
}

/// Runs one batch and tells each caller how it ended. After a panic nothing of the batch is
/// acknowledged: the jobs already run hear an error, the rest are dropped (cancelled).
fn run_batch(conn: &mut DbConnection, mut batch: Vec<Job>) -> After {
    if batch.len() == 1 {
        // Alone: the job's own transaction is its commit; a batch around it would only add a
        // savepoint and its release.
        if let Some(job) = batch.pop() {
            match catch_unwind(AssertUnwindSafe(|| job(conn))) {
                Ok(finish) => finish(None),
                Err(_) => {
                    tracing::error!("a write job panicked; its caller was told it failed");
                    return After::Reconnect;
                }
            }
        }
        return After::Keep;
    }
    let mut finishers: Vec<Finish> = Vec::with_capacity(batch.len());
    let mut panicked = false;
    let committed = write_transaction(conn, |conn| {
        for job in batch {
            // Each job opens its own savepoint (its services call `write_transaction`), so a
            // job that fails backs out alone.
            match catch_unwind(AssertUnwindSafe(|| job(conn))) {
                Ok(finish) => finishers.push(finish),
                Err(_) => {
                    panicked = true;
                    return Err(diesel::result::Error::RollbackTransaction);
                }
            }
        }
        Ok::<_, diesel::result::Error>(())
    });
    if panicked {
        tracing::error!(
            jobs = finishers.len() + 1,
            "a write job panicked: its batch was rolled back and every caller told it failed"
        );
        for finish in finishers {
            finish(Some("the batch was rolled back after a write job panicked"));
        }
        return After::Reconnect;
    }
    let error = committed.err().map(|e| e.to_string());
    if let Some(e) = &error {
        tracing::error!(error = %e, jobs = finishers.len(), "group commit failed");
    }
    for finish in finishers {
        finish(error.as_deref());
    }
    // After a failed commit, start the next batch on a clean connection.
    if error.is_some() {
        After::Reconnect
    } else {
        After::Keep
    }
}
