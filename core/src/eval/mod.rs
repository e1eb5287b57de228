//! Evaluation: verification and identification accuracy, demographic
//! differentials, and unlinkability of protected templates.
//!
//! # Conventions
//!
//! - **Scores are similarities**: higher means more alike. A comparison is
//!   **accepted iff `score >= threshold`**. (For distances, negate them.)
//! - **Genuine** (mated) comparisons are of the same person, **impostor**
//!   (non-mated) comparisons of different people.
//! - `FMR(t)` = fraction of impostor scores `>= t` (false matches);
//!   `FNMR(t)` = fraction of genuine scores `< t` (false non-matches).
//!   Rates are reported as `count as f64 / total as f64`, with the counts
//!   alongside wherever a confidence interval may be wanted.
//! - Scores must be finite: empty inputs, NaN and infinities are rejected
//!   with [`Error::InvalidScores`](crate::Error::InvalidScores), whose
//!   message names the input and the index of the first bad value, never a
//!   value. `-0.0` is treated as `+0.0`.
//! - `+inf` appears only as a threshold: "reject every comparison".
//!
//! # Contents
//!
//! Each submodule has one job and documents its definitions; everything
//! public is also re-exported here.
//!
//! - [`scores`]: how scores are held. [`SortedScores`] sorts the caller's
//!   `Vec` in place (no copy); [`ScoreHistogram`] counts discrete scores
//!   (such as the `k/n` scores of protected templates, see
//!   [`ScoreHistogram::for_codes`]) in O(levels) memory, for 10^8 and more
//!   comparisons. Both are [`ScoreDistribution`]s.
//! - [`verification`]: [`det`], [`roc`], [`eer`], [`fnmr_at_fmr`],
//!   [`threshold_at_fmr`], [`operating_point`], each also as `*_from` over a
//!   [`ScoreDistribution`], without copying. DET and ROC match
//!   scikit-learn's `det_curve` and `roc_curve` point for point; the EER is
//!   the FVC2000 value, as pyeer computes it.
//! - [`ci`]: [`clopper_pearson`], the exact binomial confidence interval of
//!   a rate.
//! - [`columns`]: mate columns and genuine flags in the plain integer
//!   arrays of C and numpy ([`mates_from_signed`], [`mates_to_signed`],
//!   [`flags_from_bytes`]).
//! - [`identification`]: [`SearchScores`], [`cmc`], [`fnir_at_fpir`],
//!   [`fnir_fpir_curve`], [`identification_point`]; NIST FRVT 1:N
//!   definitions, ties counted against the mate.
//! - [`mod@differentials`]: [`differentials()`] and
//!   [`DifferentialCounter`]: per-group FMR and FNMR with intervals,
//!   max/min and max/geometric-mean ratios, Gini coefficients and GARBE.
//! - [`labelled`]: scores of labelled samples: [`split_scores`] of a score
//!   matrix into genuine and impostor scores (and
//!   [`split_scores_with_pairs`]), the [`linkage_scores`] of two
//!   applications, the [`mate_columns`] of a search.
//! - [`protocol`] ([`protection_report`]): the auditor's protocol on a
//!   labelled set of feature vectors: unprotected, normal and stolen-key
//!   accuracy and cross-application unlinkability of one scheme.
//! - [`mod@unlinkability`]: [`unlinkability()`], `D<->(s)` and `D<->sys` of
//!   Gomez-Barrero et al. (IEEE TIFS 2018), as their reference
//!   implementation computes them.
//!
//! # Scale
//!
//! A gallery of 10^4 people compared all-against-all gives 10^8 impostor
//! scores (800 MB as `f64`). Nothing here holds the scores twice: build a
//! [`SortedScores`] from the `Vec` you already have (sorted in place) or
//! accumulate a [`ScoreHistogram`] as the scores are produced, and use the
//! `*_from` functions: the EER is one streaming pass (over the sorted scores,
//! or over the levels of a histogram) and an operating point is two binary
//! searches, both with O(1) extra memory. The slice-taking convenience
//! functions copy each input once, and full curves are as long as the number
//! of distinct scores.
//!
//! ```
//! use btp::eval::{eer_from, fnmr_at_fmr_from, ScoreHistogram};
//! // Scores k/8 of 8-element codes.
//! let mut genuine = ScoreHistogram::fractions(8)?;
//! let mut impostor = ScoreHistogram::fractions(8)?;
//! genuine.add_scores(&[1.0, 0.875, 0.875, 0.75, 0.5])?;
//! impostor.add_scores(&[0.5, 0.375, 0.5, 0.25, 0.625])?;
//! impostor.add_level(3, 1_000_000)?; // a million impostor comparisons at 3/8
//! let e = eer_from(&genuine, &impostor)?;
//! assert_eq!((e.threshold, e.fmr, e.fnmr), (0.5, 3.0 / 1_000_005.0, 0.0));
//! let p = fnmr_at_fmr_from(&genuine, &impostor, 1e-6)?;
//! assert_eq!((p.threshold, p.false_matches, p.false_non_matches), (0.625, 1, 1));
//! # Ok::<(), btp::Error>(())
//! ```

pub mod ci;
pub mod columns;
pub mod differentials;
pub mod identification;
pub mod labelled;
pub mod protocol;
pub mod scores;
pub mod unlinkability;
pub mod verification;

pub use ci::clopper_pearson;
pub use columns::{flags_from_bytes, flags_from_ints, mates_from_signed, mates_to_signed};
pub use differentials::{
    differentials, DifferentialCounter, DifferentialOptions, Differentials, Disparity, GroupRates,
    RateEstimate, GARBE_DEFAULT_ALPHA,
};
pub use identification::{
    cmc, fnir_at_fpir, fnir_fpir_curve, identification_point, IdentificationCurve,
    IdentificationPoint, SearchScores,
};
pub use labelled::{
    linkage_scores, mate_columns, split_scores, split_scores_with_pairs, LinkageScores, SplitScores,
};
pub use protocol::{protection_report, ProtectionReport, ProtocolOptions, ScenarioReport};
pub use scores::{check_scores, ScoreDistribution, ScoreHistogram, SortedScores};
pub use unlinkability::{unlinkability, Unlinkability, MAX_BINS as MAX_UNLINKABILITY_BINS};
pub use verification::{
    det, det_from, eer, eer_from, fnmr_at_fmr, fnmr_at_fmr_from, fnmr_at_fmrs, operating_point,
    operating_point_from, roc, roc_from, threshold_at_fmr, threshold_at_fmr_from, Curve, Eer,
    OperatingPoint,
};
