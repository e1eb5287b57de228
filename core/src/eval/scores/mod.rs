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

mod histogram;

pub use histogram::ScoreHistogram;

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

#[cfg(test)]
mod tests;
