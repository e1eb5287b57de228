//! Identification (1:N) metrics over the scores of a batch of searches:
//! CMC, FNIR at a target FPIR, FNIR and FPIR at a threshold, and the
//! FNIR/FPIR curve (NIST FRVT definitions, ties counted against the mate).
//!
//! The searches are a row-major `mates_len x n_gallery` score matrix
//! `(const double *, size_t)` and one mate column per search
//! (`const int64_t *`): the gallery column of the search's mate, or -1 for
//! a non-mated search (`btp_eval_mate_columns` makes them from labels).
//! Other negative values and columns out of range are
//! `BTP_RESULT_INVALID_PARAMETER`; NaN and infinite scores
//! `BTP_RESULT_INVALID_SCORES`, naming the search and column. These
//! functions hold no state: any number of threads may call them at once.

use btp_core::eval::{self, IdentificationCurve, IdentificationPoint, SearchScores};

use crate::arrays::{free_array, into_raw, OutArray};
use crate::error::{btp_result, FfiResult};
use crate::guard::{ffi_call, ffi_free};
use crate::ptr::{self, Out};

/// FNIR and FPIR, with their counts, at one threshold and rank.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct btp_fnir_fpir_point {
    /// The threshold: a candidate is returned iff its score `>= threshold`.
    pub threshold: f64,
    /// The rank a mate must reach to count as found.
    pub rank: usize,
    /// False negative identification rate `misses / mated`.
    pub fnir: f64,
    /// False positive identification rate `false_positives / nonmated`.
    pub fpir: f64,
    /// Mated searches whose mate was not returned at that rank and threshold.
    pub misses: u64,
    /// Number of mated searches.
    pub mated: u64,
    /// Non-mated searches with a top score `>= threshold`.
    pub false_positives: u64,
    /// Number of non-mated searches.
    pub nonmated: u64,
}

impl From<IdentificationPoint> for btp_fnir_fpir_point {
    fn from(p: IdentificationPoint) -> Self {
        Self {
            threshold: p.threshold,
            rank: p.rank,
            fnir: p.fnir,
            fpir: p.fpir,
            misses: p.misses,
            mated: p.mated,
            false_positives: p.false_positives,
            nonmated: p.nonmated,
        }
    }
}

/// The FNIR/FPIR trade-off: `fpir[i]` and `fnir[i]` at `thresholds[i]`,
/// `len` points each, thresholds increasing and ending at `+inf`. The
/// arrays belong to the library: release them with
/// `btp_fnir_fpir_curve_free`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct btp_fnir_fpir_curve {
    /// The thresholds.
    pub thresholds: *mut f64,
    /// FPIR at each threshold (non-increasing).
    pub fpir: *mut f64,
    /// FNIR at each threshold (non-decreasing).
    pub fnir: *mut f64,
    /// Number of points of each array.
    pub len: usize,
}

impl btp_fnir_fpir_curve {
    const EMPTY: Self = Self {
        thresholds: std::ptr::null_mut(),
        fpir: std::ptr::null_mut(),
        fnir: std::ptr::null_mut(),
        len: 0,
    };
}

impl From<IdentificationCurve> for btp_fnir_fpir_curve {
    fn from(c: IdentificationCurve) -> Self {
        let (thresholds, len) = into_raw(c.thresholds);
        let (fpir, _) = into_raw(c.fpir);
        let (fnir, _) = into_raw(c.fnir);
        Self {
            thresholds,
            fpir,
            fnir,
            len,
        }
    }
}

/// Runs `f` on the searches of `(scores, scores_len)` with `n_gallery`
/// columns and the mates `(mates, mates_len)`.
///
/// # Safety
/// `scores`, `mates` NULL or their lengths of readable values.
unsafe fn with_searches<T>(
    scores: *const f64,
    scores_len: usize,
    n_gallery: usize,
    mates: *const i64,
    mates_len: usize,
    f: impl FnOnce(&SearchScores<'_>) -> btp_core::Result<T>,
) -> FfiResult<T> {
    // SAFETY: per the contract.
    let s = unsafe { ptr::slice(scores, scores_len, "scores") }?;
    // SAFETY: per the contract.
    let m = unsafe { ptr::slice(mates, mates_len, "mates") }?;
    let mates = eval::mates_from_signed(m)?;
    Ok(f(&SearchScores::new(s, n_gallery, &mates)?)?)
}

/// The cumulative match characteristic: `(*out)[r - 1]` is the fraction of
/// mated searches whose mate is at rank `r` or better, for `r` = 1 to
/// `max_rank` (at least 1; a larger value than the gallery, such as
/// `SIZE_MAX`, is the gallery size). Release `*out` with
/// `btp_array_f64_free(*out, *out_len)`. `BTP_RESULT_INVALID_SCORES`
/// without a mated search.
///
/// # Safety
/// `scores` NULL or `scores_len` readable doubles; `mates` NULL or
/// `mates_len` readable `int64_t`; `out`, `out_len` NULL or writable.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn btp_eval_cmc(
    scores: *const f64,
    scores_len: usize,
    n_gallery: usize,
    mates: *const i64,
    mates_len: usize,
    max_rank: usize,
    out: *mut *mut f64,
    out_len: *mut usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_eval_cmc", || unsafe {
        let out = OutArray::new(out, out_len, "out", "out_len")?;
        let rates = with_searches(scores, scores_len, n_gallery, mates, mates_len, |s| {
            eval::cmc(s, max_rank)
        })?;
        out.set(rates);
        Ok(())
    })
}

/// FNIR at rank `rank` (at least 1) and the threshold whose FPIR is at most
/// `target_fpir` (in [0, 1]), chosen on the non-mated top scores as
/// `btp_eval_threshold_at_fmr` chooses on impostor scores.
/// `BTP_RESULT_INVALID_SCORES` without mated or without non-mated
/// searches.
///
/// # Safety
/// As `btp_eval_cmc`; `out` NULL or writable.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn btp_eval_fnir_at_fpir(
    scores: *const f64,
    scores_len: usize,
    n_gallery: usize,
    mates: *const i64,
    mates_len: usize,
    rank: usize,
    target_fpir: f64,
    out: *mut btp_fnir_fpir_point,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_eval_fnir_at_fpir", || unsafe {
        let out = Out::new(out, "out")?;
        let p = with_searches(scores, scores_len, n_gallery, mates, mates_len, |s| {
            eval::fnir_at_fpir(s, rank, target_fpir)
        })?;
        out.write(p.into());
        Ok(())
    })
}

/// FNIR and FPIR at rank `rank` (at least 1) and `threshold` (not NaN).
///
/// # Safety
/// As `btp_eval_fnir_at_fpir`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn btp_eval_identification_point(
    scores: *const f64,
    scores_len: usize,
    n_gallery: usize,
    mates: *const i64,
    mates_len: usize,
    rank: usize,
    threshold: f64,
    out: *mut btp_fnir_fpir_point,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_eval_identification_point", || unsafe {
        let out = Out::new(out, "out")?;
        let p = with_searches(scores, scores_len, n_gallery, mates, mates_len, |s| {
            eval::identification_point(s, rank, threshold)
        })?;
        out.write(p.into());
        Ok(())
    })
}

/// The FNIR/FPIR curve at rank `rank` (at least 1) over every threshold
/// that changes either rate. `*out` receives the curve (empty on failure);
/// release it with `btp_fnir_fpir_curve_free`.
///
/// # Safety
/// As `btp_eval_fnir_at_fpir`.
#[no_mangle]
pub unsafe extern "C" fn btp_eval_fnir_fpir_curve(
    scores: *const f64,
    scores_len: usize,
    n_gallery: usize,
    mates: *const i64,
    mates_len: usize,
    rank: usize,
    out: *mut btp_fnir_fpir_curve,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_eval_fnir_fpir_curve", || unsafe {
        let out = Out::new(out, "out")?;
        out.write(btp_fnir_fpir_curve::EMPTY);
        let c = with_searches(scores, scores_len, n_gallery, mates, mates_len, |s| {
            eval::fnir_fpir_curve(s, rank)
        })?;
        out.write(c.into());
        Ok(())
    })
}

/// Releases the arrays of a curve from `btp_eval_fnir_fpir_curve`, wiping
/// them, and leaves `*curve` empty, so that a second call does nothing.
/// NULL, or an empty curve, does nothing.
///
/// # Safety
/// `curve` must be NULL or point to a curve filled by this library (or
/// emptied by a failed call or by this function), whose arrays no other
/// thread is using.
#[no_mangle]
pub unsafe extern "C" fn btp_fnir_fpir_curve_free(curve: *mut btp_fnir_fpir_curve) {
    // SAFETY: the caller passes NULL or a curve of this library (see `# Safety`).
    ffi_free(|| unsafe {
        if let Some(c) = curve.as_mut() {
            free_array(c.thresholds, c.len);
            free_array(c.fpir, c.len);
            free_array(c.fnir, c.len);
            *c = btp_fnir_fpir_curve::EMPTY;
        }
    });
}
