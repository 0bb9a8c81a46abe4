//! Both migration folders are embedded; the connection's backend picks which one runs.

use diesel::connection::SimpleConnection;
use diesel::sql_types::Text;
use diesel::{QueryableByName, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::{DbConnection, DbError};

const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Applies pending migrations; returns how many ran.
///
/// On SQLite, foreign keys are off while they run: a migration that rebuilds a table (the only
/// way to change a constraint there) drops the table that others refer to. They are checked
/// once all have run, and the connection gets them back either way.
pub fn run_pending(conn: &mut DbConnection) -> Result<usize, DbError> {
    let done = match conn {
        DbConnection::Postgres(c) => c.run_pending_migrations(POSTGRES).map(|v| v.len()),
        DbConnection::Sqlite(c) => {
            c.batch_execute("PRAGMA foreign_keys = OFF")
                .map_err(DbError::Query)?;
            let done = c.run_pending_migrations(SQLITE).map(|v| v.len());
            let broken = diesel::sql_query("PRAGMA foreign_key_check").load::<Broken>(c);
            c.batch_execute("PRAGMA foreign_keys = ON")
                .map_err(DbError::Query)?;
            if let Some(row) = broken.map_err(DbError::Query)?.first() {
                return Err(DbError::Migration(format!(
                    "a migration left a row of {} without the row it refers to",
                    row.table
                )));
            }
            done
        }
    };
    done.map_err(|e| DbError::Migration(e.to_string()))
}

/// A row of `PRAGMA foreign_key_check`: only the table is read.
#[derive(QueryableByName)]
struct Broken {
    #[diesel(sql_type = Text)]
    table: String,
}
