//! 1:1 verification metrics: DET and ROC curves, EER, FNMR at a fixed FMR.
//!
//! Conventions (see also the [module docs](super)): scores are similarities,
//! a comparison is accepted iff `score >= threshold`,
//! `FMR(t) = #{impostor >= t} / #impostor` and
//! `FNMR(t) = #{genuine < t} / #genuine`.
//!
//! Every metric has two forms:
//! - `metric(genuine: &[f64], impostor: &[f64])`: convenient; copies each
//!   slice once into a [`SortedScores`] (so peak memory is the caller's
//!   slices plus one copy of each).
//! - `metric_from(&genuine, &impostor)`: generic over [`ScoreDistribution`]
//!   ([`SortedScores`] or [`ScoreHistogram`](super::ScoreHistogram)); makes
//!   no copy of the scores. This is the path for 10^8 impostor scores.
//!
//! The candidate thresholds of the curves and of the EER are the distinct
//! observed scores (genuine and impostor together), as in scikit-learn and
//! pyeer, plus `+inf` ("reject everybody") where stated.

use super::scores::{ensure_nonempty, next_up, rate, ScoreDistribution, SortedScores};
use crate::error::{Error, Result};

/// Error-rate curve: `fmr[i]` and `fnmr[i]` are the rates at `thresholds[i]`.
///
/// The three vectors have the same length. The order depends on the function
/// that made the curve ([`det`]: thresholds increasing; [`roc`]: thresholds
/// decreasing).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Curve {
    /// False match rate at each threshold.
    pub fmr: Vec<f64>,
    /// False non-match rate at each threshold.
    pub fnmr: Vec<f64>,
    /// The thresholds; `+inf` stands for "reject every comparison".
    pub thresholds: Vec<f64>,
}

impl Curve {
    /// Number of points.
    pub fn len(&self) -> usize {
        self.thresholds.len()
    }

    /// Whether the curve has no point (never the case for a computed curve).
    pub fn is_empty(&self) -> bool {
        self.thresholds.is_empty()
    }

    fn push(&mut self, threshold: f64, fmr: f64, fnmr: f64) {
        self.thresholds.push(threshold);
        self.fmr.push(fmr);
        self.fnmr.push(fnmr);
    }

    fn reverse(&mut self) {
        self.thresholds.reverse();
        self.fmr.reverse();
        self.fnmr.reverse();
    }
}

/// The equal error rate and where it was found. See [`eer`] for the method.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Eer {
    /// `(fmr + fnmr) / 2` at [`Eer::threshold`].
    pub eer: f64,
    /// The threshold at which the EER was taken.
    pub threshold: f64,
    /// FMR at the threshold.
    pub fmr: f64,
    /// FNMR at the threshold.
    pub fnmr: f64,
}

impl Eer {
    /// The FVC2000 EER interval `[min(fmr, fnmr), max(fmr, fnmr)]` around
    /// [`Eer::eer`]: its width shows how far the curves were from crossing at
    /// an observed threshold.
    pub fn interval(&self) -> (f64, f64) {
        (self.fmr.min(self.fnmr), self.fmr.max(self.fnmr))
    }
}

/// Error rates and their counts at one threshold.
///
/// The counts are there so that a confidence interval can be put on each rate
/// ([`clopper_pearson`](super::clopper_pearson)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OperatingPoint {
    /// The decision threshold: accept iff `score >= threshold`.
    pub threshold: f64,
    /// False match rate `false_matches / impostors`.
    pub fmr: f64,
    /// False non-match rate `false_non_matches / genuines`.
    pub fnmr: f64,
    /// Impostor comparisons accepted at the threshold.
    pub false_matches: u64,
    /// Number of impostor comparisons.
    pub impostors: u64,
    /// Genuine comparisons rejected at the threshold.
    pub false_non_matches: u64,
    /// Number of genuine comparisons.
    pub genuines: u64,
}

/// Scores of both distributions merged: ascending distinct values with the
/// genuine and impostor count at each.
fn merged<'a, G: ScoreDistribution, I: ScoreDistribution>(
    genuine: &'a G,
    impostor: &'a I,
) -> impl Iterator<Item = (f64, u64, u64)> + 'a {
    let mut g = genuine.distinct().peekable();
    let mut i = impostor.distinct().peekable();
    std::iter::from_fn(move || match (g.peek().copied(), i.peek().copied()) {
        (None, None) => None,
        (Some((gv, gc)), None) => {
            g.next();
            Some((gv, gc, 0))
        }
        (None, Some((iv, ic))) => {
            i.next();
            Some((iv, 0, ic))
        }
        (Some((gv, gc)), Some((iv, ic))) => {
            if gv < iv {
                g.next();
                Some((gv, gc, 0))
            } else if iv < gv {
                i.next();
                Some((iv, 0, ic))
            } else {
                g.next();
                i.next();
                Some((gv, gc, ic))
            }
        }
    })
}

fn both_nonempty<G: ScoreDistribution, I: ScoreDistribution>(
    genuine: &G,
    impostor: &I,
) -> Result<(u64, u64)> {
    ensure_nonempty("genuine", genuine)?;
    ensure_nonempty("impostor", impostor)?;
    Ok((genuine.total(), impostor.total()))
}

fn sorted_pair(genuine: &[f64], impostor: &[f64]) -> Result<(SortedScores, SortedScores)> {
    Ok((
        SortedScores::from_slice("genuine", genuine)?,
        SortedScores::from_slice("impostor", impostor)?,
    ))
}

/// Detection error trade-off curve, in exactly the shape and order of
/// `sklearn.metrics.det_curve(y_true, y_score)` (scikit-learn 1.9, default
/// `drop_intermediate=False`) with genuine as the positive class:
/// `(fpr, fnr, thresholds)` = `(fmr, fnmr, thresholds)`.
///
/// - `thresholds` are increasing; `fmr` is non-increasing; `fnmr` is
///   non-decreasing.
/// - The candidate thresholds are the distinct scores and `+inf`.
/// - Redundant points are trimmed as scikit-learn does: the curve starts at
///   the smallest genuine score (the largest threshold with FNMR = 0; lower
///   thresholds only add false matches) and ends at the smallest candidate
///   threshold above the largest impostor score (the first with FMR = 0),
///   which is `+inf` (FMR 0, FNMR 1) when the largest score of all is an
///   impostor score.
///
/// Copies each slice once; [`det_from`] copies nothing.
///
/// ```
/// // scikit-learn's det_curve docstring example.
/// let c = btp::eval::det(&[0.35, 0.8], &[0.1, 0.4])?;
/// assert_eq!(c.thresholds, vec![0.35, 0.4, 0.8]);
/// assert_eq!(c.fmr, vec![0.5, 0.5, 0.0]);
/// assert_eq!(c.fnmr, vec![0.0, 0.5, 0.5]);
/// # Ok::<(), btp::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidScores`] if either input is empty or not finite.
pub fn det(genuine: &[f64], impostor: &[f64]) -> Result<Curve> {
    let (g, i) = sorted_pair(genuine, impostor)?;
    det_from(&g, &i)
}

/// [`det`] over score distributions, without copying the scores. O(distinct
/// scores) time; the curve itself has up to `distinct + 1` points.
///
/// # Errors
/// [`Error::InvalidScores`] if either distribution is empty.
pub fn det_from<G: ScoreDistribution, I: ScoreDistribution>(
    genuine: &G,
    impostor: &I,
) -> Result<Curve> {
    let (ng, ni) = both_nonempty(genuine, impostor)?;
    let (Some(min_genuine), Some(max_impostor)) = (genuine.min_score(), impostor.max_score())
    else {
        return Err(Error::InvalidScores("scores are empty".into()));
    };
    let mut curve = Curve::default();
    let (mut genuine_below, mut impostor_below) = (0u64, 0u64);
    for (v, cg, ci) in merged(genuine, impostor) {
        if v >= min_genuine {
            curve.push(v, rate(ni - impostor_below, ni), rate(genuine_below, ng));
            if v > max_impostor {
                // First threshold with FMR 0: scikit-learn's last point.
                return Ok(curve);
            }
        }
        genuine_below += cg;
        impostor_below += ci;
    }
    // The largest score is an impostor score: FMR reaches 0 only at +inf.
    curve.push(f64::INFINITY, 0.0, 1.0);
    Ok(curve)
}

/// Full ROC of every distinct threshold, expressed as FMR and FNMR.
///
/// The points and their order are those of
/// `sklearn.metrics.roc_curve(y_true, y_score, drop_intermediate=False)`
/// with genuine as the positive class: `thresholds` **decreasing**, starting
/// at `+inf` (FMR 0, FNMR 1), then every distinct score; `fmr` = `fpr`
/// (non-decreasing) and `fnmr` = `1 - tpr` (non-increasing), where FNMR is
/// computed as `#{genuine < t} / #genuine` rather than as `1 - tpr`, so it can
/// differ from scikit-learn's `1 - tpr` in the last bit.
///
/// Copies each slice once; [`roc_from`] copies nothing.
///
/// # Errors
/// [`Error::InvalidScores`] if either input is empty or not finite.
pub fn roc(genuine: &[f64], impostor: &[f64]) -> Result<Curve> {
    let (g, i) = sorted_pair(genuine, impostor)?;
    roc_from(&g, &i)
}

/// [`roc`] over score distributions, without copying the scores.
///
/// # Errors
/// [`Error::InvalidScores`] if either distribution is empty.
pub fn roc_from<G: ScoreDistribution, I: ScoreDistribution>(
    genuine: &G,
    impostor: &I,
) -> Result<Curve> {
    let (ng, ni) = both_nonempty(genuine, impostor)?;
    let mut curve = Curve::default();
    let (mut genuine_below, mut impostor_below) = (0u64, 0u64);
    for (v, cg, ci) in merged(genuine, impostor) {
        curve.push(v, rate(ni - impostor_below, ni), rate(genuine_below, ng));
        genuine_below += cg;
        impostor_below += ci;
    }
    curve.push(f64::INFINITY, 0.0, 1.0);
    curve.reverse();
    Ok(curve)
}

/// Equal error rate by the FVC2000 method (Maio et al., "FVC2000:
/// Fingerprint verification competition", IEEE TPAMI 24(3), 2002), exactly
/// as pyeer 0.5.6 computes it (`pyeer.eer_stats.get_eer_values` on
/// `calculate_roc`):
///
/// 1. Candidate thresholds `t_0 < t_1 < ...` are the distinct scores.
/// 2. `t2` is the first candidate with `FMR(t) - FNMR(t) <= 0` (where the
///    decreasing FMR meets the increasing FNMR); `t1` is the candidate before
///    it, unless `t2` is the first candidate or the difference at `t2` is
///    exactly 0, in which case `t1 = t2`.
/// 3. Of `t1` and `t2`, the one with the smaller `FMR + FNMR` is taken (`t1`
///    on a tie), and `EER = (FMR + FNMR) / 2` there. [`Eer::interval`] gives
///    the FVC2000 interval `[EER_low, EER_high]`.
///
/// One difference from pyeer, in a degenerate case only: if FMR exceeds
/// FNMR at every observed score (possible only when the largest score is an
/// impostor score), pyeer warns and returns EER 1; here the candidate
/// `next_up(max score)` (FMR 0, FNMR 1) is appended so that the curves
/// always cross, and the method above is applied. For example, all scores
/// equal gives EER 0.5 at that score.
///
/// Copies each slice once; [`eer_from`] copies nothing and keeps O(1) state.
///
/// ```
/// let e = btp::eval::eer(&[0.6, 0.7, 0.8, 0.9], &[0.1, 0.2, 0.3, 0.65])?;
/// assert_eq!((e.eer, e.threshold), (0.25, 0.65));
/// # Ok::<(), btp::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidScores`] if either input is empty or not finite.
pub fn eer(genuine: &[f64], impostor: &[f64]) -> Result<Eer> {
    let (g, i) = sorted_pair(genuine, impostor)?;
    eer_from(&g, &i)
}

/// [`eer`] over score distributions, streaming: no copy, O(1) extra memory.
///
/// # Errors
/// [`Error::InvalidScores`] if either distribution is empty.
pub fn eer_from<G: ScoreDistribution, I: ScoreDistribution>(
    genuine: &G,
    impostor: &I,
) -> Result<Eer> {
    let (ng, ni) = both_nonempty(genuine, impostor)?;
    let (mut genuine_below, mut impostor_below) = (0u64, 0u64);
    let mut previous: Option<Eer> = None;
    let mut last_score = f64::NEG_INFINITY;
    let point = |t: f64, fmr: f64, fnmr: f64| Eer {
        eer: (fnmr + fmr) / 2.0,
        threshold: t,
        fmr,
        fnmr,
    };
    for (v, cg, ci) in merged(genuine, impostor) {
        let here = point(v, rate(ni - impostor_below, ni), rate(genuine_below, ng));
        if here.fmr - here.fnmr <= 0.0 {
            return Ok(fvc2000_choice(previous, here));
        }
        previous = Some(here);
        last_score = v;
        genuine_below += cg;
        impostor_below += ci;
    }
    // FMR > FNMR at every observed score: append "reject everybody".
    let here = point(next_up(last_score), 0.0, 1.0);
    Ok(fvc2000_choice(previous, here))
}

/// Step 2 and 3 of the FVC2000 rule: `t2 = here`, `t1 = previous` unless the
/// difference at `t2` is exactly zero or there is no previous candidate.
fn fvc2000_choice(previous: Option<Eer>, t2: Eer) -> Eer {
    let t1 = match previous {
        Some(p) if t2.fmr - t2.fnmr != 0.0 => p,
        _ => t2,
    };
    if t1.fmr + t1.fnmr <= t2.fmr + t2.fnmr {
        t1
    } else {
        t2
    }
}

fn check_target(name: &'static str, target: f64) -> Result<()> {
    if target.is_finite() && (0.0..=1.0).contains(&target) {
        Ok(())
    } else {
        Err(Error::param(name, "must be a rate in [0, 1]"))
    }
}

/// Largest count `c <= n` with `c as f64 / n as f64 <= target`, comparing the
/// very rate that is reported, so that the achieved rate never exceeds the
/// target by rounding.
pub(crate) fn max_count_within(target: f64, n: u64) -> u64 {
    let mut c = ((target * n as f64).floor() as u64).min(n);
    while c < n && rate(c + 1, n) <= target {
        c += 1;
    }
    while c > 0 && rate(c, n) > target {
        c -= 1;
    }
    c
}

/// The decision threshold for a target FMR, calibrated on impostor scores
/// alone: returns `(threshold, achieved_fmr)`.
///
/// The threshold is the smallest candidate `t` with `FMR(t) <= target`,
/// where the candidates are the distinct impostor scores and
/// `next_up(max impostor score)` (the next representable `f64` above the
/// largest impostor score, which accepts no impostor). So the achieved FMR is
/// at most the target and as close to it as the impostor scores allow:
///
/// - Ties: a threshold equal to a run of tied impostor scores accepts the
///   whole run; if that would exceed the target, the threshold moves to the
///   next larger impostor score (FMR drops by the whole run).
/// - `target < 1 / #impostor` (in particular `0`): no impostor may be
///   accepted, the threshold is `next_up(max impostor score)` and the
///   achieved FMR is 0.
/// - `target = 1`: the smallest impostor score, FMR 1.
///
/// Choosing the threshold among impostor scores is the usual calibration
/// (bob.measure's `far_threshold`, NIST FRVT's "threshold set to give FMR =
/// x"); genuine scores play no part, so [`fnmr_at_fmr`] reports the FNMR at
/// this very threshold.
///
/// Copies the slice once; [`threshold_at_fmr_from`] copies nothing and costs
/// O(1) on [`SortedScores`].
///
/// ```
/// let imp = [0.1, 0.2, 0.3, 0.3, 0.4];
/// assert_eq!(btp::eval::threshold_at_fmr(&imp, 0.2)?, (0.4, 0.2));
/// // 0.3 would accept 3 of 5 > 0.5: move up to 0.4.
/// assert_eq!(btp::eval::threshold_at_fmr(&imp, 0.5)?, (0.4, 0.2));
/// let (t, fmr) = btp::eval::threshold_at_fmr(&imp, 0.1)?;
/// assert!(t > 0.4 && t < 0.4 + 1e-15 && fmr == 0.0);
/// # Ok::<(), btp::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidScores`] for empty or non-finite scores;
/// [`Error::InvalidParameter`] unless `0 <= target_fmr <= 1`.
pub fn threshold_at_fmr(impostor: &[f64], target_fmr: f64) -> Result<(f64, f64)> {
    check_target("target_fmr", target_fmr)?;
    let i = SortedScores::from_slice("impostor", impostor)?;
    threshold_at_fmr_from(&i, target_fmr)
}

/// [`threshold_at_fmr`] over a score distribution, without copying.
///
/// # Errors
/// As [`threshold_at_fmr`].
pub fn threshold_at_fmr_from<I: ScoreDistribution>(
    impostor: &I,
    target_fmr: f64,
) -> Result<(f64, f64)> {
    check_target("target_fmr", target_fmr)?;
    ensure_nonempty("impostor", impostor)?;
    let n = impostor.total();
    let allowed = max_count_within(target_fmr, n);
    let threshold = match impostor.smallest_score_with_at_most_above(allowed) {
        Some(t) => t,
        None => match impostor.max_score() {
            Some(max) => next_up(max),
            None => return Err(Error::InvalidScores("impostor scores are empty".into())),
        },
    };
    Ok((threshold, rate(impostor.count_at_or_above(threshold), n)))
}

/// FNMR at the threshold [`threshold_at_fmr`] gives for `target_fmr`: the
/// smallest candidate threshold whose FMR is at most the target (see there
/// for ties and for targets below `1 / #impostor`).
///
/// Copies each slice once; [`fnmr_at_fmr_from`] copies nothing.
///
/// ```
/// let p = btp::eval::fnmr_at_fmr(&[0.35, 0.5, 0.8, 0.9], &[0.1, 0.4, 0.6, 0.7], 0.25)?;
/// assert_eq!((p.threshold, p.fmr, p.fnmr), (0.7, 0.25, 0.5));
/// # Ok::<(), btp::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidScores`] for empty or non-finite scores;
/// [`Error::InvalidParameter`] unless `0 <= target_fmr <= 1`.
pub fn fnmr_at_fmr(genuine: &[f64], impostor: &[f64], target_fmr: f64) -> Result<OperatingPoint> {
    check_target("target_fmr", target_fmr)?;
    let (g, i) = sorted_pair(genuine, impostor)?;
    fnmr_at_fmr_from(&g, &i, target_fmr)
}

/// [`fnmr_at_fmr`] over score distributions, without copying.
///
/// # Errors
/// As [`fnmr_at_fmr`].
pub fn fnmr_at_fmr_from<G: ScoreDistribution, I: ScoreDistribution>(
    genuine: &G,
    impostor: &I,
    target_fmr: f64,
) -> Result<OperatingPoint> {
    check_target("target_fmr", target_fmr)?;
    both_nonempty(genuine, impostor)?;
    let (threshold, _) = threshold_at_fmr_from(impostor, target_fmr)?;
    operating_point_from(genuine, impostor, threshold)
}

/// [`fnmr_at_fmr`] at several targets, sorting the scores once: one
/// operating point per target, in the order given (none for no target).
///
/// ```
/// let g = [0.35, 0.5, 0.8, 0.9];
/// let i = [0.1, 0.4, 0.6, 0.7];
/// let p = btp::eval::fnmr_at_fmrs(&g, &i, &[0.25, 0.5])?;
/// assert_eq!(p[0], btp::eval::fnmr_at_fmr(&g, &i, 0.25)?);
/// assert_eq!((p[1].threshold, p[1].fnmr), (0.6, 0.5));
/// # Ok::<(), btp::Error>(())
/// ```
///
/// # Errors
/// As [`fnmr_at_fmr`], for the first target out of `[0, 1]`.
pub fn fnmr_at_fmrs(
    genuine: &[f64],
    impostor: &[f64],
    targets: &[f64],
) -> Result<Vec<OperatingPoint>> {
    for &t in targets {
        check_target("target_fmr", t)?;
    }
    let (g, i) = sorted_pair(genuine, impostor)?;
    targets
        .iter()
        .map(|&t| fnmr_at_fmr_from(&g, &i, t))
        .collect()
}

/// FMR and FNMR, with their counts, at a given threshold.
///
/// Copies each slice once; [`operating_point_from`] copies nothing.
///
/// # Errors
/// [`Error::InvalidScores`] for empty or non-finite scores;
/// [`Error::InvalidParameter`] if `threshold` is NaN.
pub fn operating_point(
    genuine: &[f64],
    impostor: &[f64],
    threshold: f64,
) -> Result<OperatingPoint> {
    let (g, i) = sorted_pair(genuine, impostor)?;
    operating_point_from(&g, &i, threshold)
}

/// [`operating_point`] over score distributions: two binary searches on
/// [`SortedScores`].
///
/// # Errors
/// As [`operating_point`].
pub fn operating_point_from<G: ScoreDistribution, I: ScoreDistribution>(
    genuine: &G,
    impostor: &I,
    threshold: f64,
) -> Result<OperatingPoint> {
    if threshold.is_nan() {
        return Err(Error::param("threshold", "must not be NaN"));
    }
    let (ng, ni) = both_nonempty(genuine, impostor)?;
    let false_matches = impostor.count_at_or_above(threshold);
    let false_non_matches = genuine.count_below(threshold);
    Ok(OperatingPoint {
        threshold,
        fmr: rate(false_matches, ni),
        fnmr: rate(false_non_matches, ng),
        false_matches,
        impostors: ni,
        false_non_matches,
        genuines: ng,
    })
}

#[cfg(test)]
mod tests {
    use super::super::ScoreHistogram;
    use super::*;
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
}
