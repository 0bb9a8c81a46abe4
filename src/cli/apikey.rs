//! `mashov apikey …`: the keys a CRM or a script calls the API with.

use clap::Subcommand;

use super::{fail, migrated, Failure};
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::domain::api_scope::ApiScope;
use crate::services::{api_keys, audit::Actor};

#[derive(Subcommand)]
pub enum ApikeyCommand {
    /// Create a key; it is printed once, alone on the last line.
    Create {
        #[arg(long)]
        name: String,
        /// What the key may do, comma-separated: interactions:write, reports:read,
        /// followups:read, followups:write, export:read. Without it: every scope.
        #[arg(long)]
        scopes: Option<String>,
        /// Department codes the key may see, comma-separated. Without it: every department.
        #[arg(long)]
        departments: Option<String>,
    },
    /// List keys with their scopes, departments and last use (never the keys).
    List,
    /// Revoke the active key of that name.
    Revoke { name: String },
}

pub fn run(settings: &Settings, command: ApikeyCommand) -> Result<(), Failure> {
    let clock = SystemClock;
    let mut conn = migrated(settings)?;
    match command {
        ApikeyCommand::Create {
            name,
            scopes,
            departments,
        } => {
            let scopes = match scopes {
                Some(text) => ApiScope::parse_list(&text).map_err(|e| fail(2, e))?,
                None => ApiScope::ALL.to_vec(),
            };
            // Given but empty (an unset variable in a script) is a mistake, never "all".
            let departments = match departments {
                None => Vec::new(),
                Some(text) => {
                    let list = crate::domain::account::parse_departments(&text);
                    if list.is_empty() {
                        return Err(fail(
                            2,
                            "--departments names no department; leave it out for every department",
                        ));
                    }
                    list
                }
            };
            let key = api_keys::create_scoped(
                &mut conn,
                &name,
                &scopes,
                &departments,
                &Actor::command_line(),
                clock.now(),
            )
            .map_err(|e| fail(1, e))?;
            let seen = if departments.is_empty() {
                "every department".to_string()
            } else {
                departments.join(", ")
            };
            println!(
                "API key for {:?} with {} on {seen} (shown once; only its hash is stored):",
                name.trim(),
                ApiScope::join(&scopes)
            );
            println!("{}", key.expose());
        }
        ApikeyCommand::List => {
            let keys = api_keys::list(&mut conn).map_err(|e| fail(1, e))?;
            let at = |t: Option<chrono::NaiveDateTime>| {
                t.map_or_else(
                    || "-".to_string(),
                    |t| t.format("%Y-%m-%d %H:%M").to_string(),
                )
            };
            println!(
                "{:<24} {:<17} {:<17} {:<17} {:<16} SCOPES",
                "NAME", "CREATED (UTC)", "LAST USE (UTC)", "REVOKED (UTC)", "DEPARTMENTS"
            );
            for k in keys {
                let departments = if k.departments.is_empty() {
                    "(all)"
                } else {
                    k.departments.as_str()
                };
                println!(
                    "{:<24} {:<17} {:<17} {:<17} {:<16} {}",
                    k.name,
                    at(Some(k.created_at)),
                    at(k.last_used_at),
                    at(k.revoked_at),
                    departments,
                    k.scopes
                );
            }
        }
        ApikeyCommand::Revoke { name } => {
            api_keys::revoke(&mut conn, &name, &Actor::command_line(), clock.now())
                .map_err(|e| fail(1, e))?;
            println!("revoked {name:?}");
        }
    }
    Ok(())
}
