//! mashov: service-quality feedback for local authorities.
//!
//! Layers, each knowing only those below it: `http` (handlers) → `services` (use cases, one
//! transaction each) → `domain` (pure rules) and `db` (the only code that knows diesel).

pub mod charts;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod email;
pub mod http;
pub mod limits;
pub mod metrics;
pub mod services;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod templates;
