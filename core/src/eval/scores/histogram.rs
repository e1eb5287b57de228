//! [`ScoreHistogram`]: counts of scores over a fixed set of levels, for
//! scores that can only take those values (`k/n` of `n`-element codes).

use super::{non_finite, rate, sealed, ScoreDistribution};
use crate::codes::CodeLayout;
use crate::error::{Error, Result};

/// Counts of scores over a fixed, strictly increasing set of levels.
///
/// For matchers whose scores take finitely many values, above all the
/// protected-domain comparisons of this crate, where a score is `k / n` for
/// codes of `n` bits (see [`ScoreHistogram::fractions`]). Accumulating costs
/// O(log levels) per score and the memory is O(levels) whatever the number of
/// scores; every verification metric computed from a histogram is identical
/// to the one computed from the same scores held in a
/// [`SortedScores`](super::SortedScores).
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
