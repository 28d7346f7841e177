//! Train Kneser-Ney and evaluate, for checking against KenLM and profiling:
//! `cargo run --release --example kn -- ORDER TRAIN TEST [OUT.arpa]`

use std::time::Instant;

use nextword_core::alloc::HugePageAlloc;
use nextword_core::control::Control;
use nextword_core::corpus::Corpus;
use nextword_core::count::{count_ngrams, CountOptions};
use nextword_core::lm::{self, Smoothing};

#[global_allocator]
static ALLOC: HugePageAlloc = HugePageAlloc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let order: usize = args
        .first()
        .ok_or("usage: kn ORDER TRAIN TEST [OUT]")?
        .parse()?;
    let control = Control::new();
    let t = Instant::now();
    let counts = count_ngrams(
        &Corpus::from_paths([&args[1]]),
        &CountOptions {
            order,
            ..Default::default()
        },
        &control,
    )?;
    eprintln!("counted in {:.2?}", t.elapsed());
    let t = Instant::now();
    let model = lm::fit(&counts, &Smoothing::KneserNey(Default::default()))?;
    eprintln!("estimated in {:.2?}", t.elapsed());
    for (k, level) in model.levels.iter().enumerate() {
        println!(
            "order {}: {} n-grams, discounts {:?}",
            k + 1,
            level.len(),
            model.discounts[k]
        );
    }
    let t = Instant::now();
    let threads = std::env::var("THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let e = model.evaluate(&Corpus::from_paths([&args[2]]), &control, threads)?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "perplexity {:.10} excl OOV {:.10} OOVs {} tokens {} ({:.2} M tokens/s)",
        e.perplexity(),
        e.perplexity_excluding_oovs(),
        e.oovs,
        e.tokens,
        e.tokens as f64 / secs / 1e6
    );
    if let Some(out) = args.get(3) {
        lm::save(&model, std::path::Path::new(out))?;
    }
    Ok(())
}
