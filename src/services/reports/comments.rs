//! Comments in a report's scope, a page at a time.

use crate::domain::cursor::Position;

use super::{
    base_filter, catalog, released_cells, report, services_in_scope, ReportContext,
    ReportQueryError,
};
use crate::db::{self, DbConnection};
use crate::domain::interaction::Audience;
use crate::domain::report::ReportParams;

/// A comment with the group it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub service: String,
    pub day: String,
    pub text: String,
}

/// A page of comments and where the next one starts (`None` on the last page).
pub struct CommentPage {
    pub comments: Vec<Comment>,
    pub next: Option<Position>,
}

/// Comments in a report's scope, at most `limit` from `from` (a page's position): residents'
/// newest first; employees' only those of released cells, in text order.
pub fn comments(
    conn: &mut DbConnection,
    ctx: &ReportContext,
    params: &ReportParams,
    limit: i64,
    from: Option<Position>,
) -> Result<CommentPage, ReportQueryError> {
    // The same checks and the same released cells as the figures.
    let report = report(conn, ctx, params, None)?;
    let services = services_in_scope(&catalog(conn, params.lang)?, params);
    let mut filter = base_filter(params, report.from, report.to);
    let filtered =
        params.service.is_some() || params.department.is_some() || !params.scope.is_empty();
    let limit = limit.max(0);
    if params.audience == Audience::Resident {
        filter.services = filtered.then_some(services);
        let after = match &from {
            Some(Position::After { day, id }) => Some((day.as_str(), id.as_str())),
            _ => None,
        };
        // One more than asked: whether a next page exists, without counting.
        let mut rows = db::reports::comments(conn, &filter, false, after, limit + 1)?;
        let next = if rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|r| Position::After {
                day: r.day.clone(),
                id: r.response_id.clone(),
            })
        } else {
            None
        };
        let comments = rows
            .into_iter()
            .map(|r| Comment {
                service: r.service_code,
                day: r.day,
                text: r.text,
            })
            .collect();
        return Ok(CommentPage { comments, next });
    }
    if report.total.figures.is_none() {
        return Ok(CommentPage {
            comments: Vec::new(),
            next: None,
        });
    }
    filter.services = Some(services);
    let released = released_cells(conn, ctx, &filter)?;
    let rows = db::reports::comments(conn, &filter, true, None, i64::MAX / 2)?;
    let skip = match from {
        Some(Position::Offset(n)) => usize::try_from(n).unwrap_or(usize::MAX),
        _ => 0,
    };
    let take = usize::try_from(limit).unwrap_or(0);
    let mut shown: Vec<Comment> = rows
        .into_iter()
        .filter(|r| {
            released.contains(&(
                r.service_code.clone(),
                r.day.clone(),
                r.cohort.clone().unwrap_or_default(),
            ))
        })
        .skip(skip)
        .take(take + 1)
        .map(|r| Comment {
            service: r.service_code,
            day: r.day[..7].to_string(),
            text: r.text,
        })
        .collect();
    let next = (shown.len() > take).then(|| Position::Offset((skip + take) as u64));
    shown.truncate(take);
    Ok(CommentPage {
        comments: shown,
        next,
    })
}
