//! Tests of the progress bar, and of the jobs' progress and cancel hooks.

use super::*;

#[test]
fn bar_shows_bytes_then_steps_on_a_new_line() {
    let control = Control::new();
    control.bytes_total.store(4_000_000, Ordering::Relaxed);
    control.add_bytes(2_000_000);
    let mut bar = ProgressBar::new("bpe");
    let line = bar.line(&control, 2.0);
    assert!(
        line.starts_with("\rbpe [###############...............]  50% 2.0 MB"),
        "{line}"
    );
    bar.drawn = true;
    control.start_steps(10, "merges");
    control.start_steps(99, "ignored");
    control.add_steps(3);
    let line = bar.line(&control, 3.0);
    assert!(line.starts_with("\nbpe [#########"), "{line}");
    assert!(line.contains(" 30% 3/10 merges, "), "{line}");
    assert!(bar.line(&control, 4.0).starts_with("\rbpe"));
}

#[test]
fn a_job_that_goes_on_after_reading_says_what_it_does() {
    let control = Control::new();
    control.bytes_total.store(1_000_000, Ordering::Relaxed);
    control.add_bytes(1_000_000);
    control.add_tokens(500_000);
    let mut bar = ProgressBar::new("train");
    assert!(bar.line(&control, 1.0).ends_with("M tokens/s, 1 s "));
    control.set_stage("adjusting counts");
    let line = bar.line(&control, 2.0);
    assert!(
        line.ends_with(" 1.0 MB, 0.5 M tokens, 0.25 M tokens/s, adjusting counts, 2 s "),
        "{line}"
    );
}

#[test]
fn a_job_without_figures_shows_its_stage_not_zeros() {
    let control = Control::new();
    let mut bar = ProgressBar::new("estimate");
    let line = bar.line(&control, 2.0);
    assert_eq!(line, "\restimate working, 2 s ");
    control.set_stage("stage 1/3: indexing");
    let line = bar.line(&control, 3.0);
    assert!(
        line.starts_with("\restimate stage 1/3: indexing, 3 s"),
        "{line}"
    );
    assert!(!line.contains("MB") && !line.contains("tokens"), "{line}");
}

#[test]
fn stages_with_an_empty_unit_show_the_share_done_and_the_stage() {
    let control = Control::new();
    let mut bar = ProgressBar::new("estimate");
    control.start_steps(200, "");
    control.set_stage("stage 2/5: adjusting counts, a longer name");
    control.add_steps(50);
    let long = bar.line(&control, 1.0);
    assert!(
        long.starts_with("\restimate [########......................]  25% stage 2/5: "),
        "{long}"
    );
    assert!(!long.contains("/s"), "{long}");
    // A shorter line is padded to cover the longer one before it.
    control.set_stage("stage 3/5");
    control.add_steps(50);
    let short = bar.line(&control, 2.0);
    assert!(short.contains(" 50% stage 3/5, 2 s "), "{short}");
    assert_eq!(short.chars().count(), long.chars().count());
}

#[test]
fn the_step_rate_counts_from_the_start_of_the_step_phase() {
    let control = Control::new();
    control.start_steps(1_000, "n-grams");
    control.add_steps(500);
    let mut bar = ProgressBar::new("saving");
    // Drawn first a second in: the rate is over the phase's own time, not
    // over the few milliseconds since the bar first saw it.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let line = bar.line(&control, 1.0);
    let rate: f64 = line
        .split(", ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|r| r.parse().ok())
        .expect("a rate");
    assert!(rate <= 500.0 / 0.02, "{line}");
}

fn shakespeare_counts(order: usize) -> crate::count::NGramCounts {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/shakespeare300.txt");
    let options = crate::count::CountOptions {
        order,
        pad: true,
        threads: 2,
        ..Default::default()
    };
    let corpus = crate::corpus::Corpus::from_paths([path]);
    crate::count::count_ngrams(&corpus, &options, &Control::new()).expect("counted")
}

#[test]
fn kneser_ney_reports_numbered_stages_over_rising_work() {
    let control = Control::new();
    let smoothing = crate::lm::Smoothing::KneserNey(Default::default());
    crate::lm::fit_owned_with(shakespeare_counts(3), &smoothing, &control).expect("fitted");
    let log = control.stage_log.lock().expect("log").clone();
    // Indexing, adjusting, two stages per order, linking.
    assert_eq!(log.len(), 3 + 2 * 3, "{log:?}");
    for (i, (stage, _)) in log.iter().enumerate() {
        assert!(
            stage.starts_with(&format!("stage {}/9: ", i + 1)),
            "{log:?}"
        );
    }
    assert_eq!(log[5].0, "stage 6/9: interpolating 2-grams");
    // Each stage begins with more work done than the one before.
    assert_eq!(log[0].1, 0);
    assert!(log.windows(2).all(|w| w[1].1 > w[0].1), "{log:?}");
    let (total, unit) = control.steps().expect("a step phase");
    assert_eq!(unit, "");
    assert!(total > log[8].1);
    assert_eq!(control.steps_done.load(Ordering::Relaxed), total);
}

#[test]
fn a_cancelled_estimation_stops_before_its_first_stage() {
    let control = Control::new();
    control.cancel();
    let smoothing = crate::lm::Smoothing::KneserNey(Default::default());
    let result = crate::lm::fit_owned_with(shakespeare_counts(2), &smoothing, &control);
    assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");
    assert_eq!(control.steps_done.load(Ordering::Relaxed), 0);
}

#[test]
fn a_binary_save_counts_megabytes_and_a_cancelled_one_leaves_no_file() {
    let model = crate::lm::fit_owned(
        shakespeare_counts(3),
        &crate::lm::Smoothing::KneserNey(Default::default()),
    )
    .expect("fitted");
    let dir = std::env::temp_dir().join(format!("nextword-control-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("m.nwlm");
    let control = Control::new();
    crate::lm::save_with(&model, &path, &control).expect("saved");
    let size = std::fs::metadata(&path).expect("written").len();
    assert_eq!(control.steps(), Some((size.div_ceil(1_000_000), "MB")));
    assert_eq!(
        control.steps_done.load(Ordering::Relaxed),
        size.div_ceil(1_000_000)
    );
    std::fs::remove_file(&path).expect("removed");

    let cancelled = Control::new();
    cancelled.cancel();
    let result = crate::lm::save_with(&model, &path, &cancelled);
    assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");
    let left: Vec<_> = std::fs::read_dir(&dir).expect("dir").collect();
    assert!(left.is_empty(), "{left:?}");
    std::fs::remove_dir(&dir).expect("empty dir removed");
}
