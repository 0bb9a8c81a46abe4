//! Follow-up cases: opened with the bad answer that causes them (in its transaction), listed
//! and moved on by the department that owns them.

use crate::domain::cursor::Cursor;
use chrono::{DateTime, Utc};

use crate::db::followups::{self as store, FollowupRow, ListFilter, NoteRow};
use crate::db::interactions::InvitationView;
use crate::db::{self, DbConnection, DbError};
use crate::domain::account::Scope;
use crate::domain::followup::{check_change, due_day, ChangeError, FollowupPolicy, Status};
use crate::domain::period::{day_key, local_day};
use crate::domain::survey::{Answer, AnswerValue, SurveyDefinition, CONTACT_CONSENT};
use crate::domain::FieldErrors;

/// The case a resident's answer opens, if the rule says so; read-only (the caller stores it
/// with the answer). Contact details are copied only with the resident's consent.
pub fn plan(
    conn: &mut DbConnection,
    policy: &FollowupPolicy,
    invitation: &InvitationView,
    response_id: &str,
    (survey, answers): (&SurveyDefinition, &[Answer]),
    now: DateTime<Utc>,
) -> Result<Option<FollowupRow>, DbError> {
    let (invitation_id, service_code) = (&invitation.invitation_id, &invitation.service_code);
    let reasons = policy.rule.reasons(survey, answers);
    if reasons.is_empty() {
        return Ok(None);
    }
    let source = store::case_source(conn, invitation_id)?;
    let consented = answers
        .iter()
        .any(|a| a.question_id == CONTACT_CONSENT && a.value == AnswerValue::Int(1));
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
        assignee_id: None,
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

/// One page of the case list.
pub struct CasePage {
    pub cases: Vec<Case>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Cursor>,
}

/// Cases by status, department and overdue, most urgent first: at most `limit`, after
/// `after` (a page's cursor), and where the next page starts.
pub fn list(
    conn: &mut DbConnection,
    scope: &Scope,
    status: Option<Status>,
    department: Option<String>,
    overdue: bool,
    page: (i64, Option<Cursor>),
    now: DateTime<Utc>,
) -> Result<CasePage, DbError> {
    let (limit, after) = page;
    let filter = ListFilter {
        status: status.map(|s| s.as_str().to_string()),
        department,
        overdue_before: overdue.then(|| day_key(local_day(now))),
        departments: match scope {
            Scope::All => None,
            Scope::Departments(d) => Some(d.clone()),
        },
        after,
        ..ListFilter::default()
    };
    // One more than asked: whether a next page exists, without counting.
    let mut rows = store::list(conn, &filter, limit + 1)?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| Cursor {
            day: r.due_on.clone(),
            at: r.opened_at,
            id: r.id.clone(),
        })
    } else {
        None
    };
    let mut cases = Vec::with_capacity(rows.len());
    for row in rows {
        cases.push(case(conn, row, now)?);
    }
    Ok(CasePage { cases, next })
}

/// A case in the caller's scope; out of scope reads as not there at all.
fn find_in(conn: &mut DbConnection, scope: &Scope, id: &str) -> Result<FollowupRow, FollowupError> {
    store::find(conn, id)?
        .filter(|row| scope.allows(&row.department_code))
        .ok_or(FollowupError::NotFound)
}

/// Moves a case on: to `in_progress`, or `closed` with a note saying what was done. `author`
/// is the management user acting (None through the API).
pub fn change(
    conn: &mut DbConnection,
    scope: &Scope,
    id: &str,
    to: Status,
    note: Option<String>,
    author: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Case, FollowupError> {
    db::write_transaction(conn, |conn| {
        let row = find_in(conn, scope, id)?;
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
            author_id: author.map(str::to_string),
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

/// What the inbox asks for, besides the caller's scope.
#[derive(Debug, Clone, Default)]
pub struct InboxFilter {
    /// None: every case not closed.
    pub status: Option<Status>,
    pub department: Option<String>,
    pub service: Option<String>,
    /// Only the cases this user took.
    pub assignee: Option<String>,
}

/// The most cases one inbox page lists.
pub const INBOX_LIMIT: i64 = 500;

/// The caller's cases, overdue first, then by due day.
pub fn inbox(
    conn: &mut DbConnection,
    scope: &Scope,
    filter: &InboxFilter,
    now: DateTime<Utc>,
) -> Result<Vec<Case>, DbError> {
    let list = ListFilter {
        status: filter.status.map(|s| s.as_str().to_string()),
        department: filter.department.clone(),
        departments: match scope {
            Scope::All => None,
            Scope::Departments(d) => Some(d.clone()),
        },
        service: filter.service.clone(),
        assignee: filter.assignee.clone(),
        open_only: filter.status.is_none(),
        overdue_before: None,
        after: None,
    };
    let mut out = Vec::new();
    for row in store::list(conn, &list, INBOX_LIMIT)? {
        out.push(case(conn, row, now)?);
    }
    // Due days sort as text; overdue ones come first whatever their status.
    out.sort_by_key(|c| !c.overdue);
    Ok(out)
}

/// Takes a case: it is assigned to `user_id`.
pub fn take(
    conn: &mut DbConnection,
    scope: &Scope,
    id: &str,
    user_id: &str,
    now: DateTime<Utc>,
) -> Result<(), FollowupError> {
    db::write_transaction(conn, |conn| {
        let row = find_in(conn, scope, id)?;
        if store::assign(conn, &row.id, user_id, now.naive_utc())? != 1 {
            return Err(FollowupError::Closed);
        }
        Ok(())
    })
}

/// Adds a note without changing the status (a closed case takes no more notes).
pub fn add_note(
    conn: &mut DbConnection,
    scope: &Scope,
    id: &str,
    author: &str,
    note: &str,
    now: DateTime<Utc>,
) -> Result<(), FollowupError> {
    let note = note.trim();
    if note.is_empty() {
        return Err(FollowupError::Invalid(
            [("note".to_string(), "is required".to_string())].into(),
        ));
    }
    db::write_transaction(conn, |conn| {
        let row = find_in(conn, scope, id)?;
        if row.status == Status::Closed.as_str() {
            return Err(FollowupError::Closed);
        }
        store::insert_note(
            conn,
            &NoteRow {
                id: uuid::Uuid::new_v4().to_string(),
                followup_id: row.id.clone(),
                status: row.status.clone(),
                note: note.to_string(),
                created_at: now.naive_utc(),
                author_id: Some(author.to_string()),
            },
        )?;
        Ok(())
    })
}

/// Everything needed to call the resident back: the case, the request it came from, and the
/// answers (contact details are on the case only where the resident agreed).
pub struct CaseView {
    pub case: Case,
    pub request: Option<store::CaseRequest>,
    pub answers: Vec<crate::db::responses::AnswerRow>,
    /// Management users by id, for the assignee and the notes' authors.
    pub people: std::collections::HashMap<String, String>,
}

pub fn view(
    conn: &mut DbConnection,
    scope: &Scope,
    id: &str,
    now: DateTime<Utc>,
) -> Result<CaseView, FollowupError> {
    let row = find_in(conn, scope, id)?;
    let request = store::request_of(conn, &row.response_id)?;
    let answers = db::responses::answers_of(conn, &row.response_id)?;
    let case = case(conn, row, now)?;
    let mut people = std::collections::HashMap::new();
    let ids = case
        .row
        .assignee_id
        .iter()
        .chain(case.notes.iter().filter_map(|n| n.author_id.as_ref()));
    for user_id in ids {
        if !people.contains_key(user_id) {
            if let Some(u) = db::users::by_id(conn, user_id)? {
                people.insert(user_id.clone(), u.email);
            }
        }
    }
    Ok(CaseView {
        case,
        request,
        answers,
        people,
    })
}

/// A case with the request and the answers behind it, and who took it: what a CRM needs to
/// act on it without asking mashov again.
pub struct CaseInContext {
    pub case: Case,
    pub request: Option<store::CaseRequest>,
    pub answers: Vec<crate::db::responses::AnswerRow>,
    /// The address of the management user who took it.
    pub assignee: Option<String>,
}

pub fn in_context(
    conn: &mut DbConnection,
    cases: Vec<Case>,
) -> Result<Vec<CaseInContext>, DbError> {
    let mut emails: std::collections::HashMap<String, Option<String>> = Default::default();
    let mut out = Vec::with_capacity(cases.len());
    for case in cases {
        let request = store::request_of(conn, &case.row.response_id)?;
        let answers = db::responses::answers_of(conn, &case.row.response_id)?;
        let assignee = match &case.row.assignee_id {
            Some(id) => {
                if !emails.contains_key(id) {
                    let email = db::users::by_id(conn, id)?.map(|u| u.email);
                    emails.insert(id.clone(), email);
                }
                emails.get(id).cloned().flatten()
            }
            None => None,
        };
        out.push(CaseInContext {
            case,
            request,
            answers,
            assignee,
        });
    }
    Ok(out)
}
