//! Demographic differentials: FMR and FNMR per group at one threshold, with
//! exact confidence intervals, and summaries of the spread across groups.
//!
//! Every comparison is given a group (for an impostor comparison, usually
//! the group of the probe, or only same-group pairs are used; which one is
//! the evaluator's protocol decision, ISO/IEC 19795-10). At a single
//! threshold `t` (accept iff `score >= t`; normally one global threshold,
//! e.g. from [`threshold_at_fmr`](super::threshold_at_fmr) on all impostor
//! scores), each group gets its FMR and FNMR with counts and a
//! [Clopper–Pearson](super::clopper_pearson) interval. Across the groups
//! whose rate is defined, [`Disparity`] gives:
//!
//! - `max_min_ratio = max / min`,
//! - `max_geomean_ratio = max / geometric mean` (the NIST FRVT demographic
//!   summary),
//! - `gini`: the Gini coefficient with the small-sample correction,
//!   `G = n/(n-1) * sum_i sum_j |x_i - x_j| / (2 n^2 mean(x))`,
//!
//! and [`Differentials::garbe`] is GARBE (Howard et al., "Evaluating
//! Proposed Fairness Models for Face Recognition Algorithms", 2022):
//! `alpha * G(FMR) + (1 - alpha) * G(FNMR)`, in `[0, 1]`, 0 when every group
//! has the same rates.
//!
//! **Zero errors and zero trials**, stated once for all summaries:
//! - A group with zero trials of a kind (e.g. no genuine comparison) has
//!   rate `None` and no interval, and is left out of that kind's summary.
//! - If no group has an error (every defined rate is 0), the ratios are
//!   `0/0`: reported as `None` (undefined); the Gini coefficient is `0`
//!   (every group has the same rate).
//! - If some group has an error and another has none, `min` and the
//!   geometric mean are 0: the ratios are reported as `Some(f64::INFINITY)`.
//!   Read them with the counts and intervals: zero observed errors in a
//!   small group is weak evidence of a zero rate.
//! - The Gini coefficient (and so GARBE) needs at least two groups with a
//!   defined rate; otherwise `None`.

use std::collections::BTreeMap;

use super::ci::clopper_pearson;
use super::scores::{check_scores, rate};
use crate::error::{Error, Result};

/// The `alpha` (weight of the FMR term) of GARBE used by
/// [`DifferentialOptions::default`].
pub const GARBE_DEFAULT_ALPHA: f64 = 0.25;

/// Options of [`differentials`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DifferentialOptions {
    /// Confidence level of the per-group intervals, in (0, 1). Default 0.95.
    pub confidence: f64,
    /// GARBE weight of the FMR Gini coefficient, in [0, 1]; FNMR gets
    /// `1 - alpha`. Default [`GARBE_DEFAULT_ALPHA`].
    pub garbe_alpha: f64,
}

impl Default for DifferentialOptions {
    fn default() -> Self {
        Self {
            confidence: 0.95,
            garbe_alpha: GARBE_DEFAULT_ALPHA,
        }
    }
}

/// An error rate measured as `errors / trials`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateEstimate {
    /// Number of errors (false matches or false non-matches).
    pub errors: u64,
    /// Number of comparisons of that kind.
    pub trials: u64,
    /// `errors / trials`; `None` when `trials == 0`.
    pub rate: Option<f64>,
    /// Clopper–Pearson interval at the requested confidence; `None` when
    /// `trials == 0`.
    pub interval: Option<(f64, f64)>,
}

impl RateEstimate {
    fn new(errors: u64, trials: u64, confidence: f64) -> Result<Self> {
        if trials == 0 {
            return Ok(Self {
                errors,
                trials,
                rate: None,
                interval: None,
            });
        }
        Ok(Self {
            errors,
            trials,
            rate: Some(rate(errors, trials)),
            interval: Some(clopper_pearson(errors, trials, confidence)?),
        })
    }
}

/// FMR and FNMR of one group.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRates<G> {
    /// The group label.
    pub group: G,
    /// False match rate of the group's impostor comparisons.
    pub fmr: RateEstimate,
    /// False non-match rate of the group's genuine comparisons.
    pub fnmr: RateEstimate,
}

/// Spread of one error rate across groups (see the [module docs](self) for
/// zero-error and zero-trial cases).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Disparity {
    /// Number of groups with a defined rate (at least one trial).
    pub groups: usize,
    /// Smallest defined rate.
    pub min: Option<f64>,
    /// Largest defined rate.
    pub max: Option<f64>,
    /// `max / min`; `None` if undefined, `Some(inf)` if `min == 0 < max`.
    pub max_min_ratio: Option<f64>,
    /// `max / geometric mean`; `None` if undefined, `Some(inf)` if some rate
    /// is 0 and `max > 0`.
    pub max_geomean_ratio: Option<f64>,
    /// Gini coefficient with the `n/(n-1)` correction; `None` with fewer
    /// than two groups.
    pub gini: Option<f64>,
}

impl Disparity {
    fn of(rates: &[f64]) -> Self {
        let n = rates.len();
        if n == 0 {
            return Self {
                groups: 0,
                min: None,
                max: None,
                max_min_ratio: None,
                max_geomean_ratio: None,
                gini: None,
            };
        }
        let min = rates.iter().copied().fold(f64::INFINITY, f64::min);
        let max = rates.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (max_min_ratio, max_geomean_ratio) = if max == 0.0 {
            (None, None)
        } else if min == 0.0 {
            (Some(f64::INFINITY), Some(f64::INFINITY))
        } else {
            let mean_ln = rates.iter().map(|r| r.ln()).sum::<f64>() / n as f64;
            (Some(max / min), Some(max / mean_ln.exp()))
        };
        Self {
            groups: n,
            min: Some(min),
            max: Some(max),
            max_min_ratio,
            max_geomean_ratio,
            gini: gini(rates),
        }
    }
}

/// Gini coefficient with the `n/(n-1)` small-sample correction; 0 when all
/// values are equal (including all 0); `None` for fewer than 2 values.
fn gini(x: &[f64]) -> Option<f64> {
    let n = x.len();
    if n < 2 {
        return None;
    }
    let nf = n as f64;
    let mean = x.iter().sum::<f64>() / nf;
    let abs_diff: f64 = x
        .iter()
        .map(|a| x.iter().map(|b| (a - b).abs()).sum::<f64>())
        .sum();
    if abs_diff == 0.0 {
        return Some(0.0);
    }
    Some(nf / (nf - 1.0) * abs_diff / (2.0 * nf * nf * mean))
}

/// The result of [`differentials`].
#[derive(Debug, Clone, PartialEq)]
pub struct Differentials<G> {
    /// The threshold the rates were measured at.
    pub threshold: f64,
    /// Per-group rates, in ascending group order.
    pub groups: Vec<GroupRates<G>>,
    /// Spread of FMR across groups.
    pub fmr: Disparity,
    /// Spread of FNMR across groups.
    pub fnmr: Disparity,
    /// GARBE `alpha * fmr.gini + (1 - alpha) * fnmr.gini`; `None` when
    /// either Gini coefficient is.
    pub garbe: Option<f64>,
    /// The `alpha` used.
    pub garbe_alpha: f64,
}

/// Streaming accumulator of per-group error counts at a fixed threshold:
/// O(groups) memory however many comparisons are added. [`differentials`]
/// is this over slices.
#[derive(Debug, Clone)]
pub struct DifferentialCounter<G> {
    threshold: f64,
    /// false matches, impostors, false non-matches, genuines
    counts: BTreeMap<G, [u64; 4]>,
}

impl<G: Ord + Clone> DifferentialCounter<G> {
    /// An empty counter at `threshold`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `threshold` is NaN.
    pub fn new(threshold: f64) -> Result<Self> {
        if threshold.is_nan() {
            return Err(Error::param("threshold", "must not be NaN"));
        }
        Ok(Self {
            threshold,
            counts: BTreeMap::new(),
        })
    }

    /// Counts one comparison.
    ///
    /// # Errors
    /// [`Error::InvalidScores`] if `score` is not finite.
    pub fn add(&mut self, group: G, score: f64, is_genuine: bool) -> Result<()> {
        if !score.is_finite() {
            return Err(Error::InvalidScores("score is not finite".into()));
        }
        let c = self.counts.entry(group).or_insert([0; 4]);
        if is_genuine {
            c[3] += 1;
            c[2] += u64::from(score < self.threshold);
        } else {
            c[1] += 1;
            c[0] += u64::from(score >= self.threshold);
        }
        Ok(())
    }

    /// Adds counts measured elsewhere at the same threshold (e.g. from
    /// per-group [`ScoreHistogram`](super::ScoreHistogram)s).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if errors exceed trials;
    /// [`Error::InvalidScores`] on `u64` overflow.
    pub fn add_counts(
        &mut self,
        group: G,
        false_matches: u64,
        impostors: u64,
        false_non_matches: u64,
        genuines: u64,
    ) -> Result<()> {
        if false_matches > impostors || false_non_matches > genuines {
            return Err(Error::param("counts", "errors must not exceed trials"));
        }
        let c = self.counts.entry(group).or_insert([0; 4]);
        let add = [false_matches, impostors, false_non_matches, genuines];
        let mut new = [0u64; 4];
        for k in 0..4 {
            new[k] = c[k]
                .checked_add(add[k])
                .ok_or_else(|| Error::InvalidScores("group count overflows u64".into()))?;
        }
        *c = new;
        Ok(())
    }

    /// Per-group rates and their summaries.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a confidence outside (0, 1) or an
    /// alpha outside [0, 1]; [`Error::InvalidScores`] if nothing was added.
    pub fn finish(self, options: &DifferentialOptions) -> Result<Differentials<G>> {
        let alpha = options.garbe_alpha;
        if !(0.0..=1.0).contains(&alpha) {
            return Err(Error::param("garbe_alpha", "must be in [0, 1]"));
        }
        if !(options.confidence > 0.0 && options.confidence < 1.0) {
            return Err(Error::param(
                "confidence",
                "must be strictly between 0 and 1",
            ));
        }
        if self.counts.is_empty() {
            return Err(Error::InvalidScores("there are no comparisons".into()));
        }
        let mut groups = Vec::with_capacity(self.counts.len());
        for (group, [fm, ni, fnm, ng]) in self.counts {
            groups.push(GroupRates {
                group,
                fmr: RateEstimate::new(fm, ni, options.confidence)?,
                fnmr: RateEstimate::new(fnm, ng, options.confidence)?,
            });
        }
        let fmr_rates: Vec<f64> = groups.iter().filter_map(|g| g.fmr.rate).collect();
        let fnmr_rates: Vec<f64> = groups.iter().filter_map(|g| g.fnmr.rate).collect();
        let fmr = Disparity::of(&fmr_rates);
        let fnmr = Disparity::of(&fnmr_rates);
        let garbe = match (fmr.gini, fnmr.gini) {
            (Some(a), Some(b)) => Some(alpha * a + (1.0 - alpha) * b),
            _ => None,
        };
        Ok(Differentials {
            threshold: self.threshold,
            groups,
            fmr,
            fnmr,
            garbe,
            garbe_alpha: alpha,
        })
    }
}

/// Per-group FMR and FNMR at `threshold` and their spread across groups;
/// `scores[i]` is a genuine comparison iff `is_genuine[i]`, of group
/// `groups[i]`. See the [module docs](self) for the definitions and the
/// zero-error and zero-trial cases.
///
/// ```
/// use btp::eval::{differentials, DifferentialOptions};
/// let scores = [0.9, 0.4, 0.2, 0.6,   0.8, 0.7, 0.1, 0.3];
/// let genuine = [true, true, false, false, true, true, false, false];
/// let groups = ["a", "a", "a", "a", "b", "b", "b", "b"];
/// let d = differentials(&scores, &genuine, &groups, 0.5, &DifferentialOptions::default())?;
/// assert_eq!(d.groups[0].fnmr.rate, Some(0.5)); // a: 0.4 rejected
/// assert_eq!(d.groups[1].fnmr.rate, Some(0.0));
/// assert_eq!(d.fnmr.max_min_ratio, Some(f64::INFINITY));
/// assert_eq!(d.fmr.max_min_ratio, Some(f64::INFINITY)); // a: 0.6 accepted
/// # Ok::<(), btp::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidScores`] for empty, mismatched or non-finite input;
/// [`Error::InvalidParameter`] for a NaN threshold or bad options.
pub fn differentials<G: Ord + Clone>(
    scores: &[f64],
    is_genuine: &[bool],
    groups: &[G],
    threshold: f64,
    options: &DifferentialOptions,
) -> Result<Differentials<G>> {
    check_scores("comparison", scores)?;
    if is_genuine.len() != scores.len() || groups.len() != scores.len() {
        return Err(Error::InvalidScores(
            "scores, is_genuine and groups differ in length".into(),
        ));
    }
    let mut counter = DifferentialCounter::new(threshold)?;
    for ((&s, &g), group) in scores.iter().zip(is_genuine).zip(groups) {
        counter.add(group.clone(), s, g)?;
    }
    counter.finish(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gini_known_values() {
        assert_eq!(gini(&[0.1]), None);
        assert_eq!(gini(&[0.0, 0.0, 0.0]), Some(0.0));
        assert_eq!(gini(&[0.2, 0.2]), Some(0.0));
        // One group holds all errors: corrected Gini is exactly 1.
        assert!((gini(&[0.0, 0.0, 0.0, 0.3]).unwrap() - 1.0).abs() < 1e-15);
        // [1, 2, 3]: sum |xi-xj| = 8, mean 2, n=3: 3/2 * 8 / (2*9*2) = 1/3.
        assert!((gini(&[1.0, 2.0, 3.0]).unwrap() - 1.0 / 3.0).abs() < 1e-15);
        // [1, 3]: sum = 4, mean 2, n=2: 2 * 4 / (2*4*2) = 0.5.
        assert_eq!(gini(&[1.0, 3.0]), Some(0.5));
    }

    #[test]
    fn ratios_and_garbe_known_answer() {
        // Group a: FMR 2/10, FNMR 1/4. Group b: FMR 1/10, FNMR 2/4.
        let mut c = DifferentialCounter::new(0.5).unwrap();
        c.add_counts("a", 2, 10, 1, 4).unwrap();
        c.add_counts("b", 1, 10, 2, 4).unwrap();
        let d = c.finish(&DifferentialOptions::default()).unwrap();
        assert_eq!(d.groups.len(), 2);
        assert_eq!(d.fmr.max_min_ratio, Some(2.0));
        let geo = (0.2f64 * 0.1).sqrt();
        assert!((d.fmr.max_geomean_ratio.unwrap() - 0.2 / geo).abs() < 1e-12);
        // Gini of two values x<y (corrected): (y-x)/(x+y).
        let g_fmr = (0.2 - 0.1) / (0.2 + 0.1);
        let g_fnmr = (0.5 - 0.25) / (0.5 + 0.25);
        assert!((d.fmr.gini.unwrap() - g_fmr).abs() < 1e-15);
        assert!((d.fnmr.gini.unwrap() - g_fnmr).abs() < 1e-15);
        let garbe = 0.25 * g_fmr + 0.75 * g_fnmr;
        assert!((d.garbe.unwrap() - garbe).abs() < 1e-15);
        let (lo, hi) = d.groups[0].fmr.interval.unwrap();
        assert!(lo < 0.2 && 0.2 < hi);
    }

    #[test]
    fn zero_errors_and_zero_trials() {
        let mut c = DifferentialCounter::new(0.5).unwrap();
        c.add_counts(1u8, 0, 100, 0, 50).unwrap();
        c.add_counts(2u8, 0, 80, 3, 50).unwrap();
        c.add_counts(3u8, 0, 0, 0, 0).unwrap(); // no comparisons of either kind
        let d = c.finish(&DifferentialOptions::default()).unwrap();
        // FMR: no group has an error -> ratios undefined, Gini 0.
        assert_eq!(d.fmr.groups, 2);
        assert_eq!(d.fmr.max_min_ratio, None);
        assert_eq!(d.fmr.max_geomean_ratio, None);
        assert_eq!(d.fmr.gini, Some(0.0));
        // FNMR: one group with errors, one without -> infinite ratios.
        assert_eq!(d.fnmr.max_min_ratio, Some(f64::INFINITY));
        assert_eq!(d.fnmr.max_geomean_ratio, Some(f64::INFINITY));
        assert_eq!(d.fnmr.gini, Some(1.0));
        assert_eq!(d.garbe, Some(0.75));
        // Group 3 has no rates and no intervals.
        let g3 = &d.groups[2];
        assert_eq!((g3.fmr.rate, g3.fmr.interval), (None, None));
        assert_eq!((g3.fnmr.rate, g3.fnmr.interval), (None, None));
        // Zero errors still have an upper confidence bound.
        let (lo, hi) = d.groups[0].fmr.interval.unwrap();
        assert_eq!(lo, 0.0);
        assert!(hi > 0.0 && hi < 0.04);
        // A single group with a defined rate: no Gini, no GARBE.
        let mut c = DifferentialCounter::new(0.5).unwrap();
        c.add_counts("x", 1, 10, 1, 10).unwrap();
        c.add_counts("y", 0, 0, 1, 10).unwrap();
        let d = c.finish(&DifferentialOptions::default()).unwrap();
        assert_eq!((d.fmr.groups, d.fmr.gini, d.garbe), (1, None, None));
        assert_eq!(d.fmr.max_min_ratio, Some(1.0));
    }

    #[test]
    fn slice_api_counts_and_validates() {
        let scores = [0.9, 0.4, 0.2, 0.6, 0.8, 0.7, 0.1, 0.5];
        let genuine = [true, true, false, false, true, true, false, false];
        let groups = [0, 0, 0, 0, 1, 1, 1, 1];
        let d = differentials(
            &scores,
            &genuine,
            &groups,
            0.5,
            &DifferentialOptions::default(),
        )
        .unwrap();
        assert_eq!(d.groups[0].fmr.errors, 1);
        assert_eq!(d.groups[1].fmr.errors, 1, "0.5 >= 0.5 is accepted");
        assert_eq!(d.groups[0].fnmr.errors, 1);
        assert_eq!(d.groups[1].fnmr.errors, 0);
        assert_eq!(d.fmr.max_min_ratio, Some(1.0));
        assert_eq!(d.fmr.gini, Some(0.0));
        let opts = DifferentialOptions::default();
        assert!(differentials(&scores, &genuine[..3], &groups, 0.5, &opts).is_err());
        assert!(differentials::<u8>(&[], &[], &[], 0.5, &opts).is_err());
        assert!(differentials(&scores, &genuine, &groups, f64::NAN, &opts).is_err());
        let mut bad = scores;
        bad[3] = f64::NAN;
        assert_eq!(
            differentials(&bad, &genuine, &groups, 0.5, &opts).unwrap_err(),
            Error::InvalidScores("comparison scores contain NaN at index 3".into())
        );
        let o = DifferentialOptions {
            garbe_alpha: 1.5,
            ..opts
        };
        assert!(differentials(&scores, &genuine, &groups, 0.5, &o).is_err());
        let o = DifferentialOptions {
            confidence: 1.0,
            ..opts
        };
        assert!(differentials(&scores, &genuine, &groups, 0.5, &o).is_err());
    }
}
