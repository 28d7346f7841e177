//! Cancellation and progress shared between a long-running job and its caller.
//!
//! The core never talks to a terminal by itself: a job bumps counters in a
//! [`Control`], and the caller (the Python binding, the CLI) polls them to draw a
//! progress bar and sets the cancel flag on Ctrl-C.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

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
    // Total, unit and start of the step phase.
    steps: OnceLock<(u64, &'static str, Instant)>,
    // What the job is doing now ("stage 3/13: adjusting counts"), when it says.
    stage: Mutex<Option<String>>,
    // Every stage set, with the steps done when it began: what tests read.
    #[cfg(test)]
    pub(crate) stage_log: Mutex<Vec<(String, u64)>>,
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
    /// with [`Control::add_steps`]. Only the first call counts. An empty unit
    /// draws the bar and the stage without the counts (for steps that are
    /// units of work rather than things a user would count).
    pub fn start_steps(&self, total: u64, unit: &'static str) {
        let _ = self.steps.set((total, unit, Instant::now()));
    }

    /// Say what the job is doing now; the bar shows it after the figures.
    pub fn set_stage(&self, stage: impl Into<String>) {
        let stage = stage.into();
        #[cfg(test)]
        if let Ok(mut log) = self.stage_log.lock() {
            log.push((stage.clone(), self.steps_done.load(Ordering::Relaxed)));
        }
        if let Ok(mut now) = self.stage.lock() {
            *now = Some(stage);
        }
    }

    /// The stage last set, if any.
    pub fn stage(&self) -> Option<String> {
        self.stage.lock().ok().and_then(|s| s.clone())
    }

    /// Add `n` to the steps counter.
    pub fn add_steps(&self, n: u64) {
        self.steps_done.fetch_add(n, Ordering::Relaxed);
    }

    /// The step phase's total and unit, once started.
    pub fn steps(&self) -> Option<(u64, &'static str)> {
        self.steps.get().map(|&(total, unit, _)| (total, unit))
    }

    /// Seconds since the step phase started, once started.
    fn steps_seconds(&self) -> Option<f64> {
        self.steps
            .get()
            .map(|(_, _, start)| start.elapsed().as_secs_f64())
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

/// Seconds a bar stays silent unless `NEXTWORD_PROGRESS_DELAY` says otherwise.
const DEFAULT_DELAY: f64 = 1.0;
/// Seconds between two redraws of the line.
const REDRAW: f64 = 0.05;

/// A one-line progress bar on stderr, redrawn from a [`Control`]'s counters.
///
/// It stays silent for the first second (`NEXTWORD_PROGRESS_DELAY` seconds
/// when set), so quick jobs print nothing.
pub struct ProgressBar {
    label: String,
    start: Instant,
    delay: f64,
    // Whether the last line drawn was of the step phase.
    in_steps: bool,
    // Characters of the last line drawn: a shorter one is padded over it.
    last_width: usize,
    drawn: bool,
    // Seconds since start of the last line drawn by `draw`.
    last_draw: f64,
}

impl ProgressBar {
    /// A bar labelled `label`, started now.
    pub fn new(label: &str) -> Self {
        let delay = std::env::var("NEXTWORD_PROGRESS_DELAY")
            .ok()
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|d| d.is_finite() && *d >= 0.0)
            .unwrap_or(DEFAULT_DELAY);
        Self {
            label: label.to_string(),
            start: Instant::now(),
            delay,
            in_steps: false,
            last_width: 0,
            drawn: false,
            last_draw: f64::NEG_INFINITY,
        }
    }

    /// Redraw from `control`'s counters (once the delay has passed).
    pub fn draw(&mut self, control: &Control) {
        let secs = self.start.elapsed().as_secs_f64();
        // Callers may wake often (to see Ctrl-C soon); the line changes at
        // most every REDRAW seconds.
        if secs - self.last_draw >= REDRAW {
            self.draw_at(control, secs);
        }
    }

    fn draw_at(&mut self, control: &Control, secs: f64) {
        if secs >= self.delay {
            let line = self.line(control, secs);
            self.write(&line);
            self.last_draw = secs;
        }
    }

    /// The line to draw after `secs` seconds: bytes and tokens while reading
    /// the input, then steps once a step phase started (on a new line, so the
    /// reading phase's last figures stay on screen); then the stage, when the
    /// job names one (a job that goes on after reading says what it does). A job that reports no figures at all shows its stage (or
    /// that it is working) and the time, never a row of zeros.
    fn line(&mut self, control: &Control, secs: f64) -> String {
        let stage = control.stage();
        let body = if let Some((total, unit)) = control.steps() {
            let start = if self.drawn && !self.in_steps {
                "\n"
            } else {
                "\r"
            };
            self.in_steps = true;
            let done = control.steps_done.load(Ordering::Relaxed);
            let mut body = format!(
                "{start}{} {}",
                self.label,
                bar((done as f64 / total.max(1) as f64).min(1.0))
            );
            if !unit.is_empty() {
                let since = control.steps_seconds().unwrap_or(secs).max(1e-3);
                body += &format!(
                    " {done}/{total} {unit}, {:.0} {unit}/s",
                    done as f64 / since
                );
            }
            if let Some(stage) = stage {
                body += if unit.is_empty() { " " } else { ", " };
                body += &stage;
            }
            body
        } else {
            let tokens = control.tokens_done.load(Ordering::Relaxed) as f64;
            let bytes = control.bytes_done.load(Ordering::Relaxed);
            if bytes == 0 && tokens == 0.0 && control.fraction().is_none() {
                format!("\r{} {}", self.label, stage.as_deref().unwrap_or("working"))
            } else {
                let bar = control.fraction().map(bar).unwrap_or_default();
                let rate = f32::from_bits(control.learning_rate.load(Ordering::Relaxed));
                let rate = if rate > 0.0 {
                    format!(", lr {rate:.5}")
                } else {
                    String::new()
                };
                let stage = stage.map(|s| format!(", {s}")).unwrap_or_default();
                format!(
                    "\r{} {} {:.1} MB, {:.1} M tokens, {:.2} M tokens/s{rate}{stage}",
                    self.label,
                    bar,
                    bytes as f64 / 1e6,
                    tokens / 1e6,
                    tokens / 1e6 / secs.max(1e-3),
                )
            }
        };
        let mut line = format!("{body}, {secs:.0} s ");
        // Blank out what a longer previous line left on screen.
        let width = line.trim_start_matches(['\r', '\n']).chars().count();
        if width < self.last_width && line.starts_with('\r') {
            line.push_str(&" ".repeat(self.last_width - width));
        }
        self.last_width = width;
        line
    }

    fn write(&mut self, line: &str) {
        use std::io::Write;
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(line.as_bytes());
        let _ = err.flush();
        self.drawn = true;
    }

    /// Draw the final figures and end the line, if the job ran past the delay.
    pub fn finish(&mut self, control: &Control) {
        self.draw_at(control, self.start.elapsed().as_secs_f64());
        if self.drawn {
            eprintln!();
        }
    }
}

#[cfg(test)]
mod tests;
