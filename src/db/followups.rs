//! Follow-up cases and their notes.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{followup_notes, followups, interactions, invitations, services};
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = followups)]
pub struct FollowupRow {
    pub id: String,
    pub response_id: String,
    pub department_code: String,
    pub service_code: String,
    pub reason: String,
    pub status: String,
    pub opened_on: String,
    pub due_on: String,
    pub closed_on: Option<String>,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub opened_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The management user who took the case.
    pub assignee_id: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = followup_notes)]
pub struct NoteRow {
    pub id: String,
    pub followup_id: String,
    pub status: String,
    pub note: String,
    pub created_at: NaiveDateTime,
    /// Who wrote it (a management user); None for notes written through the API.
    pub author_id: Option<String>,
}

/// What a case needs from the answered invitation: the service's department and SLA, and the
/// resident's contact details.
#[derive(Debug, Clone, Queryable)]
pub struct CaseSource {
    pub department_code: String,
    pub sla_days: i32,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
}

pub fn case_source(conn: &mut DbConnection, invitation_id: &str) -> QueryResult<CaseSource> {
    invitations::table
        .inner_join(interactions::table.inner_join(services::table))
        .filter(invitations::id.eq(invitation_id))
        .select((
            services::department_code,
            services::sla_days,
            interactions::contact_name,
            interactions::contact_email,
            interactions::contact_phone,
        ))
        .first(conn)
}

pub fn insert(conn: &mut DbConnection, row: &FollowupRow) -> QueryResult<()> {
    diesel::insert_into(followups::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Which cases a list shows.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub status: Option<String>,
    pub department: Option<String>,
    /// Only cases not closed whose due day is before this day.
    pub overdue_before: Option<String>,
    /// The caller's scope: only these departments (None: every department).
    pub departments: Option<Vec<String>>,
    pub service: Option<String>,
    pub assignee: Option<String>,
    /// Only cases not closed.
    pub open_only: bool,
    /// Only cases after this one, in the list's order (the next page).
    pub after: Option<crate::domain::cursor::Cursor>,
}

pub fn list(conn: &mut DbConnection, f: &ListFilter, limit: i64) -> QueryResult<Vec<FollowupRow>> {
    let mut q = followups::table.into_boxed();
    if let Some(s) = &f.status {
        q = q.filter(followups::status.eq(s.clone()));
    }
    if let Some(d) = &f.department {
        q = q.filter(followups::department_code.eq(d.clone()));
    }
    if let Some(scope) = &f.departments {
        q = q.filter(followups::department_code.eq_any(scope.clone()));
    }
    if let Some(s) = &f.service {
        q = q.filter(followups::service_code.eq(s.clone()));
    }
    if let Some(a) = &f.assignee {
        q = q.filter(followups::assignee_id.eq(a.clone()));
    }
    if f.open_only {
        q = q.filter(followups::status.ne("closed"));
    }
    if let Some(day) = &f.overdue_before {
        q = q
            .filter(followups::status.ne("closed"))
            .filter(followups::due_on.lt(day.clone()));
    }
    if let Some(c) = &f.after {
        let (day, at, id) = (c.day.clone(), c.at, c.id.clone());
        q = q.filter(
            followups::due_on
                .gt(day.clone())
                .or(followups::due_on
                    .eq(day.clone())
                    .and(followups::opened_at.gt(at)))
                .or(followups::due_on
                    .eq(day)
                    .and(followups::opened_at.eq(at))
                    .and(followups::id.gt(id))),
        );
    }
    q.order((
        followups::due_on.asc(),
        followups::opened_at.asc(),
        followups::id.asc(),
    ))
    .limit(limit)
    .select(FollowupRow::as_select())
    .load(conn)
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<FollowupRow>> {
    followups::table
        .find(id)
        .select(FollowupRow::as_select())
        .first(conn)
        .optional()
}

pub fn notes(conn: &mut DbConnection, id: &str) -> QueryResult<Vec<NoteRow>> {
    followup_notes::table
        .filter(followup_notes::followup_id.eq(id))
        .order((followup_notes::created_at.asc(), followup_notes::id.asc()))
        .select(NoteRow::as_select())
        .load(conn)
}

/// Sets the status (only if it is still `from`: two managers at once, one wins) and records
/// the note, in the caller's transaction.
pub fn change(
    conn: &mut DbConnection,
    id: &str,
    from: &str,
    to: &str,
    closed_on: Option<String>,
    note: Option<&NoteRow>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let changed = diesel::update(
        followups::table
            .filter(followups::id.eq(id))
            .filter(followups::status.eq(from)),
    )
    .set((
        followups::status.eq(to),
        followups::closed_on.eq(closed_on),
        followups::updated_at.eq(now),
    ))
    .execute(conn)?;
    if changed == 1 {
        if let Some(note) = note {
            diesel::insert_into(followup_notes::table)
                .values(note)
                .execute(conn)?;
        }
    }
    Ok(changed)
}

/// Assigns a case that is not closed; returns how many rows changed.
pub fn assign(
    conn: &mut DbConnection,
    id: &str,
    user_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        followups::table
            .filter(followups::id.eq(id))
            .filter(followups::status.ne("closed")),
    )
    .set((
        followups::assignee_id.eq(user_id),
        followups::updated_at.eq(now),
    ))
    .execute(conn)
}

pub fn insert_note(conn: &mut DbConnection, note: &NoteRow) -> QueryResult<()> {
    diesel::insert_into(followup_notes::table)
        .values(note)
        .execute(conn)
        .map(drop)
}

/// The request behind a case's answer: the CRM's id, channel and times, and the survey.
#[derive(Debug, Clone, Queryable)]
pub struct CaseRequest {
    pub external_id: String,
    pub channel: Option<String>,
    pub opened_at: Option<NaiveDateTime>,
    pub closed_at: NaiveDateTime,
    pub survey_id: String,
}

pub fn request_of(conn: &mut DbConnection, response_id: &str) -> QueryResult<Option<CaseRequest>> {
    use super::schema::responses;
    let Some((invitation_id, survey_id)) = responses::table
        .find(response_id)
        .select((responses::invitation_id, responses::survey_id))
        .first::<(Option<String>, String)>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let Some(invitation_id) = invitation_id else {
        return Ok(None);
    };
    invitations::table
        .inner_join(interactions::table)
        .filter(invitations::id.eq(invitation_id))
        .select((
            interactions::external_id,
            interactions::channel,
            interactions::opened_at,
            interactions::closed_at,
        ))
        .first::<(String, Option<String>, Option<NaiveDateTime>, NaiveDateTime)>(conn)
        .optional()
        .map(|found| {
            found.map(|(external_id, channel, opened_at, closed_at)| CaseRequest {
                external_id,
                channel,
                opened_at,
                closed_at,
                survey_id,
            })
        })
}
