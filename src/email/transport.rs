//! The pooled SMTP transport, built from `MASHOV_SMTP_URL`.

use std::time::Duration;

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, Tokio1Executor};

use crate::config::{SmtpSecurity, SmtpSettings};

pub type Mailer = AsyncSmtpTransport<Tokio1Executor>;

/// Builds the transport. Must run inside the Tokio runtime (lettre's pool spawns on it).
/// One SMTP connection manages about 22 messages/s here (delayed ACKs), so the pool is large
/// and the worker sends concurrently.
pub fn build(s: &SmtpSettings) -> Result<Mailer, lettre::transport::smtp::Error> {
    let builder = match s.security {
        SmtpSecurity::None => Mailer::builder_dangerous(&s.host),
        SmtpSecurity::StartTls => Mailer::starttls_relay(&s.host)?,
        SmtpSecurity::Tls => Mailer::relay(&s.host)?,
    };
    let mut builder = builder
        .port(s.port)
        .timeout(Some(Duration::from_secs(30)))
        .pool_config(
            PoolConfig::new()
                .max_size(32)
                .idle_timeout(Duration::from_secs(30)),
        );
    if let Some((user, pass)) = &s.credentials {
        builder = builder.credentials(Credentials::new(user.clone(), pass.expose().clone()));
    }
    Ok(builder.build())
}
