//! A survey form as the page posts it: decoded the way the handler decodes it, checked against
//! both built-in questionnaires. Whatever an employee's form holds, once accepted it seals to
//! the one fixed size (the length of a sealed row must never name its author).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mashov::domain::sealed::{InboxKey, SEALED_LEN};
use mashov::domain::survey::{parse_answers, SurveyDefinition, EMPLOYEE_DEFAULT, RESIDENT_DEFAULT};
use mashov::services::{inbox, responses};

fuzz_target!(|data: &[u8]| {
    let Ok(form) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(data) else {
        return;
    };
    let resident = SurveyDefinition::from_json(RESIDENT_DEFAULT).expect("built-in");
    let _ = parse_answers(&resident, &form);
    let employee = SurveyDefinition::from_json(EMPLOYEE_DEFAULT).expect("built-in");
    let Ok(answers) = parse_answers(&employee, &form) else {
        return;
    };
    let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 31).expect("day");
    // The longest unit code and cohort the service makes: the worst case for the size.
    let cohort = "campaign:abcdefghijkl";
    let row = responses::anonymous_response(&employee, "s", &"x".repeat(64), &answers, day, cohort);
    let sealed = inbox::seal(&InboxKey::new([7; 32]), cohort, "2026-12-01", vec![row])
        .expect("an accepted answer always fits the sealed size");
    assert!(sealed.iter().all(|r| r.sealed.len() == SEALED_LEN));
});
