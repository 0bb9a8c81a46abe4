//! A one-line progress bar on standard error, drawn only when a person is watching (a
//! terminal); scripts and logs get the final summary line alone.

use std::io::{IsTerminal, Write};

pub struct Progress {
    label: &'static str,
    total: u64,
    shown: Option<u64>,
    enabled: bool,
}

impl Progress {
    pub fn new(label: &'static str, total: u64) -> Self {
        Progress {
            label,
            total: total.max(1),
            shown: None,
            enabled: std::io::stderr().is_terminal(),
        }
    }

    /// Redraws when the percentage changes.
    pub fn set(&mut self, done: u64) {
        if !self.enabled {
            return;
        }
        let pct = (done.min(self.total) * 100) / self.total;
        if self.shown == Some(pct) {
            return;
        }
        self.shown = Some(pct);
        let filled = usize::try_from(pct / 4).unwrap_or(25);
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r{} [{}{}] {pct:>3}%",
            self.label,
            "#".repeat(filled),
            " ".repeat(25 - filled.min(25))
        );
        let _ = err.flush();
    }

    pub fn finish(&mut self) {
        if self.enabled && self.shown.is_some() {
            let _ = writeln!(std::io::stderr());
        }
    }
}
