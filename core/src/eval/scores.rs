//! Score containers that the metrics read without copying.
//!
//! Two representations of a set of comparison scores:
//!
//! - [`SortedScores`]: every score, sorted ascending in the caller's own
//!   `Vec<f64>` (taken by value, sorted in place, never copied). Rates at a
//!   threshold cost O(log n) by binary search. Memory: 8 bytes a score.
//! - [`ScoreHistogram`]: counts over a fixed, finite set of score levels, for
//!   scores that can only take those values (a protected-template comparison
//!   of `n`-bit codes gives `k/n`, so `n + 1` levels). Memory is O(levels)
//!   whatever the number of scores accumulated, so 10^8 and more impostor
//!   comparisons fit in a few kilobytes.
//!
//! Both implement [`ScoreDistribution`], and every verification metric has a
//! `*_from` form generic over it, so the same DET, EER and operating points
//! come out of either representation (bit for bit, on the same scores).
//!
//! Scores must be finite. NaN is rejected (it has no place in an order), and
//! so are infinities: `+inf` is the "reject everybody" threshold of the DET
//! and ROC curves and would be ambiguous as a score. Negative zero is stored
//! as `+0.0` so that equal scores compare equal under every ordering used.

use crate::codes::CodeLayout;
use crate::error::{Error, Result};

/// Checks that `scores` is non-empty and finite, naming `role` in the error
/// (`"genuine scores contain NaN at index 3"`): the check every metric
/// makes, for callers that use scores elsewhere too (a plot).
///
/// # Errors
/// [`Error::InvalidScores`] for empty input or the first non-finite score.
pub fn check_scores(role: &str, scores: &[f64]) -> Result<()> {
    if scores.is_empty() {
        return Err(Error::InvalidScores(format!("{role} scores are empty")));
    }
    match scores.iter().position(|s| !s.is_finite()) {
        None => Ok(()),
        Some(index) => Err(non_finite(role, index, scores[index])),
    }
}

fn non_finite(role: &str, index: usize, value: f64) -> Error {
    let kind = if value.is_nan() { "NaN" } else { "an infinity" };
    Error::InvalidScores(format!("{role} scores contain {kind} at index {index}"))
}

/// Validates and canonicalises (`-0.0` to `+0.0`) in place.
fn canonicalise(role: &str, scores: &mut [f64]) -> Result<()> {
    if scores.is_empty() {
        return Err(Error::InvalidScores(format!("{role} scores are empty")));
    }
    for (index, s) in scores.iter_mut().enumerate() {
        if !s.is_finite() {
            return Err(non_finite(role, index, *s));
        }
        // -0.0 + 0.0 == +0.0 under round-to-nearest; every other value is unchanged.
        *s += 0.0;
    }
    Ok(())
}

/// The smallest `f64` strictly greater than the finite `x` (`+inf` for
/// `f64::MAX`).
pub(crate) fn next_up(x: f64) -> f64 {
    debug_assert!(x.is_finite());
    x.next_up()
}

/// `count / total` as the rate every metric here reports.
pub(crate) fn rate(count: u64, total: u64) -> f64 {
    count as f64 / total as f64
}

pub(crate) mod sealed {
    /// Crate-private operations the generic metrics need. Sealing
    /// [`super::ScoreDistribution`] keeps its invariants ours to uphold.
    pub trait Sealed {
        /// Distinct scores with a non-zero count, ascending, with their counts.
        fn distinct(&self) -> impl Iterator<Item = (f64, u64)> + '_;

        /// The smallest *observed* score `s` with at most `max_count` scores
        /// `>= s`; `None` if even the largest score occurs more often.
        fn smallest_score_with_at_most_above(&self, max_count: u64) -> Option<f64>;
    }
}

/// A multiset of finite scores that the verification metrics can read: implemented by [`SortedScores`] and [`ScoreHistogram`].
///
/// The trait is sealed: the metrics rely on invariants (ascending order,
/// finite values, no `-0.0`) that its two implementations guarantee.
pub trait ScoreDistribution: sealed::Sealed {
    /// Number of scores.
    fn total(&self) -> u64;

    /// Number of scores strictly below `threshold` (rejected when these are
    /// genuine scores: the false non-matches at `threshold`).
    fn count_below(&self, threshold: f64) -> u64;

    /// Number of scores at or above `threshold` (accepted: the false matches
    /// at `threshold` when these are impostor scores).
    fn count_at_or_above(&self, threshold: f64) -> u64 {
        self.total() - self.count_below(threshold)
    }

    /// Smallest score, `None` when empty.
    fn min_score(&self) -> Option<f64>;

    /// Largest score, `None` when empty.
    fn max_score(&self) -> Option<f64>;
}

/// Errors unless `dist` holds at least one score.
pub(crate) fn ensure_nonempty<D: ScoreDistribution>(role: &str, dist: &D) -> Result<()> {
    if dist.total() == 0 {
        Err(Error::InvalidScores(format!("{role} scores are empty")))
    } else {
        Ok(())
    }
}

/// All scores of one kind (genuine or impostor), sorted ascending, held once.
///
/// Built from a `Vec<f64>` taken by value and sorted in place with
/// `sort_unstable_by(f64::total_cmp)`: no second copy is ever made, so 10^8
/// impostor scores take 800 MB, not 1.6 GB. Rates at a threshold are two
/// binary searches (`partition_point`).
///
/// ```
/// use btp::eval::{ScoreDistribution, SortedScores};
/// let impostor = SortedScores::new(vec![0.3, 0.1, 0.2, 0.2])?;
/// assert_eq!(impostor.count_at_or_above(0.2), 3);
/// assert_eq!(impostor.fraction_at_or_above(0.25), 0.25);
/// # Ok::<(), btp::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SortedScores {
    sorted: Vec<f64>,
}

impl SortedScores {
    /// Takes ownership of `scores` and sorts them in place.
    ///
    /// # Errors
    /// [`Error::InvalidScores`] if `scores` is empty or holds NaN or an
    /// infinity (the message gives the index of the first one).
    pub fn new(scores: Vec<f64>) -> Result<Self> {
        Self::with_role("the", scores)
    }

    /// As [`SortedScores::new`], naming the scores (`"genuine"`,
    /// `"impostor"`, ...) in error messages.
    pub(crate) fn with_role(role: &str, mut scores: Vec<f64>) -> Result<Self> {
        canonicalise(role, &mut scores)?;
        scores.sort_unstable_by(f64::total_cmp);
        Ok(Self { sorted: scores })
    }

    /// Copies a slice into a new `SortedScores` (one copy, then sorted).
    pub(crate) fn from_slice(role: &str, scores: &[f64]) -> Result<Self> {
        Self::with_role(role, scores.to_vec())
    }

    /// Number of scores.
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// Always `false`: construction rejects empty input. Present for API
    /// symmetry with [`SortedScores::len`].
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// The scores, ascending.
    pub fn as_slice(&self) -> &[f64] {
        &self.sorted
    }

    /// Gives the sorted vector back.
    pub fn into_inner(self) -> Vec<f64> {
        self.sorted
    }

    /// Fraction of scores strictly below `threshold`: the FNMR at
    /// `threshold` when these are genuine scores.
    pub fn fraction_below(&self, threshold: f64) -> f64 {
        rate(self.count_below(threshold), self.total())
    }

    /// Fraction of scores at or above `threshold`: the FMR at `threshold`
    /// when these are impostor scores.
    pub fn fraction_at_or_above(&self, threshold: f64) -> f64 {
        rate(self.count_at_or_above(threshold), self.total())
    }
}

impl sealed::Sealed for SortedScores {
    fn distinct(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        let s = &self.sorted;
        let mut i = 0;
        std::iter::from_fn(move || {
            let v = *s.get(i)?;
            let start = i;
            while i < s.len() && s[i] == v {
                i += 1;
            }
            Some((v, (i - start) as u64))
        })
    }

    fn smallest_score_with_at_most_above(&self, max_count: u64) -> Option<f64> {
        let s = &self.sorted;
        let n = s.len();
        let max_count = usize::try_from(max_count).unwrap_or(usize::MAX);
        if max_count >= n {
            return s.first().copied();
        }
        // The threshold s[j] accepts n - first_index(s[j]) scores; the
        // smallest j with n - j <= max_count is j0 = n - max_count, provided
        // s[j0] is the first of its run of equal values.
        let j0 = n - max_count;
        if j0 == n {
            return None;
        }
        let v = s[j0];
        if j0 > 0 && s[j0 - 1] == v {
            let j1 = s.partition_point(|&x| x <= v);
            s.get(j1).copied()
        } else {
            Some(v)
        }
    }
}

impl ScoreDistribution for SortedScores {
    fn total(&self) -> u64 {
        self.sorted.len() as u64
    }

    fn count_below(&self, threshold: f64) -> u64 {
        // A NaN threshold counts nothing below it; the public metrics reject
        // NaN thresholds before they get here.
        self.sorted.partition_point(|&x| x < threshold) as u64
    }

    fn min_score(&self) -> Option<f64> {
        self.sorted.first().copied()
    }

    fn max_score(&self) -> Option<f64> {
        self.sorted.last().copied()
    }
}

/// Counts of scores over a fixed, strictly increasing set of levels.
///
/// For matchers whose scores take finitely many values, above all the
/// protected-domain comparisons of this crate, where a score is `k / n` for
/// codes of `n` bits (see [`ScoreHistogram::fractions`]). Accumulating costs
/// O(log levels) per score and the memory is O(levels) whatever the number of
/// scores; every verification metric computed from a histogram is identical
/// to the one computed from the same scores held in a [`SortedScores`].
///
/// A score is added by level index ([`ScoreHistogram::add_level`]) or by
/// value ([`ScoreHistogram::add_score`]); a value must equal a level exactly
/// (`==`), because a histogram that silently rounded scores would report
/// different error rates from the raw scores. Compute scores and levels the
/// same way (for `k / n`, as `k as f64 / n as f64`).
///
/// ```
/// use btp::eval::{ScoreDistribution, ScoreHistogram};
/// let mut impostor = ScoreHistogram::fractions(4)?; // levels 0, 0.25, 0.5, 0.75, 1
/// impostor.add_scores(&[0.25, 0.5, 0.5, 0.0])?;
/// impostor.add_level(1, 1_000_000)?; // a million more at 0.25
/// assert_eq!(impostor.count_at_or_above(0.5), 2);
/// # Ok::<(), btp::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreHistogram {
    levels: Vec<f64>,
    counts: Vec<u64>,
    total: u64,
}

impl ScoreHistogram {
    /// An empty histogram over `levels`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `levels` is empty, holds a non-finite
    /// value, or is not strictly increasing.
    pub fn new(mut levels: Vec<f64>) -> Result<Self> {
        if levels.is_empty() {
            return Err(Error::param("levels", "must not be empty"));
        }
        if let Some(i) = levels.iter().position(|l| !l.is_finite()) {
            return Err(Error::param(
                "levels",
                format!("level at index {i} is not finite"),
            ));
        }
        for l in levels.iter_mut() {
            *l += 0.0;
        }
        if let Some(i) = levels.windows(2).position(|w| w[0] >= w[1]) {
            return Err(Error::param(
                "levels",
                format!("must be strictly increasing (index {} is not)", i + 1),
            ));
        }
        let counts = vec![0; levels.len()];
        Ok(Self {
            levels,
            counts,
            total: 0,
        })
    }

    /// An empty histogram over the `n + 1` levels `k / n`, `k = 0..=n`, each
    /// computed as `k as f64 / n as f64`: the scores of a comparison of
    /// `n`-bit (or `n`-element) codes.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `n == 0`.
    pub fn fractions(n: u32) -> Result<Self> {
        if n == 0 {
            return Err(Error::param("n", "must be at least 1"));
        }
        let levels = (0..=n).map(|k| f64::from(k) / f64::from(n)).collect();
        Self::new(levels)
    }

    /// An empty histogram over every score a comparison of codes of this
    /// layout can give: `layout.score(m)` for `m = len, ..., 0` mismatches,
    /// ascending. [`Gallery`](crate::matching::Gallery) and
    /// [`Protector`](crate::protector::Protector) scores come from that same
    /// function, so [`ScoreHistogram::add_score`] accepts each of them exactly.
    /// Level index `len - m` holds the comparisons with `m` mismatches.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a zero-length layout.
    pub fn for_codes(layout: &CodeLayout) -> Result<Self> {
        let len = u32::try_from(layout.len())
            .map_err(|_| Error::param("layout", "code length exceeds u32"))?;
        if len == 0 {
            return Err(Error::param("layout", "code length must be at least 1"));
        }
        let levels = (0..=len).rev().map(|m| layout.score(m)).collect();
        Self::new(levels)
    }

    /// The levels, strictly increasing.
    pub fn levels(&self) -> &[f64] {
        &self.levels
    }

    /// The count at each level.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// Index of the level equal to `score`, if any.
    pub fn level_index(&self, score: f64) -> Option<usize> {
        let score = score + 0.0;
        let i = self.levels.partition_point(|&l| l < score);
        (i < self.levels.len() && self.levels[i] == score).then_some(i)
    }

    /// Adds `count` scores at level index `level`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `level` is out of range;
    /// [`Error::InvalidScores`] if the total would overflow `u64`.
    pub fn add_level(&mut self, level: usize, count: u64) -> Result<()> {
        if level >= self.levels.len() {
            return Err(Error::param(
                "level",
                format!(
                    "index {level} is out of range for {} levels",
                    self.levels.len()
                ),
            ));
        }
        self.total = self
            .total
            .checked_add(count)
            .ok_or_else(|| Error::InvalidScores("histogram count overflows u64".into()))?;
        self.counts[level] += count;
        Ok(())
    }

    /// Adds one score, which must equal one of the levels.
    ///
    /// # Errors
    /// [`Error::InvalidScores`] if `score` is not finite or is not a level.
    pub fn add_score(&mut self, score: f64) -> Result<()> {
        self.add_scores(std::slice::from_ref(&score))
    }

    /// Adds every score of `scores`, each of which must equal a level. On
    /// error nothing is added.
    ///
    /// # Errors
    /// [`Error::InvalidScores`] naming the index of the first score that is
    /// not finite or not a level.
    pub fn add_scores(&mut self, scores: &[f64]) -> Result<()> {
        // Validate everything first (all or nothing), then count: two binary
        // searches a score, no per-score allocation.
        for (i, &s) in scores.iter().enumerate() {
            if !s.is_finite() {
                return Err(non_finite("the", i, s));
            }
            if self.level_index(s).is_none() {
                return Err(Error::InvalidScores(format!(
                    "score at index {i} is not one of the histogram levels"
                )));
            }
        }
        let added = scores.len() as u64;
        self.total = self
            .total
            .checked_add(added)
            .ok_or_else(|| Error::InvalidScores("histogram count overflows u64".into()))?;
        for &s in scores {
            if let Some(i) = self.level_index(s) {
                self.counts[i] += 1;
            }
        }
        Ok(())
    }

    /// Adds the counts of `other`, which must have the same levels: how
    /// histograms filled in parallel are combined.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if the levels differ;
    /// [`Error::InvalidScores`] if the total would overflow `u64`.
    pub fn merge(&mut self, other: &ScoreHistogram) -> Result<()> {
        if self.levels != other.levels {
            return Err(Error::param("other", "histograms have different levels"));
        }
        self.total = self
            .total
            .checked_add(other.total)
            .ok_or_else(|| Error::InvalidScores("histogram count overflows u64".into()))?;
        for (c, o) in self.counts.iter_mut().zip(&other.counts) {
            *c += o;
        }
        Ok(())
    }

    /// Fraction of scores strictly below `threshold` (`NaN` when empty).
    pub fn fraction_below(&self, threshold: f64) -> f64 {
        rate(self.count_below(threshold), self.total)
    }

    /// Fraction of scores at or above `threshold` (`NaN` when empty).
    pub fn fraction_at_or_above(&self, threshold: f64) -> f64 {
        rate(self.count_at_or_above(threshold), self.total)
    }
}

impl sealed::Sealed for ScoreHistogram {
    fn distinct(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        self.levels
            .iter()
            .zip(&self.counts)
            .filter(|(_, &c)| c > 0)
            .map(|(&l, &c)| (l, c))
    }

    fn smallest_score_with_at_most_above(&self, max_count: u64) -> Option<f64> {
        let mut above = 0u64;
        let mut best = None;
        for (&l, &c) in self.levels.iter().zip(&self.counts).rev() {
            if c == 0 {
                continue;
            }
            above += c;
            if above > max_count {
                break;
            }
            best = Some(l);
        }
        best
    }
}

impl ScoreDistribution for ScoreHistogram {
    fn total(&self) -> u64 {
        self.total
    }

    fn count_below(&self, threshold: f64) -> u64 {
        let end = self.levels.partition_point(|&l| l < threshold);
        self.counts[..end].iter().sum()
    }

    fn min_score(&self) -> Option<f64> {
        sealed::Sealed::distinct(self).next().map(|(l, _)| l)
    }

    fn max_score(&self) -> Option<f64> {
        self.levels
            .iter()
            .zip(&self.counts)
            .rev()
            .find(|(_, &c)| c > 0)
            .map(|(&l, _)| l)
    }
}

#[cfg(test)]
mod tests {
    use super::sealed::Sealed;
    use super::*;

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
}
