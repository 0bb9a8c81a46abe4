//! Follow-up cases: opened with the bad answer that causes them (in its transaction), listed
//! and moved on by the department that owns them.

use chrono::{DateTime, Utc};

use crate::db::followups::{self as store, FollowupRow, ListFilter, NoteRow};
use crate::db::{self, DbConnection, DbError};
use crate::domain::followup::{check_change, due_day, ChangeError, FollowupPolicy, Status};
use crate::domain::period::{day_key, local_day};
use crate::domain::survey::{Answer, AnswerValue};
use crate::domain::FieldErrors;

/// The case a resident's answer opens, if the rule says so; read-only (the caller stores it
/// with the answer). Contact details are copied only with the resident's consent.
pub fn plan(
    conn: &mut DbConnection,
    policy: &FollowupPolicy,
    invitation_id: &str,
    service_code: &str,
    response_id: &str,
    answers: &[Answer],
    now: DateTime<Utc>,
) -> Result<Option<FollowupRow>, DbError> {
    let reasons = policy.rule.reasons(answers);
    if reasons.is_empty() {
        return Ok(None);
    }
    let source = store::case_source(conn, invitation_id)?;
    let consented = answers
        .iter()
        .any(|a| a.question_id == "contact_consent" && a.value == AnswerValue::Int(1));
    let opened = local_day(now);
    Ok(Some(FollowupRow {
        id: uuid::Uuid::new_v4().to_string(),
        response_id: response_id.to_string(),
        department_code: source.department_code,
        service_code: service_code.to_string(),
        reason: reasons.join(","),
        status: Status::Open.as_str().to_string(),
        opened_on: day_key(opened),
        due_on: day_key(due_day(opened, source.sla_days, &policy.holidays)),
        closed_on: None,
        contact_name: source.contact_name.filter(|_| consented),
        contact_email: source.contact_email.filter(|_| consented),
        contact_phone: source.contact_phone.filter(|_| consented),
        opened_at: now.naive_utc(),
        updated_at: now.naive_utc(),
    }))
}

#[derive(Debug, thiserror::Error)]
pub enum FollowupError {
    #[error("no such follow-up case")]
    NotFound,
    #[error("invalid fields")]
    Invalid(FieldErrors),
    #[error("the case is closed")]
    Closed,
    #[error("the case was changed at the same time; read it again")]
    Conflict,
    #[error(transparent)]
    Db(DbError),
}
super::db_error_from!(FollowupError);

/// A case with its notes.
#[derive(Debug, Clone)]
pub struct Case {
    pub row: FollowupRow,
    pub notes: Vec<NoteRow>,
    pub overdue: bool,
}

fn case(conn: &mut DbConnection, row: FollowupRow, now: DateTime<Utc>) -> Result<Case, DbError> {
    let notes = store::notes(conn, &row.id)?;
    let overdue = row.status != "closed" && row.due_on < day_key(local_day(now));
    Ok(Case {
        row,
        notes,
        overdue,
    })
}

/// Cases by status, department and overdue, most urgent first.
pub fn list(
    conn: &mut DbConnection,
    status: Option<Status>,
    department: Option<String>,
    overdue: bool,
    now: DateTime<Utc>,
) -> Result<Vec<Case>, DbError> {
    let filter = ListFilter {
        status: status.map(|s| s.as_str().to_string()),
        department,
        overdue_before: overdue.then(|| day_key(local_day(now))),
    };
    let mut out = Vec::new();
    for row in store::list(conn, &filter, 1000)? {
        out.push(case(conn, row, now)?);
    }
    Ok(out)
}

/// Moves a case on: to `in_progress`, or `closed` with a note saying what was done.
pub fn change(
    conn: &mut DbConnection,
    id: &str,
    to: Status,
    note: Option<String>,
    now: DateTime<Utc>,
) -> Result<Case, FollowupError> {
    db::write_transaction(conn, |conn| {
        let row = store::find(conn, id)?.ok_or(FollowupError::NotFound)?;
        let from = Status::parse(&row.status).unwrap_or(Status::Open);
        let note = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
        match check_change(from, to, note.as_deref()) {
            Ok(()) => {}
            Err(ChangeError::AlreadyClosed) => return Err(FollowupError::Closed),
            Err(ChangeError::NotAllowed) => {
                return Err(FollowupError::Invalid(
                    [(
                        "status".to_string(),
                        "must be in_progress or closed".to_string(),
                    )]
                    .into(),
                ))
            }
            Err(ChangeError::NoteRequired) => {
                return Err(FollowupError::Invalid(
                    [(
                        "note".to_string(),
                        "is required to close a case".to_string(),
                    )]
                    .into(),
                ))
            }
        }
        let note_row = note.map(|note| NoteRow {
            id: uuid::Uuid::new_v4().to_string(),
            followup_id: row.id.clone(),
            status: to.as_str().to_string(),
            note,
            created_at: now.naive_utc(),
        });
        let closed_on = (to == Status::Closed).then(|| day_key(local_day(now)));
        let changed = store::change(
            conn,
            &row.id,
            from.as_str(),
            to.as_str(),
            closed_on,
            note_row.as_ref(),
            now.naive_utc(),
        )?;
        if changed != 1 {
            return Err(FollowupError::Conflict);
        }
        let row = store::find(conn, id)?.ok_or(FollowupError::NotFound)?;
        Ok(case(conn, row, now)?)
    })
}
