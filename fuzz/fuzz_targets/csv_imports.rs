//! The two files a city imports: the catalog and a campaign's recipients. Any bytes are either
//! refused line by line or give a list that keeps the files' rules.
#![no_main]

use std::collections::BTreeSet;

use libfuzzer_sys::fuzz_target;
use mashov::domain::catalog::{is_valid_code, parse_catalog};
use mashov::domain::recipients::parse_recipients;

fuzz_target!(|data: &[u8]| {
    match parse_catalog(data) {
        Ok(catalog) => {
            let departments: BTreeSet<&str> =
                catalog.departments.iter().map(|d| d.code.as_str()).collect();
            let mut services = BTreeSet::new();
            for s in &catalog.services {
                assert!(is_valid_code(&s.code), "{}", s.code);
                assert!(departments.contains(s.department_code.as_str()));
                assert!(services.insert(s.code.as_str()), "{} twice", s.code);
            }
        }
        Err(lines) => assert!(!lines.is_empty()),
    }
    let mut read = 0;
    match parse_recipients(data, |d| d.len() > 1, |n| read = n) {
        Ok(list) => {
            let emails: BTreeSet<&str> = list.recipients.iter().map(|r| r.email.as_str()).collect();
            assert_eq!(emails.len(), list.recipients.len(), "duplicates are merged");
            assert!(list.recipients.iter().all(|r| r.department_code.len() > 1));
        }
        Err(lines) => assert!(!lines.is_empty()),
    }
    assert!(read <= data.len() as u64);
});
