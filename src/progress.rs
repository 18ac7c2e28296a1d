//! Progress on a terminal for the long commands (`import`, `export`, `generate`,
//! `unvotes`): the phase and the rows done so far, redrawn in place on stderr. When
//! stderr is not a terminal (CI, pipes, a log collector) nothing is drawn, and the
//! structured log lines stay the only record.

use std::borrow::Cow;
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// One command's progress line; it stays on screen with its last figures when dropped.
pub struct Progress(ProgressBar);

impl Progress {
    /// Rows of `phase`, counted up as they pass (the total is not known ahead).
    pub fn rows(phase: impl Into<Cow<'static, str>>) -> Self {
        Self::new(
            ProgressBar::new_spinner(),
            "{spinner} {msg}: {human_pos} rows ({per_sec}, {elapsed})",
            phase,
        )
    }

    /// `total` items of `phase`, as a bar with the time left.
    pub fn of(phase: impl Into<Cow<'static, str>>, total: u64) -> Self {
        Self::new(
            ProgressBar::new(total),
            "{msg} [{bar:30}] {human_pos}/{human_len} ({eta} left)",
            phase,
        )
    }

    fn new(bar: ProgressBar, template: &str, phase: impl Into<Cow<'static, str>>) -> Self {
        if !std::io::stderr().is_terminal() {
            return Self(ProgressBar::hidden());
        }
        bar.set_style(
            ProgressStyle::with_template(template)
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar.set_message(phase);
        bar.enable_steady_tick(Duration::from_millis(150));
        Self(bar)
    }

    pub fn inc(&self, rows: u64) {
        self.0.inc(rows);
    }

    pub fn set_rows(&self, rows: u64) {
        self.0.set_position(rows);
    }

    /// The command moved on to `phase`; the rows so far stay.
    pub fn phase(&self, phase: impl Into<Cow<'static, str>>) {
        self.0.set_message(phase);
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.0.finish();
    }
}
