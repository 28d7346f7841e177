//! An ordered, streaming map over the chunks of a corpus.
//!
//! [`crate::corpus::process`] folds chunks into per-worker states that come
//! back at the end; a filter must instead write its output in input order as
//! it goes, holding only a few chunks at a time. Here one reader thread
//! cuts the inputs into chunks and numbers them, `threads` workers
//! run `map` on them in parallel, and the calling thread hands the results to
//! `reduce` strictly in corpus order (a small reorder buffer).
//!
//! Contract: `reduce` sees every chunk's result once, in order, until it
//! returns `Ok(false)` (stop early) or an error; the first error in corpus
//! order is the one returned. Memory: the reader holds a permit for every
//! chunk between reading and reducing, and there are `4 * threads` permits,
//! so at most that many chunks (and their results) are alive at once,
//! whatever the corpus size.

use std::collections::BTreeMap;

use crate::control::Control;
use crate::corpus::read::chunk_input;
use crate::corpus::{Chunk, Input};
use crate::{Error, Result};

/// Map every chunk of `inputs` with `map` (in parallel) and pass the results
/// to `reduce` in corpus order (see the module docs). `threads` 0 means all cores.
pub fn map_ordered<P, M, R>(
    inputs: &[Input],
    control: &Control,
    threads: usize,
    map: M,
    reduce: R,
) -> Result<()>
where
    P: Send,
    M: Fn(&Chunk) -> Result<P> + Sync,
    R: FnMut(&Chunk, P) -> Result<bool>,
{
    map_numbered(inputs, control, threads, |_, chunk| map(chunk), reduce)
}

/// [`map_ordered`] with each chunk's number in corpus order (0, 1, 2, ...
/// over all inputs) passed to `map`, for work that must itself follow
/// corpus order (see [`super::seen`]). A chunk's `map` is not called when
/// the run stops before it (an error, `reduce` returning false, a cancel).
pub fn map_numbered<P, M, R>(
    inputs: &[Input],
    control: &Control,
    threads: usize,
    map: M,
    mut reduce: R,
) -> Result<()>
where
    P: Send,
    M: Fn(u64, &Chunk) -> Result<P> + Sync,
    R: FnMut(&Chunk, P) -> Result<bool>,
{
    let (threads, _) = crate::corpus::parallel::start(inputs, control, threads);

    if threads == 1 {
        let mut failure = None;
        let mut seq = 0u64;
        for (index, input) in inputs.iter().enumerate() {
            let mut go_on = true;
            chunk_input(input, index, control, &mut |chunk| {
                if control.is_cancelled() {
                    return false;
                }
                seq += 1;
                match map(seq - 1, &chunk).and_then(|p| reduce(&chunk, p)) {
                    Ok(more) => {
                        go_on = more;
                        more
                    }
                    Err(e) => {
                        failure = Some(e);
                        false
                    }
                }
            })?;
            if let Some(e) = failure {
                return Err(e);
            }
            if !go_on {
                break;
            }
        }
        return control.check();
    }

    let window = 4 * threads;
    let (permit_tx, permit_rx) = crossbeam_channel::bounded::<()>(window);
    for _ in 0..window {
        let _ = permit_tx.send(());
    }
    let (work_tx, work_rx) = crossbeam_channel::bounded::<(u64, Chunk)>(threads);
    let (done_tx, done_rx) = crossbeam_channel::unbounded::<(u64, Chunk, Result<P>)>();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let stopped = || stop.load(std::sync::atomic::Ordering::Relaxed) || control.is_cancelled();

    let outcome = std::thread::scope(|scope| {
        for _ in 0..threads {
            let (work_rx, done_tx, map) = (work_rx.clone(), done_tx.clone(), &map);
            scope.spawn(move || {
                for (seq, chunk) in work_rx.iter() {
                    let result = if stopped() {
                        Err(Error::Cancelled)
                    } else {
                        map(seq, &chunk)
                    };
                    if done_tx.send((seq, chunk, result)).is_err() {
                        break;
                    }
                }
            });
        }
        drop((work_rx, done_tx));

        // The reader, on its own thread.
        let stop_ref = &stop;
        let reader = scope.spawn(move || -> Option<Error> {
            let stopped =
                || stop_ref.load(std::sync::atomic::Ordering::Relaxed) || control.is_cancelled();
            let mut seq = 0u64;
            for (index, input) in inputs.iter().enumerate() {
                if stopped() {
                    break;
                }
                let result = chunk_input(input, index, control, &mut |chunk| {
                    if stopped() || permit_rx.recv().is_err() {
                        return false;
                    }
                    let sent = work_tx.send((seq, chunk)).is_ok();
                    seq += 1;
                    sent
                });
                if let Err(e) = result {
                    return Some(e);
                }
            }
            None
        });

        // The writer: this thread, so that `reduce` need not be Send.
        let mut pending = BTreeMap::new();
        let mut next = 0u64;
        let mut failure = None;
        for (seq, chunk, result) in done_rx.iter() {
            pending.insert(seq, (chunk, result));
            while let Some((chunk, result)) = pending.remove(&next) {
                next += 1;
                let _ = permit_tx.send(());
                if failure.is_some() || stop.load(std::sync::atomic::Ordering::Relaxed) {
                    continue; // drain, so that the reader never blocks
                }
                match result.and_then(|p| reduce(&chunk, p)) {
                    Ok(true) => {}
                    Ok(false) => stop.store(true, std::sync::atomic::Ordering::Relaxed),
                    Err(e) => {
                        failure = Some(e);
                        stop.store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            }
        }
        let read_error = reader
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        // An error in a chunk read before the failing read comes first.
        match (failure, read_error) {
            (Some(e), _) | (None, Some(e)) => Err(e),
            (None, None) => Ok(()),
        }
    });
    outcome?;
    control.check()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn results_come_in_order_and_stop_early() {
        let _settings = crate::corpus::read::settings_lock();
        crate::corpus::read::set_chunk_bytes(16);
        let texts: Vec<String> = (0..500).map(|i| format!("line {i}")).collect();
        let inputs = vec![Input::Texts(Arc::new(texts.clone()))];
        for threads in [1, 3] {
            let mut seen = Vec::new();
            map_ordered(
                &inputs,
                &Control::new(),
                threads,
                |chunk| Ok(String::from_utf8_lossy(&chunk.data).into_owned()),
                |_, s: String| {
                    seen.extend(s.lines().map(str::to_string));
                    Ok(true)
                },
            )
            .unwrap();
            assert_eq!(seen, texts);
            let mut n = 0;
            map_ordered(
                &inputs,
                &Control::new(),
                threads,
                |_| Ok(()),
                |_, ()| {
                    n += 1;
                    Ok(n < 3)
                },
            )
            .unwrap();
            assert_eq!(n, 3);
        }
        crate::corpus::read::set_chunk_bytes(0);
    }
}
