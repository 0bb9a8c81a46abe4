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

pub(crate) fn names_json(names: &BTreeMap<Language, String>) -> String {
    serde_json::to_string(names).unwrap_or_else(|_| "{}".to_string())
}

/// Stores a catalog file's departments and services (adding or updating by code; nothing is
/// deleted, and whether a service is offered is left as it is).
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
                active: true,
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

/// A catalog name in `lang`, from the row's JSON of translations; the Hebrew name where it has
/// none.
pub fn localized(
    names_i18n: &str,
    lang: crate::domain::language::Language,
    fallback: &str,
) -> String {
    let names: std::collections::BTreeMap<crate::domain::language::Language, String> =
        serde_json::from_str(names_i18n).unwrap_or_default();
    names
        .get(&lang)
        .filter(|n| !n.is_empty())
        .cloned()
        .unwrap_or_else(|| fallback.to_string())
}

/// Every department's and service's name in `lang`, by code (codes never clash: a service's
/// code is prefixed by its department's).
pub fn names(
    conn: &mut DbConnection,
    lang: crate::domain::language::Language,
) -> Result<std::collections::HashMap<String, String>, crate::db::DbError> {
    let mut out = std::collections::HashMap::new();
    for d in db::catalog::all_departments(conn)? {
        out.insert(d.code.clone(), localized(&d.names_i18n, lang, &d.name));
    }
    for s in db::catalog::all_services(conn)? {
        out.insert(s.code.clone(), localized(&s.names_i18n, lang, &s.name));
    }
    Ok(out)
}

/// The department a service belongs to (None for a code not in the catalog).
pub fn department_of(conn: &mut DbConnection, service: &str) -> Result<Option<String>, DbError> {
    Ok(db::catalog::all_services(conn)?
        .into_iter()
        .find(|s| s.code == service)
        .map(|s| s.department_code))
}

/// Those of `codes` that are not departments of the catalog, joined for a message (empty when
/// all are).
pub fn unknown_departments(conn: &mut DbConnection, codes: &[String]) -> Result<String, DbError> {
    let known: Vec<String> = db::catalog::all_departments(conn)?
        .into_iter()
        .map(|d| d.code)
        .collect();
    Ok(codes
        .iter()
        .filter(|c| !known.contains(c))
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", "))
}

/// Whether a department is in the catalog.
pub fn has_department(conn: &mut DbConnection, code: &str) -> Result<bool, DbError> {
    Ok(db::catalog::all_departments(conn)?
        .iter()
        .any(|d| d.code == code))
}

/// One department of the catalog with its services, as a CRM reads it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Listed {
    pub code: String,
    pub name: String,
    pub names: BTreeMap<String, String>,
    pub services: Vec<ListedService>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ListedService {
    pub code: String,
    pub name: String,
    pub names: BTreeMap<String, String>,
    pub audience: String,
    pub sla_days: i32,
    /// False for a service the city no longer offers (new interactions are refused).
    pub active: bool,
}

/// The departments (only those in `scope`) and their services, by code.
pub fn listing(
    conn: &mut DbConnection,
    scope: &crate::domain::account::Scope,
) -> Result<Vec<Listed>, DbError> {
    let names =
        |text: &str| -> BTreeMap<String, String> { serde_json::from_str(text).unwrap_or_default() };
    let services = db::catalog::all_services(conn)?;
    let mut out: Vec<Listed> = db::catalog::all_departments(conn)?
        .into_iter()
        .filter(|d| scope.allows(&d.code))
        .map(|d| Listed {
            services: services
                .iter()
                .filter(|s| s.department_code == d.code)
                .map(|s| ListedService {
                    code: s.code.clone(),
                    name: s.name.clone(),
                    names: names(&s.names_i18n),
                    audience: s.audience.clone(),
                    sla_days: s.sla_days,
                    active: s.active,
                })
                .collect(),
            names: names(&d.names_i18n),
            name: d.name,
            code: d.code,
        })
        .collect();
    out.sort_by(|a, b| a.code.cmp(&b.code));
    for d in &mut out {
        d.services.sort_by(|a, b| a.code.cmp(&b.code));
    }
    Ok(out)
}

/// The catalog as a picker shows it: departments, and services with their department, each
/// with its name in `lang`, sorted by name.
pub struct Picker {
    pub departments: Vec<(String, String)>,
    /// (code, name, department code)
    pub services: Vec<(String, String, String)>,
}

pub fn picker(conn: &mut DbConnection, lang: Language) -> Result<Picker, DbError> {
    let mut departments: Vec<(String, String)> = db::catalog::all_departments(conn)?
        .into_iter()
        .map(|d| {
            let name = localized(&d.names_i18n, lang, &d.name);
            (d.code, name)
        })
        .collect();
    departments.sort_by(|a, b| a.1.cmp(&b.1));
    let mut services: Vec<(String, String, String)> = db::catalog::all_services(conn)?
        .into_iter()
        .map(|s| {
            let name = localized(&s.names_i18n, lang, &s.name);
            (s.code, name, s.department_code)
        })
        .collect();
    services.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(Picker {
        departments,
        services,
    })
}
