//! The query structure (`nextword_core::lm::model`) against a plain reading
//! of the backoff form, for every estimator, on random corpora.
//!
//! [`backoff_form`] is the textbook rule, written here with nothing but
//! `Level::find` on keys: the longest n-gram `h_k w` the model holds gives
//! `logprob(h_k w)`, plus the backoff of every longer context of the history
//! (a context the model does not hold charges `unseen_context`); add-k uses
//! only the longest context. `score_word`, `distribution`, `top_k`,
//! `for_each_candidate` and `score_ids` must all agree with it, and `top_k` must
//! rank ties by lower id (the documented rule that reversing `w < bw` broke
//! without a failing test). That comparison only decides between candidates
//! of different orders (each order's list is already sorted, ties by id), and
//! random corpora rarely make such ties: [`ties_between_orders_go_to_the_lower_id`]
//! makes them on purpose (stupid backoff with alpha 1) and checks it met some.
//! Written against `cargo mutants --file rust/core/src/lm/model.rs`.

use nextword_core::control::Control;
use nextword_core::corpus::Corpus;
use nextword_core::count::{count_ngrams, CountOptions};
use nextword_core::lm::trie::Trie;
use nextword_core::lm::{
    self, kneser_ney::KneserNeyOptions, Level, NGramModel, Remainder, Smoothing, State,
};
use nextword_core::tokenize::{Tokenizer, Vocab, BOS_ID, EOS_ID, UNK_ID};
use proptest::prelude::*;

fn fit(lines: &[String], order: usize, smoothing: &Smoothing) -> NGramModel {
    fit_padded(lines, order, true, smoothing)
}

/// `pad = false` leaves `<s>` and `</s>` in the vocabulary without a unigram.
fn fit_padded(lines: &[String], order: usize, pad: bool, smoothing: &Smoothing) -> NGramModel {
    let corpus = Corpus::from_texts(lines.to_vec());
    let options = CountOptions {
        order,
        tokenizer: Tokenizer::Whitespace,
        pad,
        threads: 1,
    };
    let counts = count_ngrams(&corpus, &options, &Control::new()).expect("counted");
    lm::fit(&counts, smoothing).expect("fitted")
}

fn smoothings() -> Vec<Smoothing> {
    vec![
        Smoothing::Mle,
        Smoothing::AddK(0.5),
        Smoothing::WittenBell,
        Smoothing::StupidBackoff(0.4),
        Smoothing::KneserNey(KneserNeyOptions::default()),
    ]
}

/// log10 of a stored value, as the levels hold it.
fn stored(model: &NGramModel, key: &[u32]) -> Option<(f32, f32)> {
    let level = &model.levels[key.len() - 1];
    let i = level.find(key)?;
    let backoff = level.backoff.get(i).copied().unwrap_or(0.0);
    Some((level.logprob[i], backoff))
}

/// (log10 p(word | history), length of the n-gram matched), by the book.
/// `history` holds ids already mapped to `<unk>` when unknown.
fn backoff_form(model: &NGramModel, history: &[u32], word: u32) -> (f32, usize) {
    let n = model.order();
    let word = if stored(model, &[word]).is_some() {
        word
    } else {
        UNK_ID
    };
    let ctx = &history[history.len().saturating_sub(n - 1)..];
    let mut matched = 0;
    let mut logprob = f32::NEG_INFINITY;
    for len in 1..=ctx.len() + 1 {
        let mut key = ctx[ctx.len() + 1 - len..].to_vec();
        key.push(word);
        match stored(model, &key) {
            Some((lp, _)) => {
                matched = len;
                logprob = lp;
            }
            None => break,
        }
    }
    let context_backoff = |len: usize| stored(model, &ctx[ctx.len() - len..]).map(|s| s.1);
    match model.remainder {
        Remainder::LowerOrder { unseen_context } => {
            if matched == 0 {
                return (f32::NEG_INFINITY, 0);
            }
            for len in matched..=ctx.len() {
                logprob += context_backoff(len).unwrap_or(unseen_context);
            }
        }
        Remainder::Uniform {
            unseen_unigram,
            uniform,
        } => {
            if matched < ctx.len() + 1 {
                logprob = if ctx.is_empty() {
                    unseen_unigram
                } else {
                    context_backoff(ctx.len()).unwrap_or(uniform)
                };
            }
        }
    }
    (logprob, matched)
}

/// Ids of `words` as the model's state holds them (unknown: `<unk>`).
fn history_ids(model: &NGramModel, bos: bool, words: &[&str]) -> Vec<u32> {
    let mut h = if bos { vec![BOS_ID] } else { vec![] };
    h.extend(
        words
            .iter()
            .map(|w| model.vocab.get(w).unwrap_or(UNK_ID))
            .map(|id| {
                if stored(model, &[id]).is_some() {
                    id
                } else {
                    UNK_ID
                }
            }),
    );
    h
}

/// Every query of `model` after `context` agrees with the backoff form.
fn check_queries(model: &NGramModel, bos: bool, context: &[&str]) {
    let ids: Vec<u32> = context
        .iter()
        .map(|w| model.vocab.get(w).unwrap_or(UNK_ID))
        .collect();
    let history = history_ids(model, bos, context);
    let state = model.state_after(&ids, bos);
    let n = model.order();
    // The last n - 1 words (a unigram model's begin state still holds <s>,
    // which no query reads).
    let tail = &state.words[state.words.len().saturating_sub(n - 1)..];
    assert_eq!(
        tail,
        &history[history.len().saturating_sub(n - 1)..],
        "state words"
    );
    assert!(state.words.len() <= (n - 1).max(1));
    let v = model.vocab.len() as u32;
    let dist = model.distribution(&state);
    assert_eq!(dist.len(), v as usize);
    assert_eq!(
        dist[BOS_ID as usize],
        f32::NEG_INFINITY,
        "<s> is never predicted"
    );
    let mut next = Default::default();
    // Every word, and one id past the vocabulary (unknown).
    for w in 0..=v {
        let score = model.score_word(&state, w, &mut next);
        let (want, matched) = backoff_form(model, &history, w);
        assert_eq!(
            score.logprob.to_bits(),
            want.to_bits(),
            "{} after {context:?}: {} != {want}",
            w,
            score.logprob
        );
        assert_eq!(score.ngram_len, matched, "n-gram length of {w}");
        let known = w < v && w != UNK_ID && stored(model, &[w]).is_some();
        assert_eq!(score.oov, !known, "oov flag of {w}");
        if w != BOS_ID && w < v {
            // A word without a unigram is scored as `<unk>`, but it is not
            // one of the words a backoff model predicts (`<unk>` holds that
            // mass); add-k gives it the unseen value, which is `<unk>`'s.
            let predicted = stored(model, &[w]).is_some()
                || matches!(model.remainder, Remainder::Uniform { .. });
            let want = if predicted { want } else { f32::NEG_INFINITY };
            assert_eq!(
                dist[w as usize].to_bits(),
                want.to_bits(),
                "distribution of {w}"
            );
        }
        // The state after w: the last n - 1 words, w (or <unk>) last.
        let mut after = history.clone();
        after.push(if known || w == UNK_ID { w } else { UNK_ID });
        let want_words = if n > 1 {
            after[after.len().saturating_sub(n - 1)..].to_vec()
        } else {
            vec![]
        };
        assert_eq!(next.words, want_words, "state after {w}");
        assert!(next.backoff.len() <= next.words.len());
        for (j, bo) in next.backoff.iter().enumerate() {
            let key = &next.words[next.words.len() - j - 1..];
            assert_eq!(Some(*bo), stored(model, key).map(|s| s.1), "backoff {j}");
        }
        // Every suffix the model holds has its backoff in the state.
        let held = (1..=next.words.len())
            .take_while(|&len| stored(model, &next.words[next.words.len() - len..]).is_some())
            .count();
        assert_eq!(
            next.backoff.len(),
            held.min(n - 1),
            "held suffixes after {w}"
        );
    }
    // top_k: every word of finite value but <s>, best first, ties by lower id.
    let mut want: Vec<(u32, f32)> = (0..v)
        .filter(|&w| w != BOS_ID && dist[w as usize] > f32::NEG_INFINITY)
        .map(|w| (w, dist[w as usize].min(0.0)))
        .collect();
    want.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let all = model.top_k(&state, v as usize + 5);
    assert_eq!(all, want, "top_k after {context:?}");
    for k in [0, 1, 2, 3] {
        let head = model.top_k(&state, k);
        assert_eq!(head[..], want[..k.min(want.len())], "top_k({k})");
    }
    let mut seen = Vec::new();
    model.for_each_candidate(&state, |w, _| {
        seen.push(w);
        seen.len() < 2
    });
    assert_eq!(
        seen,
        want.iter().take(2).map(|c| c.0).collect::<Vec<_>>(),
        "for_each_candidate stops when asked"
    );
    if model.normalized && model.smoothing != "mle" {
        let mass: f64 = dist.iter().map(|&lp| 10f64.powf(lp as f64)).sum();
        assert!((mass - 1.0).abs() < 1e-4, "mass {mass} after {context:?}");
    }
}

#[test]
fn predict_ranks_ties_by_lower_id() {
    // After "a": zz, bb, mm, yy; ids in order of first appearance, so
    // zz < bb < mm < yy by id; bb is seen twice.
    let lines: Vec<String> = ["a zz", "a bb", "a mm", "a yy", "a bb"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let model = fit(&lines, 2, &Smoothing::Mle);
    let state = model.state_after(&[model.vocab.id("a")], true);
    let words: Vec<&str> = model
        .top_k(&state, 4)
        .iter()
        .map(|c| model.vocab.word(c.0).unwrap())
        .collect();
    assert_eq!(words, ["bb", "zz", "mm", "yy"]);
    let top = model.top_k(&state, 2);
    assert!((10f32.powf(top[0].1) - 0.4).abs() < 1e-6);
    assert!((10f32.powf(top[1].1) - 0.2).abs() < 1e-6);
    check_queries(&model, true, &["a"]);
}

#[test]
fn a_sentence_scores_as_its_steps() {
    let lines: Vec<String> = ["a b c", "b c a", "c a b b"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for smoothing in smoothings() {
        let model = fit(&lines, 3, &smoothing);
        let ids = [
            model.vocab.id("a"),
            model.vocab.id("b"),
            99,
            model.vocab.id("c"),
        ];
        for (bos, eos) in [(true, true), (false, false), (true, false), (false, true)] {
            let scores = model.score_ids(&ids, bos, eos);
            assert_eq!(scores.len(), ids.len() + eos as usize);
            let mut state = model.begin_state(bos);
            let mut next = Default::default();
            let seq: Vec<u32> = ids.iter().copied().chain(eos.then_some(EOS_ID)).collect();
            for (i, &w) in seq.iter().enumerate() {
                assert_eq!(scores[i], model.score_word(&state, w, &mut next), "{i}");
                std::mem::swap(&mut state, &mut next);
            }
            assert!(scores[2].oov && !scores[0].oov);
        }
        let begin = model.begin_state(true);
        assert_eq!(begin.words, vec![BOS_ID]);
        assert_eq!(
            begin.backoff,
            stored(&model, &[BOS_ID])
                .map(|s| s.1)
                .into_iter()
                .collect::<Vec<_>>()
        );
        assert_eq!(model.begin_state(false), Default::default());
        for context in [&[][..], &["a"], &["a", "b"], &["zz", "c"], &["b", "zz"]] {
            check_queries(&model, true, context);
            check_queries(&model, false, context);
        }
    }
}

fn corpus() -> impl Strategy<Value = Vec<String>> {
    let word = prop::sample::select(vec!["q", "x", "b", "m", "a"]);
    let line = prop::collection::vec(word, 1..7).prop_map(|w| w.join(" "));
    prop::collection::vec(line, 1..9)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]
    #[test]
    fn every_query_agrees_with_the_backoff_form(
        lines in corpus(),
        order in 1usize..=4,
        which in 0usize..5,
        context in prop::collection::vec(
            prop::sample::select(vec!["q", "x", "b", "m", "a", "zz"]), 0..4),
        bos in any::<bool>(),
    ) {
        let model = fit(&lines, order, &smoothings()[which]);
        check_queries(&model, bos, &context);
    }
}

#[test]
fn small_cases_agree_with_the_backoff_form() {
    // A unigram model after <s>: its state keeps <s>, its queries ignore it.
    let model = fit(&["q".to_string()], 1, &Smoothing::Mle);
    check_queries(&model, true, &[]);
    assert_eq!(model.state_after(&[], true).words, vec![BOS_ID]);
}

#[test]
fn ties_between_orders_go_to_the_lower_id() {
    // Stupid backoff with alpha = 1 charges nothing for backing off, so a word
    // seen after the context (a bigram) and a word only seen alone (a unigram)
    // tie whenever their relative frequencies are equal: two streams of
    // candidates meet with equal values, and the lower id must come first.
    let words = ["q", "x", "b", "m", "a"];
    let mut state = 12345u64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let mut cross_ties = 0;
    for _ in 0..200 {
        let lines: Vec<String> = (0..1 + next() % 5)
            .map(|_| {
                let n = 1 + next() % 4;
                (0..n)
                    .map(|_| words[next() % 5])
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        let model = fit(&lines, 2, &Smoothing::StupidBackoff(1.0));
        for context in words {
            check_queries(&model, true, &[context]);
            let s = model.state_after(&[model.vocab.id(context)], true);
            let ranked = model.top_k(&s, 100);
            let mut scratch = Default::default();
            for pair in ranked.windows(2) {
                let mut len = |w: u32| model.score_word(&s, w, &mut scratch).ngram_len;
                if pair[0].1 == pair[1].1 && len(pair[0].0) != len(pair[1].0) {
                    cross_ties += 1;
                }
            }
        }
    }
    assert!(cross_ties > 0, "no tie between orders met");
}

/// The same model held as a trie, as a trie file opens it.
fn as_trie(model: &NGramModel) -> NGramModel {
    let trie = Trie::from_levels(&model.levels, None).expect("trie");
    NGramModel::from_trie(
        model.vocab.clone(),
        trie,
        model.remainder,
        &model.smoothing,
        model.normalized,
    )
}

fn bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

/// The trie layout answers every query as the hash layout does, bit for bit
/// (the entries a state carries are positions in its own layout, so only
/// its words and backoffs are compared).
fn check_trie_agrees(hash: &NGramModel, trie: &NGramModel, bos: bool, context: &[&str]) {
    assert!(trie.trie.is_some() && hash.trie.is_none());
    assert_eq!(trie.order(), hash.order());
    assert_eq!(trie.sizes(), hash.sizes());
    let ids: Vec<u32> = context
        .iter()
        .map(|w| hash.vocab.get(w).unwrap_or(UNK_ID))
        .collect();
    // A trie stores no backoffs for its top order, so a unigram model's
    // state after `<s>` carries 0 there; no query of that model reads it.
    let same_state = |a: &State, b: &State, what: &str| {
        assert_eq!(a.words, b.words, "{what}: words");
        if hash.order() > 1 {
            assert_eq!(bits(&a.backoff), bits(&b.backoff), "{what}: backoffs");
        }
    };
    for start in [bos, !bos] {
        same_state(&hash.begin_state(start), &trie.begin_state(start), "begin");
    }
    let hs = hash.state_after(&ids, bos);
    let ts = trie.state_after(&ids, bos);
    same_state(&hs, &ts, "state");
    assert_eq!(
        bits(&hash.distribution(&hs)),
        bits(&trie.distribution(&ts)),
        "distribution after {context:?}"
    );
    let v = hash.vocab.len() as u32;
    let (mut hn, mut tn) = (State::default(), State::default());
    for w in 0..=v {
        let a = hash.score_word(&hs, w, &mut hn);
        let b = trie.score_word(&ts, w, &mut tn);
        assert_eq!(
            a.logprob.to_bits(),
            b.logprob.to_bits(),
            "{w} after {context:?}"
        );
        assert_eq!((a.ngram_len, a.oov), (b.ngram_len, b.oov), "{w}");
        same_state(&hn, &tn, "state after a word");
        check_state_shape(hash, &hn);
        assert_eq!(tn.entries.len(), tn.backoff.len(), "trie state after {w}");
    }
    assert_eq!(
        hash.top_k(&hs, v as usize + 1),
        trie.top_k(&ts, v as usize + 1)
    );
    for (b, e) in [(true, true), (false, false)] {
        let (a, t) = (hash.score_ids(&ids, b, e), trie.score_ids(&ids, b, e));
        assert_eq!(a.len(), t.len());
        for (x, y) in a.iter().zip(&t) {
            assert_eq!(
                (x.logprob.to_bits(), x.ngram_len, x.oov),
                (y.logprob.to_bits(), y.ngram_len, y.oov)
            );
        }
    }
}

/// A state after a word holds at most order - 1 words, and a backoff and an
/// entry for exactly the suffixes of its words the model holds (none of the
/// top order, which is never a context): no more, no less.
fn check_state_shape(model: &NGramModel, state: &State) {
    let n = model.order();
    assert!(state.words.len() < n.max(1), "{state:?} in order {n}");
    let held = (1..=state.words.len())
        .take_while(|&j| stored(model, &state.words[state.words.len() - j..]).is_some())
        .count();
    assert_eq!(state.backoff.len(), held, "{state:?} in order {n}");
    assert_eq!(state.entries.len(), held, "{state:?} in order {n}");
}

#[test]
fn every_order_estimator_and_layout_agree_with_the_backoff_form() {
    // Deterministic (the proptest above draws its cases at random): orders 1
    // to 4, both layouts, padded counts and unpadded ones (where `<s>` and
    // `</s>` are words without a unigram), after contexts held, partly held,
    // unknown, and longer than the order.
    let lines: Vec<String> = ["a b c a", "b c a b b", "c a", "x a b", "b b b x"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let contexts: [&[&str]; 7] = [
        &[],
        &["a"],
        &["b", "c"],
        &["a", "b", "c"],
        &["zz", "a"],
        &["c", "zz"],
        &["x", "a", "b", "b", "b"],
    ];
    for order in 1..=4 {
        for pad in [true, false] {
            for smoothing in smoothings() {
                if !pad && matches!(smoothing, Smoothing::KneserNey(_)) {
                    continue; // Kneser-Ney refuses unpadded counts
                }
                let model = fit_padded(&lines, order, pad, &smoothing);
                assert!(matches!(model.hash_layout(), std::borrow::Cow::Borrowed(_)));
                let trie = as_trie(&model);
                let decoded = trie.hash_layout().into_owned();
                assert!(decoded.trie.is_none());
                let sizes: Vec<usize> = model.levels.iter().map(|l| l.len()).collect();
                assert_eq!((model.sizes(), decoded.sizes()), (sizes.clone(), sizes));
                for context in contexts {
                    for bos in [true, false] {
                        check_queries(&model, bos, context);
                        check_trie_agrees(&model, &trie, bos, context);
                        check_queries(&decoded, bos, context);
                    }
                }
            }
        }
    }
}

#[test]
fn a_unigram_model_reads_no_context_and_maps_words_without_unigrams_to_unk() {
    // Built by hand: the backoff stored for `<s>` and for `a` must never be
    // charged by an order-1 model (its queries have no context, even when the
    // state starts after `<s>`), and `c`, a word of the vocabulary without a
    // unigram (as an ARPA file can leave one), scores as `<unk>`.
    let vocab = Vocab::from_words(["a", "b", "c"], Tokenizer::Whitespace);
    let (a, b, c) = (vocab.id("a"), vocab.id("b"), vocab.id("c"));
    let keys = vec![UNK_ID, BOS_ID, EOS_ID, a, b];
    let logprob = vec![-2.0, -99.0, -0.5, -0.25, -0.75];
    let backoff = vec![0.0, -0.5, 0.0, -0.125, 0.0];
    let remainders = [
        Remainder::LowerOrder {
            unseen_context: -0.375,
        },
        // As add-k stores it: `<unk>` (count 0) holds the unseen value.
        Remainder::Uniform {
            unseen_unigram: -2.0,
            uniform: -1.5,
        },
    ];
    for remainder in remainders {
        let level = Level::new(1, keys.clone(), logprob.clone(), backoff.clone());
        let model = NGramModel::from_levels(vocab.clone(), vec![level], remainder, "hand", false);
        let trie = as_trie(&model);
        for m in [&model, &trie] {
            for bos in [true, false] {
                let state = m.state_after(&[], bos);
                let mut next = State::default();
                let score = |w| m.score_word(&state, w, &mut State::default());
                assert_eq!(score(a).logprob, -0.25);
                assert_eq!(score(b).logprob, -0.75);
                let unknown = score(c);
                assert_eq!((unknown.logprob, unknown.ngram_len), (-2.0, 1));
                assert!(unknown.oov);
                assert_eq!(m.score_word(&state, a, &mut next).ngram_len, 1);
                assert!(next.words.is_empty() && next.backoff.is_empty());
                assert_eq!(m.top_k(&state, 3), [(a, -0.25), (EOS_ID, -0.5), (b, -0.75)]);
                let dist = m.distribution(&state);
                let unseen = match remainder {
                    Remainder::LowerOrder { .. } => f32::NEG_INFINITY,
                    Remainder::Uniform { unseen_unigram, .. } => unseen_unigram,
                };
                assert_eq!(dist[c as usize], unseen);
                assert_eq!(dist[a as usize], -0.25);
            }
        }
        for bos in [true, false] {
            for context in [&[][..], &["a"], &["c", "b"]] {
                check_queries(&model, bos, context);
                check_trie_agrees(&model, &trie, bos, context);
            }
        }
    }
}

#[test]
fn prefetch_takes_any_history_and_changes_no_result() {
    let lines: Vec<String> = ["a b c a", "b c a b b"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for order in 1..=3 {
        let model = fit(&lines, order, &Smoothing::WittenBell);
        let a = model.vocab.get("a").unwrap();
        let before = model.score_ids(&[a, a], true, true);
        // An empty history, one shorter and one longer than the order.
        for history in [&[][..], &[a], &[BOS_ID, a, a, a]] {
            model.prefetch(history, a);
            as_trie(&model).prefetch(history, a);
        }
        assert_eq!(model.score_ids(&[a, a], true, true), before);
    }
}
