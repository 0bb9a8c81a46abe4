//! The `mashov` command line. Exit codes: 0 done, 1 the work failed (bad file, unreachable
//! database), 2 bad usage or configuration.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

mod apikey;
mod campaign;
mod digest;
mod export;
mod ops;
mod progress;
mod user;

use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::db::{connection::Manager, DbConnection};
use crate::domain::catalog::parse_catalog;
use crate::services;
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
        command: apikey::ApikeyCommand,
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
        command: ops::OutboxCommand,
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
        command: ops::PrivacyCommand,
    },
    /// The audit log: set-up changes, reads of personal data and exports.
    Audit {
        #[command(subcommand)]
        command: ops::AuditCommand,
    },
}

#[derive(Subcommand)]
enum CatalogCommand {
    /// Load or update departments and services from a UTF-8 CSV file.
    Import { file: PathBuf },
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
        Command::Backup { out } => ops::backup(&settings, &out),
        Command::Privacy { command } => ops::privacy(&settings, command),
        Command::Audit {
            command: ops::AuditCommand::List { limit, reads },
        } => ops::audit(&settings, limit, reads),
        Command::Outbox { command } => ops::outbox(&settings, command),
        Command::Apikey { command } => apikey::run(&settings, command),
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
                // A report that includes today, so that an answer given now shows at once.
                let today = crate::domain::period::local_day(SystemClock.now());
                println!(
                    "report (the demo's twelve weeks through today): curl -H 'Authorization: \
                     Bearer {}' '{base_url}/api/v1/reports/summary?from={}&to={today}'",
                    d.api_key.expose(),
                    today - chrono::Duration::weeks(12)
                );
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
