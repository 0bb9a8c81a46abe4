//! The catalog as a file, from the admin app: what a file would change (shown before it is
//! applied), applying it with its entry in the change log, and the whole catalog written as a
//! file that `mashov catalog import` reads back.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::audit::{self, Action, Actor, Change};
use super::catalog::{import, ImportSummary};
use super::catalog_edit::CatalogError;
use crate::db::{self, catalog::DepartmentRow, DbConnection, DbError};
use crate::domain::catalog::{Catalog, ServiceAudience};
use crate::domain::language::Language;

/// What a file would do to one department or service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Planned {
    New,
    /// The fields that would change.
    Changed(Vec<&'static str>),
    Same,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedLine {
    pub service: bool,
    pub code: String,
    pub name: String,
    pub plan: Planned,
}

/// What importing `catalog` would change, department by department and service by service,
/// and how many services in the database the file does not name (they are kept).
pub fn preview(
    conn: &mut DbConnection,
    catalog: &Catalog,
) -> Result<(Vec<PlannedLine>, usize), DbError> {
    let departments: BTreeMap<String, DepartmentRow> = db::catalog::all_departments(conn)?
        .into_iter()
        .map(|d| (d.code.clone(), d))
        .collect();
    let services: BTreeMap<String, db::catalog::ServiceRow> = db::catalog::all_services(conn)?
        .into_iter()
        .map(|s| (s.code.clone(), s))
        .collect();
    let names_of = |json: &str| -> BTreeMap<Language, String> {
        serde_json::from_str(json).unwrap_or_default()
    };
    let mut lines = Vec::new();
    for d in &catalog.departments {
        let plan = match departments.get(&d.code) {
            None => Planned::New,
            Some(old) => {
                let mut changed = Vec::new();
                if old.name != d.name {
                    changed.push("name");
                }
                if names_of(&old.names_i18n) != d.names {
                    changed.push("translations");
                }
                if changed.is_empty() {
                    Planned::Same
                } else {
                    Planned::Changed(changed)
                }
            }
        };
        lines.push(PlannedLine {
            service: false,
            code: d.code.clone(),
            name: d.name.clone(),
            plan,
        });
    }
    for s in &catalog.services {
        let plan = match services.get(&s.code) {
            None => Planned::New,
            Some(old) => {
                let mut changed = Vec::new();
                if old.department_code != s.department_code {
                    changed.push("department");
                }
                if old.name != s.name {
                    changed.push("name");
                }
                if names_of(&old.names_i18n) != s.names {
                    changed.push("translations");
                }
                if old.sla_days != s.sla_days {
                    changed.push("sla");
                }
                if old.audience != s.audience.as_str() {
                    changed.push("audience");
                }
                if changed.is_empty() {
                    Planned::Same
                } else {
                    Planned::Changed(changed)
                }
            }
        };
        lines.push(PlannedLine {
            service: true,
            code: s.code.clone(),
            name: s.name.clone(),
            plan,
        });
    }
    let named: std::collections::BTreeSet<&str> =
        catalog.services.iter().map(|s| s.code.as_str()).collect();
    let kept = services
        .keys()
        .filter(|c| !named.contains(c.as_str()))
        .count();
    Ok((lines, kept))
}

/// Imports a whole file and logs it.
pub fn import_logged(
    conn: &mut DbConnection,
    catalog: &Catalog,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<ImportSummary, CatalogError> {
    db::write_transaction(conn, |c| {
        let summary = import(c, catalog, now)?;
        let after = json!({
            "departments_added": summary.departments_added,
            "departments_updated": summary.departments_updated,
            "services_added": summary.services_added,
            "services_updated": summary.services_updated,
        });
        let change = Change {
            action: Action::CatalogImported,
            target: "catalog",
            before: None,
            after: Some(after),
        };
        audit::record(c, actor, change, now)?;
        Ok(summary)
    })
}

/// The whole catalog as a file `catalog import` reads back (names in every language, audience).
pub fn export_csv(conn: &mut DbConnection) -> Result<Vec<u8>, DbError> {
    let departments: BTreeMap<String, DepartmentRow> = db::catalog::all_departments(conn)?
        .into_iter()
        .map(|d| (d.code.clone(), d))
        .collect();
    let mut services = db::catalog::all_services(conn)?;
    services.sort_by(|a, b| (&a.department_code, &a.code).cmp(&(&b.department_code, &b.code)));
    let names_of = |json: &str| -> BTreeMap<Language, String> {
        serde_json::from_str(json).unwrap_or_default()
    };
    let mut header: Vec<String> = crate::domain::catalog::REQUIRED_HEADER
        .iter()
        .map(|h| h.to_string())
        .collect();
    let others = [Language::Ar, Language::En, Language::Ru];
    for lang in others {
        header.push(format!("department_name_{}", lang.code()));
        header.push(format!("service_name_{}", lang.code()));
    }
    header.push("audience".into());
    // Whether the city still offers it; an import reads past this column (offering a service
    // or not is done one service at a time, with its own entry in the change log).
    header.push("active".into());
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| DbError::Commit(format!("writing the catalog: {e}"));
    w.write_record(&header).map_err(fail)?;
    for s in &services {
        let Some(d) = departments.get(&s.department_code) else {
            continue;
        };
        let (dn, sn) = (names_of(&d.names_i18n), names_of(&s.names_i18n));
        let mut row = vec![
            d.code.clone(),
            d.name.clone(),
            s.code.clone(),
            s.name.clone(),
            s.sla_days.to_string(),
        ];
        for lang in others {
            row.push(dn.get(&lang).cloned().unwrap_or_default());
            row.push(sn.get(&lang).cloned().unwrap_or_default());
        }
        row.push(match s.audience.as_str() {
            "employees" => ServiceAudience::Employees.as_str().to_string(),
            _ => ServiceAudience::Residents.as_str().to_string(),
        });
        row.push(s.active.to_string());
        w.write_record(&row).map_err(fail)?;
    }
    w.into_inner()
        .map_err(|e| DbError::Commit(format!("writing the catalog: {e}")))
}
