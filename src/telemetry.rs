//! Logging through `tracing`, to stderr, filtered by `MASHOV_LOG` (default `info`).

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = std::env::var("MASHOV_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(true)
        .try_init();
}
