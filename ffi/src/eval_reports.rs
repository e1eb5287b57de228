//! Evaluation reports with a structure of their own: the unlinkability
//! measure with its histogram (`btp_eval_unlinkability_details`), demographic
//! differentials (per-group FMR and FNMR with intervals, their spread and
//! GARBE) and the auditor's protocol (`btp_eval_protection_report`:
//! unprotected, normal and stolen-key accuracy and cross-application
//! unlinkability of one scheme on labelled feature vectors).
//!
//! Results are `#[repr(C)]` structs written through the caller's pointer,
//! emptied first; the arrays inside belong to the library and are released
//! with the report's `*_free`. A value that is undefined (a rate without
//! trials, a ratio without a non-zero minimum, a Gini coefficient of one
//! group) is NaN.

use std::ffi::c_char;

use btp_core::eval::{
    self, DifferentialOptions, Differentials, Disparity, GroupRates, ProtectionReport,
    ProtocolOptions, RateEstimate, ScenarioReport, Unlinkability,
};
use zeroize::DefaultIsZeroes;

use crate::arrays::{free_array, into_raw};
use crate::error::btp_result;
use crate::eval::{btp_eer, btp_operating_point};
use crate::guard::{ffi_call, ffi_free};
use crate::keys::btp_master_key;
use crate::params::btp_params;
use crate::ptr::{self, Out};

/// The unlinkability measure of Gomez-Barrero et al. with the histogram it
/// was computed from: `bins` values in `d_local`, `bin_centres`,
/// `mated_density` and `nonmated_density`, `bins + 1` in `bin_edges`. The
/// arrays belong to the library: release them with
/// `btp_unlinkability_free`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct btp_unlinkability {
    /// The global measure `D<->sys` in [0, 1].
    pub d_sys: f64,
    /// The local measure `D<->(s)` at each bin.
    pub d_local: *mut f64,
    /// The centres of the bins.
    pub bin_centres: *mut f64,
    /// The `bins + 1` bin edges.
    pub bin_edges: *mut f64,
    /// Density of the mated scores in each bin.
    pub mated_density: *mut f64,
    /// Density of the non-mated scores in each bin.
    pub nonmated_density: *mut f64,
    /// Number of bins.
    pub bins: usize,
}

impl btp_unlinkability {
    const EMPTY: Self = Self {
        d_sys: f64::NAN,
        d_local: std::ptr::null_mut(),
        bin_centres: std::ptr::null_mut(),
        bin_edges: std::ptr::null_mut(),
        mated_density: std::ptr::null_mut(),
        nonmated_density: std::ptr::null_mut(),
        bins: 0,
    };
}

impl From<Unlinkability> for btp_unlinkability {
    fn from(u: Unlinkability) -> Self {
        let (d_local, bins) = into_raw(u.d_local);
        Self {
            d_sys: u.d_sys,
            d_local,
            bin_centres: into_raw(u.bin_centres).0,
            bin_edges: into_raw(u.bin_edges).0,
            mated_density: into_raw(u.mated_density).0,
            nonmated_density: into_raw(u.nonmated_density).0,
            bins,
        }
    }
}

/// `btp_eval_unlinkability` with everything it measured: the local measure,
/// the bins and the two score densities (what a plot of unlinkability
/// draws). The arguments are those of `btp_eval_unlinkability`. `*out`
/// receives the result (empty on failure); release it with
/// `btp_unlinkability_free`.
///
/// # Safety
/// `mated`, `nonmated` NULL or their lengths of readable doubles; `out`
/// NULL or writable.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn btp_eval_unlinkability_details(
    mated: *const f64,
    mated_len: usize,
    nonmated: *const f64,
    nonmated_len: usize,
    bins: usize,
    range_lo: f64,
    range_hi: f64,
    omega: f64,
    out: *mut btp_unlinkability,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_eval_unlinkability_details", || unsafe {
        let out = Out::new(out, "out")?;
        out.write(btp_unlinkability::EMPTY);
        let m = ptr::slice(mated, mated_len, "mated")?;
        let n = ptr::slice(nonmated, nonmated_len, "nonmated")?;
        let range = (!(range_lo.is_nan() && range_hi.is_nan())).then_some((range_lo, range_hi));
        out.write(eval::unlinkability(m, n, bins, range, omega)?.into());
        Ok(())
    })
}

/// Releases the arrays of a result of `btp_eval_unlinkability_details`,
/// wiping them, and leaves `*u` empty, so that a second call does nothing.
/// NULL does nothing.
///
/// # Safety
/// `u` must be NULL or point to a result filled by this library (or
/// emptied by a failed call or by this function) that no other thread is
/// using.
#[no_mangle]
pub unsafe extern "C" fn btp_unlinkability_free(u: *mut btp_unlinkability) {
    // SAFETY: the caller passes NULL or a result of this library (see `# Safety`).
    ffi_free(|| unsafe {
        if let Some(u) = u.as_mut() {
            free_array(u.d_local, u.bins);
            free_array(u.bin_centres, u.bins);
            free_array(u.bin_edges, u.bins + 1);
            free_array(u.mated_density, u.bins);
            free_array(u.nonmated_density, u.bins);
            *u = btp_unlinkability::EMPTY;
        }
    });
}

/// An error rate `errors / trials` with its Clopper-Pearson interval.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct btp_rate_estimate {
    /// Number of errors (false matches or false non-matches).
    pub errors: u64,
    /// Number of comparisons of that kind.
    pub trials: u64,
    /// `errors / trials`; NaN when `trials == 0`.
    pub rate: f64,
    /// Lower end of the interval; NaN when `trials == 0`.
    pub lo: f64,
    /// Upper end of the interval; NaN when `trials == 0`.
    pub hi: f64,
}

impl From<RateEstimate> for btp_rate_estimate {
    fn from(r: RateEstimate) -> Self {
        let (lo, hi) = r.interval.unwrap_or((f64::NAN, f64::NAN));
        Self {
            errors: r.errors,
            trials: r.trials,
            rate: r.rate.unwrap_or(f64::NAN),
            lo,
            hi,
        }
    }
}

/// FMR and FNMR of one group.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct btp_group_rates {
    /// The group code given in `groups`.
    pub group: u32,
    /// False match rate of the group's impostor comparisons.
    pub fmr: btp_rate_estimate,
    /// False non-match rate of the group's genuine comparisons.
    pub fnmr: btp_rate_estimate,
}

impl DefaultIsZeroes for btp_group_rates {}

impl From<GroupRates<u32>> for btp_group_rates {
    fn from(g: GroupRates<u32>) -> Self {
        Self {
            group: g.group,
            fmr: g.fmr.into(),
            fnmr: g.fnmr.into(),
        }
    }
}

/// Spread of one error rate across the groups with at least one trial.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct btp_disparity {
    /// Number of groups with a defined rate.
    pub groups: usize,
    /// Smallest defined rate (NaN without one).
    pub min: f64,
    /// Largest defined rate (NaN without one).
    pub max: f64,
    /// `max / min` (`+inf` if `min == 0 < max`, NaN if undefined).
    pub max_min_ratio: f64,
    /// `max / geometric mean` (`+inf` if a rate is 0 and `max > 0`, NaN if
    /// undefined).
    pub max_geomean_ratio: f64,
    /// Gini coefficient with the `n/(n-1)` correction (NaN with fewer than
    /// two groups).
    pub gini: f64,
}

impl From<Disparity> for btp_disparity {
    fn from(d: Disparity) -> Self {
        let nan = |o: Option<f64>| o.unwrap_or(f64::NAN);
        Self {
            groups: d.groups,
            min: nan(d.min),
            max: nan(d.max),
            max_min_ratio: nan(d.max_min_ratio),
            max_geomean_ratio: nan(d.max_geomean_ratio),
            gini: nan(d.gini),
        }
    }
}

/// Demographic differentials at one threshold. `groups` belongs to the
/// library: release it with `btp_differentials_free`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct btp_differentials {
    /// The threshold the rates were measured at.
    pub threshold: f64,
    /// Per-group rates, in ascending group order.
    pub groups: *mut btp_group_rates,
    /// Number of groups.
    pub groups_len: usize,
    /// Spread of FMR across groups.
    pub fmr: btp_disparity,
    /// Spread of FNMR across groups.
    pub fnmr: btp_disparity,
    /// GARBE `alpha * fmr.gini + (1 - alpha) * fnmr.gini` (NaN when either
    /// Gini coefficient is).
    pub garbe: f64,
    /// The `alpha` used.
    pub garbe_alpha: f64,
}

const NO_SPREAD: btp_disparity = btp_disparity {
    groups: 0,
    min: f64::NAN,
    max: f64::NAN,
    max_min_ratio: f64::NAN,
    max_geomean_ratio: f64::NAN,
    gini: f64::NAN,
};

impl btp_differentials {
    const EMPTY: Self = Self {
        threshold: f64::NAN,
        groups: std::ptr::null_mut(),
        groups_len: 0,
        fmr: NO_SPREAD,
        fnmr: NO_SPREAD,
        garbe: f64::NAN,
        garbe_alpha: f64::NAN,
    };
}

impl From<Differentials<u32>> for btp_differentials {
    fn from(d: Differentials<u32>) -> Self {
        let groups = d.groups.into_iter().map(Into::into).collect();
        let (groups, groups_len) = into_raw(groups);
        Self {
            threshold: d.threshold,
            groups,
            groups_len,
            fmr: d.fmr.into(),
            fnmr: d.fnmr.into(),
            garbe: d.garbe.unwrap_or(f64::NAN),
            garbe_alpha: d.garbe_alpha,
        }
    }
}

/// Per-group FMR and FNMR at `threshold` (not NaN) of the comparisons
/// `scores[i]`, genuine when `is_genuine[i]` is 1 and impostor when 0 (any
/// other value is `BTP_RESULT_INVALID_PARAMETER`), of group `groups[i]`
/// (your demographic groups mapped to codes); the three arrays of one
/// length (else `BTP_RESULT_INVALID_SCORES`). Each rate has its
/// Clopper-Pearson interval at `confidence` in (0, 1) (0.95 usual); GARBE
/// weighs the FMR Gini coefficient by `garbe_alpha` in [0, 1] (0.25
/// usual). `*out` receives the report (empty on failure); release it with
/// `btp_differentials_free`.
///
/// # Safety
/// `scores`, `is_genuine`, `groups` NULL or their lengths of readable
/// values; `out` NULL or writable.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn btp_eval_differentials(
    scores: *const f64,
    scores_len: usize,
    is_genuine: *const u8,
    is_genuine_len: usize,
    groups: *const u32,
    groups_len: usize,
    threshold: f64,
    confidence: f64,
    garbe_alpha: f64,
    out: *mut btp_differentials,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_eval_differentials", || unsafe {
        let out = Out::new(out, "out")?;
        out.write(btp_differentials::EMPTY);
        let s = ptr::slice(scores, scores_len, "scores")?;
        let flags = ptr::slice(is_genuine, is_genuine_len, "is_genuine")?;
        let g = ptr::slice(groups, groups_len, "groups")?;
        let genuine = eval::flags_from_bytes(flags, "is_genuine")?;
        let options = DifferentialOptions {
            confidence,
            garbe_alpha,
        };
        out.write(eval::differentials(s, &genuine, g, threshold, &options)?.into());
        Ok(())
    })
}

/// Releases the groups of a report from `btp_eval_differentials`, wiping
/// them, and leaves `*d` empty, so that a second call does nothing. NULL
/// does nothing.
///
/// # Safety
/// `d` must be NULL or point to a report filled by this library (or
/// emptied by a failed call or by this function) that no other thread is
/// using.
#[no_mangle]
pub unsafe extern "C" fn btp_differentials_free(d: *mut btp_differentials) {
    // SAFETY: the caller passes NULL or a report of this library (see `# Safety`).
    ffi_free(|| unsafe {
        if let Some(d) = d.as_mut() {
            free_array(d.groups, d.groups_len);
            *d = btp_differentials::EMPTY;
        }
    });
}

/// Verification accuracy of one scenario of the auditor's protocol.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct btp_scenario {
    /// Equal error rate and its threshold.
    pub eer: btp_eer,
    /// The operating point at the target FMR.
    pub at_target_fmr: btp_operating_point,
    /// Number of genuine pairs.
    pub genuine_pairs: u64,
    /// Number of impostor pairs.
    pub impostor_pairs: u64,
    /// Mean genuine score.
    pub genuine_mean: f64,
    /// Mean impostor score.
    pub impostor_mean: f64,
}

impl From<ScenarioReport> for btp_scenario {
    fn from(s: ScenarioReport) -> Self {
        Self {
            eer: s.eer.into(),
            at_target_fmr: s.at_target_fmr.into(),
            genuine_pairs: s.genuine_pairs,
            impostor_pairs: s.impostor_pairs,
            genuine_mean: s.genuine_mean,
            impostor_mean: s.impostor_mean,
        }
    }
}

const NO_SCENARIO: btp_scenario = btp_scenario {
    eer: btp_eer {
        eer: f64::NAN,
        threshold: f64::NAN,
        fmr: f64::NAN,
        fnmr: f64::NAN,
    },
    at_target_fmr: btp_operating_point {
        threshold: f64::NAN,
        fmr: f64::NAN,
        fnmr: f64::NAN,
        false_matches: 0,
        impostors: 0,
        false_non_matches: 0,
        genuines: 0,
    },
    genuine_pairs: 0,
    impostor_pairs: 0,
    genuine_mean: f64::NAN,
    impostor_mean: f64::NAN,
};

/// What the auditor's protocol measured. `d_local` and `bin_centres`
/// belong to the library: release them with `btp_protection_report_free`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct btp_protection_report {
    /// The code length of the scheme (IoM hashes or BioHash bits).
    pub code_len: usize,
    /// Cosine similarity of the preprocessed feature vectors.
    pub unprotected: btp_scenario,
    /// Protected, one key per subject.
    pub normal: btp_scenario,
    /// Protected, one key for everybody.
    pub stolen_key: btp_scenario,
    /// Cross-application unlinkability `D<->sys` in [0, 1].
    pub d_sys: f64,
    /// The local measure `D<->(s)` at each of `bins` bins.
    pub d_local: *mut f64,
    /// The centres of the bins.
    pub bin_centres: *mut f64,
    /// Number of bins (the length of `d_local` and `bin_centres`).
    pub bins: usize,
    /// Mated linkage pairs scored.
    pub mated_linkage_pairs: u64,
    /// Non-mated linkage pairs scored.
    pub nonmated_linkage_pairs: u64,
}

impl btp_protection_report {
    const EMPTY: Self = Self {
        code_len: 0,
        unprotected: NO_SCENARIO,
        normal: NO_SCENARIO,
        stolen_key: NO_SCENARIO,
        d_sys: f64::NAN,
        d_local: std::ptr::null_mut(),
        bin_centres: std::ptr::null_mut(),
        bins: 0,
        mated_linkage_pairs: 0,
        nonmated_linkage_pairs: 0,
    };
}

impl From<ProtectionReport> for btp_protection_report {
    fn from(r: ProtectionReport) -> Self {
        let (d_local, bins) = into_raw(r.unlinkability.d_local);
        let (bin_centres, _) = into_raw(r.unlinkability.bin_centres);
        Self {
            code_len: r.code_len,
            unprotected: r.unprotected.into(),
            normal: r.normal.into(),
            stolen_key: r.stolen_key.into(),
            d_sys: r.unlinkability.d_sys,
            d_local,
            bin_centres,
            bins,
            mated_linkage_pairs: r.mated_linkage_pairs,
            nonmated_linkage_pairs: r.nonmated_linkage_pairs,
        }
    }
}

/// The auditor's protocol on `rows` (row-major feature vectors of the
/// dimension of `params`) labelled by subject (`labels`, one per row):
/// verification accuracy unprotected, protected with one key per subject
/// and with one stolen key, and the unlinkability of templates of two
/// applications (`application` with `/link-a` and `/link-b` appended, at
/// `version`) under keys derived from `key`. `target_fmr` in [0, 1] is
/// where each scenario's FNMR is read; `bins` (at least 2), the histogram
/// range `[range_lo, range_hi]` (0 and 1 for protected scores) and `omega`
/// (positive) are those of `btp_eval_unlinkability`; at most
/// `max_nonmated_linkage_pairs` (at least 1) non-mated linkage pairs are
/// scored. `*out` receives the report (empty on failure); release it with
/// `btp_protection_report_free`.
///
/// # Safety
/// `rows` NULL or `rows_len` readable floats; `labels` NULL or
/// `labels_len` readable labels; `params`, `key` live handles or NULL;
/// `application` NULL or NUL-terminated; `out` NULL or writable.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn btp_eval_protection_report(
    rows: *const f32,
    rows_len: usize,
    labels: *const u32,
    labels_len: usize,
    params: *const btp_params,
    key: *const btp_master_key,
    application: *const c_char,
    version: u32,
    target_fmr: f64,
    bins: usize,
    range_lo: f64,
    range_hi: f64,
    omega: f64,
    max_nonmated_linkage_pairs: usize,
    out: *mut btp_protection_report,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_eval_protection_report", || unsafe {
        let out = Out::new(out, "out")?;
        out.write(btp_protection_report::EMPTY);
        let rows = ptr::slice(rows, rows_len, "rows")?;
        let labels = ptr::slice(labels, labels_len, "labels")?;
        let params = ptr::handle(params, "params")?;
        let key = ptr::handle(key, "key")?;
        let application = ptr::str(application, "application")?;
        let options = ProtocolOptions {
            application: application.to_owned(),
            version,
            target_fmr,
            unlinkability_bins: bins,
            unlinkability_range: (range_lo, range_hi),
            omega,
            max_nonmated_linkage_pairs,
        };
        let report = eval::protection_report(rows, labels, &params.0, &key.0, &options)
            .map_err(crate::error::FfiError::about("rows"))?;
        out.write(report.into());
        Ok(())
    })
}

/// Releases the curves of a report from `btp_eval_protection_report` and
/// leaves `*report` empty, so that a second call does nothing. NULL does
/// nothing.
///
/// # Safety
/// `report` must be NULL or point to a report filled by this library (or
/// emptied by a failed call or by this function) that no other thread is
/// using.
#[no_mangle]
pub unsafe extern "C" fn btp_protection_report_free(report: *mut btp_protection_report) {
    // SAFETY: the caller passes NULL or a report of this library (see `# Safety`).
    ffi_free(|| unsafe {
        if let Some(r) = report.as_mut() {
            free_array(r.d_local, r.bins);
            free_array(r.bin_centres, r.bins);
            *r = btp_protection_report::EMPTY;
        }
    });
}
