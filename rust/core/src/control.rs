//! Cancellation and progress shared between a long-running job and its caller.
//!
//! The core never talks to a terminal by itself: a job bumps counters in a
//! [`Control`], and the caller (the Python binding, the CLI) polls them to draw a
//! progress bar and sets the cancel flag on Ctrl-C.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::OnceLock;

use crate::{Error, Result};

/// Cancel flag and progress counters of one job. Cheap to share by reference.
#[derive(Debug, Default)]
pub struct Control {
    cancelled: AtomicBool,
    /// Bytes of input consumed so far (compressed bytes for compressed files).
    pub bytes_done: AtomicU64,
    /// Total bytes of input, when known (0 = unknown).
    pub bytes_total: AtomicU64,
    /// Tokens processed so far.
    pub tokens_done: AtomicU64,
    /// Passes the job makes over the input (0 counts as 1): the fraction done
    /// is bytes read over `bytes_total * passes`.
    pub passes: AtomicU64,
    /// The current learning rate of a training job, as f32 bits (0 = none shown).
    pub learning_rate: AtomicU32,
    /// Steps of a later phase done so far (BPE merges, say): once
    /// [`Control::start_steps`] is called the bar counts these instead of bytes.
    pub steps_done: AtomicU64,
    steps: OnceLock<(u64, &'static str)>,
}

impl Control {
    /// A fresh control: not cancelled, counters at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Ask the job to stop as soon as it can.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// Whether [`Control::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    /// `Err(Error::Cancelled)` once cancelled; jobs call this between chunks.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(Error::Cancelled)
        } else {
            Ok(())
        }
    }

    /// Add `n` to the consumed-bytes counter.
    pub fn add_bytes(&self, n: u64) {
        self.bytes_done.fetch_add(n, Ordering::Relaxed);
    }

    /// Add `n` to the processed-tokens counter.
    pub fn add_tokens(&self, n: u64) {
        self.tokens_done.fetch_add(n, Ordering::Relaxed);
    }

    /// Enter a phase of at most `total` steps named `unit` ("merges"); counted
    /// with [`Control::add_steps`]. Only the first call counts.
    pub fn start_steps(&self, total: u64, unit: &'static str) {
        let _ = self.steps.set((total, unit));
    }

    /// Add `n` to the steps counter.
    pub fn add_steps(&self, n: u64) {
        self.steps_done.fetch_add(n, Ordering::Relaxed);
    }

    /// The step phase's total and unit, once started.
    pub fn steps(&self) -> Option<(u64, &'static str)> {
        self.steps.get().copied()
    }

    /// Fraction done in [0, 1], or `None` when the total is unknown.
    pub fn fraction(&self) -> Option<f64> {
        let total = self.bytes_total.load(Ordering::Relaxed);
        if total == 0 {
            return None;
        }
        let passes = self.passes.load(Ordering::Relaxed).max(1);
        let done = self.bytes_done.load(Ordering::Relaxed);
        Some((done as f64 / (total * passes) as f64).min(1.0))
    }
}

/// `[#####.....]  50%`: thirty cells for `fraction` in [0, 1].
fn bar(fraction: f64) -> String {
    let filled = (fraction * 30.0).round() as usize;
    format!(
        "[{}{}] {:3.0}%",
        "#".repeat(filled),
        ".".repeat(30 - filled),
        fraction * 100.0
    )
}

/// A one-line progress bar on stderr, redrawn from a [`Control`]'s counters.
///
/// It stays silent for the first second, so quick jobs print nothing.
pub struct ProgressBar {
    label: String,
    start: std::time::Instant,
    // When the bar first saw a step phase (its rate is counted from there).
    steps_start: Option<std::time::Instant>,
    drawn: bool,
}

impl ProgressBar {
    /// A bar labelled `label`, started now.
    pub fn new(label: &str) -> Self {
        Self {
            label: label.to_string(),
            start: std::time::Instant::now(),
            steps_start: None,
            drawn: false,
        }
    }

    /// Redraw from `control`'s counters.
    pub fn draw(&mut self, control: &Control) {
        let secs = self.start.elapsed().as_secs_f64();
        if secs >= 1.0 {
            let line = self.line(control, secs);
            self.write(&line);
        }
    }

    /// The line to draw after `secs` seconds: bytes and tokens while reading
    /// the input, then steps once a step phase started (on a new line, so the
    /// reading phase's last figures stay on screen).
    fn line(&mut self, control: &Control, secs: f64) -> String {
        if let Some((total, unit)) = control.steps() {
            let first = self.steps_start.is_none();
            let since = *self.steps_start.get_or_insert_with(std::time::Instant::now);
            let done = control.steps_done.load(Ordering::Relaxed);
            return format!(
                "{}{} {} {done}/{total} {unit}, {:.0} {unit}/s, {:.0} s ",
                if first && self.drawn { "\n" } else { "\r" },
                self.label,
                bar((done as f64 / total.max(1) as f64).min(1.0)),
                done as f64 / since.elapsed().as_secs_f64().max(1e-3),
                secs
            );
        }
        let tokens = control.tokens_done.load(Ordering::Relaxed) as f64;
        let mb = control.bytes_done.load(Ordering::Relaxed) as f64 / 1e6;
        let bar = control.fraction().map(bar).unwrap_or_default();
        let rate = f32::from_bits(control.learning_rate.load(Ordering::Relaxed));
        let rate = if rate > 0.0 {
            format!(", lr {rate:.5}")
        } else {
            String::new()
        };
        format!(
            "\r{} {} {:.1} MB, {:.1} M tokens, {:.2} M tokens/s{rate}, {:.0} s ",
            self.label,
            bar,
            mb,
            tokens / 1e6,
            tokens / 1e6 / secs,
            secs
        )
    }

    fn write(&mut self, line: &str) {
        use std::io::Write;
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(line.as_bytes());
        let _ = err.flush();
        self.drawn = true;
    }

    /// End the line if anything was drawn.
    pub fn finish(&mut self, control: &Control) {
        if self.drawn {
            self.draw(control);
            eprintln!();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_shows_bytes_then_steps_on_a_new_line() {
        let control = Control::new();
        control.bytes_total.store(4_000_000, Ordering::Relaxed);
        control.add_bytes(2_000_000);
        let mut bar = ProgressBar::new("bpe");
        let line = bar.line(&control, 2.0);
        assert!(
            line.starts_with("\rbpe [###############...............]  50% 2.0 MB"),
            "{line}"
        );
        bar.drawn = true;
        control.start_steps(10, "merges");
        control.start_steps(99, "ignored");
        control.add_steps(3);
        let line = bar.line(&control, 3.0);
        assert!(line.starts_with("\nbpe [#########"), "{line}");
        assert!(line.contains(" 30% 3/10 merges, "), "{line}");
        assert!(bar.line(&control, 4.0).starts_with("\rbpe"));
    }
}
