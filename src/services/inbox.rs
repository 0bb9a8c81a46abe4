//! Employees' answers wait sealed in the anonymous inbox until their group is complete, and
//! then move into `responses` all at once.
//!
//! Why: whatever is written together with an invitation's "answered" flag can be paired with
//! it by someone who reads the database (on PostgreSQL both rows carry the same transaction id,
//! and rows are laid out in the order they arrive). So at submission only sealed blobs are
//! written, one per unit rated, each exactly `sealed::SEALED_LEN` bytes whatever was answered; when the group freezes (its month is over, or its campaign closed) its
//! answers are opened and inserted in one transaction, in shuffled order, with fresh ids. In
//! `responses` they then share one transaction id and an order that says nothing. A group is
//! shown in reports only once frozen anyway, so nobody waits longer for a figure.

use chrono::{DateTime, Utc};
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::db::inbox::InboxRow;
use crate::db::responses::{AnswerRow, ResponseRow};
use crate::db::{self, DbConnection, DbError};
use crate::domain::period::{local_day, parse_day};
use crate::domain::sealed::{InboxKey, TooLong};

use crate::domain::anonymity::frozen;

/// What one sealed row holds: one response (one unit rated) since every row has one size.
/// A list, because rows sealed before that held a whole submission; those open the same way.
#[derive(Serialize, Deserialize)]
struct Submission(Vec<(ResponseRow, Vec<AnswerRow>)>);

/// What authenticates a sealed row: its id and its group, so a blob moved elsewhere won't open.
fn context(id: &str, cohort: &str, month: &str) -> String {
    format!("{id}\n{cohort}\n{month}")
}

/// Seals one submission for the group (`cohort`, `month`: the month's first day): a row per
/// response, so that a submission rating seven units with long comments is seven rows of the
/// same size as anyone's one short rating. What a database reader still sees is how many units
/// an employee rated, never which or how.
pub fn seal(
    key: &InboxKey,
    cohort: &str,
    month: &str,
    responses: Vec<(ResponseRow, Vec<AnswerRow>)>,
) -> Result<Vec<InboxRow>, TooLong> {
    responses
        .into_iter()
        .map(|response| {
            let id = uuid::Uuid::new_v4().to_string();
            // Plain strings, numbers and options: serialising them cannot fail.
            let plaintext = serde_json::to_vec(&Submission(vec![response]))
                .unwrap_or_else(|_| unreachable!("a submission always serialises"));
            Ok(InboxRow {
                sealed: key.seal(&context(&id, cohort, month), &plaintext)?,
                id,
                cohort: cohort.to_string(),
                month: month.to_string(),
            })
        })
        .collect()
}

fn open(key: &InboxKey, row: &InboxRow) -> Option<Submission> {
    let plaintext = key
        .open(&context(&row.id, &row.cohort, &row.month), &row.sealed)
        .ok()?;
    serde_json::from_slice(&plaintext).ok()
}

/// The groups waiting in the inbox whose rows this key cannot open, as (cohort, month): one row
/// of each is tried. `serve` says so at start, so that a changed or lost key is noticed the day
/// it happens, not when the group completes weeks later.
pub fn unreadable_groups(
    conn: &mut DbConnection,
    key: &InboxKey,
) -> Result<Vec<(String, String)>, DbError> {
    let mut unreadable = Vec::new();
    for (cohort, month) in db::inbox::cells(conn)? {
        let ids = db::inbox::cell_ids(conn, &cohort, &month)?;
        let sample = db::inbox::load(conn, &ids[..ids.len().min(1)])?;
        if sample.iter().any(|row| open(key, row).is_none()) {
            unreadable.push((cohort, month));
        }
    }
    Ok(unreadable)
}

/// What a drain did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    pub groups: usize,
    pub answers: usize,
    /// Rows that this server key cannot open: left where they are, never deleted.
    pub unreadable: usize,
}

/// Moves every frozen group's answers from the inbox into `responses`. Cheap when there is
/// nothing to do (one query on a small table), so reports call it every time.
pub fn drain_frozen(
    conn: &mut DbConnection,
    key: &InboxKey,
    now: DateTime<Utc>,
) -> Result<Drained, DbError> {
    let cells = db::inbox::cells(conn)?;
    let mut drained = Drained::default();
    if cells.is_empty() {
        return Ok(drained);
    }
    let closed = db::campaigns::closed_ids(conn)?.into_iter().collect();
    let today = local_day(now);
    for (cohort, month) in cells {
        let Some(first) = parse_day(&month) else {
            continue;
        };
        if !frozen(&cohort, first, today, &closed) {
            continue;
        }
        let cell = drain_cell(conn, key, &cohort, &month)?;
        drained.groups += usize::from(cell.answers > 0);
        drained.answers += cell.answers;
        drained.unreadable += cell.unreadable;
    }
    if drained.unreadable > 0 {
        tracing::error!(
            rows = drained.unreadable,
            "sealed employee answers cannot be opened with this server key: they stay in the \
             inbox until the key they were sealed with is configured again"
        );
    }
    Ok(drained)
}

/// One group, in one transaction. Rows are deleted before anything is inserted, and only if
/// all of them still were there: of two racing drains, the second deletes nothing and backs
/// out, so no answer is ever moved twice.
fn drain_cell(
    conn: &mut DbConnection,
    key: &InboxKey,
    cohort: &str,
    month: &str,
) -> Result<Drained, DbError> {
    let outcome = db::write_transaction(conn, |conn| {
        let ids = db::inbox::cell_ids(conn, cohort, month)?;
        let mut responses = Vec::new();
        for chunk in ids.chunks(db::inbox::CHUNK) {
            for row in db::inbox::load(conn, chunk)? {
                match open(key, &row) {
                    Some(Submission(each)) => responses.extend(each),
                    // The whole group waits: releasing part of it would change it later.
                    None => {
                        return Ok(Drained {
                            unreadable: ids.len(),
                            ..Drained::default()
                        })
                    }
                }
            }
        }
        if db::inbox::delete(conn, &ids)? != ids.len() {
            return Err(diesel::result::Error::RollbackTransaction);
        }
        responses.shuffle(&mut rand::thread_rng());
        let answers = responses.len();
        let mut rows_out = Vec::with_capacity(answers);
        let mut answers_out = Vec::new();
        for (mut response, rows) in responses {
            response.id = uuid::Uuid::new_v4().to_string();
            answers_out.extend(rows.into_iter().map(|mut row| {
                row.response_id = response.id.clone();
                row
            }));
            rows_out.push(response);
        }
        db::responses::insert_many(conn, &rows_out, &answers_out)?;
        Ok(Drained {
            answers,
            ..Drained::default()
        })
    });
    match outcome {
        Ok(d) => Ok(d),
        Err(diesel::result::Error::RollbackTransaction) => Ok(Drained::default()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::responses::AnswerRow;
    use crate::domain::sealed::SEALED_LEN;
    use crate::domain::survey::{parse_answers, SurveyDefinition, EMPLOYEE_DEFAULT};

    /// The longest answer the internal survey accepts, on the longest service code, in the
    /// longest cohort name: it still seals at the one size.
    #[test]
    fn the_longest_valid_employee_answer_seals_at_the_one_size() {
        let def = SurveyDefinition::from_json(EMPLOYEE_DEFAULT).expect("valid");
        let key = InboxKey::new([3; 32]);
        for comment in [
            "😀".repeat(2000),
            "\"\\\n".repeat(666),
            "ש".repeat(2000),
            String::new(),
        ] {
            let form: Vec<(String, String)> = [
                ("overall", "5"),
                ("effort", "7"),
                ("timeliness", "1"),
                ("comment", comment.as_str()),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
            let answers = parse_answers(&def, &form).expect("valid answers");
            let (response, rows) = super::super::responses::anonymous_response(
                &def,
                &uuid::Uuid::new_v4().to_string(),
                &"x".repeat(64),
                &answers,
                chrono::NaiveDate::from_ymd_opt(2026, 12, 31).expect("day"),
                "campaign:abcdefghijkl",
            );
            let sealed = seal(
                &key,
                "campaign:abcdefghijkl",
                "2026-12-01",
                vec![(response, rows)],
            )
            .expect("fits");
            assert_eq!(sealed.len(), 1);
            assert_eq!(sealed[0].sealed.len(), SEALED_LEN);
            let Some(Submission(opened)) = open(&key, &sealed[0]) else {
                panic!("opens");
            };
            let texts: Vec<&AnswerRow> = opened[0]
                .1
                .iter()
                .filter(|a| a.text_value.is_some())
                .collect();
            assert_eq!(texts.len(), usize::from(!comment.is_empty()));
        }
    }
}
