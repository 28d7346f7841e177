//! Tokenizers in saved files: records embedded in counts, vocabulary and
//! binary model files, the sidecar of ARPA files, files of the previous
//! format versions (spec strings), and the fixed-id counting path.

use std::path::Path;

use nextword_core::binfmt::{self, Reader, Writer};
use nextword_core::control::Control;
use nextword_core::corpus::Corpus;
use nextword_core::count::{count_ngrams, CountOptions, NGramCounts};
use nextword_core::lm::{self, arpa, binary, kneser_ney::KneserNeyOptions, Smoothing};
use nextword_core::tokenize::vocab_tokenizer::trainer;
use nextword_core::tokenize::{Tokenizer, TokenizerRecord, Vocab};
use nextword_core::Error;

const TEXTS: [&str; 5] = [
    "the cat sat on the mat",
    "the dog sat on the log",
    "a cat and a dog",
    "the cat saw a bird",
    "zebra",
];

fn corpus() -> Corpus {
    Corpus::from_texts(TEXTS.iter().map(|s| s.to_string()).collect())
}

fn vocab_tokenizer() -> Tokenizer {
    let (tok, _) = trainer::learn(&corpus(), 2, None, &Control::new(), 2).unwrap();
    tok.into_tokenizer()
}

fn count(corpus: &Corpus, tokenizer: Tokenizer) -> NGramCounts {
    let options = CountOptions {
        order: 3,
        tokenizer,
        pad: true,
        threads: 2,
    };
    count_ngrams(corpus, &options, &Control::new()).unwrap()
}

/// Every (n-gram as strings, count) of `counts`, sorted.
fn as_strings(counts: &NGramCounts) -> Vec<(Vec<String>, u64)> {
    let words = counts.vocab.words();
    let mut out = Vec::new();
    for o in &counts.orders {
        for i in 0..o.len() {
            let key = o.key(i).iter().map(|&id| words[id as usize].clone());
            out.push((key.collect(), o.counts[i]));
        }
    }
    out.sort();
    out
}

/// Rewrite a framed file of the current version whose payload opens with a
/// tokenizer record into `old_version`, opening with the spec string instead:
/// the writer logic of counts and vocabulary files before records.
fn downgrade(path: &Path, magic: &[u8; 8], old_version: u32) {
    let (_, payload) = binfmt::load_versions(path, magic, 0..=u32::MAX, "test").unwrap();
    let mut r = Reader::new(&payload, path);
    let record = TokenizerRecord::read(&mut r).unwrap();
    let spec = Tokenizer::from_record(&record).unwrap().spec();
    let mut w = Writer::new();
    w.str(&spec);
    w.raw(r.rest());
    w.save(path, magic, old_version).unwrap();
}

#[test]
fn fixed_id_counts_equal_string_counts() {
    let tok = vocab_tokenizer();
    let by_ids = count(&corpus(), tok.clone());
    assert_eq!(by_ids.vocab.words(), tok.fixed_vocab().unwrap());
    assert_eq!(by_ids.vocab.tokenizer(), &tok);
    // The same text with out-of-list words spelled <unk>, counted through strings.
    let mapped: Vec<String> = TEXTS.iter().map(|t| tok.tokenize(t).join(" ")).collect();
    let by_strings = count(&Corpus::from_texts(mapped), Tokenizer::Whitespace);
    assert_eq!(as_strings(&by_ids), as_strings(&by_strings));
    assert_eq!(by_ids.tokens, by_strings.tokens);
    assert_eq!(by_ids.count(&["the", "cat"]), 2);
    assert_eq!(by_ids.count(&["<unk>"]), by_strings.count(&["<unk>"]));
}

#[test]
fn counts_and_vocab_files_embed_the_tokenizer() {
    let dir = tempfile::tempdir().unwrap();
    let tok = vocab_tokenizer();
    let counts = count(&corpus(), tok.clone());
    let path = dir.path().join("c.nwcounts");
    counts.save(&path).unwrap();
    let back = NGramCounts::load(&path).unwrap();
    assert_eq!(back.vocab.tokenizer(), &tok);
    assert_eq!(as_strings(&back), as_strings(&counts));

    let vocab = Vocab::from_words(["x", "y"], tok.clone());
    let vpath = dir.path().join("v.nwvocab");
    vocab.save(&vpath).unwrap();
    let vback = Vocab::load(&vpath).unwrap();
    assert_eq!(vback.tokenizer(), &tok);
    assert_eq!(vback.words(), vocab.words());
}

#[test]
fn previous_versions_stay_readable() {
    let dir = tempfile::tempdir().unwrap();
    let tok = Tokenizer::from_spec("word:lower:nfkc").unwrap();
    let counts = count(&corpus(), tok.clone());
    let path = dir.path().join("c.nwcounts");
    counts.save(&path).unwrap();
    downgrade(&path, b"NWCOUNT\0", 1);
    let back = NGramCounts::load(&path).unwrap();
    assert_eq!(back.vocab.tokenizer(), &tok);
    assert_eq!(as_strings(&back), as_strings(&counts));

    let vocab = Vocab::from_words(["x"], Tokenizer::from_spec("char:keep-ws").unwrap());
    let vpath = dir.path().join("v.nwvocab");
    vocab.save(&vpath).unwrap();
    downgrade(&vpath, b"NWVOCAB\0", 1);
    assert_eq!(Vocab::load(&vpath).unwrap().tokenizer(), vocab.tokenizer());

    let model = lm::fit(&counts, &Smoothing::KneserNey(KneserNeyOptions::default())).unwrap();
    let mpath = dir.path().join("m.nwlm");
    binary::save_version(&model, &mpath, 5).unwrap();
    let mback = binary::load(&mpath, true).unwrap();
    assert_eq!(mback.vocab.tokenizer(), &tok);
    let ids: Vec<u32> = (0..model.vocab.len() as u32).collect();
    assert_eq!(
        mback.score_ids(&ids, true, true),
        model.score_ids(&ids, true, true)
    );
}

#[test]
fn unknown_kind_or_newer_version_is_a_format_error() {
    let dir = tempfile::tempdir().unwrap();
    let counts = count(&corpus(), Tokenizer::Whitespace);
    let path = dir.path().join("c.nwcounts");
    counts.save(&path).unwrap();
    let (version, payload) =
        binfmt::load_versions(&path, b"NWCOUNT\0", 0..=u32::MAX, "test").unwrap();
    for (kind, v, expect) in [
        (
            "sentencepiece",
            1,
            "unknown tokenizer kind \"sentencepiece\"",
        ),
        ("whitespace", 9, "tokenizer \"whitespace\" version 9"),
    ] {
        let mut r = Reader::new(&payload, &path);
        TokenizerRecord::read(&mut r).unwrap();
        let mut w = Writer::new();
        TokenizerRecord {
            kind: kind.into(),
            version: v,
            payload: Vec::new(),
        }
        .write(&mut w);
        w.raw(r.rest());
        w.save(&path, b"NWCOUNT\0", version).unwrap();
        match NGramCounts::load(&path) {
            Err(e @ Error::Format { .. }) => assert!(e.to_string().contains(expect), "{e}"),
            other => panic!("expected a format error, got {other:?}"),
        }
    }
}

#[test]
fn binary_model_with_a_learned_tokenizer_scores_identically() {
    let dir = tempfile::tempdir().unwrap();
    let tok = vocab_tokenizer();
    let counts = count(&corpus(), tok.clone());
    let model = lm::fit(&counts, &Smoothing::KneserNey(KneserNeyOptions::default())).unwrap();
    let path = dir.path().join("m.nwlm");
    binary::save(&model, &path).unwrap();
    let back = binary::load(&path, true).unwrap();
    assert_eq!(back.vocab.tokenizer(), &tok);
    let ids = back.vocab.encode("the cat saw a zebra", false, false);
    assert_eq!(ids, model.vocab.encode("the cat saw a zebra", false, false));
    assert_eq!(
        back.score_ids(&ids, true, true),
        model.score_ids(&ids, true, true)
    );
}

#[test]
fn arpa_sidecar_only_for_learned_tokenizers() {
    let dir = tempfile::tempdir().unwrap();
    let ks = Smoothing::KneserNey(KneserNeyOptions::default());
    for tok in [
        Tokenizer::Whitespace,
        Tokenizer::from_spec("word:lower").unwrap(),
        vocab_tokenizer(),
    ] {
        let model = lm::fit(&count(&corpus(), tok.clone()), &ks).unwrap();
        let path = dir.path().join(format!("{}.arpa", tok.kind()));
        arpa::save_arpa(&model, &path, &nextword_core::control::Control::default()).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let sidecar = TokenizerRecord::sidecar_path(&path);
        match tok {
            Tokenizer::Whitespace => assert!(text.starts_with("\\data\\")),
            _ => assert!(text.starts_with(&format!("# nextword tokenizer: {}", tok.kind()))),
        }
        assert_eq!(sidecar.exists(), tok.has_payload());
        let back = arpa::load_arpa(&path, None).unwrap().model;
        assert_eq!(back.vocab.tokenizer(), &tok);
        let ids = back.vocab.encode("the cat saw a zebra", false, false);
        let want = model.vocab.encode("the cat saw a zebra", false, false);
        let score = |m: &lm::NGramModel, ids: &[u32]| -> f32 {
            m.score_ids(ids, true, true).iter().map(|s| s.logprob).sum()
        };
        assert!((score(&back, &ids) - score(&model, &want)).abs() < 1e-4);
        if tok.has_payload() {
            std::fs::remove_file(&sidecar).unwrap();
            let e = arpa::load_arpa(&path, None).unwrap_err().to_string();
            assert!(e.contains(".tokenizer"), "{e}");
        }
    }
}
