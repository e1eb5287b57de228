//! Canonical scores, sorted and histogram containers, and their agreement.

use super::sealed::Sealed;
use super::*;
use crate::codes::CodeLayout;

#[test]
fn next_up_is_the_next_representable_value() {
    assert_eq!(next_up(1.0), 1.0 + f64::EPSILON);
    assert_eq!(next_up(0.0), f64::from_bits(1));
    assert_eq!(next_up(-0.0), f64::from_bits(1));
    assert_eq!(next_up(-f64::from_bits(1)), 0.0);
    assert!(next_up(-1.0) > -1.0);
    assert_eq!(next_up(-1.0), -1.0 + f64::EPSILON / 2.0);
    assert_eq!(next_up(f64::MAX), f64::INFINITY);
    for x in [0.3, -7.25, 1e-300, 123456.789] {
        let y = next_up(x);
        assert!(y > x);
        // Nothing lies strictly between x and next_up(x).
        let mid = x + (y - x) / 2.0;
        assert!(mid == x || mid == y);
    }
}

#[test]
fn rejects_empty_nan_and_infinity_with_index() {
    assert_eq!(
        SortedScores::new(vec![]).unwrap_err(),
        Error::InvalidScores("the scores are empty".into())
    );
    let e = SortedScores::with_role("impostor", vec![0.0, 1.0, f64::NAN]).unwrap_err();
    assert_eq!(
        e,
        Error::InvalidScores("impostor scores contain NaN at index 2".into())
    );
    let e = SortedScores::with_role("genuine", vec![f64::NEG_INFINITY]).unwrap_err();
    assert_eq!(
        e,
        Error::InvalidScores("genuine scores contain an infinity at index 0".into())
    );
}

#[test]
fn sorted_scores_counts_and_negative_zero() {
    let s = SortedScores::new(vec![0.5, -0.0, 0.0, 1.0, 0.5]).unwrap();
    assert_eq!(s.as_slice(), &[0.0, 0.0, 0.5, 0.5, 1.0]);
    assert!(s.as_slice()[0].is_sign_positive());
    assert_eq!(s.count_below(0.5), 2);
    assert_eq!(s.count_at_or_above(0.5), 3);
    assert_eq!(s.count_below(0.0), 0);
    assert_eq!(s.count_at_or_above(1.0 + 1e-9), 0);
    assert_eq!(s.fraction_below(0.75), 0.8);
    let d: Vec<_> = s.distinct().collect();
    assert_eq!(d, vec![(0.0, 2), (0.5, 2), (1.0, 1)]);
    assert_eq!((s.min_score(), s.max_score()), (Some(0.0), Some(1.0)));
}

#[test]
fn smallest_score_with_at_most_above_handles_ties() {
    // ascending: 1 2 2 2 3 ; accepted counts at 1:5, 2:4, 3:1
    let s = SortedScores::new(vec![2.0, 1.0, 3.0, 2.0, 2.0]).unwrap();
    let want = [
        None,
        Some(3.0),
        Some(3.0),
        Some(3.0),
        Some(2.0),
        Some(1.0),
        Some(1.0),
    ];
    for (c, w) in want.iter().enumerate() {
        assert_eq!(s.smallest_score_with_at_most_above(c as u64), *w, "c={c}");
    }
    let mut h = ScoreHistogram::new(vec![0.0, 1.0, 2.0, 3.0, 4.0]).unwrap();
    h.add_scores(&[2.0, 1.0, 3.0, 2.0, 2.0]).unwrap();
    for (c, w) in want.iter().enumerate() {
        assert_eq!(h.smallest_score_with_at_most_above(c as u64), *w, "c={c}");
    }
}

#[test]
fn histogram_validation() {
    assert!(ScoreHistogram::new(vec![]).is_err());
    assert!(ScoreHistogram::new(vec![0.0, 0.0]).is_err());
    assert!(ScoreHistogram::new(vec![1.0, 0.0]).is_err());
    assert!(ScoreHistogram::new(vec![0.0, f64::NAN]).is_err());
    assert!(ScoreHistogram::fractions(0).is_err());
    let mut h = ScoreHistogram::fractions(3).unwrap();
    assert_eq!(h.levels().len(), 4);
    assert!(h.add_level(4, 1).is_err());
    let e = h.add_scores(&[0.0, 0.5]).unwrap_err();
    assert_eq!(
        e,
        Error::InvalidScores("score at index 1 is not one of the histogram levels".into())
    );
    assert_eq!(h.total(), 0, "a failed add_scores adds nothing");
    h.add_scores(&[1.0 / 3.0, -0.0, 1.0]).unwrap();
    assert_eq!(h.counts(), &[1, 1, 0, 1]);
    h.add_level(3, u64::MAX - 3).unwrap();
    assert!(h.add_level(0, 1).is_err());
    let mut g = ScoreHistogram::fractions(2).unwrap();
    assert!(g.merge(&h).is_err());
}

#[test]
fn histogram_matches_sorted_scores() {
    let mut h = ScoreHistogram::fractions(8).unwrap();
    let scores: Vec<f64> = (0..200u32).map(|i| f64::from((i * 7) % 9) / 8.0).collect();
    h.add_scores(&scores).unwrap();
    let s = SortedScores::new(scores).unwrap();
    let a: Vec<_> = s.distinct().collect();
    let b: Vec<_> = h.distinct().collect();
    assert_eq!(a, b);
    for t in [-1.0, 0.0, 0.1, 0.125, 0.5, 0.9, 1.0, 2.0] {
        assert_eq!(s.count_below(t), h.count_below(t));
    }
    for c in 0..=201 {
        assert_eq!(
            s.smallest_score_with_at_most_above(c),
            h.smallest_score_with_at_most_above(c)
        );
    }
    let mut h2 = ScoreHistogram::fractions(8).unwrap();
    h2.merge(&h).unwrap();
    h2.merge(&h).unwrap();
    assert_eq!(h2.total(), 400);
}

#[test]
fn code_histogram_accepts_every_code_score() {
    for (len, alphabet) in [(1u32, 2u16), (3, 2), (100, 2), (257, 4)] {
        let layout = CodeLayout::new(len, alphabet).unwrap();
        let mut h = ScoreHistogram::for_codes(&layout).unwrap();
        assert_eq!(h.levels().len(), len as usize + 1);
        for m in 0..=len {
            let i = h.level_index(layout.score(m)).unwrap();
            assert_eq!(i, (len - m) as usize);
            h.add_score(layout.score(m)).unwrap();
        }
        assert_eq!(h.total(), u64::from(len) + 1);
        assert_eq!(h.levels()[len as usize], 1.0);
        assert_eq!(h.levels()[0], 0.0);
    }
}
