//! Importing the service catalog: the whole file in one transaction, or nothing.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::db::{self, catalog::DepartmentRow, catalog::ServiceRow, DbConnection, DbError};
use crate::domain::catalog::Catalog;
use crate::domain::language::Language;

/// What an import changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    pub departments_added: usize,
    pub departments_updated: usize,
    pub services_added: usize,
    pub services_updated: usize,
}

fn names_json(names: &BTreeMap<Language, String>) -> String {
    serde_json::to_string(names).unwrap_or_else(|_| "{}".to_string())
}

pub fn import(
    conn: &mut DbConnection,
    catalog: &Catalog,
    now: DateTime<Utc>,
) -> Result<ImportSummary, DbError> {
    let now = now.naive_utc();
    let mut summary = ImportSummary::default();
    db::write_transaction(conn, |conn| {
        for d in &catalog.departments {
            let row = DepartmentRow {
                code: d.code.clone(),
                name: d.name.clone(),
                names_i18n: names_json(&d.names),
                created_at: now,
                updated_at: now,
            };
            if db::catalog::upsert_department(conn, &row)? {
                summary.departments_added += 1;
            } else {
                summary.departments_updated += 1;
            }
        }
        for s in &catalog.services {
            let row = ServiceRow {
                code: s.code.clone(),
                department_code: s.department_code.clone(),
                name: s.name.clone(),
                names_i18n: names_json(&s.names),
                sla_days: s.sla_days,
                audience: s.audience.as_str().to_string(),
                created_at: now,
                updated_at: now,
            };
            if db::catalog::upsert_service(conn, &row)? {
                summary.services_added += 1;
            } else {
                summary.services_updated += 1;
            }
        }
        Ok::<_, diesel::result::Error>(())
    })?;
    Ok(summary)
}
