//! Settings: an optional TOML file, overridden by `MASHOV_*` environment variables. A bad value
//! is one clear line and exit code 2, before anything starts.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use chrono::Duration;
use serde::Deserialize;

use crate::db::Backend;
use crate::domain::followup::{FollowupPolicy, FollowupRule, Holidays};
use crate::domain::schedule::{parse_daily, parse_weekly, SendRules};
use crate::domain::secret::Secret;
use crate::domain::token::ServerKey;
use crate::services::digest::DigestSchedule;

/// A setting that could not be read; printed as one line.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// Everything `mashov` reads from its configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    pub backend: Backend,
    pub bind: SocketAddr,
    /// The public origin used in survey links, without a trailing slash.
    pub base_url: String,
    /// How long a survey link stays open.
    pub link_ttl: Duration,
    secret: Option<String>,
    secret_file: PathBuf,
    /// Where mail goes; `None` keeps emails queued.
    pub smtp: Option<SmtpSettings>,
    /// The From header of every email.
    pub mail_from: lettre::message::Mailbox,
    pub send_rules: SendRules,
    /// The city's name in emails and pages; the locale's own name when unset.
    pub city_name: Option<String>,
    /// The city's colour in emails, as #rrggbb.
    pub brand_color: String,
    /// Whether the colour was set by the environment or the file (it then wins over the one
    /// an admin stores).
    pub brand_color_configured: bool,
    /// How often an idle delivery worker looks for due emails.
    pub outbox_poll: std::time::Duration,
    /// How often the digest scheduler looks at the clock.
    pub digest_poll: std::time::Duration,
    /// How often `serve` closes campaigns past their closing date and publishes the employee
    /// groups that have become complete.
    pub housekeeping_poll: std::time::Duration,
    /// How long a worker holds the emails it claimed before another may take them over.
    pub outbox_lease: Duration,
    /// The smallest group of employee answers any surface shows (at least 3).
    pub min_group_size: i64,
    /// The fewest residents' answers over 90 days for a department to appear on the public
    /// transparency page (at least 10).
    pub transparency_min_answers: i64,
    /// Which residents' answers open a follow-up case.
    pub followup: FollowupPolicy,
    /// When the weekly digest goes out.
    pub digest_schedule: DigestSchedule,
    /// The settings an admin may also set (`ADJUSTABLE`) that the environment or the file set,
    /// with the text given: these win over what an admin stores.
    pub configured: BTreeMap<String, String>,
    /// Reverse proxies whose `X-Forwarded-For` names the client (sign-in throttling counts
    /// per client address); empty: the connection's own address is the client's.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// How to reach the mail server.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub security: SmtpSecurity,
    pub host: String,
    pub port: u16,
    pub credentials: Option<(String, Secret<String>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// `smtp://host:port`: no TLS (a relay on the same host or network).
    None,
    /// `smtp://…?tls=starttls`: STARTTLS required.
    StartTls,
    /// `smtps://…`: TLS from the first byte.
    Tls,
}

/// The config file's keys: the same settings as the environment, in lower case.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    database_url: Option<String>,
    bind: Option<String>,
    base_url: Option<String>,
    link_ttl: Option<String>,
    secret: Option<String>,
    secret_file: Option<String>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    send_delay: Option<String>,
    quiet_hours: Option<String>,
    shabbat: Option<String>,
    reminder_after: Option<String>,
    frequency_cap: Option<String>,
    city_name: Option<String>,
    brand_color: Option<String>,
    outbox_lease: Option<String>,
    min_group_size: Option<toml::Value>,
    transparency_min_answers: Option<toml::Value>,
    followup_rule: Option<String>,
    holidays: Option<String>,
    digest_schedule: Option<String>,
    trusted_proxies: Option<String>,
}

/// The settings an admin may also change at `/admin/settings` (by the same names and in the
/// same forms as the environment); the environment and the file win where they set them.
pub const ADJUSTABLE: [&str; 10] = [
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
                _ => {}
            }
        }
        (s, refused)
    }

    /// Reads the file (if given) and the process environment.
    pub fn load(config_file: Option<&Path>) -> Result<Settings, ConfigError> {
        let env: HashMap<String, String> = std::env::vars()
            .filter(|(k, _)| k.starts_with("MASHOV_"))
            .collect();
        Settings::from_sources(config_file, &env)
    }

    /// The same, from an explicit environment (tests).
    pub fn from_sources(
        config_file: Option<&Path>,
        env: &HashMap<String, String>,
    ) -> Result<Settings, ConfigError> {
        let file = match config_file {
            None => FileSettings::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    ConfigError(format!("cannot read config file {}: {e}", path.display()))
                })?;
                toml::from_str(&text).map_err(|e| {
                    let first = e
                        .message()
                        .lines()
                        .next()
                        .unwrap_or("invalid TOML")
                        .to_string();
                    ConfigError(format!("config file {}: {first}", path.display()))
                })?
            }
        };
        // Which of the settings an admin may also set were set here (they then win).
        let configured = std::cell::RefCell::new(BTreeMap::new());
        let pick = |env_key: &str, file_value: Option<String>| -> Option<String> {
            let value = env.get(env_key).cloned().or(file_value);
            if let Some(v) = &value {
                if ADJUSTABLE.contains(&env_key) {
                    configured
                        .borrow_mut()
                        .insert(env_key.to_string(), v.clone());
                }
            }
            value
        };

        let database_url = pick("MASHOV_DATABASE_URL", file.database_url)
            .unwrap_or_else(|| "sqlite://mashov.db".to_string());
        let (backend, target) = Backend::parse_url(&database_url)
            .map_err(|e| ConfigError(format!("MASHOV_DATABASE_URL: {e}")))?;

        let bind_text =
            pick("MASHOV_BIND", file.bind).unwrap_or_else(|| "127.0.0.1:8080".to_string());
        let bind: SocketAddr = bind_text.trim().parse().map_err(|_| {
            ConfigError(format!(
                "MASHOV_BIND: {bind_text:?} is not an address such as 127.0.0.1:8080"
            ))
        })?;

        let base_url = match pick("MASHOV_BASE_URL", file.base_url) {
            None => format!("http://{bind}"),
            Some(url) => parse_base_url(&url)?,
        };

        let link_ttl = match pick("MASHOV_LINK_TTL", file.link_ttl) {
            None => Duration::days(14),
            Some(text) => parse_duration(&text)
                .filter(|d| *d >= Duration::minutes(1) && *d <= Duration::days(365))
                .ok_or_else(|| {
                    ConfigError(format!(
                        "MASHOV_LINK_TTL: {text:?} is not a duration from 1m to 365d, such as 14d"
                    ))
                })?,
        };

        let secret = pick("MASHOV_SECRET", file.secret);
        if let Some(s) = &secret {
            ServerKey::decode(s).map_err(|e| ConfigError(format!("MASHOV_SECRET: {e}")))?;
        }
        let secret_file = pick("MASHOV_SECRET_FILE", file.secret_file)
            .map(PathBuf::from)
            .unwrap_or_else(|| match backend {
                Backend::Sqlite => PathBuf::from(format!("{target}.key")),
                Backend::Postgres => PathBuf::from("mashov.key"),
            });

        let smtp = match pick("MASHOV_SMTP_URL", file.smtp_url) {
            Some(url) if !url.trim().is_empty() => Some(parse_smtp_url(&url)?),
            _ => None,
        };
        let from_text = pick("MASHOV_MAIL_FROM", file.mail_from)
            .unwrap_or_else(|| "mashov <survey@localhost>".to_string());
        let mail_from = from_text.trim().parse().map_err(|_| {
            ConfigError(format!(
                "MASHOV_MAIL_FROM: {from_text:?} is not an address such as \"City <survey@city.example>\""
            ))
        })?;
        let send_rules = SendRules {
            delay: optional_duration("MASHOV_SEND_DELAY", pick("MASHOV_SEND_DELAY", file.send_delay), Some(Duration::hours(2)), false)?
                .unwrap_or_else(Duration::zero),
            quiet_hours: match pick("MASHOV_QUIET_HOURS", file.quiet_hours) {
                None => SendRules::default().quiet_hours,
                Some(t) if t.trim().is_empty() || t.trim() == "off" => None,
                Some(t) => Some(parse_daily(&t).ok_or_else(|| {
                    ConfigError(format!("MASHOV_QUIET_HOURS: {t:?} is not a window such as 21:00-08:00 (empty for none)"))
                })?),
            },
            rest_window: match pick("MASHOV_SHABBAT", file.shabbat) {
                None => SendRules::default().rest_window,
                Some(t) if t.trim().is_empty() || t.trim() == "off" => None,
                Some(t) => Some(parse_weekly(&t).ok_or_else(|| {
                    ConfigError(format!("MASHOV_SHABBAT: {t:?} is not a window such as fri 14:00-sat 20:00 (or off)"))
                })?),
            },
            reminder_after: optional_duration("MASHOV_REMINDER_AFTER", pick("MASHOV_REMINDER_AFTER", file.reminder_after), Some(Duration::days(3)), true)?,
            frequency_cap: optional_duration("MASHOV_FREQUENCY_CAP", pick("MASHOV_FREQUENCY_CAP", file.frequency_cap), Some(Duration::days(30)), true)?,
        };
        let city_name = pick("MASHOV_CITY_NAME", file.city_name)
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty());
        let configured_color = pick("MASHOV_BRAND_COLOR", file.brand_color);
        let brand_color_configured = configured_color.is_some();
        let brand_color = configured_color.unwrap_or_else(|| "#0b4f8a".to_string());
        let color_ok = brand_color.len() == 7
            && brand_color.starts_with('#')
            && brand_color[1..].bytes().all(|b| b.is_ascii_hexdigit());
        if !color_ok {
            return Err(ConfigError(format!(
                "MASHOV_BRAND_COLOR: {brand_color:?} is not a colour such as #0b4f8a"
            )));
        }

        let outbox_lease = optional_duration(
            "MASHOV_OUTBOX_LEASE",
            pick("MASHOV_OUTBOX_LEASE", file.outbox_lease),
            Some(Duration::minutes(2)),
            false,
        )?
        .filter(|d| *d >= Duration::seconds(1))
        .ok_or_else(|| ConfigError("MASHOV_OUTBOX_LEASE: must be at least 1s".into()))?;

        let min_group_size = match pick(
            "MASHOV_MIN_GROUP_SIZE",
            file.min_group_size.map(|v| match v {
                toml::Value::String(s) => s,
                toml::Value::Integer(n) => n.to_string(),
                other => format!("{other:?}"),
            }),
        ) {
            None => 5,
            Some(text) => text
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| (3..=1000).contains(n))
                .ok_or_else(|| {
                    ConfigError(format!(
                        "MASHOV_MIN_GROUP_SIZE: {text:?} is not a whole number from 3 to 1000 \
                         (anonymity needs groups of at least 3)"
                    ))
                })?,
        };

        let transparency_min_answers = match pick(
            "MASHOV_TRANSPARENCY_MIN_ANSWERS",
            file.transparency_min_answers.map(|v| match v {
                toml::Value::String(s) => s,
                toml::Value::Integer(n) => n.to_string(),
                other => format!("{other:?}"),
            }),
        ) {
            None => 30,
            Some(text) => text
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| (10..=1_000_000).contains(n))
                .ok_or_else(|| {
                    ConfigError(format!(
                        "MASHOV_TRANSPARENCY_MIN_ANSWERS: {text:?} is not a whole number from 10 \
                         to 1000000 (a public figure needs at least 10 answers)"
                    ))
                })?,
        };

        let followup_rule = match pick("MASHOV_FOLLOWUP_RULE", file.followup_rule) {
            None => FollowupRule::default(),
            Some(text) => FollowupRule::parse(&text).ok_or_else(|| {
                ConfigError(format!(
                    "MASHOV_FOLLOWUP_RULE: {text:?} is not a rule such as \"overall<=2 or not_resolved\" (or off)"
                ))
            })?,
        };
        let holidays = match pick("MASHOV_HOLIDAYS", file.holidays) {
            None => Holidays::default(),
            Some(text) => {
                Holidays::parse(&text).map_err(|e| ConfigError(format!("MASHOV_HOLIDAYS: {e}")))?
            }
        };

        let digest_schedule = match pick("MASHOV_DIGEST_SCHEDULE", file.digest_schedule) {
            None => DigestSchedule::default(),
            Some(text) => DigestSchedule::parse(&text).ok_or_else(|| {
                ConfigError(format!(
                    "MASHOV_DIGEST_SCHEDULE: {text:?} is not a day and time such as \"sun 08:00\""
                ))
            })?,
        };

        let trusted_proxies = match pick("MASHOV_TRUSTED_PROXIES", file.trusted_proxies) {
            None => Vec::new(),
            Some(text) => text
                .split([',', ' '])
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| {
                    p.parse::<std::net::IpAddr>().map_err(|_| {
                        ConfigError(format!(
                            "MASHOV_TRUSTED_PROXIES: {p:?} is not an IP address such as 127.0.0.1"
                        ))
                    })
                })
                .collect::<Result<_, _>>()?,
        };

        Ok(Settings {
            configured: configured.into_inner(),
            trusted_proxies,
            digest_schedule,
            followup: FollowupPolicy {
                rule: followup_rule,
                holidays,
            },
            min_group_size,
            transparency_min_answers,
            outbox_poll: std::time::Duration::from_millis(500),
            digest_poll: std::time::Duration::from_secs(60),
            housekeeping_poll: std::time::Duration::from_secs(600),
            outbox_lease,
            smtp,
            mail_from,
            send_rules,
            city_name,
            brand_color,
            brand_color_configured,
            database_url,
            backend,
            bind,
            base_url,
            link_ttl,
            secret,
            secret_file,
        })
    }

    /// The key survey links derive from: `MASHOV_SECRET`, else the key file, which is created
    /// (readable by its owner only) on first use. Every instance sharing a database must share it.
    pub fn server_key(&self) -> Result<ServerKey, ConfigError> {
        if let Some(s) = &self.secret {
            return ServerKey::decode(s).map_err(|e| ConfigError(format!("MASHOV_SECRET: {e}")));
        }
        let path = &self.secret_file;
        match std::fs::read_to_string(path) {
            Ok(text) => ServerKey::decode(&text)
                .map_err(|e| ConfigError(format!("secret file {}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = ServerKey::generate();
                write_new_secret(path, &key.encode()).map_err(|e| {
                    ConfigError(format!("cannot create secret file {}: {e}", path.display()))
                })?;
                // Another process may have won the race to create it: read back what is there.
                let text = std::fs::read_to_string(path)
                    .map_err(|e| ConfigError(format!("secret file {}: {e}", path.display())))?;
                ServerKey::decode(&text)
                    .map_err(|e| ConfigError(format!("secret file {}: {e}", path.display())))
            }
            Err(e) => Err(ConfigError(format!(
                "cannot read secret file {}: {e}",
                path.display()
            ))),
        }
    }
}

/// A duration setting that may be `off` (when `can_be_off`); `default` when unset.
fn optional_duration(
    name: &str,
    value: Option<String>,
    default: Option<Duration>,
    can_be_off: bool,
) -> Result<Option<Duration>, ConfigError> {
    let Some(text) = value else {
        return Ok(default);
    };
    if can_be_off && text.trim() == "off" {
        return Ok(None);
    }
    parse_duration(&text)
        .filter(|d| *d <= Duration::days(365))
        .map(Some)
        .ok_or_else(|| {
            let off = if can_be_off { " (or off)" } else { "" };
            ConfigError(format!(
                "{name}: {text:?} is not a duration such as 2h or 3d{off}"
            ))
        })
}

/// Parses `smtp://host:port`, `smtp://user:pass@host:587?tls=starttls`, `smtps://…`.
fn parse_smtp_url(text: &str) -> Result<SmtpSettings, ConfigError> {
    let bad = |why: &str| ConfigError(format!("MASHOV_SMTP_URL: {why}"));
    let url = url::Url::parse(text.trim()).map_err(|_| bad("not a URL such as smtp://host:25"))?;
    let tls = url
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.to_string());
    let security = match (url.scheme(), tls.as_deref()) {
        ("smtps", None) => SmtpSecurity::Tls,
        ("smtp", None | Some("none")) => SmtpSecurity::None,
        ("smtp", Some("starttls" | "required")) => SmtpSecurity::StartTls,
        ("smtp", Some(_)) => return Err(bad("tls must be starttls or none")),
        _ => return Err(bad("the scheme must be smtp or smtps")),
    };
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| bad("a host is required"))?
        .to_string();
    let port = url.port().unwrap_or(match security {
        SmtpSecurity::None => 25,
        SmtpSecurity::StartTls => 587,
        SmtpSecurity::Tls => 465,
    });
    let credentials = (!url.username().is_empty()).then(|| {
        let decode = |s: &str| percent_decode(s);
        (
            decode(url.username()),
            Secret::new(decode(url.password().unwrap_or(""))),
        )
    });
    Ok(SmtpSettings {
        security,
        host,
        port,
        credentials,
    })
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn write_new_secret(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut f) => {
            f.write_all(text.as_bytes())?;
            f.sync_all()
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

fn parse_base_url(url: &str) -> Result<String, ConfigError> {
    let trimmed = url.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"));
    match rest {
        Some(host)
            if !host.is_empty()
                && !host.contains(|c: char| c.is_whitespace() || c == '?' || c == '#') =>
        {
            Ok(trimmed.to_string())
        }
        _ => Err(ConfigError(format!(
            "MASHOV_BASE_URL: {url:?} is not an http(s) origin such as https://survey.city.example"
        ))),
    }
}

/// Parses `90s`, `30m`, `2h`, `14d`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    // The unit is the last character, whatever its width (a Hebrew keyboard types `14ג`).
    let unit = text.chars().last()?;
    let number = &text[..text.len() - unit.len_utf8()];
    let n: i64 = number.parse().ok().filter(|n| *n >= 0)?;
    match unit {
        's' => Duration::try_seconds(n),
        'm' => Duration::try_minutes(n),
        'h' => Duration::try_hours(n),
        'd' => Duration::try_days(n),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
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
        let tls =
            Settings::from_sources(None, &env(&[("MASHOV_SMTP_URL", "smtps://mail.example")]))
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
}
