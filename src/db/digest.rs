//! Recipients of the weekly digest.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::digest_recipients;
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = digest_recipients)]
pub struct DigestRecipientRow {
    pub id: String,
    pub email: String,
    pub language: String,
    /// Comma-separated department codes; empty for the whole city.
    pub departments: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Adds a recipient, or changes the language and scope of one with that address; returns true
/// when the address was new.
pub fn upsert(conn: &mut DbConnection, row: &DigestRecipientRow) -> QueryResult<bool> {
    let updated =
        diesel::update(digest_recipients::table.filter(digest_recipients::email.eq(&row.email)))
            .set((
                digest_recipients::language.eq(&row.language),
                digest_recipients::departments.eq(&row.departments),
                digest_recipients::updated_at.eq(row.updated_at),
            ))
            .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(digest_recipients::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(updated == 0)
}

pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<DigestRecipientRow>> {
    digest_recipients::table
        .order(digest_recipients::email.asc())
        .select(DigestRecipientRow::as_select())
        .load(conn)
}

pub fn find_by_email(
    conn: &mut DbConnection,
    email: &str,
) -> QueryResult<Option<DigestRecipientRow>> {
    digest_recipients::table
        .filter(digest_recipients::email.eq(email))
        .select(DigestRecipientRow::as_select())
        .first(conn)
        .optional()
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<DigestRecipientRow>> {
    digest_recipients::table
        .find(id)
        .select(DigestRecipientRow::as_select())
        .first(conn)
        .optional()
}

pub fn remove(conn: &mut DbConnection, email: &str) -> QueryResult<usize> {
    diesel::delete(digest_recipients::table.filter(digest_recipients::email.eq(email)))
        .execute(conn)
}
