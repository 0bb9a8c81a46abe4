//! Changing the catalog from the admin app: one department or service at a time, and offering a
//! service or not (a whole file is `catalog_file`'s). Every change goes
//! through the same checks as `mashov catalog import` (a service is checked by reading it as a
//! one-line catalog file) and is written to the change log in its transaction.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::audit::{self, Action, Actor, Change};
use super::catalog::{import, names_json};
use crate::db::{self, catalog::DepartmentRow, DbConnection, DbError};
use crate::domain::catalog::{is_valid_code, problem, refused, Catalog, LineError};
use crate::domain::language::Language;

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The file or form, with every refused line.
    #[error("the catalog was refused")]
    Refused(Vec<LineError>),
    #[error("{0} is not in the catalog")]
    NotFound(String),
    #[error(transparent)]
    Db(DbError),
}
super::db_error_from!(CatalogError);

/// A department from the form: its code, Hebrew name and translations.
pub struct DepartmentForm {
    pub code: String,
    pub name: String,
    pub names: BTreeMap<Language, String>,
}

/// Adds or renames a department.
pub fn save_department(
    conn: &mut DbConnection,
    form: &DepartmentForm,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), CatalogError> {
    let mut problems = Vec::new();
    if !is_valid_code(&form.code) {
        problems.push(problem(
            "department_code",
            &[("code", &form.code)],
            format!(
                "department_code {:?} must be lower-case letters, digits, '.', '_' or '-'",
                form.code
            ),
        ));
    }
    let too_long = std::iter::once(&form.name)
        .chain(form.names.values())
        .any(|name| name.chars().count() > 200 || name.chars().any(char::is_control));
    if too_long || form.name.trim().is_empty() {
        problems.push(problem(
            "department_name",
            &[],
            "department_name must have 1 to 200 characters".into(),
        ));
    }
    if !problems.is_empty() {
        return Err(CatalogError::Refused(vec![refused(0, problems)]));
    }
    let row = DepartmentRow {
        code: form.code.clone(),
        name: form.name.trim().to_string(),
        names_i18n: names_json(&form.names),
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
    };
    db::write_transaction(conn, |c| {
        let before = db::catalog::all_departments(c)?
            .into_iter()
            .find(|d| d.code == row.code)
            .map(|d| json!({ "name": d.name, "names": d.names_i18n }));
        db::catalog::upsert_department(c, &row)?;
        let change = Change {
            action: Action::DepartmentSaved,
            target: &row.code,
            before,
            after: Some(json!({ "name": row.name, "names": row.names_i18n })),
        };
        audit::record(c, actor, change, now)?;
        Ok(())
    })
}

/// A service from the form.
pub struct ServiceForm {
    pub department_code: String,
    pub code: String,
    pub name: String,
    pub names: BTreeMap<Language, String>,
    pub sla_days: String,
    pub audience: String,
}

/// Adds or changes a service, checked exactly as a catalog file's line is; its department
/// must exist, and keeps its names.
pub fn save_service(
    conn: &mut DbConnection,
    form: &ServiceForm,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), CatalogError> {
    db::write_transaction(conn, |c| {
        let Some(dept) = db::catalog::all_departments(c)?
            .into_iter()
            .find(|d| d.code == form.department_code)
        else {
            return Err(CatalogError::NotFound(form.department_code.clone()));
        };
        let dept_names: BTreeMap<Language, String> =
            serde_json::from_str(&dept.names_i18n).unwrap_or_default();
        let catalog = one_line_catalog(&dept.name, &dept_names, form)?;
        let before = db::catalog::all_services(c)?
            .into_iter()
            .find(|s| s.code == form.code)
            .map(|s| {
                service_value(
                    &s.department_code,
                    &s.name,
                    &s.names_i18n,
                    s.sla_days,
                    &s.audience,
                )
            });
        import(c, &catalog, now)?;
        let after = catalog.services.first().map(|s| {
            service_value(
                &s.department_code,
                &s.name,
                &names_json(&s.names),
                s.sla_days,
                s.audience.as_str(),
            )
        });
        let change = Change {
            action: Action::ServiceSaved,
            target: &form.code,
            before,
            after,
        };
        audit::record(c, actor, change, now)?;
        Ok(())
    })
}

fn service_value(
    dept: &str,
    name: &str,
    names: &str,
    sla: i32,
    audience: &str,
) -> serde_json::Value {
    json!({ "department": dept, "name": name, "names": names, "sla_days": sla, "audience": audience })
}

/// The form as a catalog file of one line, read by the file's own parser.
fn one_line_catalog(
    dept_name: &str,
    dept_names: &BTreeMap<Language, String>,
    form: &ServiceForm,
) -> Result<Catalog, CatalogError> {
    let mut header: Vec<String> = crate::domain::catalog::REQUIRED_HEADER
        .iter()
        .map(|h| h.to_string())
        .collect();
    let mut row = vec![
        form.department_code.clone(),
        dept_name.to_string(),
        form.code.clone(),
        form.name.clone(),
        form.sla_days.clone(),
    ];
    for lang in [Language::Ar, Language::En, Language::Ru] {
        header.push(format!("department_name_{}", lang.code()));
        row.push(dept_names.get(&lang).cloned().unwrap_or_default());
        header.push(format!("service_name_{}", lang.code()));
        row.push(form.names.get(&lang).cloned().unwrap_or_default());
    }
    header.push("audience".into());
    row.push(form.audience.clone());
    let mut w = csv::Writer::from_writer(Vec::new());
    let written = w.write_record(&header).and_then(|()| w.write_record(&row));
    let bytes = written
        .map_err(|e| e.to_string())
        .and_then(|()| w.into_inner().map_err(|e| e.to_string()))
        .map_err(|e| CatalogError::Refused(vec![LineError::new(0, e)]))?;
    // A form has no lines: its problems are the form's own.
    crate::domain::catalog::parse_catalog(&bytes).map_err(|lines| {
        CatalogError::Refused(
            lines
                .into_iter()
                .map(|l| LineError { line: 0, ..l })
                .collect(),
        )
    })
}

/// Offers a service again or stops offering it (its history stays; a deactivated service
/// accepts no new interactions).
pub fn set_offered(
    conn: &mut DbConnection,
    code: &str,
    offered: bool,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), CatalogError> {
    db::write_transaction(conn, |c| {
        match db::catalog::is_active(c, code)? {
            None => return Err(CatalogError::NotFound(code.to_string())),
            Some(now_offered) if now_offered == offered => return Ok(()),
            Some(_) => {}
        }
        db::catalog::set_active(c, code, offered, now.naive_utc())?;
        let change = Change {
            action: if offered {
                Action::ServiceReactivated
            } else {
                Action::ServiceDeactivated
            },
            target: code,
            before: Some(json!({ "active": !offered })),
            after: Some(json!({ "active": offered })),
        };
        audit::record(c, actor, change, now)?;
        Ok(())
    })
}
