//! `mashov user …`: the people who sign in to the management app.

use std::io::IsTerminal;

use clap::Subcommand;

use super::{fail, migrated, Failure};
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::domain::account::{NewPassword, Role};
use crate::domain::language::Language;
use crate::domain::password;
use crate::services::accounts::{self, AccountError, NewUser};
use crate::services::audit::Actor;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user. The password comes from MASHOV_PASSWORD or, on a terminal, a prompt;
    /// never from an argument (arguments end up in shell history and process lists).
    Create {
        #[arg(long)]
        email: String,
        /// admin (everything), manager (their departments, and act on cases) or viewer (read).
        #[arg(long, value_parser = role)]
        role: Role,
        /// Department codes, comma-separated (managers and viewers).
        #[arg(long, default_value = "")]
        departments: String,
        /// The app's language for them: he, ar, en or ru.
        #[arg(long, default_value = "he", value_parser = language)]
        language: Language,
    },
    /// Users, their roles, departments and state (never their passwords).
    List,
    /// Stop a user from signing in; their sessions end at once.
    Disable { email: String },
    /// Give a user a new password (as for create); their sessions end.
    SetPassword { email: String },
}

fn role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| format!("{text:?} is not admin, manager or viewer"))
}

fn language(text: &str) -> Result<Language, String> {
    Language::parse(text).ok_or_else(|| format!("{text:?} is not he, ar, en or ru"))
}

fn failure(e: AccountError) -> Failure {
    match e {
        AccountError::Db(e) => fail(1, e),
        other => fail(1, other),
    }
}

/// The new password: MASHOV_PASSWORD, or asked twice on a terminal.
fn new_password() -> Result<NewPassword, Failure> {
    let text = match std::env::var("MASHOV_PASSWORD") {
        Ok(p) => p,
        Err(_) if std::io::stdin().is_terminal() => {
            let first = rpassword::prompt_password("New password (12 characters or more): ")
                .map_err(|e| fail(1, format!("cannot read the password: {e}")))?;
            let again = rpassword::prompt_password("The same again: ")
                .map_err(|e| fail(1, format!("cannot read the password: {e}")))?;
            if first != again {
                return Err(fail(1, "the two passwords differ; nothing was changed"));
            }
            first
        }
        Err(_) => {
            return Err(fail(
                2,
                "set MASHOV_PASSWORD, or run this on a terminal to be asked for the password",
            ))
        }
    };
    NewPassword::parse(text).map_err(|e| fail(1, e))
}

pub fn run(settings: &Settings, command: UserCommand) -> Result<(), Failure> {
    let now = SystemClock.now();
    match command {
        UserCommand::Create {
            email,
            role,
            departments,
            language,
        } => {
            // Refuse a bad address or department list before asking for a password.
            NewUser::new(&email, role, &departments, language, String::new()).map_err(failure)?;
            let hash = password::hash(&new_password()?);
            let user = NewUser::new(&email, role, &departments, language, hash).map_err(failure)?;
            let mut conn = migrated(settings)?;
            let row =
                accounts::create(&mut conn, &user, &Actor::command_line(), now).map_err(failure)?;
            println!("created {} ({})", row.email, row.role);
        }
        UserCommand::List => {
            let mut conn = migrated(settings)?;
            let users = accounts::list(&mut conn).map_err(failure)?;
            println!(
                "{:<40} {:<8} {:<24} {:<4} STATE",
                "EMAIL", "ROLE", "DEPARTMENTS", "LANG"
            );
            for u in users {
                let state = u.disabled_at.map_or_else(
                    || "active".to_string(),
                    |t| format!("disabled {}", t.format("%Y-%m-%d")),
                );
                let departments = if u.departments.is_empty() {
                    "(all)"
                } else {
                    u.departments.as_str()
                };
                println!(
                    "{:<40} {:<8} {:<24} {:<4} {state}",
                    u.email, u.role, departments, u.language
                );
            }
        }
        UserCommand::Disable { email } => {
            let mut conn = migrated(settings)?;
            accounts::disable(&mut conn, &email, &Actor::command_line(), now).map_err(failure)?;
            println!("disabled {}; their sessions have ended", email.trim());
        }
        UserCommand::SetPassword { email } => {
            let hash = password::hash(&new_password()?);
            let mut conn = migrated(settings)?;
            accounts::set_password(&mut conn, &email, &hash, &Actor::command_line(), now)
                .map_err(failure)?;
            println!(
                "new password set for {}; their sessions have ended",
                email.trim()
            );
        }
    }
    Ok(())
}
