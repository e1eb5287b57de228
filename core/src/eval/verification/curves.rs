//! The DET and ROC curves of two score distributions, and the equal error
//! rate where FMR and FNMR cross (FVC2000).

use super::{both_nonempty, merged, sorted_pair, Curve, Eer};
use crate::error::{Error, Result};
use crate::eval::scores::{next_up, rate, ScoreDistribution};

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
