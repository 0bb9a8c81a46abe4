//! `mashov export responses`: every response in a period to a CSV or Excel file, page by page.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Subcommand, ValueEnum};

use super::progress::Progress;
use super::{fail, migrated, Failure};
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::db::DbConnection;
use crate::domain::report::parse_report_params;
use crate::services::export::{self, csv_chunk, Cell, ExportPlan};
use crate::services::reports::{ReportContext, ReportQueryError};
use crate::templates::Templates;

/// Excel's last row (1,048,576) less the header.
const XLSX_MAX_ROWS: i64 = 1_048_575;

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Csv,
    Xlsx,
}

#[derive(Subcommand)]
pub enum ExportCommand {
    /// One row per response, one column per question, headers in Hebrew.
    Responses {
        /// First day (YYYY-MM-DD, Asia/Jerusalem).
        #[arg(long)]
        from: String,
        /// Last day, included.
        #[arg(long)]
        to: String,
        #[arg(long, value_enum, default_value = "csv")]
        format: Format,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// resident (default) or employee.
        #[arg(long)]
        audience: Option<String>,
        #[arg(long)]
        department: Option<String>,
        #[arg(long)]
        service: Option<String>,
        #[arg(long)]
        channel: Option<String>,
    },
}

fn query_failure(e: ReportQueryError) -> Failure {
    match e {
        ReportQueryError::Invalid(fields) => fail(
            2,
            fields
                .iter()
                .map(|(k, v)| format!("--{k} {v}"))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        ReportQueryError::Db(e) => fail(1, e),
    }
}

pub fn run(settings: &Settings, command: ExportCommand) -> Result<(), Failure> {
    let ExportCommand::Responses {
        from,
        to,
        format,
        out,
        audience,
        department,
        service,
        channel,
    } = command;
    let mut pairs = vec![("from".to_string(), from), ("to".to_string(), to)];
    for (k, v) in [
        ("audience", audience),
        ("department", department),
        ("service", service),
        ("channel", channel),
    ] {
        if let Some(v) = v {
            pairs.push((k.to_string(), v));
        }
    }
    let (params, _) = parse_report_params(&pairs, &[])
        .map_err(|e| query_failure(ReportQueryError::Invalid(e)))?;
    let templates = Templates::load().map_err(|e| fail(1, e))?;
    let mut conn = migrated(settings)?;
    let key = settings.server_key().map_err(|e| fail(2, e))?;
    let ctx = ReportContext {
        min_group_size: crate::services::city::policy(&mut conn, settings)
            .map_err(|e| fail(1, e))?
            .min_group_size,
        now: SystemClock.now(),
        questions: false,
    };
    crate::services::reports::refresh(&mut conn, &key.inbox_key(), ctx.now)
        .map_err(|e| fail(1, e))?;
    let plan = export::plan(&mut conn, &templates, &ctx, &params).map_err(query_failure)?;
    if matches!(format, Format::Xlsx) && plan.expected > XLSX_MAX_ROWS {
        return Err(fail(
            1,
            format!(
                "{} responses do not fit in one Excel sheet ({XLSX_MAX_ROWS} rows): use --format csv or a shorter period",
                plan.expected
            ),
        ));
    }
    crate::services::audit::record_read(
        &mut conn,
        &crate::services::audit::Actor::command_line(),
        crate::services::audit::Action::Exported,
        &out.display().to_string(),
        serde_json::json!({
            "audience": plan.audience.as_str(),
            "from": plan.filter.from_day,
            "to": plan.filter.to_day,
        }),
        ctx.now,
    )
    .map_err(|e| fail(1, e))?;
    let tmp = out.with_extension("partial");
    let written = match format {
        Format::Csv => write_csv(&mut conn, &plan, &tmp),
        Format::Xlsx => write_xlsx(&mut conn, &plan, &templates, &tmp),
    };
    let rows = written
        .and_then(|n| {
            std::fs::rename(&tmp, &out)
                .map(|_| n)
                .map_err(|e| e.to_string())
        })
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            fail(1, format!("cannot write {}: {e}", out.display()))
        })?;
    println!("wrote {rows} responses to {}", out.display());
    Ok(())
}

/// Reads every page, handing each to `sink`; returns the number of rows.
fn pages(
    conn: &mut DbConnection,
    plan: &ExportPlan,
    mut sink: impl FnMut(&[Vec<Cell>]) -> Result<(), String>,
) -> Result<u64, String> {
    let mut progress = Progress::new("exporting", plan.expected.max(1) as u64);
    let mut after = None;
    let mut rows = 0u64;
    loop {
        let (page, next) = export::page(conn, plan, after.as_ref()).map_err(|e| e.to_string())?;
        rows += page.len() as u64;
        sink(&page)?;
        progress.set(rows);
        match next {
            Some(key) => after = Some(key),
            None => break,
        }
    }
    progress.finish();
    Ok(rows)
}

fn write_csv(conn: &mut DbConnection, plan: &ExportPlan, path: &Path) -> Result<u64, String> {
    let file = std::fs::File::create(path).map_err(|e| e.to_string())?;
    let mut w = std::io::BufWriter::new(file);
    w.write_all(&csv_chunk(Some(&plan.headers), &[]))
        .map_err(|e| e.to_string())?;
    let rows = pages(conn, plan, |page| {
        w.write_all(&csv_chunk(None, page))
            .map_err(|e| e.to_string())
    })?;
    w.flush().map_err(|e| e.to_string())?;
    w.get_ref().sync_all().map_err(|e| e.to_string())?;
    Ok(rows)
}

fn write_xlsx(
    conn: &mut DbConnection,
    plan: &ExportPlan,
    templates: &Templates,
    path: &Path,
) -> Result<u64, String> {
    use rust_xlsxwriter::Workbook;
    let mut workbook = Workbook::new();
    let sheet = workbook
        .add_worksheet_with_constant_memory()
        .map_err(|e| e.to_string())?;
    sheet
        .set_name(templates.text(crate::domain::language::Language::He, "export.sheet"))
        .map_err(|e| e.to_string())?;
    sheet.set_right_to_left(true);
    sheet.set_freeze_panes(1, 0).map_err(|e| e.to_string())?;
    for (col, h) in plan.headers.iter().enumerate() {
        sheet
            .write_string(0, col_num(col)?, h.as_str())
            .map_err(|e| e.to_string())?;
    }
    let mut row: u32 = 0;
    let rows = pages(conn, plan, |page| {
        for cells in page {
            row += 1;
            for (col, cell) in cells.iter().enumerate() {
                let col = col_num(col)?;
                match cell {
                    Cell::Int(n) => sheet.write_number(row, col, *n as f64).map(|_| ()),
                    Cell::Text(t) => sheet.write_string(row, col, t.as_str()).map(|_| ()),
                    Cell::Empty => Ok(()),
                }
                .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    })?;
    workbook.save(path).map_err(|e| e.to_string())?;
    Ok(rows)
}

fn col_num(col: usize) -> Result<u16, String> {
    u16::try_from(col).map_err(|_| "too many columns".to_string())
}
