//! Cancellation and progress shared between a long-running job and its caller.
//!
//! The core never talks to a terminal by itself: a job bumps counters in a
//! [`Control`], and the caller (the Python binding, the CLI) polls them to draw a
//! progress bar and sets the cancel flag on Ctrl-C.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

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

    /// Fraction done in [0, 1], or `None` when the total is unknown.
    pub fn fraction(&self) -> Option<f64> {
        let total = self.bytes_total.load(Ordering::Relaxed);
        if total == 0 {
            return None;
        }
        let done = self.bytes_done.load(Ordering::Relaxed);
        Some((done as f64 / total as f64).min(1.0))
    }
}
