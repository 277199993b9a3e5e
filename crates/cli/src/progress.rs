//! A progress bar for work that may take long enough to notice: drawn on stderr only when
//! it is a terminal, and only once the work has taken longer than [`DELAY`], so fast runs
//! (the usual case) and pipes or CI logs never see it.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long work runs before its bar appears.
pub const DELAY: Duration = Duration::from_millis(300);

/// A bar that is hidden until the work has taken [`DELAY`].
pub struct Progress {
    bar: ProgressBar,
    started: Instant,
    shown: bool,
}

impl Progress {
    /// Progress over `len` steps of `what` (`"writing"`, `"encrypting"`).
    pub fn new(len: usize, what: &'static str) -> Self {
        let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template("{msg:>10} [{bar:30}] {pos}/{len}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar.set_message(what);
        Progress {
            bar,
            started: Instant::now(),
            shown: false,
        }
    }

    /// One step done.
    pub fn inc(&mut self) {
        if !self.shown && self.started.elapsed() >= DELAY {
            // indicatif's stderr target draws nothing when stderr is not a terminal.
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.shown = true;
        }
        self.bar.inc(1);
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
