//! The settings: a configuration file's text, then after a NUL byte `MASHOV_*` variables one per
//! line. Any input is either a clear error or settings that keep their floors.
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use mashov::config::Settings;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (file, vars) = text.split_once('\0').unwrap_or((text, ""));
    let env: HashMap<String, String> = vars
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (format!("MASHOV_{k}"), v.to_string()))
        .collect();
    match Settings::from_text(Some(("fuzz.toml", file)), &env) {
        Ok(settings) => {
            assert!(settings.min_group_size >= 3);
            assert!(settings.transparency_min_answers >= 10);
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
