//! Running a job over every chunk of a corpus on worker threads.
//!
//! One reader thread opens the inputs in order and cuts them into chunks; a
//! bounded channel hands chunks to `threads` workers, so memory stays at a few
//! chunks per worker whatever the corpus size. Each worker owns a state it
//! folds its chunks into; the states are returned for the caller to merge.
//! Results that must not depend on scheduling are keyed by `Chunk::seq`.

use std::sync::Mutex;

use super::lines::Chunk;
use super::read::chunk_input_sized;
use super::source::Input;
use super::Corpus;
use crate::control::Control;
use crate::{Error, Result};

/// The number of worker threads to use when the caller does not say.
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// The thread count to use (`threads`, or all cores for 0) and the input
/// size in bytes, which is also told to `control` for progress.
pub fn start(inputs: &[Input], control: &Control, threads: usize) -> (usize, u64) {
    let threads = if threads == 0 {
        default_threads()
    } else {
        threads
    };
    let total: u64 = inputs
        .iter()
        .map(|i| match i {
            Input::File { size, .. } => *size,
            Input::Texts(t) => t.iter().map(|s| s.len() as u64 + 1).sum(),
        })
        .sum();
    control
        .bytes_total
        .store(total, std::sync::atomic::Ordering::Relaxed);
    (threads, total)
}

/// Chunks the reader may cut ahead of the workers (16 MB at the usual
/// chunk size: about one of the Gutenberg set's files).
const QUEUED: usize = 64;

/// The smallest chunk an input is cut into so that every worker gets some.
const MIN_SHARED_CHUNK: usize = 16 << 10;

/// The chunk size for `total` bytes of input on `threads` workers: the chunk
/// size in force ([`super::read::chunk_bytes`]), or smaller for an input of
/// less than four such chunks per worker, so that the workers share even a
/// small input about evenly (two chunks of 256 and 190 KB kept one of two
/// workers idle for a quarter of the time), down to [`MIN_SHARED_CHUNK`].
fn chunk_target(total: u64, threads: usize) -> usize {
    split_target(total, threads, super::read::chunk_bytes())
}

/// [`chunk_target`] with `most` as the chunk size in force.
fn split_target(total: u64, threads: usize, most: usize) -> usize {
    if threads <= 1 {
        return most;
    }
    let even = total / (threads as u64 * 4);
    (even.min(most as u64) as usize).max(MIN_SHARED_CHUNK.min(most))
}

/// Run `work` over every chunk of `corpus` on `threads` workers (0 = all cores).
///
/// Each worker starts from `init()` and folds its chunks into that state; the
/// states come back in worker order. When a chunk fails, chunks after it are not
/// started, chunks before it still run, and the error of the earliest failing
/// chunk is returned, so the error reported is the first in corpus order.
pub fn process<S, I, F>(
    corpus: &Corpus,
    control: &Control,
    threads: usize,
    init: I,
    work: F,
) -> Result<Vec<S>>
where
    S: Send,
    I: Fn() -> S + Sync,
    F: Fn(&mut S, &Chunk) -> Result<()> + Sync,
{
    let inputs = corpus.inputs()?;
    process_inputs(&inputs, control, threads, init, work)
}

/// [`process`] over already resolved inputs.
pub fn process_inputs<S, I, F>(
    inputs: &[Input],
    control: &Control,
    threads: usize,
    init: I,
    work: F,
) -> Result<Vec<S>>
where
    S: Send,
    I: Fn() -> S + Sync,
    F: Fn(&mut S, &Chunk) -> Result<()> + Sync,
{
    let (threads, total) = start(inputs, control, threads);
    let target = chunk_target(total, threads);
    // This thread reads every input: each gzip file read whole hands its
    // buffers on to the next.
    let _keep = super::read::KeepSpare::new();

    // One worker, or input that fits in one chunk: run on this thread. Spawning
    // a reader and workers would cost more than the work.
    if threads == 1 || total <= target as u64 {
        let mut state = init();
        let mut failure = None;
        let mut ordinal = 0;
        for (index, input) in inputs.iter().enumerate() {
            let mut emit = |mut chunk: Chunk| {
                if control.is_cancelled() {
                    return false;
                }
                chunk.ordinal = ordinal;
                ordinal += 1;
                match work(&mut state, &chunk) {
                    Ok(()) => true,
                    Err(e) => {
                        failure = Some(e);
                        false
                    }
                }
            };
            chunk_input_sized(input, index, control, target, &mut emit)?;
            if let Some(e) = failure.take() {
                return Err(e);
            }
        }
        control.check()?;
        return Ok(vec![state]);
    }

    // The earliest failure so far, by chunk order.
    let first_error: Mutex<Option<((usize, u32), Error)>> = Mutex::new(None);
    let fail = |seq: (usize, u32), err: Error| {
        let mut slot = first_error.lock().unwrap_or_else(|p| p.into_inner());
        if slot.as_ref().is_none_or(|(s, _)| seq < *s) {
            *slot = Some((seq, err));
        }
    };
    let failed_before = |seq: (usize, u32)| {
        let slot = first_error.lock().unwrap_or_else(|p| p.into_inner());
        slot.as_ref().is_some_and(|(s, _)| *s <= seq)
    };

    // The reader may cut up to QUEUED chunks ahead of the workers: it
    // inflates a small gzip file whole before its first chunk, and with two
    // chunks a worker queued the workers ran dry meanwhile (counting orders
    // 1..3 of the Gutenberg set, each worker waited 0.3-0.55 s for chunks
    // out of 2.6-3.0 s; with 64, 0.02-0.06 s).
    let (tx, rx) = crossbeam_channel::bounded::<Chunk>((threads * 2).max(QUEUED));
    let states = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let rx = rx.clone();
                let (init, work, fail, failed_before) = (&init, &work, &fail, &failed_before);
                scope.spawn(move || {
                    let mut state = init();
                    let mut idle = std::time::Duration::ZERO;
                    let mut t = std::time::Instant::now();
                    let first = t;
                    for chunk in rx.iter() {
                        idle += t.elapsed();
                        if control.is_cancelled() || failed_before(chunk.seq) {
                            continue; // drain so the reader never blocks forever
                        }
                        if let Err(e) = work(&mut state, &chunk) {
                            fail(chunk.seq, e);
                        }
                        t = std::time::Instant::now();
                    }
                    // NEXTWORD_TRACE=1: how long the worker waited for chunks.
                    if std::env::var_os("NEXTWORD_TRACE").is_some() {
                        eprintln!("[trace] worker waited {idle:?} of {:?}", first.elapsed());
                    }
                    state
                })
            })
            .collect();
        drop(rx);

        // The reader runs on this thread.
        let mut ordinal = 0;
        for (index, input) in inputs.iter().enumerate() {
            if control.is_cancelled() || failed_before((index, 0)) {
                break;
            }
            let mut emit = |mut chunk: Chunk| {
                if control.is_cancelled() || failed_before(chunk.seq) {
                    return false;
                }
                chunk.ordinal = ordinal;
                ordinal += 1;
                tx.send(chunk).is_ok()
            };
            if let Err(e) = chunk_input_sized(input, index, control, target, &mut emit) {
                fail((index, u32::MAX), e);
            }
        }
        drop(tx);
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect::<Vec<S>>()
    });

    if let Some((_, err)) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(err);
    }
    control.check()?;
    Ok(states)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_inputs_are_cut_for_every_worker() {
        // (The chunk size in force is passed in: other tests change it.)
        let most = super::super::read::CHUNK_BYTES;
        // One worker, or a big input: the chunk size in force.
        assert_eq!(split_target(1 << 20, 1, most), most);
        assert_eq!(split_target(1 << 40, 2, most), most);
        // 450 KB on two workers: eight chunks of about 56 KB.
        assert_eq!(split_target(450 << 10, 2, most), 450 << 10 >> 3);
        // Never below the floor, nor above the chunk size in force.
        assert_eq!(split_target(10, 4, most), MIN_SHARED_CHUNK);
        assert_eq!(split_target(1 << 20, 2, 700), 700);
        assert_eq!(split_target(10, 2, 16), 16);
    }

    #[test]
    fn a_small_input_reaches_every_worker() {
        // 40 lines of about 2 KB each: 80 KB on two workers makes chunks of
        // the 16 KB floor, so both workers get some.
        let line = format!("{}\n", "word ".repeat(400));
        let texts: Vec<String> = (0..40).map(|_| line.clone()).collect();
        let inputs = [Input::Texts(std::sync::Arc::new(texts))];
        let control = Control::new();
        let states = process_inputs(
            &inputs,
            &control,
            2,
            || (0usize, 0usize),
            |(chunks, bytes), chunk| {
                *chunks += 1;
                *bytes += chunk.data.len();
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(states.len(), 2);
        let bytes: usize = states.iter().map(|s| s.1).sum();
        assert_eq!(bytes, 40 * line.len());
        let chunks: usize = states.iter().map(|s| s.0).sum();
        assert!(chunks >= 4, "{chunks} chunks");
    }
}
