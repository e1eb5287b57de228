//! Known answers (scikit-learn, pyeer), edge cases and properties of the
//! curves, the EER and the thresholds, on slices and on histograms.

use super::super::ScoreHistogram;
use super::thresholds::max_count_within;
use super::*;
use crate::error::Error;
use crate::eval::scores::{next_up, rate};
use proptest::prelude::*;

#[test]
fn det_sklearn_docstring_example() {
    let c = det(&[0.35, 0.8], &[0.1, 0.4]).unwrap();
    assert_eq!(c.thresholds, vec![0.35, 0.4, 0.8]);
    assert_eq!(c.fmr, vec![0.5, 0.5, 0.0]);
    assert_eq!(c.fnmr, vec![0.0, 0.5, 0.5]);
}

#[test]
fn det_trimming_edge_cases() {
    // Perfect separation: one point, FMR = FNMR = 0 at the smallest genuine.
    let c = det(&[3.0, 4.0], &[1.0, 2.0]).unwrap();
    assert_eq!(
        (c.thresholds, c.fmr, c.fnmr),
        (vec![3.0], vec![0.0], vec![0.0])
    );
    // Impostor holds the maximum: the curve ends at +inf (0, 1).
    let c = det(&[1.0, 2.0], &[0.0, 3.0]).unwrap();
    assert_eq!(c.thresholds, vec![1.0, 2.0, 3.0, f64::INFINITY]);
    assert_eq!(c.fmr, vec![0.5, 0.5, 0.5, 0.0]);
    assert_eq!(c.fnmr, vec![0.0, 0.5, 1.0, 1.0]);
    // All scores equal.
    let c = det(&[1.0, 1.0], &[1.0]).unwrap();
    assert_eq!(c.thresholds, vec![1.0, f64::INFINITY]);
    assert_eq!(c.fmr, vec![1.0, 0.0]);
    assert_eq!(c.fnmr, vec![0.0, 1.0]);
    // Genuine tied with the max impostor, a larger genuine above.
    let c = det(&[2.0, 5.0], &[2.0, 1.0]).unwrap();
    assert_eq!(c.thresholds, vec![2.0, 5.0]);
    assert_eq!(c.fmr, vec![0.5, 0.0]);
    assert_eq!(c.fnmr, vec![0.0, 0.5]);
}

#[test]
fn roc_is_every_threshold_decreasing_from_infinity() {
    let c = roc(&[0.35, 0.8], &[0.1, 0.4]).unwrap();
    assert_eq!(c.thresholds, vec![f64::INFINITY, 0.8, 0.4, 0.35, 0.1]);
    assert_eq!(c.fmr, vec![0.0, 0.0, 0.5, 0.5, 1.0]);
    assert_eq!(c.fnmr, vec![1.0, 0.5, 0.5, 0.0, 0.0]);
}

#[test]
fn eer_known_answers() {
    // Crossing strictly between two candidates; t1 has the smaller sum.
    let e = eer(&[0.6, 0.7, 0.8, 0.9], &[0.1, 0.2, 0.3, 0.65]).unwrap();
    assert_eq!(
        (e.eer, e.threshold, e.fmr, e.fnmr),
        (0.25, 0.65, 0.25, 0.25)
    );
    // Perfect separation: EER 0 at the smallest genuine score.
    let e = eer(&[3.0, 4.0], &[1.0, 2.0]).unwrap();
    assert_eq!((e.eer, e.threshold), (0.0, 3.0));
    // Complete inversion: every genuine below every impostor.
    let e = eer(&[1.0, 2.0], &[3.0, 4.0]).unwrap();
    // candidates 1 (fmr 1, fnmr 0), 2 (1, .5), 3 (1, 1): diff 0 at 3.
    assert_eq!((e.eer, e.threshold), (1.0, 3.0));
    // Degenerate: all scores equal; pyeer would say 1, we append next_up.
    let e = eer(&[1.0, 1.0], &[1.0, 1.0]).unwrap();
    assert_eq!(e.eer, 0.5);
    assert_eq!(e.threshold, 1.0, "t1 wins the tie on fmr + fnmr");
    assert_eq!(e.interval(), (0.0, 1.0));
    // FVC2000 choice by sum, not by |diff|:
    // t1: fmr .3 fnmr .2 (sum .5); t2: fmr .1 fnmr .3 (sum .4) -> t2.
    let g = [0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]; // 10 genuine
    let i: Vec<f64> = [0.0; 7].into_iter().chain([1.0; 2]).chain([2.0]).collect();
    // t=0: fmr 1, fnmr 0; t=1: fmr .3 fnmr .2; t=2: fmr .1 fnmr 1.
    let e = eer(&g, &i).unwrap();
    assert_eq!(e.threshold, 1.0);
    // make t2 better by sum
    let g2 = [0.0, 0.0, 1.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0];
    let i2: Vec<f64> = [0.0; 7].into_iter().chain([1.0; 2]).chain([2.0]).collect();
    // t=1: fmr .3 fnmr .2 ; t=2: fmr .1 fnmr .3 -> t2 (sum .4 < .5)
    let e = eer(&g2, &i2).unwrap();
    assert_eq!(e.threshold, 2.0);
    assert!((e.eer - 0.2).abs() < 1e-15);
}

#[test]
fn threshold_at_fmr_ties_and_small_targets() {
    let imp = [0.1, 0.2, 0.3, 0.3, 0.4];
    assert_eq!(threshold_at_fmr(&imp, 1.0).unwrap(), (0.1, 1.0));
    assert_eq!(threshold_at_fmr(&imp, 0.8).unwrap(), (0.2, 0.8));
    assert_eq!(threshold_at_fmr(&imp, 0.79).unwrap(), (0.3, 0.6));
    assert_eq!(threshold_at_fmr(&imp, 0.6).unwrap(), (0.3, 0.6));
    assert_eq!(threshold_at_fmr(&imp, 0.59).unwrap(), (0.4, 0.2));
    assert_eq!(threshold_at_fmr(&imp, 0.2).unwrap(), (0.4, 0.2));
    let (t, fmr) = threshold_at_fmr(&imp, 0.19).unwrap();
    assert_eq!((t, fmr), (next_up(0.4), 0.0));
    let (t, fmr) = threshold_at_fmr(&imp, 0.0).unwrap();
    assert_eq!((t, fmr), (next_up(0.4), 0.0));
    // All impostors tied.
    assert_eq!(
        threshold_at_fmr(&[0.5; 4], 0.99).unwrap(),
        (next_up(0.5), 0.0)
    );
    assert_eq!(threshold_at_fmr(&[0.5; 4], 1.0).unwrap(), (0.5, 1.0));
    for bad in [-0.1, 1.1, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            threshold_at_fmr(&imp, bad),
            Err(Error::InvalidParameter { .. })
        ));
    }
}

#[test]
fn max_count_within_respects_the_reported_rate() {
    for n in 1..200u64 {
        for c in 0..=n {
            let target = rate(c, n);
            assert_eq!(max_count_within(target, n), c, "n={n} c={c}");
            let below = f64::from_bits(target.to_bits().saturating_sub(1));
            if c > 0 {
                assert_eq!(max_count_within(below, n), c - 1, "n={n} c={c}");
            }
        }
    }
    assert_eq!(max_count_within(0.1, 3), 0);
}

#[test]
fn fnmr_at_fmr_counts() {
    let p = fnmr_at_fmr(&[0.35, 0.5, 0.8, 0.9], &[0.1, 0.4, 0.6, 0.7], 0.25).unwrap();
    assert_eq!(p.threshold, 0.7);
    assert_eq!((p.false_matches, p.impostors), (1, 4));
    assert_eq!((p.false_non_matches, p.genuines), (2, 4));
    let p = fnmr_at_fmr(&[0.35, 0.5, 0.8, 0.9], &[0.1, 0.4, 0.6, 0.7], 0.0).unwrap();
    assert_eq!((p.threshold, p.fmr, p.fnmr), (next_up(0.7), 0.0, 0.5));
}

#[test]
fn errors_name_the_input() {
    assert_eq!(
        det(&[], &[1.0]).unwrap_err(),
        Error::InvalidScores("genuine scores are empty".into())
    );
    assert_eq!(
        eer(&[1.0], &[0.0, f64::NAN]).unwrap_err(),
        Error::InvalidScores("impostor scores contain NaN at index 1".into())
    );
    let h = ScoreHistogram::fractions(4).unwrap();
    let g = SortedScores::new(vec![0.5]).unwrap();
    assert_eq!(
        det_from(&g, &h).unwrap_err(),
        Error::InvalidScores("impostor scores are empty".into())
    );
    assert!(operating_point(&[1.0], &[0.0], f64::NAN).is_err());
}

/// The rate definitions applied directly, O(n) a threshold.
fn brute_rates(g: &[f64], i: &[f64], t: f64) -> (f64, f64) {
    let fm = i.iter().filter(|&&s| s >= t).count();
    let fnm = g.iter().filter(|&&s| s < t).count();
    (fm as f64 / i.len() as f64, fnm as f64 / g.len() as f64)
}

#[test]
fn scale_ten_million_scores_sorted_and_histogram_agree() {
    // 10^7 impostor and 10^6 genuine discrete k/64 scores from a cheap
    // deterministic generator, through both representations: about 0.5 s
    // with the workspace's test profile (opt-level 2), a few seconds
    // unoptimised. The histograms hold 65 counts each.
    const N: usize = 10_000_000;
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let bits = 64u32;
    let impostor: Vec<f64> = (0..N)
        .map(|_| f64::from(next().count_ones()) / f64::from(bits))
        .collect();
    let genuine: Vec<f64> = (0..N / 10)
        .map(|_| f64::from((next() | next()).count_ones()) / f64::from(bits))
        .collect();
    let mut hi = ScoreHistogram::fractions(bits).unwrap();
    hi.add_scores(&impostor).unwrap();
    let mut hg = ScoreHistogram::fractions(bits).unwrap();
    hg.add_scores(&genuine).unwrap();
    let si = SortedScores::new(impostor).unwrap();
    let sg = SortedScores::new(genuine).unwrap();
    assert_eq!(det_from(&sg, &si).unwrap(), det_from(&hg, &hi).unwrap());
    assert_eq!(roc_from(&sg, &si).unwrap(), roc_from(&hg, &hi).unwrap());
    assert_eq!(eer_from(&sg, &si).unwrap(), eer_from(&hg, &hi).unwrap());
    for target in [0.0, 1e-6, 1e-4, 1e-3, 0.01, 0.1, 0.5, 1.0] {
        let a = fnmr_at_fmr_from(&sg, &si, target).unwrap();
        let b = fnmr_at_fmr_from(&hg, &hi, target).unwrap();
        assert_eq!(a, b);
        assert!(a.fmr <= target);
    }
    let e = eer_from(&hg, &hi).unwrap();
    assert!(e.eer > 0.0 && e.eer < 0.5);
}

fn scores(max_len: usize) -> impl Strategy<Value = Vec<f64>> {
    // Few distinct values, so ties are common.
    prop::collection::vec(
        (0u8..12).prop_map(|k| f64::from(k) / 8.0 - 0.25),
        1..max_len,
    )
}

proptest! {
    #[test]
    fn det_matches_brute_force_and_is_monotone(g in scores(40), i in scores(40)) {
        let c = det(&g, &i).unwrap();
        prop_assert!(!c.is_empty());
        for k in 0..c.len() {
            let (fmr, fnmr) = brute_rates(&g, &i, c.thresholds[k]);
            prop_assert_eq!(c.fmr[k], fmr);
            prop_assert_eq!(c.fnmr[k], fnmr);
            if k > 0 {
                prop_assert!(c.thresholds[k] > c.thresholds[k - 1]);
                prop_assert!(c.fmr[k] <= c.fmr[k - 1]);
                prop_assert!(c.fnmr[k] >= c.fnmr[k - 1]);
            }
        }
        prop_assert_eq!(c.fnmr[0], 0.0);
        prop_assert_eq!(*c.fmr.last().unwrap(), 0.0);
    }

    #[test]
    fn roc_matches_brute_force(g in scores(40), i in scores(40)) {
        let c = roc(&g, &i).unwrap();
        let mut distinct: Vec<f64> = g.iter().chain(&i).copied().collect();
        distinct.sort_by(f64::total_cmp);
        distinct.dedup();
        prop_assert_eq!(c.len(), distinct.len() + 1);
        for k in 0..c.len() {
            let (fmr, fnmr) = brute_rates(&g, &i, c.thresholds[k]);
            prop_assert_eq!((c.fmr[k], c.fnmr[k]), (fmr, fnmr));
            if k > 0 {
                prop_assert!(c.thresholds[k] < c.thresholds[k - 1]);
            }
        }
    }

    #[test]
    fn eer_is_a_rate_on_the_roc(g in scores(40), i in scores(40)) {
        let e = eer(&g, &i).unwrap();
        prop_assert!((0.0..=1.0).contains(&e.eer));
        let (fmr, fnmr) = brute_rates(&g, &i, e.threshold);
        prop_assert_eq!((e.fmr, e.fnmr), (fmr, fnmr));
        prop_assert_eq!(e.eer, (fmr + fnmr) / 2.0);
        // FVC2000: EER is within [min, max] of both rates at its threshold
        // and no candidate has both rates below it.
        let (lo, hi) = e.interval();
        prop_assert!(lo <= e.eer && e.eer <= hi);
    }

    #[test]
    fn fnmr_at_fmr_achieves_at_most_the_target_and_is_tight(
        g in scores(40), i in scores(40), target in 0.0f64..=1.0
    ) {
        let p = fnmr_at_fmr(&g, &i, target).unwrap();
        prop_assert!(p.fmr <= target);
        let (fmr, fnmr) = brute_rates(&g, &i, p.threshold);
        prop_assert_eq!((p.fmr, p.fnmr), (fmr, fnmr));
        // Tight: no smaller candidate threshold also meets the target.
        for &s in i.iter().filter(|&&s| s < p.threshold) {
            prop_assert!(brute_rates(&g, &i, s).0 > target);
        }
        // The threshold is an impostor score or just above the largest.
        let max_i = i.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        prop_assert!(i.contains(&p.threshold) || p.threshold == next_up(max_i));
    }

    #[test]
    fn rates_are_monotone_in_the_threshold(
        g in scores(40), i in scores(40), t1 in -1.0f64..2.0, t2 in -1.0f64..2.0
    ) {
        let (lo, hi) = if t1 <= t2 { (t1, t2) } else { (t2, t1) };
        let a = operating_point(&g, &i, lo).unwrap();
        let b = operating_point(&g, &i, hi).unwrap();
        prop_assert!(b.fmr <= a.fmr);
        prop_assert!(b.fnmr >= a.fnmr);
    }

    #[test]
    fn histogram_path_is_identical(g in scores(60), i in scores(60)) {
        let levels: Vec<f64> = (0u8..12).map(|k| f64::from(k) / 8.0 - 0.25).collect();
        let mut hg = ScoreHistogram::new(levels.clone()).unwrap();
        let mut hi = ScoreHistogram::new(levels).unwrap();
        hg.add_scores(&g).unwrap();
        hi.add_scores(&i).unwrap();
        prop_assert_eq!(det(&g, &i).unwrap(), det_from(&hg, &hi).unwrap());
        prop_assert_eq!(roc(&g, &i).unwrap(), roc_from(&hg, &hi).unwrap());
        prop_assert_eq!(eer(&g, &i).unwrap(), eer_from(&hg, &hi).unwrap());
        for target in [0.0, 0.05, 0.3, 1.0] {
            prop_assert_eq!(
                fnmr_at_fmr(&g, &i, target).unwrap(),
                fnmr_at_fmr_from(&hg, &hi, target).unwrap()
            );
        }
    }
}
