//! Residents' contact details, erased: after the period a city keeps them, or on a person's
//! request. Answers, figures and the opt-out list (keyed hashes) stay.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};

use super::schema::{campaign_recipients, followups, interactions, invitations, outbox};
use super::DbConnection;

diesel::define_sql_function! {
    /// Lower case, for comparing addresses as their owners meant them.
    fn lower(x: Nullable<Text>) -> Nullable<Text>;
}

/// What an erasure touched, table by table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Erased {
    /// Requests whose contact details were erased.
    pub interactions: usize,
    /// Follow-up cases whose contact details were erased.
    pub cases: usize,
    /// Emails whose recipient and content were erased.
    pub emails: usize,
    /// Campaign recipients whose address was erased.
    pub campaign_recipients: usize,
}

type NullText = Option<String>;

/// Erases the contact details of requests whose invitation closed (answered, or expired)
/// before `cutoff`, and of requests without an invitation recorded before it; of cases closed
/// before `cutoff_day`; and the recipients of emails finished before `cutoff`. With
/// `dry_run`, counts instead.
pub fn purge(
    conn: &mut DbConnection,
    cutoff: NaiveDateTime,
    cutoff_day: &str,
    dry_run: bool,
) -> QueryResult<Erased> {
    let closed = invitations::table
        .filter(
            invitations::answered_at
                .lt(cutoff)
                .or(invitations::answered_at
                    .is_null()
                    .and(invitations::expires_at.lt(cutoff))),
        )
        .select(invitations::interaction_id);
    let open = invitations::table
        .filter(
            invitations::answered_at
                .ge(cutoff)
                .or(invitations::answered_at
                    .is_null()
                    .and(invitations::expires_at.ge(cutoff))),
        )
        .select(invitations::interaction_id);
    let has_contact = interactions::contact_email
        .is_not_null()
        .or(interactions::contact_phone.is_not_null())
        .or(interactions::contact_name.is_not_null());
    let requests = interactions::table
        .filter(has_contact)
        .filter(
            interactions::id
                .eq_any(closed)
                .or(interactions::created_at.lt(cutoff)),
        )
        .filter(diesel::dsl::not(interactions::id.eq_any(open)));
    let case_has_contact = followups::contact_email
        .is_not_null()
        .or(followups::contact_phone.is_not_null())
        .or(followups::contact_name.is_not_null());
    let cases = followups::table
        .filter(case_has_contact)
        .filter(followups::status.eq("closed"))
        .filter(followups::closed_on.lt(cutoff_day.to_string()));
    let emails = outbox::table
        .filter(outbox::status.eq_any(["sent", "failed", "cancelled"]))
        .filter(outbox::created_at.lt(cutoff))
        .filter(outbox::recipient.ne(""));
    if dry_run {
        return Ok(Erased {
            interactions: requests.count().get_result::<i64>(conn)? as usize,
            cases: cases.count().get_result::<i64>(conn)? as usize,
            emails: emails.count().get_result::<i64>(conn)? as usize,
            campaign_recipients: 0,
        });
    }
    Ok(Erased {
        interactions: diesel::update(requests)
            .set((
                interactions::contact_email.eq(None::<String>),
                interactions::contact_phone.eq(None::<String>),
                interactions::contact_name.eq(None::<String>),
            ))
            .execute(conn)?,
        cases: diesel::update(cases)
            .set((
                followups::contact_email.eq(None::<String>),
                followups::contact_phone.eq(None::<String>),
                followups::contact_name.eq(None::<String>),
            ))
            .execute(conn)?,
        emails: diesel::update(emails)
            .set((outbox::recipient.eq(""), outbox::payload.eq("")))
            .execute(conn)?,
        campaign_recipients: 0,
    })
}

/// Erases one person's contact details everywhere they are kept: by address (any case) or by
/// phone number (as the CRM sent it).
pub fn erase_person(
    conn: &mut DbConnection,
    email: Option<&str>,
    phone: Option<&str>,
) -> QueryResult<Erased> {
    let mut erased = Erased::default();
    let none = None::<String>;
    if let Some(email) = email.map(str::to_lowercase) {
        let e: NullText = Some(email.clone());
        erased.interactions += diesel::update(
            interactions::table.filter(lower(interactions::contact_email).eq(e.clone())),
        )
        .set((
            interactions::contact_email.eq(none.clone()),
            interactions::contact_phone.eq(none.clone()),
            interactions::contact_name.eq(none.clone()),
        ))
        .execute(conn)?;
        erased.cases +=
            diesel::update(followups::table.filter(lower(followups::contact_email).eq(e.clone())))
                .set((
                    followups::contact_email.eq(none.clone()),
                    followups::contact_phone.eq(none.clone()),
                    followups::contact_name.eq(none.clone()),
                ))
                .execute(conn)?;
        erased.emails +=
            diesel::update(outbox::table.filter(lower(outbox::recipient.nullable()).eq(e.clone())))
                .set((
                    outbox::recipient.eq(""),
                    outbox::payload.eq(""),
                    outbox::status.eq("cancelled"),
                ))
                .execute(conn)?;
        erased.campaign_recipients += diesel::update(
            campaign_recipients::table.filter(lower(campaign_recipients::email).eq(e)),
        )
        .set(campaign_recipients::email.eq(none.clone()))
        .execute(conn)?;
    }
    if let Some(phone) = phone {
        let p: NullText = Some(phone.to_string());
        erased.interactions +=
            diesel::update(interactions::table.filter(interactions::contact_phone.eq(p.clone())))
                .set((
                    interactions::contact_email.eq(none.clone()),
                    interactions::contact_phone.eq(none.clone()),
                    interactions::contact_name.eq(none.clone()),
                ))
                .execute(conn)?;
        erased.cases += diesel::update(followups::table.filter(followups::contact_phone.eq(p)))
            .set((
                followups::contact_email.eq(none.clone()),
                followups::contact_phone.eq(none.clone()),
                followups::contact_name.eq(none),
            ))
            .execute(conn)?;
    }
    Ok(erased)
}
