//! The configuration as an operator and a test meet it.

use super::*;

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn defaults_are_sqlite_on_localhost_8080_with_fourteen_day_links() {
    let s = Settings::from_sources(None, &env(&[])).expect("defaults");
    assert_eq!(s.backend, Backend::Sqlite);
    assert_eq!(s.database_url, "sqlite://mashov.db");
    assert_eq!(s.base_url, "http://127.0.0.1:8080");
    assert_eq!(s.link_ttl, Duration::days(14));
    assert_eq!(s.secret_file, PathBuf::from("mashov.db.key"));
}

#[test]
fn rate_limits_default_to_600_and_6000_a_minute_and_0_turns_them_off() {
    let s = Settings::from_sources(None, &env(&[])).expect("defaults");
    assert_eq!(
        (s.rate_limit, s.api_rate_limit, s.wrong_key_limit),
        (600, 6000, 20)
    );
    let off = Settings::from_sources(
        None,
        &env(&[
            ("MASHOV_RATE_LIMIT", "0"),
            ("MASHOV_API_RATE_LIMIT", " 120 "),
            ("MASHOV_WRONG_KEY_LIMIT", "0"),
        ]),
    )
    .expect("valid");
    assert_eq!(
        (off.rate_limit, off.api_rate_limit, off.wrong_key_limit),
        (0, 120, 0)
    );
}

#[test]
fn the_environment_wins_over_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mashov.toml");
    std::fs::write(
        &path,
        "bind = \"127.0.0.1:9000\"\nbase_url = \"https://file.example/\"\n",
    )
    .expect("write");
    let s = Settings::from_sources(Some(&path), &env(&[("MASHOV_BIND", "0.0.0.0:7000")]))
        .expect("valid");
    assert_eq!(s.bind.port(), 7000);
    assert_eq!(s.base_url, "https://file.example");
}

#[test]
fn bad_values_are_named_in_one_line() {
    for (key, value) in [
        ("MASHOV_DATABASE_URL", "mysql://x"),
        ("MASHOV_BIND", "not-an-address"),
        ("MASHOV_BASE_URL", "ftp://x"),
        ("MASHOV_LINK_TTL", "forever"),
        ("MASHOV_SECRET", "short"),
        ("MASHOV_SMTP_URL", "http://mail"),
        ("MASHOV_SMTP_URL", "smtp://mail?tls=maybe"),
        ("MASHOV_MAIL_FROM", "not an address"),
        ("MASHOV_SEND_DELAY", "soon"),
        ("MASHOV_QUIET_HOURS", "late"),
        ("MASHOV_SHABBAT", "fri-sat"),
        ("MASHOV_REMINDER_AFTER", "later"),
        ("MASHOV_FREQUENCY_CAP", "-1d"),
        ("MASHOV_BRAND_COLOR", "blue"),
        ("MASHOV_MIN_GROUP_SIZE", "2"),
        ("MASHOV_MIN_GROUP_SIZE", "five"),
        ("MASHOV_TRANSPARENCY_MIN_ANSWERS", "9"),
        ("MASHOV_TRANSPARENCY_MIN_ANSWERS", "thirty"),
        ("MASHOV_FOLLOWUP_RULE", "overall<=9"),
        ("MASHOV_DIGEST_SCHEDULE", "sunday 8am"),
        ("MASHOV_HOLIDAYS", "2026-02-30"),
        ("MASHOV_HOLIDAYS", "2026-09-21,pesach"),
        ("MASHOV_RATE_LIMIT", "-1"),
        ("MASHOV_CONTACT_RETENTION", "2h"),
        ("MASHOV_METRICS_FROM", "localhost"),
        ("MASHOV_CONTACT_RETENTION", "forever"),
        ("MASHOV_RATE_LIMIT", "lots"),
        ("MASHOV_API_RATE_LIMIT", "1000001"),
    ] {
        let e = Settings::from_sources(None, &env(&[(key, value)])).expect_err(key);
        assert!(e.0.starts_with(key), "{e}");
        assert!(!e.0.contains('\n'));
    }
}

#[test]
fn holidays_come_from_the_environment_or_the_file() {
    let s = Settings::from_sources(None, &env(&[])).expect("defaults");
    assert!(s.followup.holidays.is_empty());
    let s = Settings::from_sources(
        None,
        &env(&[("MASHOV_HOLIDAYS", "2026-09-21 2026-09-26..2026-09-27")]),
    )
    .expect("valid");
    assert_eq!(s.followup.holidays.len(), 3);
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("mashov.toml");
    std::fs::write(&path, "holidays = \"2026-09-21\"\n").expect("write");
    let s = Settings::from_sources(Some(&path), &env(&[])).expect("valid");
    assert!(s
        .followup
        .holidays
        .contains(chrono::NaiveDate::from_ymd_opt(2026, 9, 21).expect("day")));
}

#[test]
fn a_duration_ending_in_any_character_is_read_or_refused_never_a_panic() {
    assert_eq!(parse_duration("14d"), Some(Duration::days(14)));
    for bad in ["14ג", "ג", "", "d", "-1d", "1.5h", "٣d", "14\u{1F600}"] {
        assert_eq!(parse_duration(bad), None, "{bad:?}");
    }
    assert!(Settings::check_adjustable("MASHOV_LINK_TTL", "14ג").is_err());
}

#[test]
fn the_transparency_threshold_defaults_to_thirty_and_never_goes_below_ten() {
    let s = Settings::from_sources(None, &env(&[])).expect("defaults");
    assert_eq!(s.transparency_min_answers, 30);
    let s = Settings::from_sources(None, &env(&[("MASHOV_TRANSPARENCY_MIN_ANSWERS", "10")]))
        .expect("ten is allowed");
    assert_eq!(s.transparency_min_answers, 10);
}

#[test]
fn the_minimum_group_size_defaults_to_five_and_never_goes_below_three() {
    assert_eq!(
        Settings::from_sources(None, &env(&[]))
            .expect("defaults")
            .min_group_size,
        5
    );
    let s = Settings::from_sources(None, &env(&[("MASHOV_MIN_GROUP_SIZE", "3")]));
    assert_eq!(s.expect("valid").min_group_size, 3);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("m.toml");
    std::fs::write(&path, "min_group_size = 8\n").expect("write");
    let s = Settings::from_sources(Some(&path), &env(&[])).expect("valid");
    assert_eq!(s.min_group_size, 8);
    std::fs::write(&path, "min_group_size = 1\n").expect("write");
    assert!(Settings::from_sources(Some(&path), &env(&[])).is_err());
}

#[test]
fn unknown_keys_and_broken_toml_in_the_file_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "bnid = \"x\"\n").expect("write");
    assert!(Settings::from_sources(Some(&path), &env(&[])).is_err());
    std::fs::write(&path, "bind = [").expect("write");
    assert!(Settings::from_sources(Some(&path), &env(&[])).is_err());
}

#[test]
fn email_settings_default_to_the_israeli_rules_and_parse_smtp_urls() {
    let s = Settings::from_sources(None, &env(&[])).expect("defaults");
    assert!(s.smtp.is_none());
    assert_eq!(s.send_rules, SendRules::default());
    let s = Settings::from_sources(
        None,
        &env(&[
            (
                "MASHOV_SMTP_URL",
                "smtp://user%40city:p%40ss@mail.city.example:587?tls=starttls",
            ),
            ("MASHOV_MAIL_FROM", "עיריית דוגמה <survey@city.example>"),
            ("MASHOV_QUIET_HOURS", ""),
            ("MASHOV_SHABBAT", "off"),
            ("MASHOV_REMINDER_AFTER", "off"),
            ("MASHOV_FREQUENCY_CAP", "7d"),
            ("MASHOV_SEND_DELAY", "0s"),
        ]),
    )
    .expect("valid");
    let smtp = s.smtp.expect("smtp");
    assert_eq!(smtp.security, SmtpSecurity::StartTls);
    assert_eq!((smtp.host.as_str(), smtp.port), ("mail.city.example", 587));
    let (user, pass) = smtp.credentials.expect("credentials");
    assert_eq!(
        (user.as_str(), pass.expose().as_str()),
        ("user@city", "p@ss")
    );
    assert_eq!(s.send_rules.quiet_hours, None);
    assert_eq!(s.send_rules.rest_window, None);
    assert_eq!(s.send_rules.reminder_after, None);
    assert_eq!(s.send_rules.frequency_cap, Some(Duration::days(7)));
    assert_eq!(s.send_rules.delay, Duration::zero());
    assert_eq!(s.mail_from.email.to_string(), "survey@city.example");
    let tls = Settings::from_sources(None, &env(&[("MASHOV_SMTP_URL", "smtps://mail.example")]))
        .expect("valid");
    assert_eq!(
        tls.smtp.map(|s| (s.security, s.port)),
        Some((SmtpSecurity::Tls, 465))
    );
}

#[test]
fn durations_parse_in_their_units() {
    assert_eq!(parse_duration("2h"), Some(Duration::hours(2)));
    assert_eq!(parse_duration("14d"), Some(Duration::days(14)));
    assert_eq!(parse_duration("30m"), Some(Duration::minutes(30)));
    assert_eq!(parse_duration("h"), None);
    assert_eq!(parse_duration("-1d"), None);
    assert_eq!(parse_duration(""), None);
}

#[test]
fn the_secret_file_is_created_once_and_then_reused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("k");
    let e = env(&[("MASHOV_SECRET_FILE", file.to_str().expect("utf-8"))]);
    let s = Settings::from_sources(None, &e).expect("valid");
    let k1 = s.server_key().expect("created");
    let k2 = s.server_key().expect("read back");
    assert_eq!(k1.survey_token("i").expose(), k2.survey_token("i").expose());
}

#[test]
fn stored_rules_apply_where_the_configuration_is_silent() {
    let base = Settings::from_sources(None, &env(&[("MASHOV_LINK_TTL", "7d")])).expect("valid");
    let stored: BTreeMap<String, String> = [
        ("MASHOV_LINK_TTL", "1d"),
        ("MASHOV_DIGEST_SCHEDULE", "mon 09:30"),
        ("MASHOV_MIN_GROUP_SIZE", "2"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let (s, refused) = base.with_stored(&stored);
    // The environment's link lifetime wins; the schedule applies; a group of 2 never does.
    assert_eq!(s.link_ttl, Duration::days(7));
    assert_eq!(
        s.digest_schedule,
        crate::services::digest::DigestSchedule::parse("mon 09:30").expect("schedule")
    );
    assert_eq!(s.min_group_size, 5);
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].0, "MASHOV_MIN_GROUP_SIZE");
}
