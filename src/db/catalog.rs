//! Departments and services. Upserts are update-then-insert (the multi-backend connection has
//! no ON CONFLICT); callers run them inside one write transaction.

use crate::domain::catalog::ServiceAudience;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{departments, services};
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = departments)]
pub struct DepartmentRow {
    pub code: String,
    pub name: String,
    pub names_i18n: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = services)]
pub struct ServiceRow {
    pub code: String,
    pub department_code: String,
    pub name: String,
    pub names_i18n: String,
    pub sla_days: i32,
    pub audience: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// False once the city stops offering it (no new interactions; its history stays).
    pub active: bool,
}

impl ServiceRow {
    pub fn serves(&self) -> ServiceAudience {
        ServiceAudience::of(&self.audience)
    }
}

/// Inserts or updates by code; returns true when the department was new.
pub fn upsert_department(conn: &mut DbConnection, row: &DepartmentRow) -> QueryResult<bool> {
    let updated = diesel::update(departments::table.find(&row.code))
        .set((
            departments::name.eq(&row.name),
            departments::names_i18n.eq(&row.names_i18n),
            departments::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(departments::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(updated == 0)
}

/// Inserts or updates by code (never changing whether it is offered); returns true when the
/// service was new.
pub fn upsert_service(conn: &mut DbConnection, row: &ServiceRow) -> QueryResult<bool> {
    let updated = diesel::update(services::table.find(&row.code))
        .set((
            services::department_code.eq(&row.department_code),
            services::name.eq(&row.name),
            services::names_i18n.eq(&row.names_i18n),
            services::sla_days.eq(row.sla_days),
            services::audience.eq(&row.audience),
            services::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    if updated == 0 {
        // A new service is offered (the column's default), named column by column so that the
        // statement also runs on a schema from before `active` (the upgrade tests build one).
        diesel::insert_into(services::table)
            .values((
                services::code.eq(&row.code),
                services::department_code.eq(&row.department_code),
                services::name.eq(&row.name),
                services::names_i18n.eq(&row.names_i18n),
                services::sla_days.eq(row.sla_days),
                services::audience.eq(&row.audience),
                services::created_at.eq(row.created_at),
                services::updated_at.eq(row.updated_at),
            ))
            .execute(conn)?;
    }
    Ok(updated == 0)
}

/// True when the code names a service for that audience (`residents` or `employees`).
pub fn service_serves(conn: &mut DbConnection, code: &str, audience: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        services::table
            .filter(services::code.eq(code))
            .filter(services::audience.eq(audience)),
    ))
    .get_result(conn)
}

/// Whether a service in the catalog is still offered (None: not in the catalog).
pub fn is_active(conn: &mut DbConnection, code: &str) -> QueryResult<Option<bool>> {
    services::table
        .find(code)
        .select(services::active)
        .first(conn)
        .optional()
}

/// A service's department and whether it is still offered (None: not in the catalog).
pub fn standing(conn: &mut DbConnection, code: &str) -> QueryResult<Option<(String, bool)>> {
    services::table
        .find(code)
        .select((services::department_code, services::active))
        .first(conn)
        .optional()
}

/// Offers a service again, or stops offering it; returns how many rows changed (0 or 1).
pub fn set_active(
    conn: &mut DbConnection,
    code: &str,
    active: bool,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        services::table
            .find(code)
            .filter(services::active.eq(!active)),
    )
    .set((services::active.eq(active), services::updated_at.eq(now)))
    .execute(conn)
}

pub fn all_services(conn: &mut DbConnection) -> QueryResult<Vec<ServiceRow>> {
    services::table
        .order(services::code.asc())
        .select(ServiceRow::as_select())
        .load(conn)
}

pub fn count_departments(conn: &mut DbConnection) -> QueryResult<i64> {
    departments::table.count().get_result(conn)
}

pub fn all_departments(conn: &mut DbConnection) -> QueryResult<Vec<DepartmentRow>> {
    departments::table
        .order(departments::code.asc())
        .select(DepartmentRow::as_select())
        .load(conn)
}
