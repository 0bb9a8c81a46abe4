//! Group commit for SQLite. SQLite admits one writer at a time and each durable commit costs an
//! fsync, so one thread owns the write connection and runs every waiting write job in a single
//! `BEGIN IMMEDIATE` transaction, each job in its own savepoint, then commits once. A job's
//! result reaches its caller only after that commit: nothing is acknowledged before it is on
//! disk, and one fsync acknowledges the whole batch.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;

use super::connection::{write_transaction, Manager};
use super::{DbConnection, DbError};

/// Runs after the batch's commit; receives the commit's error, if any.
pub type Finish = Box<dyn FnOnce(Option<&str>) + Send>;
/// A unit of write work; returns what to do once the batch is committed.
pub type Job = Box<dyn FnOnce(&mut DbConnection) -> Finish + Send>;

/// Most jobs in one transaction: bounds the time a batch holds the write lock.
const MAX_BATCH: usize = 256;

/// The handle callers send jobs through; the thread stops when every handle is dropped.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Opens the write connection and starts its thread.
    pub fn start(manager: Manager) -> Result<Writer, DbError> {
        let conn = manager.open()?;
        let (jobs, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("mashov-sqlite-writer".into())
            .spawn(move || run(manager, conn, rx))
            .map_err(|e| DbError::Migration(format!("cannot start the writer thread: {e}")))?;
        Ok(Writer { jobs })
    }

    /// Queues a job; `false` when the writer has stopped.
    pub fn submit(&self, job: Job) -> bool {
        self.jobs.send(job).is_ok()
    }
}

fn run(manager: Manager, mut conn: DbConnection, rx: mpsc::Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut finishers: Vec<Finish> = Vec::with_capacity(batch.len());
        let committed = write_transaction(&mut conn, |conn| {
            for job in batch {
                // A panicking job loses its own answer (its caller sees a cancelled job); the
                // batch's other jobs go on.
                if let Ok(finish) = catch_unwind(AssertUnwindSafe(|| job(conn))) {
                    finishers.push(finish);
                }
            }
            Ok::<_, diesel::result::Error>(())
        });
        let error = committed.err().map(|e| e.to_string());
        if let Some(e) = &error {
            tracing::error!(error = %e, jobs = finishers.len(), "group commit failed");
            // Start the next batch on a clean connection.
            if let Ok(fresh) = manager.open() {
                conn = fresh;
            }
        }
        for finish in finishers {
            finish(error.as_deref());
        }
    }
}
