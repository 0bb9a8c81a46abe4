//! `mashov privacy|audit|outbox|backup …`: what an operator runs to look after the data.

use clap::Subcommand;

use super::{connect, fail, migrated, Failure};
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::db;
use crate::services::{self, audit::Actor};

#[derive(Subcommand)]
pub enum PrivacyCommand {
    /// Erase the contact details kept past MASHOV_CONTACT_RETENTION (serve does it daily).
    Purge {
        /// Only say how many would be erased.
        #[arg(long)]
        dry_run: bool,
    },
    /// Erase one person's contact details everywhere, and say what was erased.
    Erase {
        #[arg(long, required_unless_present = "phone")]
        email: Option<String>,
        #[arg(long)]
        phone: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// The newest entries first, one a line: time (UTC), who, from where, what, target, after.
    List {
        /// How many entries (1 to 100000).
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(i64).range(1..=100_000))]
        limit: i64,
        /// Only reads of personal data and exports.
        #[arg(long)]
        reads: bool,
    },
}

#[derive(Subcommand)]
pub enum OutboxCommand {
    /// Emails by state, and the age of the oldest one not yet sent.
    Status,
    /// Queue failed emails again, for now.
    RetryFailed,
}

pub fn privacy(settings: &Settings, command: PrivacyCommand) -> Result<(), Failure> {
    let clock = SystemClock;
    let mut conn = migrated(settings)?;
    let (erased, verb) = match command {
        PrivacyCommand::Purge { dry_run } => (
            services::privacy::purge(&mut conn, settings.contact_retention, clock.now(), dry_run)
                .map_err(|e| fail(1, e))?,
            if dry_run { "would erase" } else { "erased" },
        ),
        PrivacyCommand::Erase { email, phone } => {
            if email.as_deref().is_some_and(|e| e.trim().is_empty())
                || phone.as_deref().is_some_and(|p| p.trim().is_empty())
            {
                return Err(fail(2, "--email and --phone may not be empty"));
            }
            let person = services::privacy::Person {
                email: email.as_deref(),
                phone: phone.as_deref(),
            };
            (
                services::privacy::erase(&mut conn, &person, &Actor::command_line(), clock.now())
                    .map_err(|e| fail(1, e))?,
                "erased",
            )
        }
    };
    println!(
        "{verb} the contact details of {} requests",
        erased.interactions
    );
    println!(
        "{verb} the contact details of {} follow-up cases",
        erased.cases
    );
    println!("{verb} the recipients of {} emails", erased.emails);
    if erased.campaign_recipients > 0 {
        println!(
            "{verb} the addresses of {} campaign recipients",
            erased.campaign_recipients
        );
    }
    Ok(())
}

pub fn audit(settings: &Settings, limit: i64, reads: bool) -> Result<(), Failure> {
    let mut conn = migrated(settings)?;
    let rows = db::audit::newest_filtered(&mut conn, limit, reads).map_err(|e| fail(1, e))?;
    if rows.is_empty() {
        println!("no entries");
    }
    for r in rows {
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}",
            r.at.format("%Y-%m-%dT%H:%M:%SZ"),
            r.actor,
            r.address.as_deref().unwrap_or("-"),
            r.action,
            r.target,
            r.after_value.as_deref().unwrap_or("-"),
        );
    }
    Ok(())
}

pub fn outbox(settings: &Settings, command: OutboxCommand) -> Result<(), Failure> {
    let clock = SystemClock;
    let mut conn = migrated(settings)?;
    let now = clock.now();
    match command {
        OutboxCommand::Status => {
            let counts = db::outbox::counts(&mut conn).map_err(|e| fail(1, e))?;
            for state in ["pending", "sending", "sent", "failed", "cancelled"] {
                let n = counts.iter().find(|c| c.status == state).map_or(0, |c| c.n);
                println!("{state:<10} {n}");
            }
            match db::outbox::oldest_pending(&mut conn).map_err(|e| fail(1, e))? {
                Some(t) => {
                    let age = now.naive_utc() - t;
                    println!(
                        "oldest unsent: {}h {:02}m old",
                        age.num_hours(),
                        age.num_minutes() % 60
                    );
                }
                None => println!("oldest unsent: none"),
            }
        }
        OutboxCommand::RetryFailed => {
            let n =
                db::write_transaction(&mut conn, |c| db::outbox::retry_failed(c, now.naive_utc()))
                    .map_err(|e| fail(1, e))?;
            println!("re-queued {n} failed emails");
        }
    }
    Ok(())
}

/// `VACUUM INTO` a new file beside the target, then renamed into place: a consistent copy (one
/// read transaction) that never blocks the writer, and never a half-written file at `out`.
pub fn backup(settings: &Settings, out: &std::path::Path) -> Result<(), Failure> {
    use diesel::connection::SimpleConnection;
    if settings.backend != crate::db::Backend::Sqlite {
        return Err(fail(
            2,
            "mashov backup copies a SQLite database; for PostgreSQL use pg_dump (see README, \
             \"Backups\")",
        ));
    }
    if out.exists() {
        return Err(fail(
            2,
            format!("{} exists: give a new file", out.display()),
        ));
    }
    let (_, path) =
        crate::db::Backend::parse_url(&settings.database_url).map_err(|e| fail(2, e))?;
    if !std::path::Path::new(&path).is_file() {
        return Err(fail(
            1,
            format!("there is no database at {path} to back up"),
        ));
    }
    let mut conn = connect(settings)?;
    let partial = out.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    // Created first, empty and private: the copy holds residents' contact details.
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options
            .open(&partial)
            .map_err(|e| fail(1, format!("cannot create {}: {e}", partial.display())))?;
    }
    let target = partial.display().to_string().replace('\'', "''");
    let copied = conn
        .batch_execute(&format!("VACUUM INTO '{target}'"))
        .map_err(|e| e.to_string())
        .and_then(|()| std::fs::rename(&partial, out).map_err(|e| e.to_string()));
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&partial);
        return Err(fail(1, format!("the backup failed: {e}")));
    }
    let size = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    println!("backed up to {} ({size} bytes)", out.display());
    Ok(())
}
