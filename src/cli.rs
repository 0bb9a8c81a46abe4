//! The `mashov` command line. Exit codes: 0 done, 1 the work failed (bad file, unreachable
//! database), 2 bad usage or configuration.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

mod campaign;
mod digest;
mod export;
mod progress;
mod user;

use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::db::{self, connection::Manager, DbConnection};
use crate::domain::api_scope::ApiScope;
use crate::domain::catalog::parse_catalog;
use crate::services::audit::Actor;
use crate::services::{self, api_keys};
use crate::startup;

#[derive(Parser)]
#[command(
    name = "mashov",
    version,
    about = "Service-quality feedback for local authorities"
)]
struct Cli {
    /// A TOML file with settings; MASHOV_* environment variables win over it.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run pending migrations, then serve HTTP.
    Serve {
        /// On an empty database, first load a demo city.
        #[arg(long)]
        demo: bool,
    },
    /// Run pending migrations only.
    Migrate,
    /// The service catalog.
    Catalog {
        #[command(subcommand)]
        command: CatalogCommand,
    },
    /// API keys for CRMs and scripts.
    Apikey {
        #[command(subcommand)]
        command: ApikeyCommand,
    },
    /// Periodic internal-service surveys of employees.
    Campaign {
        #[command(subcommand)]
        command: campaign::CampaignCommand,
    },
    /// The weekly digest email for managers.
    Digest {
        #[command(subcommand)]
        command: digest::DigestCommand,
    },
    /// Exports for spreadsheets.
    Export {
        #[command(subcommand)]
        command: export::ExportCommand,
    },
    /// People who sign in to the management app at /admin.
    User {
        #[command(subcommand)]
        command: user::UserCommand,
    },
    /// The email outbox.
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// A consistent copy of a SQLite database, taken while it serves (PostgreSQL: pg_dump).
    Backup {
        /// Where to write the copy (a new file, readable by its owner only).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Residents' contact details: erased after MASHOV_CONTACT_RETENTION, or on request.
    Privacy {
        #[command(subcommand)]
        command: PrivacyCommand,
    },
    /// The audit log: set-up changes, reads of personal data and exports.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
enum PrivacyCommand {
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
enum AuditCommand {
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
enum OutboxCommand {
    /// Emails by state, and the age of the oldest one not yet sent.
    Status,
    /// Queue failed emails again, for now.
    RetryFailed,
}

#[derive(Subcommand)]
enum CatalogCommand {
    /// Load or update departments and services from a UTF-8 CSV file.
    Import { file: PathBuf },
}

#[derive(Subcommand)]
enum ApikeyCommand {
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

/// A failure and the exit code it earns.
struct Failure {
    code: u8,
    message: String,
}

fn fail(code: u8, message: impl std::fmt::Display) -> Failure {
    Failure {
        code,
        message: message.to_string(),
    }
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    crate::telemetry::init();
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("mashov: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

fn dispatch(cli: Cli) -> Result<(), Failure> {
    let settings = Settings::load(cli.config.as_deref()).map_err(|e| fail(2, e))?;
    let clock = SystemClock;
    match cli.command {
        Command::Serve { demo } => serve(settings, demo),
        Command::Migrate => {
            let mut conn = connect(&settings)?;
            let n = services::setup::migrate(&mut conn, clock.now()).map_err(|e| fail(1, e))?;
            println!("migrations applied: {n}");
            Ok(())
        }
        Command::Catalog {
            command: CatalogCommand::Import { file },
        } => import_catalog(&settings, &file),
        Command::Campaign { command } => campaign::run(&settings, command),
        Command::Export { command } => export::run(&settings, command),
        Command::Digest { command } => digest::run(&settings, command),
        Command::User { command } => user::run(&settings, command),
        Command::Backup { out } => backup(&settings, &out),
        Command::Privacy { command } => {
            let mut conn = migrated(&settings)?;
            let (erased, verb) = match command {
                PrivacyCommand::Purge { dry_run } => (
                    services::privacy::purge(
                        &mut conn,
                        settings.contact_retention,
                        clock.now(),
                        dry_run,
                    )
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
                        services::privacy::erase(
                            &mut conn,
                            &person,
                            &Actor::command_line(),
                            clock.now(),
                        )
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
        Command::Audit {
            command: AuditCommand::List { limit, reads },
        } => {
            let mut conn = migrated(&settings)?;
            let rows =
                db::audit::newest_filtered(&mut conn, limit, reads).map_err(|e| fail(1, e))?;
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
        Command::Outbox { command } => {
            let mut conn = migrated(&settings)?;
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
                    let n = db::write_transaction(&mut conn, |c| {
                        db::outbox::retry_failed(c, now.naive_utc())
                    })
                    .map_err(|e| fail(1, e))?;
                    println!("re-queued {n} failed emails");
                }
            }
            Ok(())
        }
        Command::Apikey { command } => {
            let mut conn = migrated(&settings)?;
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
    }
}

fn connect(settings: &Settings) -> Result<DbConnection, Failure> {
    let manager = Manager::new(&settings.database_url).map_err(|e| fail(2, e))?;
    manager.open().map_err(|e| fail(1, e))
}

/// A connection to an existing database whose schema is current (commands may run before
/// `serve`, after `migrate`). Only `serve` and `migrate` create a database: a command run in the
/// wrong folder, or without the server's settings, says so instead of working on an empty new
/// one; and every command says which database and base URL it uses.
fn migrated(settings: &Settings) -> Result<DbConnection, Failure> {
    let (backend, target) =
        crate::db::Backend::parse_url(&settings.database_url).map_err(|e| fail(2, e))?;
    if backend == crate::db::Backend::Sqlite && !std::path::Path::new(&target).is_file() {
        return Err(fail(
            1,
            format!(
                "there is no database at {target}: run `mashov migrate` (or `mashov serve`) \
                 first, or set MASHOV_DATABASE_URL to the server's database"
            ),
        ));
    }
    eprintln!(
        "mashov: database {}, links on {}",
        shown_url(&settings.database_url),
        settings.base_url
    );
    let mut conn = connect(settings)?;
    services::setup::migrate(&mut conn, SystemClock.now()).map_err(|e| fail(1, e))?;
    Ok(conn)
}

/// `VACUUM INTO` a new file beside the target, then renamed into place: a consistent copy (one
/// read transaction) that never blocks the writer, and never a half-written file at `out`.
fn backup(settings: &Settings, out: &std::path::Path) -> Result<(), Failure> {
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

/// A database URL as a command may print it: a PostgreSQL password is hidden.
fn shown_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((credentials, host)) => {
                let user = credentials.split(':').next().unwrap_or("");
                let hidden = if credentials.contains(':') {
                    ":***"
                } else {
                    ""
                };
                format!("{scheme}://{user}{hidden}@{host}")
            }
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

fn import_catalog(settings: &Settings, file: &std::path::Path) -> Result<(), Failure> {
    let meta = std::fs::metadata(file)
        .map_err(|e| fail(1, format!("cannot read {}: {e}", file.display())))?;
    if meta.len() > crate::domain::catalog::MAX_FILE_BYTES as u64 {
        return Err(fail(
            1,
            format!("{}: the file is larger than 8 MiB", file.display()),
        ));
    }
    let bytes =
        std::fs::read(file).map_err(|e| fail(1, format!("cannot read {}: {e}", file.display())))?;
    let catalog = parse_catalog(&bytes).map_err(|errors| {
        let lines: Vec<String> = errors
            .iter()
            .map(|e| format!("{}:{e}", file.display()))
            .collect();
        fail(
            1,
            format!(
                "{}\nnothing was imported from {}",
                lines.join("\n"),
                file.display()
            ),
        )
    })?;
    let mut conn = migrated(settings)?;
    let s = services::catalog::import(&mut conn, &catalog, SystemClock.now())
        .map_err(|e| fail(1, e))?;
    println!(
        "departments: {} added, {} updated; services: {} added, {} updated",
        s.departments_added, s.departments_updated, s.services_added, s.services_updated
    );
    Ok(())
}

fn serve(settings: Settings, demo: bool) -> Result<(), Failure> {
    let bind = settings.bind;
    let listener = std::net::TcpListener::bind(bind)
        .map_err(|e| fail(1, startup::StartupError::Bind(bind, e)))?;
    let state = startup::build_state(settings, Arc::new(SystemClock)).map_err(|e| match e {
        startup::StartupError::Config(c) => fail(2, c),
        other => fail(1, other),
    })?;
    let base_url = state.settings.base_url.clone();
    if demo {
        let mut conn = state.db.connection().map_err(|e| fail(1, e))?;
        let loaded = services::demo::load_if_empty(
            &mut conn,
            &state.key,
            &base_url,
            state.policy().link_ttl,
            SystemClock.now(),
        )
        .map_err(|e| fail(1, e))?;
        match loaded {
            Some(d) => {
                println!(
                    "demo city loaded: {} closed requests, {} answers over twelve weeks; \
                     {} employee answers about internal units over three months",
                    d.interactions, d.responses, d.employee_answers
                );
                println!("API key (demo): {}", d.api_key.expose());
                println!(
                    "management app: {base_url}/admin, sign in as admin@demo.example with the \
                     password {} (shown once)",
                    d.admin_password.expose()
                );
                println!("open survey link: {}", d.survey_url);
            }
            None => println!("the database already has a catalog; demo data not loaded"),
        }
    }
    println!(
        "mashov is listening on {base_url} (database: {:?})",
        state.settings.backend
    );
    let state = actix_web::web::Data::new(state);
    actix_web::rt::System::new()
        .block_on(async move {
            let server = startup::run(state.clone(), listener)?;
            let served = server.await;
            startup::wind_down(&state, std::time::Duration::from_secs(2)).await;
            served
        })
        .map_err(|e| fail(1, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_database_password_is_never_printed() {
        assert_eq!(
            super::shown_url("postgres://city:s3cret@db.example:5432/mashov"),
            "postgres://city:***@db.example:5432/mashov"
        );
        assert_eq!(
            super::shown_url("postgres://postgres@127.0.0.1/test"),
            "postgres://postgres@127.0.0.1/test"
        );
        assert_eq!(super::shown_url("sqlite://mashov.db"), "sqlite://mashov.db");
    }
}
