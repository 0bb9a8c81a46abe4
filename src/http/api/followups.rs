//! `GET /api/v1/followups` and `PATCH /api/v1/followups/{id}`: the cases bad experiences open.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::{authenticate, read_json, ApiError};
use crate::domain::api_scope::ApiScope;
use crate::domain::cursor::Cursor;
use crate::domain::followup::Status;
use crate::domain::survey::COMMENT;
use crate::domain::FieldErrors;
use crate::services::audit::Action;
use crate::services::catalog;
use crate::services::followups::{self, CaseInContext, FollowupError};
use crate::state::AppState;

/// The longest note kept.
const MAX_NOTE: usize = 2000;
/// Cases in a page of the list when `limit` is not given, and the most a page may hold.
const DEFAULT_PAGE: i64 = 100;
const MAX_PAGE: i64 = 1000;

impl From<FollowupError> for ApiError {
    fn from(e: FollowupError) -> Self {
        match e {
            FollowupError::NotFound => ApiError::NotFound,
            FollowupError::Invalid(f) => ApiError::Invalid(f),
            FollowupError::Closed | FollowupError::Conflict => ApiError::Conflict(e.to_string()),
            FollowupError::Db(e) => e.into(),
        }
    }
}

/// A case as JSON. A key that may move cases but not read them gets only where the case
/// stands: no contact, no answers, no comment, no notes, no request id that leads to the
/// resident.
fn case_json(c: &CaseInContext, readable: bool) -> Value {
    if !readable {
        let r = &c.case.row;
        return json!({
            "id": r.id,
            "status": r.status,
            "due_on": r.due_on,
            "closed_on": r.closed_on,
            "overdue": c.case.overdue,
        });
    }
    full_case_json(c)
}

fn full_case_json(c: &CaseInContext) -> Value {
    let r = &c.case.row;
    let contact = (r.contact_name.is_some()
        || r.contact_email.is_some()
        || r.contact_phone.is_some())
    .then(|| json!({"name": r.contact_name, "email": r.contact_email, "phone": r.contact_phone}));
    let at = |t: chrono::NaiveDateTime| {
        t.and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let mut answers = serde_json::Map::new();
    let mut comment = None;
    for a in &c.answers {
        match (a.question_id.as_str(), a.int_value, &a.text_value) {
            (COMMENT, _, Some(t)) => comment = Some(t.clone()),
            (q, Some(n), _) => {
                answers.insert(q.to_string(), json!(n));
            }
            (q, None, Some(t)) => {
                answers.insert(q.to_string(), json!(t));
            }
            _ => {}
        }
    }
    json!({
        "id": r.id,
        "department": r.department_code,
        "service": r.service_code,
        "external_id": c.request.as_ref().map(|q| q.external_id.clone()),
        "channel": c.request.as_ref().and_then(|q| q.channel.clone()),
        "request_opened_at": c.request.as_ref().and_then(|q| q.opened_at).map(at),
        "request_closed_at": c.request.as_ref().map(|q| at(q.closed_at)),
        "reason": r.reason.split(',').collect::<Vec<_>>(),
        "status": r.status,
        "opened_on": r.opened_on,
        "due_on": r.due_on,
        "closed_on": r.closed_on,
        "overdue": c.case.overdue,
        "assignee": c.assignee,
        "answers": answers,
        "comment": comment,
        "contact": contact,
        "notes": c.case.notes.iter().map(|n| json!({
            "status": n.status,
            "note": n.note,
            "at": at(n.created_at),
        })).collect::<Vec<_>>(),
    })
}

#[tracing::instrument(name = "api.followups.list", skip_all)]
pub async fn list(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let grant = authenticate(&state, &req, ApiScope::FollowupsRead).await?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string())
        .map_err(|_| ApiError::BadRequest("the query string is malformed".into()))?;
    let mut errors = FieldErrors::new();
    let (mut status, mut department, mut overdue) = (None, None, false);
    let (mut limit, mut after) = (DEFAULT_PAGE, None);
    let mut seen = Vec::new();
    for (k, v) in &pairs {
        if seen.contains(k) {
            errors.insert(k.clone(), "is given more than once".into());
            continue;
        }
        seen.push(k.clone());
        match k.as_str() {
            "status" => match Status::parse(v) {
                Some(s) => status = Some(s),
                None => {
                    errors.insert(k.clone(), "must be open, in_progress or closed".into());
                }
            },
            "department" => department = Some(v.clone()),
            "overdue" => match v.as_str() {
                "true" => overdue = true,
                "false" => overdue = false,
                _ => {
                    errors.insert(k.clone(), "must be true or false".into());
                }
            },
            "limit" => match v.parse::<i64>().ok().filter(|n| (1..=MAX_PAGE).contains(n)) {
                Some(n) => limit = n,
                None => {
                    errors.insert(k.clone(), format!("must be a number from 1 to {MAX_PAGE}"));
                }
            },
            "next" => match Cursor::decode(v) {
                Some(c) => after = Some(c),
                None => {
                    errors.insert(
                        k.clone(),
                        "is not a next token this list gave (pass it on unchanged)".into(),
                    );
                }
            },
            _ => {
                errors.insert(k.clone(), "is not a parameter of this list".into());
            }
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    if let Some(d) = &department {
        if !grant.scope().allows(d) {
            return Err(ApiError::OutsideDepartments(format!("department {d}")));
        }
    }
    let now = state.clock.now();
    let cases = state
        .db
        .read(|conn| {
            if let Some(d) = &department {
                if !catalog::has_department(conn, d)? {
                    return Err(ApiError::Invalid(
                        [(
                            "department".to_string(),
                            "is not in the catalog".to_string(),
                        )]
                        .into(),
                    ));
                }
            }
            let page = followups::list(
                conn,
                &grant.scope(),
                status,
                department,
                overdue,
                (limit, after),
                now,
            )?;
            Ok((followups::in_context(conn, page.cases)?, page.next))
        })
        .await?;
    let (cases, next) = cases;
    super::log_read(
        &state,
        &req,
        &grant,
        Action::CasesRead,
        json!({
            "cases": cases.len(),
            "with_contact": cases.iter().filter(|c| c.case.row.contact_email.is_some()
                || c.case.row.contact_phone.is_some()).count(),
        }),
    )
    .await?;
    Ok(HttpResponse::Ok().json(json!({
        "followups": cases.iter().map(|c| case_json(c, true)).collect::<Vec<_>>(),
        "next": next.map(|c| c.encode()),
    })))
}

#[tracing::instrument(name = "api.followups.update", skip_all)]
pub async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let grant = authenticate(&state, &req, ApiScope::FollowupsWrite).await?;
    let id = path.into_inner();
    let body = read_json(payload).await?;
    let mut errors = FieldErrors::new();
    let Some(obj) = body.as_object() else {
        return Err(ApiError::Invalid(
            [("body".to_string(), "must be a JSON object".to_string())].into(),
        ));
    };
    let status = match obj.get("status") {
        None | Some(Value::Null) => {
            errors.insert("status".into(), "is required".into());
            None
        }
        Some(Value::String(s)) => Status::parse(s).filter(|s| *s != Status::Open).or_else(|| {
            errors.insert("status".into(), "must be in_progress or closed".into());
            None
        }),
        Some(_) => {
            errors.insert("status".into(), "must be a string".into());
            None
        }
    };
    let note = match obj.get("note") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.chars().count() <= MAX_NOTE => Some(s.clone()),
        Some(Value::String(_)) => {
            errors.insert(
                "note".into(),
                format!("must be at most {MAX_NOTE} characters"),
            );
            None
        }
        Some(_) => {
            errors.insert("note".into(), "must be a string".into());
            None
        }
    };
    let Some(status) = status.filter(|_| errors.is_empty()) else {
        return Err(ApiError::Invalid(errors));
    };
    let now = state.clock.now();
    let (scope, with_contact) = (grant.scope(), grant.allows(ApiScope::FollowupsRead));
    let case = state
        .db
        .write(move |conn| {
            let case = followups::change(conn, &scope, &id, status, note, None, now)
                .map_err(ApiError::from)?;
            let mut with = followups::in_context(conn, vec![case])?;
            with.pop().ok_or(ApiError::NotFound)
        })
        .await?;
    Ok(HttpResponse::Ok().json(case_json(&case, with_contact)))
}
