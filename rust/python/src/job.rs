//! Running a long core job with the GIL released, a progress bar, and Ctrl-C.
//!
//! The job runs on a scoped thread; the calling (main) thread wakes every
//! 10 ms to let Python run its signal handlers and to redraw the progress bar
//! (which redraws at most every 50 ms).
//! A pending KeyboardInterrupt cancels the job (workers check between chunks)
//! and is raised once the job has stopped.

use std::io::IsTerminal;
use std::time::Duration;

use nextword_core::control::{Control, ProgressBar};
use pyo3::prelude::*;

use crate::errors::IntoPyResult;

/// Whether to draw progress: `None` means "when stderr is a terminal".
pub fn want_progress(progress: Option<bool>) -> bool {
    progress.unwrap_or_else(|| std::io::stderr().is_terminal())
}

/// Run `job` off the GIL; see the module docs.
pub fn run<T, F>(py: Python<'_>, label: &str, progress: Option<bool>, job: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce(&Control) -> nextword_core::Result<T> + Send,
{
    let show = want_progress(progress);
    let control = Control::new();
    let (result, interrupt) = py.detach(|| {
        std::thread::scope(|scope| {
            let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
            let control_ref = &control;
            let handle = scope.spawn(move || {
                let result = job(control_ref);
                let _ = done_tx.send(());
                result
            });
            let mut bar = show.then(|| ProgressBar::new(label));
            let mut interrupt = None;
            // Wakes at once when the job ends, else every 10 ms for signals and progress
            // (a Ctrl-C during a short final write must still land before its rename).
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                done_rx.recv_timeout(Duration::from_millis(10))
            {
                if interrupt.is_none() {
                    if let Err(e) = Python::attach(|py| py.check_signals()) {
                        control.cancel();
                        interrupt = Some(e);
                    }
                }
                if let Some(bar) = bar.as_mut() {
                    bar.draw(&control);
                }
            }
            if let Some(bar) = bar.as_mut() {
                bar.finish(&control);
            }
            let result = handle
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            // Blocks the job freed and pooled for its own reuse go back now.
            nextword_core::alloc::release_pool();
            (result, interrupt)
        })
    });
    if let Some(e) = interrupt {
        return Err(e);
    }
    result.py()
}
