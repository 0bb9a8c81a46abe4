//! Logging through `tracing`, to stderr, filtered by `MASHOV_LOG` (default `info`), as text or,
//! with `MASHOV_LOG_FORMAT=json`, one JSON object a line (for a log collector). Each request's
//! lines carry its id (`request{id=…}`, also sent back as `X-Request-Id`). No line holds a
//! token, a key, a password or a contact: paths are redacted before they are logged, and
//! nothing logs bodies or headers.
//! (A queue to a background log thread was measured and was slower: waking that thread per line
//! cost more than the write it saved.)

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = std::env::var("MASHOV_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let json = std::env::var("MASHOV_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(true);
    let _ = if json {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init()
    };
}
