//! `mashov campaign …`: periodic internal-service surveys of employees.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use clap::Subcommand;

use super::progress::Progress;
use super::{fail, migrated, Failure};
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::db;
use crate::domain::period::parse_day;
use crate::domain::recipients::parse_recipients;
use crate::services::campaigns::{self, CampaignError, LaunchContext};

/// The largest recipients file read (a city's whole staff fits many times over).
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Subcommand)]
pub enum CampaignCommand {
    /// Create a campaign; prints its id.
    Create {
        #[arg(long)]
        name: String,
        /// First day (YYYY-MM-DD): emails go out that morning.
        #[arg(long, value_parser = day)]
        opens: Option<NaiveDate>,
        /// Last day (YYYY-MM-DD): links work until its end.
        #[arg(long, value_parser = day)]
        closes: Option<NaiveDate>,
    },
    /// Add employees from a CSV file with the header email,department_code,language.
    AddRecipients { id: String, file: PathBuf },
    /// Give every recipient a link, and email it where email is configured.
    Launch { id: String },
    /// Write every recipient's address and link to a CSV file.
    Links {
        id: String,
        #[arg(long, value_name = "FILE.csv")]
        out: PathBuf,
    },
    /// Close: links expire, addresses are deleted, counts are kept.
    Close { id: String },
    /// Campaigns with their counts.
    List,
}

fn day(text: &str) -> Result<NaiveDate, String> {
    parse_day(text).ok_or_else(|| format!("{text:?} is not a date such as 2026-12-01"))
}

fn failure(e: CampaignError) -> Failure {
    match e {
        CampaignError::Db(e) => fail(1, e),
        other => fail(1, other),
    }
}

pub fn run(settings: &Settings, command: CampaignCommand) -> Result<(), Failure> {
    let now = SystemClock.now();
    let mut conn = migrated(settings)?;
    match command {
        CampaignCommand::Create {
            name,
            opens,
            closes,
        } => {
            let c = campaigns::create(&mut conn, &name, opens, closes, now).map_err(failure)?;
            eprintln!("created campaign {:?}", c.name);
            println!("{}", c.id);
        }
        CampaignCommand::AddRecipients { id, file } => add_recipients(&mut conn, &id, &file)?,
        CampaignCommand::Launch { id } => {
            let key = settings.server_key().map_err(|e| fail(2, e))?;
            let policy =
                crate::services::city::policy(&mut conn, settings).map_err(|e| fail(1, e))?;
            let ctx = LaunchContext {
                key: &key,
                link_ttl: policy.link_ttl,
                rules: &policy.send_rules,
                message_domain: settings.mail_from.email.domain(),
                email: settings.smtp.is_some(),
                now,
            };
            let l = campaigns::launch(&mut conn, &ctx, &id).map_err(failure)?;
            println!("invited {}; emails queued {}", l.invited, l.emails);
            if settings.smtp.is_none() {
                println!(
                    "email is not configured (MASHOV_SMTP_URL): send the links yourself, \
                     from `mashov campaign links {id} --out links.csv`"
                );
            }
        }
        CampaignCommand::Links { id, out } => {
            let key = settings.server_key().map_err(|e| fail(2, e))?;
            let links =
                campaigns::links(&mut conn, &key, &settings.base_url, &id).map_err(failure)?;
            write_links(&out, &links)?;
            println!("wrote {} links to {}", links.len(), out.display());
        }
        CampaignCommand::Close { id } => {
            let key = settings.server_key().map_err(|e| fail(2, e))?;
            let (c, drained) =
                campaigns::close(&mut conn, &id, &key.inbox_key(), now).map_err(failure)?;
            println!(
                "closed: {} recipients, {} invited, {} answered; addresses deleted",
                c.recipients, c.invited, c.answered
            );
            if drained.unreadable > 0 {
                eprintln!(
                    "warning: {} sealed answers cannot be opened with this server key; they \
                     stay in the database until the key they were sealed with is configured \
                     (MASHOV_SECRET or MASHOV_SECRET_FILE)",
                    drained.unreadable
                );
            }
        }
        CampaignCommand::List => {
            println!(
                "{:<12} {:<9} {:>10} {:>8} {:>8}  NAME",
                "ID", "STATUS", "RECIPIENTS", "INVITED", "ANSWERED"
            );
            for (c, n) in campaigns::list(&mut conn).map_err(failure)? {
                println!(
                    "{:<12} {:<9} {:>10} {:>8} {:>8}  {}",
                    c.id, c.status, n.recipients, n.invited, n.answered, c.name
                );
            }
        }
    }
    Ok(())
}

fn add_recipients(conn: &mut db::DbConnection, id: &str, file: &Path) -> Result<(), Failure> {
    let shown = file.display();
    let meta = std::fs::metadata(file).map_err(|e| fail(1, format!("cannot read {shown}: {e}")))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(fail(1, format!("{shown}: the file is larger than 64 MiB")));
    }
    let bytes = std::fs::read(file).map_err(|e| fail(1, format!("cannot read {shown}: {e}")))?;
    let departments: HashSet<String> = db::catalog::all_departments(conn)
        .map_err(|e| fail(1, e))?
        .into_iter()
        .map(|d| d.code)
        .collect();
    let mut progress = Progress::new("reading", bytes.len() as u64);
    let parsed = parse_recipients(
        &bytes,
        |d| departments.contains(d),
        |done| progress.set(done),
    );
    progress.finish();
    let list = parsed.map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(|e| format!("{shown}:{e}")).collect();
        fail(
            1,
            format!("{}\nnothing was added from {shown}", lines.join("\n")),
        )
    })?;
    db::connection::prepare_bulk_write(conn).map_err(|e| fail(1, e))?;
    let added = campaigns::add_recipients(conn, id, &list, SystemClock.now()).map_err(failure)?;
    println!(
        "added {}; merged {} duplicate lines; {} already in the campaign",
        added.added, added.merged_in_file, added.already_in_campaign
    );
    Ok(())
}

/// Writes `email,link` with a byte-order mark and CRLF, as Excel expects; to a temporary file
/// first, so that a failure never leaves half a file.
fn write_links(out: &Path, links: &[(String, String)]) -> Result<(), Failure> {
    let tmp = out.with_extension("csv.partial");
    let write = || -> Result<(), Box<dyn std::error::Error>> {
        let mut file = std::fs::File::create(&tmp)?;
        std::io::Write::write_all(&mut file, b"\xEF\xBB\xBF")?;
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(file);
        w.write_record(["email", "link"])?;
        for (email, link) in links {
            w.write_record([email, link])?;
        }
        w.flush()?;
        drop(w);
        std::fs::rename(&tmp, out)?;
        Ok(())
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail(1, format!("cannot write {}: {e}", out.display()))
    })
}
