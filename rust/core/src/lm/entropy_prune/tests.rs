//! Entropy pruning against brute force: the relative entropy of each
//! removal summed over the whole vocabulary, and normalisation after pruning.

use super::*;
use crate::control::Control;
use crate::corpus::Corpus;
use crate::count::{count_ngrams, CountOptions};
use crate::lm::kneser_ney::KneserNeyOptions;
use crate::lm::{fit, Smoothing};

const TEXT: &[&str] = &[
    "the cat sat on the mat",
    "the dog sat on the log",
    "a cat ran to the dog",
    "the cat saw a dog on the mat",
    "a dog and a cat sat",
    "the mat was on the log",
    "the cat sat",
    "a dog ran",
];

fn model(order: usize, smoothing: Smoothing) -> NGramModel {
    let corpus = Corpus::from_texts(TEXT.iter().map(|t| t.to_string()).collect());
    let options = CountOptions {
        order,
        ..Default::default()
    };
    let counts = count_ngrams(&corpus, &options, &Control::new()).unwrap();
    let smoothing = match smoothing {
        Smoothing::KneserNey(_) => Smoothing::KneserNey(KneserNeyOptions {
            // Tiny data: fixed discounts instead of the fallback's warnings.
            discounts: Some(vec![[0.5, 1.0, 1.5]; order]),
            ..Default::default()
        }),
        other => other,
    };
    fit(&counts, &smoothing).unwrap()
}

/// p(v | words) for every id but `<s>` (which gets 0), linear.
fn dist(model: &NGramModel, words: &[u32]) -> Vec<f64> {
    let state = match words.split_first() {
        Some((&BOS_ID, rest)) => model.state_after(rest, true),
        _ => model.state_after(words, false),
    };
    model
        .distribution(&state)
        .iter()
        .map(|&lp| 10f64.powf(lp as f64))
        .collect()
}

/// D of removing entry `j` of level `t`, by brute force over the vocabulary:
/// the backoff weight that renormalises h without `h w` is found by summing,
/// and `sum_v p(v|h) log(p(v|h) / p'(v|h))` is summed term by term.
fn brute_force(model: &NGramModel, t: usize, j: usize) -> f64 {
    let key = model.levels[t].key(j);
    let (h, w) = (&key[..t], key[t] as usize);
    let p = dist(model, h);
    let q = dist(model, &h[1..]);
    // The words held after h, but w.
    let c = model.levels[t - 1].find(h).unwrap();
    let (s, e) = model.levels[t - 1].children(c, model.levels[t].len());
    let mut held = vec![false; p.len()];
    for i in s..e {
        held[model.levels[t].key(i)[t] as usize] = true;
    }
    held[w] = false;
    let predictable = |v: usize| v != BOS_ID as usize;
    let kept_mass: f64 = (0..p.len()).filter(|&v| held[v]).map(|v| p[v]).sum();
    let free_lower: f64 = (0..p.len())
        .filter(|&v| !held[v] && predictable(v))
        .map(|v| q[v])
        .sum();
    let bow = (1.0 - kept_mass) / free_lower;
    let kl: f64 = (0..p.len())
        .filter(|&v| predictable(v) && p[v] > 0.0)
        .map(|v| {
            let after = if held[v] { p[v] } else { bow * q[v] };
            p[v] * (p[v] / after).log10()
        })
        .sum();
    // p(h): the chain of the model's probabilities, <s> first with 1.
    let mut ph = 1f64;
    for i in 1..=h.len() {
        if i == 1 && h[0] == BOS_ID {
            continue;
        }
        ph *= dist(model, &h[..i - 1])[h[i - 1] as usize];
    }
    ph * kl
}

#[test]
fn costs_are_the_relative_entropy_summed_over_the_vocabulary() {
    for order in [2, 3] {
        let m = model(order, Smoothing::KneserNey(KneserNeyOptions::default()));
        let costs = pruning_costs(&m, order).unwrap();
        assert_eq!(costs.len(), m.levels[order - 1].len());
        for (j, &d) in costs.iter().enumerate() {
            let expected = brute_force(&m, order - 1, j);
            assert!(
                (d - expected).abs() <= 1e-4 * expected.abs() + 1e-10,
                "order {order} entry {j} {:?}: formula {d} brute force {expected}",
                m.levels[order - 1].key(j)
            );
            assert!(d >= -1e-9, "a relative entropy is never negative: {d}");
        }
    }
}

/// A hand-worked case: in a bigram model of "a b" and "a c", the bigram
/// `a b` holds p(b|a) and backs off to p(b); removing it leaves the context
/// `a` with nothing but `a c` and gives b p'(b|a) = bow'(a) p(b).
#[test]
fn hand_worked_bigram() {
    let corpus = Corpus::from_texts(vec!["a b".into(), "a c".into()]);
    let counts = count_ngrams(
        &corpus,
        &CountOptions {
            order: 2,
            ..Default::default()
        },
        &Control::new(),
    )
    .unwrap();
    let m = fit(&counts, &Smoothing::WittenBell).unwrap();
    let (a, b, c) = (m.vocab.id("a"), m.vocab.id("b"), m.vocab.id("c"));
    let j = m.levels[1].find(&[a, b]).unwrap();
    let lp = |ids: &[u32]| {
        10f64.powf(
            m.levels[ids.len() - 1].logprob[m.levels[ids.len() - 1].find(ids).unwrap()] as f64,
        )
    };
    let (p_ab, p_ac, p_b, p_c, p_a) = (lp(&[a, b]), lp(&[a, c]), lp(&[b]), lp(&[c]), lp(&[a]));
    let num = 1.0 - p_ab - p_ac;
    let den = 1.0 - p_b - p_c;
    let bow = num / den;
    let bow_new = (num + p_ab) / (den + p_b);
    // D = p(a) [p(b|a) log(p(b|a) / (bow' p(b))) + sum over backed-off v of
    //     bow p(v) log(bow / bow')], that sum being bow * den = num.
    let expected = p_a * (p_ab * (p_ab / (bow_new * p_b)).log10() + num * (bow / bow_new).log10());
    let got = pruning_costs(&m, 2).unwrap()[j];
    assert!(
        (got - expected).abs() < 1e-5 * expected,
        "{got} vs {expected}"
    );
}

fn assert_normalised(m: &NGramModel) {
    let mut contexts: Vec<Vec<u32>> = vec![vec![]];
    for level in &m.levels[..m.order() - 1] {
        contexts.extend((0..level.len()).map(|i| level.key(i).to_vec()));
    }
    for h in contexts {
        if h.last() == Some(&crate::tokenize::EOS_ID) {
            continue;
        }
        let total: f64 = dist(m, &h).iter().sum();
        assert!((total - 1.0).abs() < 1e-5, "context {h:?} sums to {total}");
    }
}

#[test]
fn pruned_models_stay_normalised_and_closed() {
    for smoothing in [
        Smoothing::KneserNey(KneserNeyOptions::default()),
        Smoothing::WittenBell,
    ] {
        let m = model(4, smoothing);
        let mut last = usize::MAX;
        for threshold in [0.0, 1e-3, 1e-2, 3e-2] {
            let (p, stats) = match prune_entropy(&m, threshold) {
                Ok(x) => x,
                Err(e) => {
                    assert!(e.to_string().contains("prunes every"), "{e}");
                    break;
                }
            };
            let size: usize = p.levels.iter().map(Level::len).sum();
            assert!(size <= last);
            last = size;
            let before: usize = m.levels.iter().map(Level::len).sum();
            assert_eq!(before - size, stats.removed.iter().sum::<usize>());
            assert_eq!(stats.removed[0], 0, "unigrams are never pruned");
            if threshold == 0.0 {
                assert_eq!(size, before);
            }
            assert_normalised(&p);
            // Every kept n-gram's context and suffix are kept.
            for t in 1..p.order() {
                for i in 0..p.levels[t].len() {
                    let key = p.levels[t].key(i);
                    assert!(p.levels[t - 1].find(&key[..t]).is_some());
                    assert!(p.levels[t - 1].find(&key[1..]).is_some());
                }
            }
        }
        assert!(last < m.levels.iter().map(Level::len).sum::<usize>());
    }
}

#[test]
fn bad_thresholds_and_models_are_refused() {
    let m = model(3, Smoothing::KneserNey(KneserNeyOptions::default()));
    for bad in [-1e-9, f64::NAN, f64::INFINITY] {
        let err = prune_entropy(&m, bad).unwrap_err().to_string();
        assert!(err.contains("relative perplexity increase >= 0"), "{err}");
    }
    let err = prune_entropy(&m, 1e9).unwrap_err().to_string();
    assert!(err.contains("prunes every 3-gram"), "{err}");
    let sb = model(3, Smoothing::StupidBackoff(0.4));
    let err = prune_entropy(&sb, 1e-6).unwrap_err().to_string();
    assert!(err.contains("not a normalised backoff model"), "{err}");
    assert!(pruning_costs(&m, 1).is_err());
}
