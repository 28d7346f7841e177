//! Kneser-Ney (`nextword_core::lm::kneser_ney`) against KenLM's `lmplz`, in
//! Rust, so that `cargo test` (and `cargo mutants`) reaches every stage.
//!
//! The fixtures are 300 lines of tinyshakespeare (lines 1001-1300 of the
//! golden training text) and the ARPA files lmplz wrote for them:
//!
//! ```text
//! lmplz -o 3 --discount_fallback < shakespeare300.txt | gzip > shakespeare300.o3.arpa.gz
//! lmplz -o 2 --discount_fallback --interpolate_unigrams 0 < shakespeare300.txt \
//!     | gzip > shakespeare300.o2.no_interpolate_unigrams.arpa.gz
//! ```
//!
//! Orders 1 and 2 estimate their discounts; order 3's count-of-counts make D3+
//! negative, so lmplz (and we) fall back to 0.5, 1, 1.5. The ARPA text must be
//! the same bytes: every probability and backoff to the last printed digit.

use std::io::Read;
use std::path::PathBuf;

use nextword_core::control::Control;
use nextword_core::corpus::Corpus;
use nextword_core::count::{count_ngrams, CountOptions, NGramCounts};
use nextword_core::lm::kneser_ney::{self, KneserNeyOptions, FALLBACK};
use nextword_core::lm::{self, arpa, Smoothing};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join(name)
}

fn counts(order: usize, pad: bool) -> NGramCounts {
    let corpus = Corpus::from_paths([fixture("shakespeare300.txt")]);
    let options = CountOptions {
        order,
        pad,
        threads: 2,
        ..Default::default()
    };
    count_ngrams(&corpus, &options, &Control::new()).expect("counted")
}

fn lmplz(name: &str) -> String {
    let file = std::fs::File::open(fixture(name)).expect("fixture");
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .expect("gzip");
    text
}

fn arpa_text(options: &KneserNeyOptions, order: usize) -> (String, lm::NGramModel) {
    let model = kneser_ney::estimate(&counts(order, true), options).expect("estimated");
    let mut out = Vec::new();
    arpa::write_arpa(&model, &mut out).expect("written");
    (String::from_utf8(out).expect("utf-8"), model)
}

/// The first differing line, for a readable failure.
fn same_text(ours: &str, theirs: &str) {
    for (i, (a, b)) in ours.lines().zip(theirs.lines()).enumerate() {
        assert_eq!(a, b, "line {}", i + 1);
    }
    assert_eq!(ours.lines().count(), theirs.lines().count());
    assert_eq!(ours, theirs);
}

#[test]
fn order_3_is_lmplzs_arpa_byte_for_byte() {
    let (ours, model) = arpa_text(&KneserNeyOptions::default(), 3);
    same_text(&ours, &lmplz("shakespeare300.o3.arpa.gz"));
    // lmplz printed (6 significant digits): 1 D1=0.7993 D2=1.27505 D3+=1.03249;
    // 2 D1=0.910565 D2=1.38537 D3+=0.36948; order 3 fell back.
    let printed = [[0.7993, 1.27505, 1.03249], [0.910565, 1.38537, 0.36948]];
    for (ours, theirs) in model.discounts.iter().zip(printed) {
        for (d, p) in ours.iter().zip(theirs) {
            assert!((*d as f64 - p).abs() < 6e-6, "{ours:?} against {theirs:?}");
        }
    }
    assert_eq!(model.discounts[2], FALLBACK);
    assert_eq!(model.warnings.len(), 1);
    assert!(
        model.warnings[0].starts_with("order 3:"),
        "{:?}",
        model.warnings
    );
}

#[test]
fn unigrams_not_interpolated_are_lmplzs_too() {
    let options = KneserNeyOptions {
        interpolate_unigrams: false,
        ..Default::default()
    };
    let (ours, _) = arpa_text(&options, 2);
    same_text(
        &ours,
        &lmplz("shakespeare300.o2.no_interpolate_unigrams.arpa.gz"),
    );
}

#[test]
fn consuming_the_counts_gives_the_same_model() {
    let options = KneserNeyOptions::default();
    let (borrowed, _) = arpa_text(&options, 3);
    let model = kneser_ney::estimate_owned(counts(3, true), &options).expect("estimated");
    let mut out = Vec::new();
    arpa::write_arpa(&model, &mut out).expect("written");
    assert_eq!(String::from_utf8(out).unwrap(), borrowed);
}

#[test]
fn given_discounts_are_used_as_given() {
    let given = vec![[0.5, 1.0, 1.5], [0.25, 0.75, 2.5], [0.1, 2.0, 3.0]];
    let options = KneserNeyOptions {
        discounts: Some(given.clone()),
        ..Default::default()
    };
    let model = kneser_ney::estimate(&counts(3, true), &options).expect("estimated");
    let as_f32: Vec<[f32; 3]> = given.iter().map(|d| d.map(|x| x as f32)).collect();
    assert_eq!(model.discounts, as_f32);
    assert!(model.warnings.is_empty());
    // Still a distribution after every context.
    let state = model.state_after(&[model.vocab.id("the")], true);
    let mass: f64 = model
        .distribution(&state)
        .iter()
        .map(|&lp| 10f64.powf(lp as f64))
        .sum();
    assert!((mass - 1.0).abs() < 1e-4, "{mass}");
}

#[test]
fn bad_input_is_refused() {
    let err = kneser_ney::estimate(&counts(2, false), &KneserNeyOptions::default())
        .expect_err("unpadded");
    assert!(err.to_string().contains("padded"), "{err}");
    for bad in [
        vec![[0.5, 1.0, 1.5]],
        vec![[0.5, 1.0, 1.5], [1.5, 1.0, 1.5]],
        vec![[0.5, 1.0, 1.5], [0.5, 2.5, 1.5]],
        vec![[0.5, 1.0, 1.5], [0.5, 1.0, 3.5]],
        vec![[-0.1, 1.0, 1.5], [0.5, 1.0, 1.5]],
        vec![[0.5, 1.0, 1.5], [0.5, f64::NAN, 1.5]],
    ] {
        let options = KneserNeyOptions {
            discounts: Some(bad.clone()),
            ..Default::default()
        };
        assert!(options.check(2).is_err(), "{bad:?}");
        assert!(
            kneser_ney::estimate(&counts(2, true), &options).is_err(),
            "{bad:?}"
        );
        assert!(lm::fit(&counts(2, true), &Smoothing::KneserNey(options)).is_err());
    }
    let ok = KneserNeyOptions {
        discounts: Some(vec![[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]]),
        ..Default::default()
    };
    assert!(ok.check(2).is_ok());
    assert!(KneserNeyOptions::default().check(5).is_ok());
}
