//! Cancellation and progress shared between a long-running job and its caller.
//!
//! The core never talks to a terminal by itself: a job bumps counters in a
//! [`Control`], and the caller (the Python binding, the CLI) polls them to draw a
//! progress bar and sets the cancel flag on Ctrl-C.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

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
    /// Items (n-grams written, merges made) done, for a job that counts items
    /// rather than input bytes; see [`Control::set_items`].
    pub items_done: AtomicU64,
    /// Items in all (0 = the job counts bytes, not items).
    pub items_total: AtomicU64,
    /// What the items are called in the progress bar ("n-grams").
    pub items_name: std::sync::OnceLock<&'static str>,
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

    /// Count progress in `total` items called `name` from now on.
    pub fn set_items(&self, name: &'static str, total: u64) {
        let _ = self.items_name.set(name);
        self.items_done.store(0, Ordering::Relaxed);
        self.items_total.store(total, Ordering::Relaxed);
    }

    /// Add `n` to the items-done counter.
    pub fn add_items(&self, n: u64) {
        self.items_done.fetch_add(n, Ordering::Relaxed);
    }

    /// Fraction done in [0, 1], or `None` when the total is unknown.
    pub fn fraction(&self) -> Option<f64> {
        let items = self.items_total.load(Ordering::Relaxed);
        if items > 0 {
            let done = self.items_done.load(Ordering::Relaxed);
            return Some((done as f64 / items as f64).min(1.0));
        }
        let total = self.bytes_total.load(Ordering::Relaxed);
        if total == 0 {
            return None;
        }
        let passes = self.passes.load(Ordering::Relaxed).max(1);
        let done = self.bytes_done.load(Ordering::Relaxed);
        Some((done as f64 / (total * passes) as f64).min(1.0))
    }
}

/// A one-line progress bar on stderr, redrawn from a [`Control`]'s counters.
///
/// It stays silent for the first second, so quick jobs print nothing.
pub struct ProgressBar {
    label: String,
    start: std::time::Instant,
    drawn: bool,
}

impl ProgressBar {
    /// A bar labelled `label`, started now.
    pub fn new(label: &str) -> Self {
        Self {
            label: label.to_string(),
            start: std::time::Instant::now(),
            drawn: false,
        }
    }

    /// Redraw from `control`'s counters.
    pub fn draw(&mut self, control: &Control) {
        use std::io::Write;
        let secs = self.start.elapsed().as_secs_f64();
        if secs < 1.0 {
            return;
        }
        let tokens = control.tokens_done.load(Ordering::Relaxed) as f64;
        let mb = control.bytes_done.load(Ordering::Relaxed) as f64 / 1e6;
        let bar = match control.fraction() {
            Some(f) => {
                let filled = (f * 30.0).round() as usize;
                format!(
                    "[{}{}] {:3.0}%",
                    "#".repeat(filled),
                    ".".repeat(30 - filled),
                    f * 100.0
                )
            }
            None => String::new(),
        };
        let rate = f32::from_bits(control.learning_rate.load(Ordering::Relaxed));
        let rate = if rate > 0.0 {
            format!(", lr {rate:.5}")
        } else {
            String::new()
        };
        let items = control.items_total.load(Ordering::Relaxed);
        let line = if items > 0 {
            let done = control.items_done.load(Ordering::Relaxed) as f64;
            let name = control.items_name.get().copied().unwrap_or("items");
            format!(
                "\r{} {} {:.1} of {:.1} M {name}, {:.2} M {name}/s, {:.0} s ",
                self.label,
                bar,
                done / 1e6,
                items as f64 / 1e6,
                done / 1e6 / secs,
                secs
            )
        } else {
            format!(
                "\r{} {} {:.1} MB, {:.1} M tokens, {:.2} M tokens/s{rate}, {:.0} s ",
                self.label,
                bar,
                mb,
                tokens / 1e6,
                tokens / 1e6 / secs,
                secs
            )
        };
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
