//! Black-box tests over real HTTP, each story on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod admin;
mod admin_browser;
mod admin_setup;

mod browser;
mod campaigns;
mod catalog_admin;
mod city;
mod cli;
mod demo;
mod digest;
mod durability;
mod email;
mod employees;
mod export;
mod followups;
mod glossary;
mod hardening;
mod interactions;
mod keys;
mod privacy;
mod process;
mod reports;
mod schema;
mod smtp;
mod survey;
mod survey_language;
mod surveys_admin;
mod transparency;
mod writer;
