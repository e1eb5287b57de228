//! Verification metrics over score arrays: DET and ROC curves, EER, FNMR
//! at one or several target FMRs, the threshold for a target FMR, the
//! error rates at a threshold, the Clopper-Pearson interval of a rate, and
//! unlinkability (`D<->sys`). Identification metrics are in
//! `eval_identification`, labelled score matrices in `eval_labels`.
//!
//! Scores are similarities (accept iff `score >= threshold`) given as
//! `(const double *, size_t)`. Empty arrays, NaN and infinities give
//! `BTP_RESULT_INVALID_SCORES`, whose message names the array and the
//! index of the first bad value, never a value. These functions hold no
//! state: any number of threads may call them at once.

use btp_core::eval::{self, Curve, Eer, OperatingPoint};

use crate::arrays::{free_array, into_raw};
use crate::error::{btp_result, FfiError, FfiResult};
use crate::guard::{ffi_call, ffi_free};
use crate::ptr::{self, Out};

/// An equal error rate and where it was found (the FVC2000 value, as pyeer
/// computes it).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct btp_eer {
    /// `(fmr + fnmr) / 2` at `threshold`.
    pub eer: f64,
    /// The threshold at which the EER was taken.
    pub threshold: f64,
    /// FMR at the threshold.
    pub fmr: f64,
    /// FNMR at the threshold.
    pub fnmr: f64,
}

impl From<Eer> for btp_eer {
    fn from(e: Eer) -> Self {
        Self {
            eer: e.eer,
            threshold: e.threshold,
            fmr: e.fmr,
            fnmr: e.fnmr,
        }
    }
}

/// Error rates and their counts at one threshold (the counts allow a
/// confidence interval on each rate).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct btp_operating_point {
    /// The decision threshold: accept iff `score >= threshold`.
    pub threshold: f64,
    /// False match rate `false_matches / impostors` (the achieved FMR).
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

impl From<OperatingPoint> for btp_operating_point {
    fn from(p: OperatingPoint) -> Self {
        Self {
            threshold: p.threshold,
            fmr: p.fmr,
            fnmr: p.fnmr,
            false_matches: p.false_matches,
            impostors: p.impostors,
            false_non_matches: p.false_non_matches,
            genuines: p.genuines,
        }
    }
}

/// An error-rate curve: `fmr[i]` and `fnmr[i]` at `thresholds[i]`, `len`
/// points each (`+inf` as a threshold stands for "reject every
/// comparison"). The three arrays belong to the library: release them with
/// `btp_curve_free`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct btp_curve {
    /// False match rate at each threshold.
    pub fmr: *mut f64,
    /// False non-match rate at each threshold.
    pub fnmr: *mut f64,
    /// The thresholds.
    pub thresholds: *mut f64,
    /// Number of points of each array.
    pub len: usize,
}

impl btp_curve {
    const EMPTY: Self = Self {
        fmr: std::ptr::null_mut(),
        fnmr: std::ptr::null_mut(),
        thresholds: std::ptr::null_mut(),
        len: 0,
    };
}

impl From<Curve> for btp_curve {
    fn from(c: Curve) -> Self {
        let (thresholds, len) = into_raw(c.thresholds);
        let (fmr, _) = into_raw(c.fmr);
        let (fnmr, _) = into_raw(c.fnmr);
        Self {
            fmr,
            fnmr,
            thresholds,
            len,
        }
    }
}

/// A curve out-pointer, checked non-NULL and emptied at once, so that a
/// failed call leaves an empty curve (which `btp_curve_free` accepts).
///
/// # Safety
/// A non-NULL `p` must be writable.
unsafe fn out_curve(p: *mut btp_curve) -> FfiResult<Out<btp_curve>> {
    let out = Out::new(p, "out")?;
    // SAFETY: writable per the contract.
    unsafe { out.write(btp_curve::EMPTY) };
    Ok(out)
}

/// The equal error rate of genuine (mated) and impostor (non-mated) scores.
///
/// # Safety
/// `genuine` NULL or `genuine_len` readable doubles; `impostor` NULL or
/// `impostor_len` readable doubles; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_eval_eer(
    genuine: *const f64,
    genuine_len: usize,
    impostor: *const f64,
    impostor_len: usize,
    out: *mut btp_eer,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_eval_eer", || unsafe {
        let g = ptr::slice(genuine, genuine_len, "genuine")?;
        let i = ptr::slice(impostor, impostor_len, "impostor")?;
        let out = Out::new(out, "out")?;
        out.write(eval::eer(g, i)?.into());
        Ok(())
    })
}

/// The FNMR at the threshold `btp_eval_threshold_at_fmr` gives for
/// `target_fmr` (in [0, 1], else `BTP_RESULT_INVALID_PARAMETER`), with the
/// threshold, the achieved FMR and the counts.
///
/// # Safety
/// As `btp_eval_eer`.
#[no_mangle]
pub unsafe extern "C" fn btp_eval_fnmr_at_fmr(
    genuine: *const f64,
    genuine_len: usize,
    impostor: *const f64,
    impostor_len: usize,
    target_fmr: f64,
    out: *mut btp_operating_point,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_eval_fnmr_at_fmr", || unsafe {
        let g = ptr::slice(genuine, genuine_len, "genuine")?;
        let i = ptr::slice(impostor, impostor_len, "impostor")?;
        let out = Out::new(out, "out")?;
        out.write(eval::fnmr_at_fmr(g, i, target_fmr)?.into());
        Ok(())
    })
}

/// The smallest threshold among the impostor scores whose FMR is at most
/// `target_fmr` (in [0, 1]); above every impostor score when even the
/// largest would exceed it. `*threshold` receives it and `*fmr` the FMR
/// achieved there.
///
/// # Safety
/// `impostor` NULL or `impostor_len` readable doubles; `threshold` and
/// `fmr` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_eval_threshold_at_fmr(
    impostor: *const f64,
    impostor_len: usize,
    target_fmr: f64,
    threshold: *mut f64,
    fmr: *mut f64,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_eval_threshold_at_fmr", || unsafe {
        let i = ptr::slice(impostor, impostor_len, "impostor")?;
        let threshold = Out::new(threshold, "threshold")?;
        let fmr = Out::new(fmr, "fmr")?;
        let (t, f) = eval::threshold_at_fmr(i, target_fmr)?;
        threshold.write(t);
        fmr.write(f);
        Ok(())
    })
}

/// Unlinkability of mated and non-mated linkage scores (Gomez-Barrero et
/// al., IEEE TIFS 2018, as their reference implementation computes it):
/// `*d_sys` receives the global measure `D<->sys` in [0, 1] (0: unlinkable,
/// 1: fully linkable).
///
/// - `bins`: histogram bins, at least 2 (the reference uses 100).
/// - `range_lo`, `range_hi`: the histogram range (`lo < hi`, scores outside
///   are ignored), or both NaN for the smallest and largest score.
/// - `omega`: the prior ratio P(mated) / P(non-mated), positive (reference:
///   1).
/// - `d_local`, `bin_centres`: optional outputs of the local measure
///   `D<->(s)` and the bin centres, `bins` values each, both of
///   `curve_len` doubles. Pass NULL for one you do not want, and both NULL
///   with `curve_len` 0 for neither (both NULL with a non-zero `curve_len`
///   is `BTP_RESULT_NULL_ARGUMENT`); a non-NULL array needs `curve_len >=
///   bins`, else `BTP_RESULT_BUFFER_TOO_SMALL` (checked first: nothing
///   written).
///
/// # Safety
/// `mated`, `nonmated` NULL or their lengths of readable doubles; `d_sys`
/// NULL or writable; `d_local`, `bin_centres` NULL or `curve_len` writable
/// doubles, not overlapping each other.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn btp_eval_unlinkability(
    mated: *const f64,
    mated_len: usize,
    nonmated: *const f64,
    nonmated_len: usize,
    bins: usize,
    range_lo: f64,
    range_hi: f64,
    omega: f64,
    d_sys: *mut f64,
    d_local: *mut f64,
    bin_centres: *mut f64,
    curve_len: usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_eval_unlinkability", || unsafe {
        let m = ptr::slice(mated, mated_len, "mated")?;
        let n = ptr::slice(nonmated, nonmated_len, "nonmated")?;
        let d_sys = Out::new(d_sys, "d_sys")?;
        if d_local.is_null() && bin_centres.is_null() && curve_len > 0 {
            return Err(FfiError::new(
                btp_result::NullArgument,
                format!(
                    "arguments `d_local` and `bin_centres` are NULL with `curve_len` {curve_len}"
                ),
            ));
        }
        let d_local = opt_curve(d_local, curve_len, "d_local")?;
        let centres = opt_curve(bin_centres, curve_len, "bin_centres")?;
        if (d_local.is_some() || centres.is_some()) && curve_len < bins {
            return Err(FfiError::new(
                btp_result::BufferTooSmall,
                format!("curve_len {curve_len} is too small: {bins} bins"),
            ));
        }
        let range = if range_lo.is_nan() && range_hi.is_nan() {
            None
        } else {
            Some((range_lo, range_hi))
        };
        let u = eval::unlinkability(m, n, bins, range, omega)?;
        d_sys.write(u.d_sys);
        if let Some(d) = d_local {
            d[..u.d_local.len()].copy_from_slice(&u.d_local);
        }
        if let Some(c) = centres {
            c[..u.bin_centres.len()].copy_from_slice(&u.bin_centres);
        }
        Ok(())
    })
}

/// The DET curve of genuine and impostor scores, thresholds increasing:
/// the points of scikit-learn's `det_curve`. `*out` receives the curve
/// (empty on failure); release it with `btp_curve_free`.
///
/// # Safety
/// `genuine` NULL or `genuine_len` readable doubles; `impostor` NULL or
/// `impostor_len` readable doubles; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_eval_det(
    genuine: *const f64,
    genuine_len: usize,
    impostor: *const f64,
    impostor_len: usize,
    out: *mut btp_curve,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_eval_det", || unsafe {
        let out = out_curve(out)?;
        let g = ptr::slice(genuine, genuine_len, "genuine")?;
        let i = ptr::slice(impostor, impostor_len, "impostor")?;
        out.write(eval::det(g, i)?.into());
        Ok(())
    })
}

/// The ROC curve of genuine and impostor scores, thresholds decreasing:
/// the points of scikit-learn's `roc_curve` (`1 - fnmr` is its true
/// positive rate). `*out` receives the curve (empty on failure); release
/// it with `btp_curve_free`.
///
/// # Safety
/// As `btp_eval_det`.
#[no_mangle]
pub unsafe extern "C" fn btp_eval_roc(
    genuine: *const f64,
    genuine_len: usize,
    impostor: *const f64,
    impostor_len: usize,
    out: *mut btp_curve,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_eval_roc", || unsafe {
        let out = out_curve(out)?;
        let g = ptr::slice(genuine, genuine_len, "genuine")?;
        let i = ptr::slice(impostor, impostor_len, "impostor")?;
        out.write(eval::roc(g, i)?.into());
        Ok(())
    })
}

/// Releases the arrays of a curve from `btp_eval_det` / `btp_eval_roc`,
/// wiping them, and leaves `*curve` empty (NULL arrays, `len` 0), so that
/// a second call does nothing. NULL, or an empty curve, does nothing.
///
/// # Safety
/// `curve` must be NULL or point to a curve filled by this library (or
/// emptied by a failed call or by this function), whose arrays no other
/// thread is using.
#[no_mangle]
pub unsafe extern "C" fn btp_curve_free(curve: *mut btp_curve) {
    // SAFETY: the caller passes NULL or a curve of this library (see `# Safety`).
    ffi_free(|| unsafe {
        if let Some(c) = curve.as_mut() {
            free_array(c.fmr, c.len);
            free_array(c.fnmr, c.len);
            free_array(c.thresholds, c.len);
            *c = btp_curve::EMPTY;
        }
    });
}

/// `btp_eval_fnmr_at_fmr` for each of `targets_len` target FMRs (each in
/// [0, 1]) with one sort of the scores: `out[i]` receives the operating
/// point of `targets[i]`. `out_len` must be at least `targets_len`, else
/// `BTP_RESULT_BUFFER_TOO_SMALL` and nothing is written.
///
/// # Safety
/// `genuine`, `impostor`, `targets` NULL or their lengths of readable
/// doubles; `out` NULL or `out_len` writable operating points.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn btp_eval_fnmr_at_fmrs(
    genuine: *const f64,
    genuine_len: usize,
    impostor: *const f64,
    impostor_len: usize,
    targets: *const f64,
    targets_len: usize,
    out: *mut btp_operating_point,
    out_len: usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_eval_fnmr_at_fmrs", || unsafe {
        let g = ptr::slice(genuine, genuine_len, "genuine")?;
        let i = ptr::slice(impostor, impostor_len, "impostor")?;
        let t = ptr::slice(targets, targets_len, "targets")?;
        let dst = ptr::slice_mut(out, out_len, "out")?;
        ptr::fits(dst.len(), t.len(), "operating points")?;
        let points = eval::fnmr_at_fmrs(g, i, t).map_err(FfiError::renaming(&TARGETS))?;
        for (slot, p) in dst.iter_mut().zip(points) {
            *slot = p.into();
        }
        Ok(())
    })
}

/// The core names a target FMR `target_fmr`; here they are `targets`.
const TARGETS: [(&str, &str); 1] = [("target_fmr", "targets")];

/// The error rates and their counts at `threshold` (not NaN): accept iff
/// `score >= threshold`.
///
/// # Safety
/// As `btp_eval_eer`.
#[no_mangle]
pub unsafe extern "C" fn btp_eval_operating_point(
    genuine: *const f64,
    genuine_len: usize,
    impostor: *const f64,
    impostor_len: usize,
    threshold: f64,
    out: *mut btp_operating_point,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_eval_operating_point", || unsafe {
        let g = ptr::slice(genuine, genuine_len, "genuine")?;
        let i = ptr::slice(impostor, impostor_len, "impostor")?;
        let out = Out::new(out, "out")?;
        out.write(eval::operating_point(g, i, threshold)?.into());
        Ok(())
    })
}

/// The exact (Clopper-Pearson) confidence interval `[*lo, *hi]` of a rate
/// of `errors` in `trials` (`trials >= 1`, `errors <= trials`) at
/// `confidence` in (0, 1), such as 0.95. Comparisons sharing a subject are
/// correlated, so for a population of people this interval is too narrow.
///
/// # Safety
/// `lo`, `hi` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_eval_clopper_pearson(
    errors: u64,
    trials: u64,
    confidence: f64,
    lo: *mut f64,
    hi: *mut f64,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_eval_clopper_pearson", || unsafe {
        let lo = Out::new(lo, "lo")?;
        let hi = Out::new(hi, "hi")?;
        let (l, h) = eval::clopper_pearson(errors, trials, confidence)?;
        lo.write(l);
        hi.write(h);
        Ok(())
    })
}

/// An optional output array: NULL is `None` (the length is that of the
/// other curve).
unsafe fn opt_curve<'a>(
    p: *mut f64,
    len: usize,
    name: &str,
) -> crate::error::FfiResult<Option<&'a mut [f64]>> {
    if p.is_null() {
        Ok(None)
    } else {
        // SAFETY: `len` writable doubles per the caller's contract.
        unsafe { ptr::slice_mut(p, len, name) }.map(Some)
    }
}
