//! The only code that knows diesel: the two-backend connection, its pool, migrations and the
//! query functions, one file per table group.

pub mod api_keys;
pub mod audit;
pub mod campaigns;
pub mod catalog;
pub mod city;
pub mod connection;
pub mod details;
pub mod digest;
pub mod export;
pub mod followups;
pub mod handle;
pub mod heartbeat;
pub mod inbox;
pub mod interactions;
pub mod migrations;
pub mod outbox;
pub mod privacy;
pub mod reports;
pub mod responses;
pub mod schema;
pub mod sql;
pub mod surveys;
pub mod users;
pub mod writer;

pub use connection::{write_transaction, Backend, DbConnection, DbError, DbPool, PooledConn};
pub use handle::Db;
