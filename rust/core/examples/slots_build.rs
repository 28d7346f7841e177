//! Time building one hash-layout table (`lm::slots`) of N n-grams with
//! random hashes, the size of the Gutenberg 5-gram's top orders by default,
//! for profiling: `cargo run --release --example slots_build -- [N]`

use std::time::Instant;

use nextword_core::alloc::HugePageAlloc;
use nextword_core::lm::slots::SlotTable;

#[global_allocator]
static ALLOC: HugePageAlloc = HugePageAlloc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let m: usize = match std::env::args().nth(1) {
        Some(n) => n.parse()?,
        None => 36_000_000,
    };
    let mut state = 0x1234_5678u64;
    let hashes: Vec<u64> = (0..m)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        })
        .collect();
    let probs: Vec<f32> = (0..m).map(|i| -(i as f32)).collect();
    let backoffs: Vec<f32> = probs.iter().map(|p| p * 0.5).collect();
    let start = Instant::now();
    let (table, at) = SlotTable::build(|i| hashes[i], &probs, &backoffs, true)?;
    println!(
        "{m} n-grams: {:.3} s, {} records, n-gram {} at record {}",
        start.elapsed().as_secs_f64(),
        table.cap,
        m / 2,
        at.get(m / 2).copied().unwrap_or(0)
    );
    Ok(())
}
