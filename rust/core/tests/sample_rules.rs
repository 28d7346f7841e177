//! The sampler's rules at their edges (`nextword_core::sample`): the RNG's
//! values, parameter bounds, each truncation exactly on its boundary, and
//! draws at chosen uniforms.
//!
//! A draw's uniform is chosen by running SplitMix64 backwards: [`rng_giving`]
//! builds the state whose next output is the wanted bits, so a test can put the
//! draw exactly on the edge between two candidates. These tests were written
//! against `cargo mutants --file rust/core/src/sample.rs`: each pins a boundary
//! (`>=` against `>`, `<` against `<=`, `p * total` against `p / total`) that
//! an off-by-one would move.

use nextword_core::sample::{
    check_scores, draw, prepare, sample, sample_checked, sample_rows, truncate, Rng,
    SamplingParams, GOLDEN,
};
use proptest::prelude::*;

/// The inverse of `x ^ (x >> s)` on 64 bits.
fn unxorshift(y: u64, s: u32) -> u64 {
    let mut x = y;
    let mut shift = s;
    while shift < 64 {
        x = y ^ (x >> s);
        shift += s;
    }
    x
}

/// The inverse of an odd multiplier modulo 2^64 (Newton's iteration).
fn inverse(a: u64) -> u64 {
    let mut x = a;
    for _ in 0..6 {
        x = x.wrapping_mul(2u64.wrapping_sub(a.wrapping_mul(x)));
    }
    x
}

/// A generator whose next `next_u64` is `out`: SplitMix64's mix undone.
fn rng_giving(out: u64) -> Rng {
    let mut z = unxorshift(out, 31);
    z = unxorshift(z.wrapping_mul(inverse(0x94D0_49BB_1331_11EB)), 27);
    z = unxorshift(z.wrapping_mul(inverse(0xBF58_476D_1CE4_E5B9)), 30);
    Rng {
        state: z.wrapping_sub(GOLDEN),
    }
}

/// A generator whose next `uniform` is `u` (a multiple of 2^-53 in [0, 1)).
fn rng_uniform(u: f64) -> Rng {
    let bits = (u * (1u64 << 53) as f64) as u64;
    assert_eq!(bits as f64 / (1u64 << 53) as f64, u, "u must be k / 2^53");
    rng_giving(bits << 11)
}

fn params() -> SamplingParams {
    SamplingParams::default()
}

#[test]
fn rng_outputs_are_splitmix64s() {
    // SplitMix64 seeded with 1234567 (the reference C code's sequence).
    let mut r = Rng::new(1234567);
    assert_eq!(r.state, 1234567);
    let first = r.next_u64();
    assert_eq!(first, 6457827717110365317);
    assert_eq!(r.next_u64(), 3203168211198807973);
    assert_eq!(r.state, 1234567u64.wrapping_add(GOLDEN.wrapping_mul(2)));
    // uniform is the top 53 bits over 2^53.
    let mut r = Rng::new(1234567);
    assert_eq!(r.uniform(), (first >> 11) as f64 / 9007199254740992.0);
    let mut r = Rng::new(1234567);
    let u = r.uniform();
    assert!((0.0..1.0).contains(&u) && u > 0.3 && u < 0.4, "{u}");
}

#[test]
fn sequences_of_a_batch_start_from_a_mixed_seed() {
    let mut mixer = Rng::new(7u64.wrapping_add(3u64.wrapping_mul(GOLDEN)));
    let expected = mixer.next_u64();
    assert_eq!(Rng::for_sequence(7, 3).state, expected);
    assert_eq!(Rng::for_sequence(7, 0).state, Rng::new(7).next_u64());
    assert_ne!(Rng::for_sequence(7, 1), Rng::for_sequence(7, 2));
}

#[test]
fn the_inverted_generator_gives_the_wanted_uniform() {
    for u in [0.0, 0.25, 0.5, 0.75, 1.0 - 1.0 / 9007199254740992.0] {
        assert_eq!(rng_uniform(u).uniform(), u);
    }
}

#[test]
fn default_parameters_leave_the_distribution_alone() {
    let p = params();
    assert_eq!(p.temperature, 1.0);
    assert_eq!(
        (p.top_k, p.top_p, p.min_p, p.repetition_penalty),
        (None, None, None, None)
    );
    assert!(p.is_plain());
    let changed = [
        SamplingParams {
            temperature: 0.5,
            ..params()
        },
        SamplingParams {
            top_k: Some(3),
            ..params()
        },
        SamplingParams {
            top_p: Some(0.9),
            ..params()
        },
        SamplingParams {
            min_p: Some(0.1),
            ..params()
        },
        SamplingParams {
            repetition_penalty: Some(1.2),
            ..params()
        },
    ];
    for p in changed {
        assert!(!p.is_plain(), "{p:?}");
    }
}

#[test]
fn parameters_are_checked_at_their_bounds() {
    let ok = |p: SamplingParams| p.validate().is_ok();
    let err = |p: SamplingParams, name: &str| {
        let e = p.validate().expect_err("refused").to_string();
        assert!(e.contains(name), "{e}");
    };
    assert!(ok(SamplingParams {
        temperature: 0.0,
        ..params()
    }));
    assert!(ok(SamplingParams {
        temperature: 1e300,
        ..params()
    }));
    for t in [-1e-9, f64::INFINITY, f64::NAN] {
        err(
            SamplingParams {
                temperature: t,
                ..params()
            },
            "temperature",
        );
    }
    err(
        SamplingParams {
            top_k: Some(0),
            ..params()
        },
        "top_k",
    );
    assert!(ok(SamplingParams {
        top_k: Some(1),
        ..params()
    }));
    for p in [1.0, 1e-12] {
        assert!(ok(SamplingParams {
            top_p: Some(p),
            ..params()
        }));
    }
    for p in [0.0, -0.5, 1.0000001, f64::NAN] {
        err(
            SamplingParams {
                top_p: Some(p),
                ..params()
            },
            "top_p",
        );
    }
    for m in [0.0, 1.0, 0.5] {
        assert!(ok(SamplingParams {
            min_p: Some(m),
            ..params()
        }));
    }
    for m in [-1e-9, 1.0000001, f64::NAN] {
        err(
            SamplingParams {
                min_p: Some(m),
                ..params()
            },
            "min_p",
        );
    }
    assert!(ok(SamplingParams {
        repetition_penalty: Some(1e-9),
        ..params()
    }));
    for r in [0.0, -1.0, f64::INFINITY, f64::NAN] {
        err(
            SamplingParams {
                repetition_penalty: Some(r),
                ..params()
            },
            "repetition_penalty",
        );
    }
}

#[test]
fn truncate_sorts_by_probability_then_lower_id_and_drops_zeros() {
    let c = vec![
        (4, 0.2),
        (1, 0.0),
        (3, 0.2),
        (0, 0.5),
        (2, f64::INFINITY),
        (5, f64::NAN),
        (6, -0.1),
        (7, 0.1),
    ];
    assert_eq!(
        truncate(c, &params()),
        vec![(0, 0.5), (3, 0.2), (4, 0.2), (7, 0.1)]
    );
}

#[test]
fn top_p_keeps_the_shortest_head_that_reaches_p() {
    let top_p = |p: f64| SamplingParams {
        top_p: Some(p),
        ..params()
    };
    let c = vec![(0, 0.5), (1, 0.25), (2, 0.25)];
    // Exactly on a cumulative mass: that candidate closes the head (>=, not >).
    assert_eq!(truncate(c.clone(), &top_p(0.5)), vec![(0, 0.5)]);
    assert_eq!(truncate(c.clone(), &top_p(0.75)), vec![(0, 0.5), (1, 0.25)]);
    assert_eq!(truncate(c.clone(), &top_p(0.5000001)).len(), 2);
    assert_eq!(truncate(c.clone(), &top_p(0.4999999)).len(), 1);
    assert_eq!(truncate(c.clone(), &top_p(1.0)).len(), 3);
    // Weights that do not sum to 1: p is a share of their total (2.0 here).
    let w = vec![(0, 1.0), (1, 0.5), (2, 0.5)];
    assert_eq!(truncate(w.clone(), &top_p(0.5)), vec![(0, 1.0)]);
    assert_eq!(truncate(w.clone(), &top_p(0.75)).len(), 2);
    assert_eq!(truncate(w.clone(), &top_p(0.76)).len(), 3);
    assert_eq!(truncate(w, &top_p(0.4)).len(), 1);
    // After top-k, p is a share of what top-k kept.
    let both = SamplingParams {
        top_k: Some(2),
        top_p: Some(0.5),
        ..params()
    };
    let c4 = vec![(0, 0.4), (1, 0.2), (2, 0.2), (3, 0.2)];
    // Top-k keeps 0.4 + 0.2 = 0.6, and 0.4 reaches 0.5 * 0.6 (of all four it would not).
    assert_eq!(truncate(c4, &both), vec![(0, 0.4)]);
}

#[test]
fn min_p_keeps_probabilities_at_least_min_p_times_the_best() {
    let min_p = |m: f64| SamplingParams {
        min_p: Some(m),
        ..params()
    };
    let c = vec![(0, 0.5), (1, 0.25), (2, 0.125), (3, 0.125)];
    assert_eq!(truncate(c.clone(), &min_p(0.5)).len(), 2);
    assert_eq!(truncate(c.clone(), &min_p(0.25)).len(), 4);
    assert_eq!(truncate(c.clone(), &min_p(0.2500001)).len(), 2);
    assert_eq!(truncate(c.clone(), &min_p(1.0)), vec![(0, 0.5)]);
    assert_eq!(truncate(c.clone(), &min_p(0.0)).len(), 4);
    assert!(truncate(vec![], &min_p(0.5)).is_empty());
    // After top-k, the best is still the first.
    let both = SamplingParams {
        top_k: Some(3),
        min_p: Some(0.25),
        ..params()
    };
    assert_eq!(truncate(c, &both).len(), 3);
}

#[test]
fn draw_at_a_boundary_takes_the_next_candidate() {
    let c = vec![(7, 0.25), (8, 0.25), (9, 0.5)];
    let at = |u: f64| draw(&c, &mut rng_uniform(u));
    assert_eq!(at(0.0), Some(7));
    assert_eq!(at(0.25 - 1.0 / 9007199254740992.0), Some(7));
    assert_eq!(at(0.25), Some(8));
    assert_eq!(at(0.5), Some(9));
    assert_eq!(at(0.999), Some(9));
    // Weights need not sum to 1: the draw is a share of their total.
    let w = vec![(1, 2.0), (2, 2.0)];
    assert_eq!(draw(&w, &mut rng_uniform(0.25)), Some(1));
    assert_eq!(draw(&w, &mut rng_uniform(0.5)), Some(2));
    // A zero weight is never drawn, even by a uniform of exactly 0.
    let z = vec![(3, 0.0), (4, 1.0)];
    assert_eq!(draw(&z, &mut rng_uniform(0.0)), Some(4));
    // Nothing to draw from.
    let mut rng = Rng::new(1);
    assert_eq!(draw(&[], &mut rng), None);
    assert_eq!(draw(&[(1, 0.0)], &mut rng), None);
    assert_eq!(draw(&[(1, -1.0)], &mut rng), None);
    assert_eq!(draw(&[(1, f64::INFINITY)], &mut rng), None);
    assert_eq!(draw(&[(1, f64::NAN)], &mut rng), None);
    // A draw uses exactly one uniform.
    let mut a = Rng::new(5);
    draw(&c, &mut a);
    let mut b = Rng::new(5);
    b.next_u64();
    assert_eq!(a, b);
}

fn close(a: &[(u32, f64)], b: &[(u32, f64)]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.0 == y.0 && (x.1 - y.1).abs() < 1e-12)
}

#[test]
fn prepare_applies_temperature_to_probabilities_and_logits() {
    let probs = [0.2, 0.0, 0.5, 0.3];
    let out = prepare(&probs, false, &params(), &[]);
    assert!(close(&out, &[(0, 0.2), (2, 0.5), (3, 0.3)]), "{out:?}");
    // Temperature 2: p^(1/2), renormalised.
    let t2 = SamplingParams {
        temperature: 2.0,
        ..params()
    };
    let s: f64 = [0.2f64, 0.5, 0.3].iter().map(|p| p.sqrt()).sum();
    let want = [
        (0, 0.2f64.sqrt() / s),
        (2, 0.5f64.sqrt() / s),
        (3, 0.3f64.sqrt() / s),
    ];
    assert!(close(&prepare(&probs, false, &t2, &[]), &want));
    // Temperature 0.5: p^2, renormalised.
    let half = SamplingParams {
        temperature: 0.5,
        ..params()
    };
    let s2 = 0.04 + 0.25 + 0.09;
    let want = [(0, 0.04 / s2), (2, 0.25 / s2), (3, 0.09 / s2)];
    assert!(close(&prepare(&probs, false, &half, &[]), &want));
    // Logits at any offset give softmax; -inf is left out.
    let logits = [1000.0, 1000.0 + 2f64.ln(), f64::NEG_INFINITY];
    let out = prepare(&logits, true, &params(), &[]);
    assert!(close(&out, &[(0, 1.0 / 3.0), (1, 2.0 / 3.0)]), "{out:?}");
    let neg = [-1000.0, -1000.0 + 3f64.ln()];
    assert!(close(
        &prepare(&neg, true, &params(), &[]),
        &[(0, 0.25), (1, 0.75)]
    ));
    assert!(prepare(&[0.0, 0.0], false, &params(), &[]).is_empty());
    assert!(prepare(&[f64::NEG_INFINITY], true, &params(), &[]).is_empty());
}

#[test]
fn repetition_penalty_divides_positive_and_multiplies_negative_logits() {
    let r2 = SamplingParams {
        repetition_penalty: Some(2.0),
        ..params()
    };
    // Logits 2, -1, 0.5; ids 0 and 1 seen (twice, and an id out of range).
    let out = prepare(&[2.0, -1.0, 0.5], true, &r2, &[0, 1, 0, 99]);
    let e = [1.0f64.exp(), (-2.0f64).exp(), 0.5f64.exp()];
    let s: f64 = e.iter().sum();
    let want = [(0, e[0] / s), (1, e[1] / s), (2, e[2] / s)];
    assert!(close(&out, &want), "{out:?}");
    // Probabilities: 0.5 becomes logit ln 0.5 < 0, multiplied by 2: 0.25.
    let out = prepare(&[0.5, 0.5], false, &r2, &[1]);
    assert!(close(&out, &[(0, 0.5 / 0.75), (1, 0.25 / 0.75)]), "{out:?}");
    // A zero probability stays zero.
    let out = prepare(&[0.0, 1.0], false, &r2, &[0]);
    assert!(close(&out, &[(1, 1.0)]));
}

#[test]
fn greedy_takes_the_best_and_on_ties_the_lower_id() {
    let greedy = SamplingParams {
        temperature: 0.0,
        ..params()
    };
    assert_eq!(
        prepare(&[0.1, 0.4, 0.4, 0.1], false, &greedy, &[]),
        vec![(1, 1.0)]
    );
    assert_eq!(
        prepare(&[0.1, 0.2, 0.4, 0.3], false, &greedy, &[]),
        vec![(2, 1.0)]
    );
    assert_eq!(
        prepare(&[-3.0, f64::NAN, -1.0], true, &greedy, &[]),
        vec![(2, 1.0)]
    );
    // Nothing possible: nothing to take, as at any other temperature.
    assert!(prepare(&[0.0, 0.0], false, &greedy, &[]).is_empty());
    let mut rng = Rng::new(0);
    assert!(sample_checked(&[0.0, 0.0], false, &greedy, &[], &mut rng).is_err());
}

#[test]
fn sample_chains_prepare_truncate_and_draw() {
    let p = SamplingParams {
        top_p: Some(0.5),
        ..params()
    };
    // The head that reaches 0.5 is token 0 alone, whatever the draw.
    for u in [0.0, 0.5, 0.999] {
        assert_eq!(
            sample(&[0.5, 0.3, 0.2], false, &p, &[], &mut rng_uniform(u)),
            Some(0)
        );
    }
    let p = SamplingParams {
        min_p: Some(0.5),
        ..params()
    };
    // 0.25 / 0.5 = 0.5: kept; 0.2 is not.
    let probs = [0.5, 0.25, 0.2, 0.05];
    assert_eq!(
        sample(&probs, false, &p, &[], &mut rng_uniform(0.7)),
        Some(1)
    );
    assert_eq!(
        sample(&probs, false, &p, &[], &mut rng_uniform(0.999)),
        Some(1)
    );
    assert_eq!(
        sample(&[0.0], false, &params(), &[], &mut Rng::new(0)),
        None
    );
}

#[test]
fn checked_scores_name_the_first_bad_index() {
    assert!(check_scores(&[0.0, 1.0, 0.5], false).is_ok());
    assert!(check_scores(&[f64::NEG_INFINITY, -5.0, 3.0], true).is_ok());
    for (scores, logits, index) in [
        (vec![0.5, -0.1, -1.0], false, 1),
        (vec![f64::NAN, 0.5], false, 0),
        (vec![0.5, 0.5, f64::INFINITY], false, 2),
        (vec![0.0, f64::INFINITY], true, 1),
        (vec![f64::NAN], true, 0),
    ] {
        let e = check_scores(&scores, logits).unwrap_err().to_string();
        assert!(e.contains(&format!("index {index} ")), "{e}");
        let kind = if logits { "logit" } else { "probability" };
        assert!(e.starts_with(kind), "{e}");
    }
    let bad = SamplingParams {
        top_k: Some(0),
        ..params()
    };
    assert!(sample_checked(&[1.0], false, &bad, &[], &mut Rng::new(0)).is_err());
    assert_eq!(
        sample_checked(&[0.0, 1.0], false, &params(), &[], &mut Rng::new(0)).ok(),
        Some(1)
    );
}

#[test]
fn rows_draw_from_their_own_sequence() {
    let rows = [0.5, 0.5, 0.0, 0.2, 0.3, 0.5, 1.0, 0.0, 0.0];
    let got = sample_rows(&rows, 3, false, &params(), 11).unwrap();
    assert_eq!(got.len(), 3);
    for (i, row) in rows.chunks(3).enumerate() {
        let mut rng = Rng::for_sequence(11, i as u64);
        assert_eq!(
            Some(got[i]),
            sample(row, false, &params(), &[], &mut rng),
            "row {i}"
        );
    }
    assert_eq!(got[2], 0);
    assert!(sample_rows(&[], 0, false, &params(), 1).unwrap().is_empty());
    let e = sample_rows(&[1.0], 0, false, &params(), 1).unwrap_err();
    assert!(e.to_string().contains("rows are empty"), "{e}");
    let e = sample_rows(&[1.0, 0.0, 0.0, 0.0], 2, false, &params(), 1).unwrap_err();
    assert!(e.to_string().contains("row 1"), "{e}");
    let bad = SamplingParams {
        temperature: -1.0,
        ..params()
    };
    assert!(sample_rows(&[1.0], 1, false, &bad, 1).is_err());
}

fn weights() -> impl Strategy<Value = Vec<(u32, f64)>> {
    // Small integers over 8: sums are exact, so boundaries are exact too.
    prop::collection::vec(0u32..9, 1..12).prop_map(|w| {
        w.into_iter()
            .enumerate()
            .map(|(i, w)| (i as u32, w as f64 / 8.0))
            .collect()
    })
}

proptest! {
    #[test]
    fn top_p_keeps_exactly_the_head_whose_mass_reaches_p(c in weights(), q in 1u32..=16) {
        let p = q as f64 / 16.0;
        let kept = truncate(c.clone(), &SamplingParams { top_p: Some(p), ..params() });
        let all = truncate(c, &params());
        let total: f64 = all.iter().map(|c| c.1).sum();
        prop_assert_eq!(&all[..kept.len()], &kept[..]);
        if total > 0.0 {
            let mass: f64 = kept.iter().map(|c| c.1).sum();
            let without_last = mass - kept.last().map_or(0.0, |c| c.1);
            prop_assert!(mass >= p * total);
            prop_assert!(without_last < p * total);
        } else {
            prop_assert!(kept.is_empty());
        }
    }

    #[test]
    fn min_p_keeps_exactly_the_candidates_at_least_min_p_of_the_best(
        c in weights(), q in 0u32..=8
    ) {
        let m = q as f64 / 8.0;
        let kept = truncate(c.clone(), &SamplingParams { min_p: Some(m), ..params() });
        let all = truncate(c, &params());
        let best = all.first().map_or(0.0, |c| c.1);
        let want: Vec<_> = all.iter().copied().filter(|c| c.1 >= m * best).collect();
        prop_assert_eq!(kept, want);
    }

    #[test]
    fn a_draw_falls_in_the_interval_of_its_candidate(c in weights(), k in 0u64..(1 << 20)) {
        let u = k as f64 / (1u64 << 20) as f64;
        let total: f64 = c.iter().map(|c| c.1).sum();
        let got = draw(&c, &mut rng_uniform(u));
        if total == 0.0 {
            prop_assert_eq!(got, None);
        } else {
            let mut acc = 0.0;
            let mut want = None;
            for &(id, w) in &c {
                if u * total < acc + w {
                    want = Some(id);
                    break;
                }
                acc += w;
            }
            prop_assert_eq!(got, want);
            prop_assert!(c[got.unwrap() as usize].1 > 0.0);
        }
    }

    #[test]
    fn probabilities_and_their_logs_sample_alike(c in weights(), seed in any::<u64>()) {
        let probs: Vec<f64> = c.iter().map(|c| c.1).collect();
        let logits: Vec<f64> = probs
            .iter()
            .map(|&p| if p > 0.0 { p.ln() + 3.0 } else { f64::NEG_INFINITY })
            .collect();
        let a = sample(&probs, false, &params(), &[], &mut Rng::new(seed));
        let b = sample(&logits, true, &params(), &[], &mut Rng::new(seed));
        prop_assert_eq!(a, b);
    }
}
