//! `_native.eval`: the evaluation functions of `btp::eval`, each returning
//! its typed result (`btp.eval.Eer`, ...; see [`crate::results`]), so that
//! `btp.eval` only turns labels of any type into codes before calling
//! them. Every function runs without the GIL. Scalar arguments arrive as
//! Python objects and go through [`crate::args`], so a negative or huge
//! integer, a bool or a string is an `InvalidParameterError` naming the
//! argument, never an `OverflowError`. The labelled score matrices (split,
//! mates, linkage) are in [`crate::labelled`] and registered here too.

use btp::eval::{self, DifferentialOptions, ProtocolOptions, SearchScores};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::args::{float_arg, int_arg, opt_int_arg, opt_pair_arg, Text};
use crate::arrays;
use crate::errors::{param, OrRaise};
use crate::keys::PyMasterKey;
use crate::results;
use crate::scheme::PyScheme;

type Arg<'py> = Bound<'py, PyAny>;
type Obj<'py> = PyResult<Bound<'py, PyAny>>;

fn point(py: Python<'_>, p: eval::OperatingPoint) -> Obj<'_> {
    results::OperatingPoint::make(
        py,
        p.threshold,
        p.fmr,
        p.fnmr,
        p.false_matches,
        p.impostors,
        p.false_non_matches,
        p.genuines,
    )
}

/// `f` of the genuine and impostor scores (read in place), without the GIL.
fn over_scores<T: Send>(
    py: Python<'_>,
    genuine: &Arg<'_>,
    impostor: &Arg<'_>,
    f: impl FnOnce(&[f64], &[f64]) -> btp::Result<T> + Send,
) -> PyResult<T> {
    let (g, i) = (
        arrays::floats(genuine, "genuine")?,
        arrays::floats(impostor, "impostor")?,
    );
    let (g, i) = (g.as_slice(), i.as_slice());
    py.detach(|| f(g, i)).or_raise()
}

/// `DetCurve(fmr, fnmr, thresholds)`, thresholds increasing.
#[pyfunction]
pub fn det<'py>(py: Python<'py>, genuine: &Arg<'py>, impostor: &Arg<'py>) -> Obj<'py> {
    let c = over_scores(py, genuine, impostor, eval::det)?;
    let (fmr, fnmr, t) = (c.fmr, c.fnmr, c.thresholds);
    results::DetCurve::make(
        py,
        arrays::vec1(py, fmr),
        arrays::vec1(py, fnmr),
        arrays::vec1(py, t),
    )
}

/// `RocCurve(fmr, fnmr, thresholds)`, thresholds decreasing.
#[pyfunction]
pub fn roc<'py>(py: Python<'py>, genuine: &Arg<'py>, impostor: &Arg<'py>) -> Obj<'py> {
    let c = over_scores(py, genuine, impostor, eval::roc)?;
    let (fmr, fnmr, t) = (c.fmr, c.fnmr, c.thresholds);
    results::RocCurve::make(
        py,
        arrays::vec1(py, fmr),
        arrays::vec1(py, fnmr),
        arrays::vec1(py, t),
    )
}

/// Checks scores as every metric does (non-empty, finite), naming `role`.
#[pyfunction]
pub fn check_scores(scores: &Arg<'_>, role: &str) -> PyResult<()> {
    let s = arrays::floats(scores, "scores")?;
    eval::check_scores(role, s.as_slice()).or_raise()
}

/// `Eer(eer, threshold, fmr, fnmr)`.
#[pyfunction]
pub fn eer<'py>(py: Python<'py>, genuine: &Arg<'py>, impostor: &Arg<'py>) -> Obj<'py> {
    let e = over_scores(py, genuine, impostor, eval::eer)?;
    results::Eer::make(py, e.eer, e.threshold, e.fmr, e.fnmr)
}

/// The smallest threshold whose FMR is at most `target_fmr`.
#[pyfunction]
pub fn threshold_at_fmr(py: Python<'_>, impostor: &Arg<'_>, target_fmr: &Arg<'_>) -> PyResult<f64> {
    let target_fmr = float_arg(target_fmr, "fmr")?;
    let i = arrays::floats(impostor, "impostor")?;
    let i = i.as_slice();
    let (threshold, _achieved) = py
        .detach(|| eval::threshold_at_fmr(i, target_fmr))
        .or_raise()?;
    Ok(threshold)
}

/// `FnmrAtFmr(fnmr, threshold, achieved_fmr)` at the threshold of
/// `target_fmr`.
#[pyfunction]
pub fn fnmr_at_fmr<'py>(
    py: Python<'py>,
    genuine: &Arg<'py>,
    impostor: &Arg<'py>,
    target_fmr: &Arg<'py>,
) -> Obj<'py> {
    let target_fmr = float_arg(target_fmr, "fmr")?;
    let p = over_scores(py, genuine, impostor, |g, i| {
        eval::fnmr_at_fmr(g, i, target_fmr)
    })?;
    results::FnmrAtFmr::make(py, p.fnmr, p.threshold, p.fmr)
}

/// `FnmrAtFmrs(target_fmr, fnmr, threshold, achieved_fmr)`: arrays aligned
/// with the targets.
#[pyfunction]
pub fn fnmr_at_fmrs<'py>(
    py: Python<'py>,
    genuine: &Arg<'py>,
    impostor: &Arg<'py>,
    targets: &Arg<'py>,
) -> Obj<'py> {
    let t = arrays::floats(targets, "fmr")?;
    let t = t.as_slice();
    let points = over_scores(py, genuine, impostor, |g, i| eval::fnmr_at_fmrs(g, i, t))?;
    let column = |f: fn(&eval::OperatingPoint) -> f64| {
        arrays::vec1(py, points.iter().map(f).collect::<Vec<f64>>())
    };
    results::FnmrAtFmrs::make(
        py,
        arrays::vec1(py, t.to_vec()),
        column(|p| p.fnmr),
        column(|p| p.threshold),
        column(|p| p.fmr),
    )
}

/// `OperatingPoint` at `threshold`.
#[pyfunction]
pub fn operating_point<'py>(
    py: Python<'py>,
    genuine: &Arg<'py>,
    impostor: &Arg<'py>,
    threshold: &Arg<'py>,
) -> Obj<'py> {
    let threshold = float_arg(threshold, "threshold")?;
    let p = over_scores(py, genuine, impostor, |g, i| {
        eval::operating_point(g, i, threshold)
    })?;
    point(py, p)
}

/// Clopper-Pearson interval `(lo, hi)`.
#[pyfunction]
pub fn clopper_pearson(
    py: Python<'_>,
    errors: &Arg<'_>,
    trials: &Arg<'_>,
    confidence: &Arg<'_>,
) -> PyResult<(f64, f64)> {
    let (e, t, c) = (
        int_arg(errors, "errors")?,
        int_arg(trials, "trials")?,
        float_arg(confidence, "confidence")?,
    );
    // Without the GIL, as every other evaluation: large counts take long
    // (see docs/dev-notes.md).
    py.detach(|| eval::clopper_pearson(e, t, c)).or_raise()
}

fn mates_of(mates: &Arg<'_>) -> PyResult<Vec<Option<usize>>> {
    eval::mates_from_signed(arrays::ints(mates, "mates")?.as_slice()).or_raise()
}

/// Runs `f` on the validated searches of a score matrix and its mates.
fn with_searches<T: Send>(
    py: Python<'_>,
    scores: &Arg<'_>,
    mates: &Arg<'_>,
    f: impl FnOnce(&SearchScores<'_>) -> btp::Result<T> + Send,
) -> PyResult<T> {
    let s = arrays::matrix(scores, "scores")?;
    let n_gallery = s.shape()[1];
    let mates = mates_of(mates)?;
    if mates.len() != s.shape()[0] {
        return Err(param(
            "mates",
            format!(
                "one mate per search (row) is needed: {} rows, {} mates",
                s.shape()[0],
                mates.len()
            ),
        ));
    }
    let slice = s.as_slice();
    py.detach(|| f(&SearchScores::new(slice, n_gallery, &mates)?))
        .or_raise()
}

/// Rank-1..=max_rank identification rates; `max_rank=None` (and any
/// larger value) is the gallery size.
#[pyfunction]
#[pyo3(signature = (scores, mates, max_rank = None))]
pub fn cmc<'py>(
    py: Python<'py>,
    scores: &Arg<'py>,
    mates: &Arg<'py>,
    max_rank: Option<&Arg<'py>>,
) -> Obj<'py> {
    let max_rank = opt_int_arg::<usize>(max_rank, "max_rank")?.unwrap_or(usize::MAX);
    let c = with_searches(py, scores, mates, |s| eval::cmc(s, max_rank))?;
    Ok(arrays::vec1(py, c).into_any())
}

/// `FnirAtFpir(fnir, threshold, achieved_fpir)` at the threshold that
/// gives FPIR <= target.
#[pyfunction]
pub fn fnir_at_fpir<'py>(
    py: Python<'py>,
    scores: &Arg<'py>,
    mates: &Arg<'py>,
    rank: &Arg<'py>,
    target_fpir: &Arg<'py>,
) -> Obj<'py> {
    let (rank, target_fpir) = (int_arg(rank, "rank")?, float_arg(target_fpir, "fpir")?);
    let p = with_searches(py, scores, mates, |s| {
        eval::fnir_at_fpir(s, rank, target_fpir)
    })?;
    results::FnirAtFpir::make(py, p.fnir, p.threshold, p.fpir)
}

/// `IdentificationPoint`: FNIR and FPIR at a threshold.
#[pyfunction]
pub fn identification_point<'py>(
    py: Python<'py>,
    scores: &Arg<'py>,
    mates: &Arg<'py>,
    rank: &Arg<'py>,
    threshold: &Arg<'py>,
) -> Obj<'py> {
    let (rank, threshold) = (int_arg(rank, "rank")?, float_arg(threshold, "threshold")?);
    let p = with_searches(py, scores, mates, |s| {
        eval::identification_point(s, rank, threshold)
    })?;
    results::IdentificationPoint::make(
        py,
        p.threshold,
        p.rank,
        p.fnir,
        p.fpir,
        p.misses,
        p.mated,
        p.false_positives,
        p.nonmated,
    )
}

/// `IdentificationCurve(thresholds, fpir, fnir)`.
#[pyfunction]
pub fn fnir_fpir_curve<'py>(
    py: Python<'py>,
    scores: &Arg<'py>,
    mates: &Arg<'py>,
    rank: &Arg<'py>,
) -> Obj<'py> {
    let rank = int_arg(rank, "rank")?;
    let c = with_searches(py, scores, mates, |s| eval::fnir_fpir_curve(s, rank))?;
    results::IdentificationCurve::make(
        py,
        arrays::vec1(py, c.thresholds),
        arrays::vec1(py, c.fpir),
        arrays::vec1(py, c.fnir),
    )
}

fn rate<'py>(py: Python<'py>, r: &eval::RateEstimate) -> Obj<'py> {
    results::RateEstimate::make(py, r.errors, r.trials, r.rate, r.interval)
}

fn spread<'py>(py: Python<'py>, d: &eval::Disparity) -> Obj<'py> {
    results::Disparity::make(
        py,
        d.groups,
        d.min,
        d.max,
        d.max_min_ratio,
        d.max_geomean_ratio,
        d.gini,
    )
}

/// `Differentials` at a threshold: `groups` are codes, keyed in the result
/// by `names[code]` (the caller's labels).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn differentials<'py>(
    py: Python<'py>,
    scores: &Arg<'py>,
    is_genuine: &Arg<'py>,
    groups: &Arg<'py>,
    names: &Arg<'py>,
    threshold: &Arg<'py>,
    confidence: &Arg<'py>,
    garbe_alpha: &Arg<'py>,
) -> Obj<'py> {
    let (threshold, confidence, garbe_alpha) = (
        float_arg(threshold, "threshold")?,
        float_arg(confidence, "confidence")?,
        float_arg(garbe_alpha, "garbe_alpha")?,
    );
    let s = arrays::floats(scores, "scores")?;
    let genuine = flags(is_genuine, "is_genuine")?;
    let groups = crate::labelled::label_codes(groups, "groups")?;
    let (s, genuine, groups) = (s.as_slice(), genuine.as_slice(), groups.as_slice());
    let d = py
        .detach(|| {
            eval::differentials(
                s,
                genuine,
                groups,
                threshold,
                &DifferentialOptions {
                    confidence,
                    garbe_alpha,
                },
            )
        })
        .or_raise()?;
    let by_group = PyDict::new(py);
    for r in &d.groups {
        let name = names
            .get_item(r.group)
            .map_err(|_| param("names", "every group code has a name"))?;
        let rates = results::GroupRates::make(py, rate(py, &r.fmr)?, rate(py, &r.fnmr)?)?;
        by_group.set_item(name, rates)?;
    }
    results::Differentials::make(
        py,
        d.threshold,
        by_group,
        spread(py, &d.fmr)?,
        spread(py, &d.fnmr)?,
        d.garbe,
        d.garbe_alpha,
    )
}

/// Genuine flags: 0 or 1 each (`bool` arrays arrive as `uint8`); anything
/// else is refused, never read as "not zero".
fn flags(obj: &Arg<'_>, name: &'static str) -> PyResult<Vec<bool>> {
    eval::flags_from_ints(arrays::ints(obj, name)?.as_slice(), name).or_raise()
}

fn linkage(
    py: Python<'_>,
    mated: &Arg<'_>,
    nonmated: &Arg<'_>,
    bins: &Arg<'_>,
    range: Option<&Arg<'_>>,
    omega: &Arg<'_>,
) -> PyResult<eval::Unlinkability> {
    let (bins, range, omega) = (
        int_arg(bins, "bins")?,
        opt_pair_arg(range, "range")?,
        float_arg(omega, "omega")?,
    );
    let (m, n) = (
        arrays::floats(mated, "mated")?,
        arrays::floats(nonmated, "nonmated")?,
    );
    let (m, n) = (m.as_slice(), n.as_slice());
    py.detach(|| eval::unlinkability(m, n, bins, range, omega))
        .or_raise()
}

/// `UnlinkabilityDetails(d_sys, d_local, bin_centres, bin_edges,
/// mated_density, nonmated_density)`.
#[pyfunction]
#[pyo3(signature = (mated, nonmated, bins, range, omega))]
pub fn unlinkability_details<'py>(
    py: Python<'py>,
    mated: &Arg<'py>,
    nonmated: &Arg<'py>,
    bins: &Arg<'py>,
    range: Option<&Arg<'py>>,
    omega: &Arg<'py>,
) -> Obj<'py> {
    let u = linkage(py, mated, nonmated, bins, range, omega)?;
    results::UnlinkabilityDetails::make(
        py,
        u.d_sys,
        arrays::vec1(py, u.d_local),
        arrays::vec1(py, u.bin_centres),
        arrays::vec1(py, u.bin_edges),
        arrays::vec1(py, u.mated_density),
        arrays::vec1(py, u.nonmated_density),
    )
}

fn unlinkability_of(py: Python<'_>, u: eval::Unlinkability) -> Obj<'_> {
    results::Unlinkability::make(
        py,
        u.d_sys,
        arrays::vec1(py, u.d_local),
        arrays::vec1(py, u.bin_centres),
    )
}

/// `Unlinkability(d_sys, d_local, bin_centres)`.
#[pyfunction]
#[pyo3(signature = (mated, nonmated, bins, range, omega))]
pub fn unlinkability<'py>(
    py: Python<'py>,
    mated: &Arg<'py>,
    nonmated: &Arg<'py>,
    bins: &Arg<'py>,
    range: Option<&Arg<'py>>,
    omega: &Arg<'py>,
) -> Obj<'py> {
    let u = linkage(py, mated, nonmated, bins, range, omega)?;
    unlinkability_of(py, u)
}

fn scenario<'py>(py: Python<'py>, s: &eval::ScenarioReport) -> Obj<'py> {
    results::ScenarioReport::make(
        py,
        s.eer.eer,
        s.eer.threshold,
        point(py, s.at_target_fmr)?,
        s.genuine_pairs,
        s.impostor_pairs,
        s.genuine_mean,
        s.impostor_mean,
    )
}

/// The auditor protocol: a `ProtectionReport`.
#[pyfunction]
#[pyo3(signature = (x, labels, scheme, mk, application, version, target_fmr, bins, range, omega, max_nonmated_linkage_pairs))]
#[allow(clippy::too_many_arguments)]
pub fn protection_report<'py>(
    py: Python<'py>,
    x: &Arg<'py>,
    labels: &Arg<'py>,
    scheme: &PyScheme,
    mk: &PyMasterKey,
    application: Text,
    version: &Arg<'py>,
    target_fmr: &Arg<'py>,
    bins: &Arg<'py>,
    range: &Arg<'py>,
    omega: &Arg<'py>,
    max_nonmated_linkage_pairs: &Arg<'py>,
) -> Obj<'py> {
    let options = ProtocolOptions {
        application: application.into_string(),
        version: int_arg(version, "version")?,
        target_fmr: float_arg(target_fmr, "target_fmr")?,
        unlinkability_bins: int_arg(bins, "bins")?,
        unlinkability_range: opt_pair_arg(Some(range), "range")?
            .ok_or_else(|| param("range", "must be a pair (lo, hi) of real numbers"))?,
        omega: float_arg(omega, "omega")?,
        max_nonmated_linkage_pairs: int_arg(
            max_nonmated_linkage_pairs,
            "max_nonmated_linkage_pairs",
        )?,
    };
    let rows = arrays::features_of_dim(x, "x", &[2], scheme.params.dim())?;
    let labels = crate::labelled::label_codes(labels, "labels")?;
    let (r, l) = (rows.as_slice(), labels.as_slice());
    let report = py
        .detach(|| eval::protection_report(r, l, &scheme.params, &mk.key, &options))
        .or_raise()?;
    results::ProtectionReport::make(
        py,
        report.scheme.name(),
        report.code_len,
        scenario(py, &report.unprotected)?,
        scenario(py, &report.normal)?,
        scenario(py, &report.stolen_key)?,
        unlinkability_of(py, report.unlinkability)?,
        report.mated_linkage_pairs,
        report.nonmated_linkage_pairs,
    )
}

/// Makes the submodule `_native.eval` (importable as `btp._native.eval`)
/// with the functions of this module and of [`crate::labelled`].
pub fn register(parent: &Bound<'_, PyModule>) -> PyResult<()> {
    let m = crate::submodule(parent, "eval")?;
    m.add_function(wrap_pyfunction!(det, &m)?)?;
    m.add_function(wrap_pyfunction!(roc, &m)?)?;
    m.add_function(wrap_pyfunction!(check_scores, &m)?)?;
    m.add_function(wrap_pyfunction!(eer, &m)?)?;
    m.add_function(wrap_pyfunction!(threshold_at_fmr, &m)?)?;
    m.add_function(wrap_pyfunction!(fnmr_at_fmr, &m)?)?;
    m.add_function(wrap_pyfunction!(fnmr_at_fmrs, &m)?)?;
    m.add_function(wrap_pyfunction!(operating_point, &m)?)?;
    m.add_function(wrap_pyfunction!(clopper_pearson, &m)?)?;
    m.add_function(wrap_pyfunction!(cmc, &m)?)?;
    m.add_function(wrap_pyfunction!(fnir_at_fpir, &m)?)?;
    m.add_function(wrap_pyfunction!(identification_point, &m)?)?;
    m.add_function(wrap_pyfunction!(fnir_fpir_curve, &m)?)?;
    m.add_function(wrap_pyfunction!(differentials, &m)?)?;
    m.add_function(wrap_pyfunction!(unlinkability, &m)?)?;
    m.add_function(wrap_pyfunction!(unlinkability_details, &m)?)?;
    m.add_function(wrap_pyfunction!(protection_report, &m)?)?;
    crate::labelled::register(&m)?;
    Ok(())
}
