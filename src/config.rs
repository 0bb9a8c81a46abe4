//! Settings: an optional TOML file, overridden by `MASHOV_*` environment variables. A bad value
//! is one clear line and exit code 2, before anything starts.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use chrono::Duration;
use serde::Deserialize;

use crate::db::Backend;
use crate::domain::token::ServerKey;

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
}

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
        let pick = |env_key: &str, file_value: Option<String>| -> Option<String> {
            env.get(env_key).cloned().or(file_value)
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

        Ok(Settings {
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
    let split = text.len().checked_sub(1)?;
    let (number, unit) = text.split_at(split);
    let n: i64 = number.parse().ok().filter(|n| *n >= 0)?;
    match unit {
        "s" => Duration::try_seconds(n),
        "m" => Duration::try_minutes(n),
        "h" => Duration::try_hours(n),
        "d" => Duration::try_days(n),
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
        ] {
            let e = Settings::from_sources(None, &env(&[(key, value)])).expect_err(key);
            assert!(e.0.starts_with(key), "{e}");
            assert!(!e.0.contains('\n'));
        }
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
