//! Parsers for the values of settings: durations, the SMTP URL and the base URL.

use chrono::Duration;

use super::{ConfigError, SmtpSecurity, SmtpSettings};
use crate::domain::secret::Secret;

/// A duration setting that may be `off` (when `can_be_off`); `default` when unset.
pub(super) fn optional_duration(
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
pub(super) fn parse_smtp_url(text: &str) -> Result<SmtpSettings, ConfigError> {
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

pub(super) fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

pub(super) fn parse_base_url(url: &str) -> Result<String, ConfigError> {
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
