//! Thresholds from a target FMR, calibrated on impostor scores, and the
//! error rates (with their counts) at a threshold.

use super::{both_nonempty, sorted_pair, OperatingPoint};
use crate::error::{Error, Result};
use crate::eval::scores::{ensure_nonempty, next_up, rate, ScoreDistribution, SortedScores};

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
pub(super) fn max_count_within(target: f64, n: u64) -> u64 {
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
