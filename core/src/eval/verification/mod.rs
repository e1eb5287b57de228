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
//!
//! - `curves.rs`: the [`det`] and [`roc`] curves and the [`eer`] where they
//!   cross.
//! - `thresholds.rs`: calibration of a threshold on impostor scores
//!   ([`threshold_at_fmr`]) and the error rates at a threshold
//!   ([`fnmr_at_fmr`], [`operating_point`]).
//! - here: the result types and the merge of two distributions.

mod curves;
mod thresholds;

pub use curves::{det, det_from, eer, eer_from, roc, roc_from};
pub use thresholds::{
    fnmr_at_fmr, fnmr_at_fmr_from, fnmr_at_fmrs, operating_point, operating_point_from,
    threshold_at_fmr, threshold_at_fmr_from,
};

use super::scores::{ensure_nonempty, ScoreDistribution, SortedScores};
use crate::error::Result;

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

    pub(super) fn push(&mut self, threshold: f64, fmr: f64, fnmr: f64) {
        self.thresholds.push(threshold);
        self.fmr.push(fmr);
        self.fnmr.push(fnmr);
    }

    pub(super) fn reverse(&mut self) {
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
pub(super) fn merged<'a, G: ScoreDistribution, I: ScoreDistribution>(
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

pub(super) fn both_nonempty<G: ScoreDistribution, I: ScoreDistribution>(
    genuine: &G,
    impostor: &I,
) -> Result<(u64, u64)> {
    ensure_nonempty("genuine", genuine)?;
    ensure_nonempty("impostor", impostor)?;
    Ok((genuine.total(), impostor.total()))
}

pub(super) fn sorted_pair(
    genuine: &[f64],
    impostor: &[f64],
) -> Result<(SortedScores, SortedScores)> {
    Ok((
        SortedScores::from_slice("genuine", genuine)?,
        SortedScores::from_slice("impostor", impostor)?,
    ))
}

#[cfg(test)]
mod tests;
