//! Stage 2: the discounts D1, D2, D3+ of every order.
//!
//! Input: the count-of-counts n1..n4 of each order's adjusted counts (stage
//! 1), or discounts given by the user (checked by [`check_given`]).
//!
//! Output: one `[D1, D2, D3+]` per order, in f32, and the warnings of the
//! orders whose discounts could not be estimated.
//!
//! Invariant: every discount returned satisfies lmplz's `0 <= D_j <= j`
//! (j = 3 for D3+), so that no distribution gives away more than it has.
//! Estimated: `Y = n1 / (n1 + 2 n2)`, `D_j = j - (j + 1) Y n_{j+1} / n_j`, in
//! f32 with lmplz's operation order (bit-identical to KenLM's); where that is
//! undefined or out of range, [`FALLBACK`] with a warning naming the order, as
//! `lmplz --discount_fallback` does. Given: used as they are, once checked.

use crate::{Error, Result};

/// The discounts lmplz falls back to when estimation fails (`--discount_fallback`).
pub const FALLBACK: [f32; 3] = [0.5, 1.0, 1.5];

/// Discounts from count-of-counts; `Err` says why they cannot be estimated.
///
/// Computed in f32 with lmplz's exact operation order, so the discounts (and
/// everything after them) are bit-identical to KenLM's.
pub fn discounts_from(coc: [u64; 4]) -> std::result::Result<[f32; 3], String> {
    let [n1, n2, n3, n4] = coc;
    if n1 == 0 || n2 == 0 || n3 == 0 {
        return Err(format!(
            "count-of-counts n1={n1}, n2={n2}, n3={n3}: a zero leaves the discounts undefined"
        ));
    }
    let n = [n1 as f32, n2 as f32, n3 as f32, n4 as f32];
    let y = n[0] / (n1 as f64 + 2.0 * n2 as f64) as f32;
    let mut d = [0f32; 3];
    for (j, dj) in d.iter_mut().enumerate() {
        *dj = (j + 1) as f32 - (j + 2) as f32 * y * n[j + 1] / n[j];
        if let Some(why) = out_of_range(j + 1, *dj) {
            return Err(why);
        }
    }
    Ok(d)
}

/// Why `d` cannot be the discount `D_j` (j = 1, 2, 3 for D3+), if it cannot.
fn out_of_range<T: Copy + Into<f64> + std::fmt::Display>(j: usize, d: T) -> Option<String> {
    let x: f64 = d.into();
    if !x.is_finite() {
        Some(format!("discount D{j} = {d} is not a finite number"))
    } else if !(0.0..=j as f64).contains(&x) {
        Some(format!("discount D{j} = {d} is outside [0, {j}]"))
    } else {
        None
    }
}

/// Refuse user-given discounts that are not one `[D1, D2, D3+]` per order of
/// a model of `order`, or that break `0 <= D_j <= j`.
pub fn check_given(given: &[[f64; 3]], order: usize) -> Result<()> {
    if given.len() != order {
        return Err(Error::InvalidArgument(format!(
            "discounts: {} (D1, D2, D3+) triples given for a model of order {order}; give one per order",
            given.len()
        )));
    }
    for (k, triple) in given.iter().enumerate() {
        for (j, &d) in triple.iter().enumerate() {
            if let Some(why) = out_of_range(j + 1, d) {
                return Err(Error::InvalidArgument(format!("order {}: {why}", k + 1)));
            }
        }
    }
    Ok(())
}

/// The discounts of every order: `given` (already checked) when there are,
/// else estimated from `count_of_counts`, falling back per order with a warning.
pub(super) fn choose(
    count_of_counts: &[[u64; 4]],
    given: Option<&[[f64; 3]]>,
) -> (Vec<[f32; 3]>, Vec<String>) {
    let mut warnings = Vec::new();
    let discounts = count_of_counts
        .iter()
        .enumerate()
        .map(|(k, &coc)| {
            let (d, warning) = choose_order(k + 1, coc, given);
            warnings.extend(warning);
            d
        })
        .collect();
    (discounts, warnings)
}

/// [`choose`] for order `n` (1-based) alone: its discounts, and the warning
/// when they fell back.
pub(super) fn choose_order(
    n: usize,
    count_of_counts: [u64; 4],
    given: Option<&[[f64; 3]]>,
) -> ([f32; 3], Option<String>) {
    if let Some(given) = given {
        return (given[n - 1].map(|x| x as f32), None);
    }
    match discounts_from(count_of_counts) {
        Ok(d) => (d, None),
        Err(why) => (
            FALLBACK,
            Some(format!(
                "order {n}: {why}; using the fallback discounts 0.5, 1, 1.5 (as lmplz --discount_fallback)"
            )),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimated_discounts_follow_the_formula() {
        let d = discounts_from([100, 40, 20, 10]).unwrap();
        let expected = [5.0 / 9.0, 7.0 / 6.0, 17.0 / 9.0];
        for j in 0..3 {
            assert!((d[j] as f64 - expected[j]).abs() < 1e-6, "{d:?}");
        }
    }

    #[test]
    fn undefined_or_out_of_range_estimates_fall_back() {
        assert!(discounts_from([5, 0, 1, 0]).unwrap_err().contains("n2=0"));
        // n3 much larger than n2 pushes D2 below 0.
        let why = discounts_from([100, 1, 100, 1]).unwrap_err();
        assert!(
            why.starts_with("discount D2 = -") && why.ends_with("outside [0, 2]"),
            "{why}"
        );
        let (d, warnings) = choose(&[[100, 40, 20, 10], [5, 0, 1, 0]], None);
        assert_eq!(d[1], FALLBACK);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].starts_with("order 2:"), "{warnings:?}");
    }

    #[test]
    fn given_discounts_are_checked() {
        assert!(check_given(&[[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]], 2).is_ok());
        let message = |given: &[[f64; 3]], order| match check_given(given, order) {
            Err(Error::InvalidArgument(m)) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            message(&[[0.5, 1.0, 1.5], [1.5, 1.5, 1.5]], 2),
            "order 2: discount D1 = 1.5 is outside [0, 1]"
        );
        assert_eq!(
            message(&[[0.5, -0.1, 1.5]], 1),
            "order 1: discount D2 = -0.1 is outside [0, 2]"
        );
        assert_eq!(
            message(&[[0.5, 1.0, 3.5]], 1),
            "order 1: discount D3 = 3.5 is outside [0, 3]"
        );
        assert!(message(&[[f64::NAN, 1.0, 1.5]], 1).contains("D1 = NaN is not a finite"));
        assert!(message(&[[0.5, 1.0, f64::INFINITY]], 1).contains("D3 = inf"));
        assert!(message(&[[0.5, 1.0, 1.5]], 2).contains("1 (D1, D2, D3+) triples"));
        assert!(message(&[[0.5, 1.0, 1.5]; 3], 2).contains("3 (D1, D2, D3+)"));
    }
}
