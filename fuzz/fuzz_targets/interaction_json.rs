//! The body of `POST /api/v1/interactions`: any bytes are either refused with named fields or
//! give a request within the documented limits.
#![no_main]

use chrono::TimeZone;
use libfuzzer_sys::fuzz_target;
use mashov::domain::interaction::parse_interaction;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let now = chrono::Utc
        .with_ymd_and_hms(2026, 12, 2, 10, 0, 0)
        .single()
        .expect("time");
    match parse_interaction(&body, now, |code, _| code.contains('.')) {
        Ok(new) => {
            assert!(!new.external_id.is_empty() && new.external_id.chars().count() <= 128);
            // A CRM clock may run a minute fast; nothing before 2000 is taken.
            let earliest = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).expect("day");
            assert!(new.closed_at <= now.naive_utc() + chrono::Duration::seconds(60));
            assert!(new.closed_at.date() >= earliest);
            if let Some(opened) = new.opened_at {
                assert!(opened.date() >= earliest);
                assert!(opened <= new.closed_at);
            }
        }
        Err(fields) => assert!(!fields.is_empty(), "a refusal names what is wrong"),
    }
});
