//! Count n-grams of files from the command line and print timing, for profiling:
//! `cargo run --release --example count -- ORDER PATH...`

use std::time::Instant;

use nextword_core::alloc::HugePageAlloc;

use nextword_core::control::Control;
use nextword_core::corpus::Corpus;
use nextword_core::count::{count_ngrams, CountOptions};

#[global_allocator]
static ALLOC: HugePageAlloc = HugePageAlloc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let order: usize = args.next().ok_or("usage: count ORDER PATH...")?.parse()?;
    let corpus = Corpus::from_paths(args);
    let start = Instant::now();
    let options = CountOptions {
        order,
        ..Default::default()
    };
    let counts = count_ngrams(&corpus, &options, &Control::new())?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{} tokens, {} sentences in {:.2} s ({:.2} M tokens/s)",
        counts.tokens,
        counts.stats.sentences,
        secs,
        counts.tokens as f64 / secs / 1e6
    );
    for o in &counts.orders {
        println!("order {}: {} distinct", o.n, o.len());
    }
    Ok(())
}
