//! Score a text file with a model file repeatedly on one thread and print
//! the median time, for profiling bulk scoring:
//! `cargo run --release --example score -- MODEL TEXT ROUNDS`

use std::time::Instant;

use nextword_core::alloc::HugePageAlloc;
use nextword_core::control::Control;
use nextword_core::corpus::Corpus;

#[global_allocator]
static ALLOC: HugePageAlloc = HugePageAlloc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: score MODEL TEXT ROUNDS";
    let model = nextword_core::lm::binary::load(args.next().ok_or(usage)?.as_ref(), false)?;
    let corpus = Corpus::from_paths([args.next().ok_or(usage)?]);
    let rounds: usize = args.next().ok_or(usage)?.parse()?;
    let control = Control::new();
    // One untimed pass: the scoring tables go onto huge pages on first use.
    let first = model.evaluate(&corpus, &control, 1)?;
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds.max(1) {
        let start = Instant::now();
        let e = model.evaluate(&corpus, &control, 1)?;
        times.push(start.elapsed().as_secs_f64());
        assert_eq!(e, first, "a round scored differently");
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "{} tokens, perplexity {:.6}: median {:.2} ms, {:.1} ns/token",
        first.tokens,
        first.perplexity(),
        median * 1e3,
        median * 1e9 / first.tokens as f64
    );
    Ok(())
}
