//! `mashov digest …`: the weekly digest's recipients, a preview on disk, and sending now.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Subcommand};

use super::{fail, migrated, Failure};
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::db;
use crate::domain::language::Language;
use crate::domain::period::{parse_day, week_start};
use crate::services::audit::Actor;
use crate::services::digest::{self, RecipientError};
use crate::services::reports::{ReportContext, ReportQueryError};
use crate::templates::Templates;

#[derive(Subcommand)]
pub enum DigestCommand {
    /// Who gets the digest.
    Recipients {
        #[command(subcommand)]
        command: RecipientsCommand,
    },
    /// Write one recipient's digest for a week to an HTML file (and its chart beside it).
    Preview {
        #[arg(long, value_name = "EMAIL")]
        recipient: String,
        /// Any day of the week (Sunday to Saturday) to report.
        #[arg(long, value_name = "YYYY-MM-DD")]
        week: String,
        #[arg(long, value_name = "FILE.html")]
        out: PathBuf,
    },
    /// Queue the last whole week's digest for every recipient now (once per recipient and week).
    Send {
        #[arg(long, required = true)]
        now: bool,
    },
}

#[derive(Subcommand)]
pub enum RecipientsCommand {
    /// Add a recipient (or change an existing one's language and scope).
    Add(AddArgs),
    List,
    Remove {
        email: String,
    },
}

#[derive(Args)]
#[command(group(ArgGroup::new("scope").required(true).args(["all", "departments"])))]
pub struct AddArgs {
    email: String,
    #[arg(long, default_value = "he")]
    language: String,
    /// The whole city.
    #[arg(long)]
    all: bool,
    /// Department codes, comma-separated.
    #[arg(long, value_delimiter = ',')]
    departments: Vec<String>,
}

fn query_failure(e: ReportQueryError) -> Failure {
    fail(1, e)
}

pub fn run(settings: &Settings, command: DigestCommand) -> Result<(), Failure> {
    let now = SystemClock.now();
    let mut conn = migrated(settings)?;
    match command {
        DigestCommand::Recipients { command } => match command {
            RecipientsCommand::Add(a) => {
                let depts: Vec<String> = a
                    .departments
                    .iter()
                    .map(|d| d.trim().to_string())
                    .filter(|d| !d.is_empty())
                    .collect();
                let actor = Actor::command_line();
                let new =
                    digest::add_recipient(&mut conn, &a.email, &a.language, &depts, &actor, now)
                        .map_err(|e| match e {
                            // Name the flag the person typed.
                            RecipientError::Language(l) => {
                                fail(1, format!("--language {l:?} is not one of he, ar, en, ru"))
                            }
                            other => fail(1, other),
                        })?;
                println!(
                    "{} {}",
                    if new { "added" } else { "updated" },
                    a.email.trim().to_lowercase()
                );
            }
            RecipientsCommand::List => {
                println!("{:<40} {:<4} DEPARTMENTS", "EMAIL", "LANG");
                for r in digest::recipients(&mut conn).map_err(|e| fail(1, e))? {
                    let scope = if r.departments.is_empty() {
                        "(all)".to_string()
                    } else {
                        r.departments.clone()
                    };
                    println!("{:<40} {:<4} {scope}", r.email, r.language);
                }
            }
            RecipientsCommand::Remove { email } => {
                digest::remove_recipient(&mut conn, &email, &Actor::command_line(), now)
                    .map_err(|e| fail(1, e))?;
                println!("removed {email}");
            }
        },
        DigestCommand::Preview {
            recipient,
            week,
            out,
        } => {
            let day = parse_day(&week).ok_or_else(|| {
                fail(
                    2,
                    format!("--week {week:?} is not a date such as 2026-11-22"),
                )
            })?;
            // Only a week that has ended has a digest: its Saturday is before today.
            let last_whole = digest::last_whole_week(now);
            if week_start(day) > last_whole {
                return Err(fail(
                    2,
                    format!(
                        "--week {week}: that week has not ended yet; the last whole week began on {last_whole}"
                    ),
                ));
            }
            let r = db::digest::find_by_email(&mut conn, &recipient.trim().to_lowercase())
                .map_err(|e| fail(1, e))?
                .ok_or_else(|| fail(1, format!("{recipient} is not a digest recipient")))?;
            let templates = Templates::load().map_err(|e| fail(1, e))?;
            templates.set_city(
                crate::services::city::load(&mut conn, settings).map_err(|e| fail(1, e))?,
            );
            let inbox = settings.server_key().map_err(|e| fail(2, e))?.inbox_key();
            crate::services::reports::refresh(&mut conn, &inbox, now).map_err(|e| fail(1, e))?;
            let ctx = ReportContext {
                min_group_size: crate::services::city::policy(&mut conn, settings)
                    .map_err(|e| fail(1, e))?
                    .min_group_size,
                now,
                questions: true,
            };
            let data = digest::gather(
                &mut conn,
                &ctx,
                &digest::scope_of(&r),
                week_start(day),
                Language::parse(&r.language).unwrap_or_default(),
            )
            .map_err(query_failure)?;
            let chart = out.with_extension("png");
            let chart_name = chart
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            let lang = Language::parse(&r.language).unwrap_or_default();
            let rendered = crate::email::digest::render(&templates, &data, lang, &chart_name)
                .map_err(|e| fail(1, e))?;
            std::fs::write(&chart, &rendered.chart_png)
                .and_then(|_| std::fs::write(&out, rendered.html.as_bytes()))
                .map_err(|e| fail(1, format!("cannot write {}: {e}", out.display())))?;
            println!(
                "wrote {} and {} ({})",
                out.display(),
                chart.display(),
                rendered.subject
            );
        }
        DigestCommand::Send { .. } => {
            let week = digest::last_whole_week(now);
            let (queued, existing) =
                digest::enqueue_week(&mut conn, week, now, settings.mail_from.email.domain())
                    .map_err(|e| fail(1, e))?;
            println!("queued {queued} digests for the week of {week} ({existing} already queued)");
            if settings.smtp.is_none() {
                println!("email is not configured (MASHOV_SMTP_URL): they wait in the outbox");
            }
        }
    }
    Ok(())
}
