//! Use cases: each takes a connection, runs its rules and its writes in one transaction, and
//! returns a typed outcome. No HTTP and no HTML here.

pub mod accounts;
pub mod api_keys;
pub mod audit;
pub mod campaign_survey;
pub mod campaigns;
pub mod catalog;
pub mod catalog_edit;
pub mod catalog_file;
pub mod city;
pub mod demo;
pub mod details;
pub mod digest;
pub mod export;
pub mod followups;
pub mod inbox;
pub mod interactions;
pub mod operations;
pub mod optout;
pub mod privacy;
pub mod reports;
pub mod responses;
pub mod sessions;
pub mod setup;
pub mod survey_setup;
pub mod surveys;
pub mod transparency;

/// What callers of the services see of the database: its error, and the connection a handler
/// hands to a service inside one of `Db`'s doors.
pub use crate::db::{DbConnection, DbError};

/// Implements `From<diesel::result::Error>` for a service error that has a `Db(DbError)` arm,
/// so that `?` and `write_transaction` work on it.
macro_rules! db_error_from {
    ($t:ty) => {
        impl From<diesel::result::Error> for $t {
            fn from(e: diesel::result::Error) -> Self {
                <$t>::Db(crate::db::DbError::Query(e))
            }
        }
        impl From<crate::db::DbError> for $t {
            fn from(e: crate::db::DbError) -> Self {
                <$t>::Db(e)
            }
        }
    };
}
pub(crate) use db_error_from;
