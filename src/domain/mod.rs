//! Pure types and rules: no actix, no diesel, no I/O. Everything past an HTTP handler or a CLI
//! parser holds these checked types, never raw strings.

pub mod account;
pub mod anonymity;
pub mod api_scope;
pub mod catalog;
pub mod city;
pub mod csv_file;
pub mod cursor;
pub mod dashboard;
pub mod email_job;
pub mod followup;
pub mod interaction;
pub mod language;
pub mod logo;
pub mod metrics;
pub mod password;
pub mod period;
pub mod phone;
pub mod recipients;
pub mod report;
pub mod schedule;
pub mod sealed;
pub mod secret;
pub mod survey;
pub mod survey_edit;
pub mod token;

/// Field name → why it was refused; a `BTreeMap` so that errors come out in a stable order.
pub type FieldErrors = std::collections::BTreeMap<String, String>;
