//! The settings an admin may also set at `/admin/settings`: which they are, how a stored value
//! is checked (by the very parser that reads the environment), and how stored values are put
//! in where the environment and the file are silent.

use std::collections::{BTreeMap, HashMap};

use super::{ConfigError, Settings};

pub const ADJUSTABLE: [&str; 11] = [
    "MASHOV_LINK_TTL",
    "MASHOV_SEND_DELAY",
    "MASHOV_QUIET_HOURS",
    "MASHOV_SHABBAT",
    "MASHOV_REMINDER_AFTER",
    "MASHOV_FREQUENCY_CAP",
    "MASHOV_MIN_GROUP_SIZE",
    "MASHOV_FOLLOWUP_RULE",
    "MASHOV_HOLIDAYS",
    "MASHOV_TRANSPARENCY_MIN_ANSWERS",
    "MASHOV_DIGEST_SCHEDULE",
];

impl Settings {
    /// Checks a value an admin would store for one of `ADJUSTABLE`, with the very parser that
    /// reads the environment; the error names the setting.
    pub fn check_adjustable(key: &str, value: &str) -> Result<Settings, ConfigError> {
        if !ADJUSTABLE.contains(&key) {
            return Err(ConfigError(format!("{key}: cannot be set here")));
        }
        let env = HashMap::from([(key.to_string(), value.to_string())]);
        Settings::from_sources(None, &env)
    }

    /// These settings with what an admin stored put in where the environment and the file are
    /// silent. A stored value that no longer reads is left out and returned with its error.
    pub fn with_stored(
        &self,
        stored: &BTreeMap<String, String>,
    ) -> (Settings, Vec<(String, ConfigError)>) {
        let mut s = self.clone();
        let mut refused = Vec::new();
        for (key, value) in stored {
            if self.configured.contains_key(key) {
                continue;
            }
            let probe = match Settings::check_adjustable(key, value) {
                Ok(p) => p,
                Err(e) => {
                    refused.push((key.clone(), e));
                    continue;
                }
            };
            match key.as_str() {
                "MASHOV_LINK_TTL" => s.link_ttl = probe.link_ttl,
                "MASHOV_SEND_DELAY" => s.send_rules.delay = probe.send_rules.delay,
                "MASHOV_QUIET_HOURS" => s.send_rules.quiet_hours = probe.send_rules.quiet_hours,
                "MASHOV_SHABBAT" => s.send_rules.rest_window = probe.send_rules.rest_window,
                "MASHOV_REMINDER_AFTER" => {
                    s.send_rules.reminder_after = probe.send_rules.reminder_after
                }
                "MASHOV_FREQUENCY_CAP" => {
                    s.send_rules.frequency_cap = probe.send_rules.frequency_cap
                }
                "MASHOV_MIN_GROUP_SIZE" => s.min_group_size = probe.min_group_size,
                "MASHOV_FOLLOWUP_RULE" => s.followup.rule = probe.followup.rule,
                "MASHOV_HOLIDAYS" => s.followup.holidays = probe.followup.holidays,
                "MASHOV_TRANSPARENCY_MIN_ANSWERS" => {
                    s.transparency_min_answers = probe.transparency_min_answers
                }
                "MASHOV_DIGEST_SCHEDULE" => s.digest_schedule = probe.digest_schedule,
                _ => {}
            }
        }
        (s, refused)
    }
}
