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
    /// How long a request's body may take to arrive in full: a client that trickles it is
    /// answered and cut off instead of holding its connection.
    pub body_timeout: std::time::Duration,
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
    /// How long residents' contact details are kept after their invitation closes (and a
    /// case's after it closes): `MASHOV_CONTACT_RETENTION`, 90 days.
    pub contact_retention: Duration,
    /// The addresses `GET /metrics` answers (`MASHOV_METRICS_FROM`, loopback by default).
    pub metrics_from: Vec<std::net::IpAddr>,
    /// Requests a minute one client address may make to pages, forms and the public summary
    /// (`MASHOV_RATE_LIMIT`, 600; 0 turns the limit off).
    pub rate_limit: u32,
    /// API calls a minute one key may make (`MASHOV_API_RATE_LIMIT`, 6000; 0: no limit).
    pub api_rate_limit: u32,
    /// Wrong API keys one client address may give before it is locked out of the API, then
    /// one try a minute (`MASHOV_WRONG_KEY_LIMIT`, 20; 0: no lockout, for a contract test).
    pub wrong_key_limit: u32,
    /// Reverse proxies whose `X-Forwarded-For` names the client (sign-in throttling counts
    /// per client address); empty: the connection's own address is the client's.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// IP addresses separated by commas or spaces.
fn ip_list(name: &str, text: &str) -> Result<Vec<std::net::IpAddr>, ConfigError> {
    text.split([',', ' '])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse::<std::net::IpAddr>().map_err(|_| {
                ConfigError(format!(
                    "{name}: {p:?} is not an IP address such as 127.0.0.1"
                ))
            })
        })
        .collect()
}

/// A number the file may give as text or as a number.
fn toml_text(v: toml::Value) -> String {
    match v {
        toml::Value::String(s) => s,
        toml::Value::Integer(n) => n.to_string(),
        other => format!("{other:?}"),
    }
}

/// Requests a minute: a whole number up to a million; 0 turns the limit off.
fn per_minute(name: &str, text: Option<String>, default: u32) -> Result<u32, ConfigError> {
    match text {
        None => Ok(default),
        Some(text) => text
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| *n <= 1_000_000)
            .ok_or_else(|| {
                ConfigError(format!(
                    "{name}: {text:?} is not a number of requests a minute from 0 (no limit) \
                     to 1000000"
                ))
            }),
    }
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
    rate_limit: Option<toml::Value>,
    metrics_from: Option<String>,
    contact_retention: Option<String>,
    api_rate_limit: Option<toml::Value>,
    wrong_key_limit: Option<toml::Value>,
    followup_rule: Option<String>,
    holidays: Option<String>,
    digest_schedule: Option<String>,
    trusted_proxies: Option<String>,
}

/// The settings an admin may also change at `/admin/settings` (by the same names and in the
/// same forms as the environment); the environment and the file win where they set them.
mod adjustable;
mod key;
mod parse;

pub use adjustable::ADJUSTABLE;
pub use parse::parse_duration;
use parse::{optional_duration, parse_base_url, parse_smtp_url};

impl Settings {
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
        let Some(path) = config_file else {
            return Settings::from_text(None, env);
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("cannot read config file {}: {e}", path.display())))?;
        Settings::from_text(Some((&path.display().to_string(), &text)), env)
    }

    /// The same from the configuration file's name (for errors) and text: no file is read, so
    /// that the fuzzer can drive every parser in here.
    pub fn from_text(
        config_file: Option<(&str, &str)>,
        env: &HashMap<String, String>,
    ) -> Result<Settings, ConfigError> {
        let file = match config_file {
            None => FileSettings::default(),
            Some((name, text)) => toml::from_str(text).map_err(|e| {
                let first = e
                    .message()
                    .lines()
                    .next()
                    .unwrap_or("invalid TOML")
                    .to_string();
                ConfigError(format!("config file {name}: {first}"))
            })?,
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

        let metrics_from = match pick("MASHOV_METRICS_FROM", file.metrics_from) {
            None => vec![
                std::net::IpAddr::from([127, 0, 0, 1]),
                std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
            ],
            Some(text) => ip_list("MASHOV_METRICS_FROM", &text)?,
        };

        let contact_retention = optional_duration(
            "MASHOV_CONTACT_RETENTION",
            pick("MASHOV_CONTACT_RETENTION", file.contact_retention),
            Some(Duration::days(90)),
            false,
        )?
        .filter(|d| *d >= Duration::days(1))
        .ok_or_else(|| {
            ConfigError("MASHOV_CONTACT_RETENTION: must be at least 1d, such as 90d".into())
        })?;

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

        let rate_limit = per_minute(
            "MASHOV_RATE_LIMIT",
            pick("MASHOV_RATE_LIMIT", file.rate_limit.map(toml_text)),
            600,
        )?;
        let api_rate_limit = per_minute(
            "MASHOV_API_RATE_LIMIT",
            pick("MASHOV_API_RATE_LIMIT", file.api_rate_limit.map(toml_text)),
            6000,
        )?;
        let wrong_key_limit = per_minute(
            "MASHOV_WRONG_KEY_LIMIT",
            pick(
                "MASHOV_WRONG_KEY_LIMIT",
                file.wrong_key_limit.map(toml_text),
            ),
            20,
        )?;

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
            Some(text) => ip_list("MASHOV_TRUSTED_PROXIES", &text)?,
        };

        Ok(Settings {
            metrics_from,
            contact_retention,
            rate_limit,
            api_rate_limit,
            wrong_key_limit,
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
            body_timeout: std::time::Duration::from_secs(10),
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
}

#[cfg(test)]
mod tests;
