//! Quantizing log10 probabilities and backoffs to `q` bits, binned as
//! Federico and Bertoldi (2006) do and KenLM's `build_binary -q -b` follows:
//! per order and per kind of value, sort the values, cut them into `2^q` bins
//! holding equally many values, and stand each value for the mean of its bin.
//!
//! Two values are kept exact because they carry meaning: a backoff of 0 (a
//! context that never backs off, or no context at all) gets code 0, and -inf
//! (MLE's zero backoff weight, a word never seen) gets a code of its own when
//! present. Everything else is encoded as the nearest bin centre.

use crate::{Error, Result};

/// The widest quantization offered (KenLM allows up to 25 bits; past 16 bits
/// the tables outweigh what they save).
pub const MAX_BITS: u8 = 16;

/// The table of centres of one kind of value of one order.
#[derive(Debug, Clone, PartialEq)]
pub struct Bins {
    /// `centers[code]`: the value a code stands for. Exact values first, then
    /// the bin means in increasing order.
    pub centers: Vec<f32>,
    /// How many leading centres are exact values (0 and/or -inf).
    pub exact: usize,
}

/// Check a quantization width.
pub fn check_bits(bits: u8) -> Result<()> {
    if (1..=MAX_BITS).contains(&bits) {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "quantize must be a number of bits in 1..={MAX_BITS}, not {bits}"
        )))
    }
}

impl Bins {
    /// Bins for `values` at `bits` bits; `keep_zero` reserves a code for 0
    /// exactly (backoffs).
    pub fn train(values: &[f32], bits: u8, keep_zero: bool) -> Result<Self> {
        check_bits(bits)?;
        let mut centers = Vec::new();
        if keep_zero {
            centers.push(0.0f32);
        }
        if values.contains(&f32::NEG_INFINITY) {
            centers.push(f32::NEG_INFINITY);
        }
        let exact = centers.len();
        let codes = 1usize << bits;
        if codes <= exact {
            return Err(Error::InvalidArgument(format!(
                "{bits}-bit quantization leaves no code for ordinary values \
                 (0 and -inf need one each); use more bits"
            )));
        }
        let mut rest: Vec<f32> = values
            .iter()
            .copied()
            .filter(|v| v.is_finite() && !(keep_zero && *v == 0.0))
            .collect();
        rest.sort_unstable_by(f32::total_cmp);
        let bins = codes - exact;
        let mut start = 0usize;
        for i in 0..bins {
            let finish = (rest.len() as u128 * (i as u128 + 1) / bins as u128) as usize;
            let center = if finish > start {
                let sum: f64 = rest[start..finish].iter().map(|&v| f64::from(v)).sum();
                (sum / (finish - start) as f64) as f32
            } else if centers.len() > exact {
                // An empty bin repeats the previous centre (as KenLM does).
                centers[centers.len() - 1]
            } else {
                rest.first().copied().unwrap_or(0.0)
            };
            centers.push(center);
            start = finish;
        }
        Ok(Self { centers, exact })
    }

    /// The code of `v`: an exact value's own code, else the nearest bin centre.
    pub fn encode(&self, v: f32) -> u64 {
        if let Some(i) = self.centers[..self.exact].iter().position(|&c| c == v) {
            return i as u64;
        }
        let bins = &self.centers[self.exact..];
        let j = bins.partition_point(|&c| c < v);
        let best = if j == 0 {
            0
        } else if j == bins.len() {
            bins.len() - 1
        } else if (v - bins[j - 1]) <= (bins[j] - v) {
            j - 1
        } else {
            j
        };
        (self.exact + best) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_population_bins_with_means_as_centres() {
        let values: Vec<f32> = (0..8).map(|i| -(i as f32)).collect();
        let b = Bins::train(&values, 2, false).unwrap();
        // Sorted: -7..0, four bins of two: means -6.5, -4.5, -2.5, -0.5.
        assert_eq!(b.centers, vec![-6.5, -4.5, -2.5, -0.5]);
        assert_eq!(b.encode(-7.0), 0);
        assert_eq!(b.encode(-0.1), 3);
        assert_eq!(b.centers[b.encode(-3.0) as usize], -2.5);
    }

    #[test]
    fn zero_and_minus_infinity_stay_exact() {
        let values = [0.0, -0.5, -1.0, f32::NEG_INFINITY, -2.0, 0.0];
        let b = Bins::train(&values, 3, true).unwrap();
        assert_eq!(b.exact, 2);
        assert_eq!(b.centers[b.encode(0.0) as usize], 0.0);
        assert_eq!(
            b.centers[b.encode(f32::NEG_INFINITY) as usize],
            f32::NEG_INFINITY
        );
        assert_eq!(b.centers.len(), 8);
    }

    #[test]
    fn widths_outside_1_to_16_are_refused() {
        assert!(Bins::train(&[0.5], 0, false).is_err());
        assert!(Bins::train(&[0.5], 17, false).is_err());
        assert!(check_bits(16).is_ok());
        // One bit cannot hold 0, -inf and ordinary values.
        assert!(Bins::train(&[0.0, f32::NEG_INFINITY, -1.0], 1, true).is_err());
    }
}
