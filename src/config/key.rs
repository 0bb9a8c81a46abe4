//! The server key: from `MASHOV_SECRET`, or from its file, created once (readable by its owner
//! only).

use std::path::Path;

use super::{ConfigError, Settings};
use crate::domain::token::ServerKey;

impl Settings {
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
