//! Evaluation functions of `btp::eval`, flat and private (`_native.eval_*`):
//! `btp.eval` checks labels and wraps the plain tuples returned here into
//! its named result types. Every function runs without the GIL. Scalar
//! arguments arrive as Python objects and go through [`crate::args`], so a
//! negative or huge integer, a bool or a string is an
//! `InvalidParameterError` naming the argument, never an `OverflowError`.
//! Labelled score matrices (split, mates, linkage) are in
//! [`crate::labelled`].

use btp::eval::{self, DifferentialOptions, ProtocolOptions, SearchScores};
use numpy::PyArrayDyn;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::args::{float_arg, int_arg, opt_int_arg, opt_pair_arg, Text};
use crate::arrays;
use crate::errors::{param, OrRaise};
use crate::scheme::{PyMasterKey, PyScheme};

type Arg<'py> = Bound<'py, PyAny>;

type F64s<'py> = Bound<'py, PyArrayDyn<f64>>;

/// (threshold, fmr, fnmr, false_matches, impostors, false_non_matches, genuines)
type Point = (f64, f64, f64, u64, u64, u64, u64);

fn point(p: eval::OperatingPoint) -> Point {
    (
        p.threshold,
        p.fmr,
        p.fnmr,
        p.false_matches,
        p.impostors,
        p.false_non_matches,
        p.genuines,
    )
}

/// (threshold, rank, fnir, fpir, misses, mated, false_positives, nonmated)
type IdPoint = (f64, usize, f64, f64, u64, u64, u64, u64);

fn id_point(p: eval::IdentificationPoint) -> IdPoint {
    (
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

fn curve(py: Python<'_>, c: eval::Curve) -> (F64s<'_>, F64s<'_>, F64s<'_>) {
    (
        arrays::vec1(py, c.fmr),
        arrays::vec1(py, c.fnmr),
        arrays::vec1(py, c.thresholds),
    )
}

/// `f` of the genuine and impostor scores (read in place), without the GIL.
fn over_scores<T: Send>(
    py: Python<'_>,
    genuine: &Bound<'_, PyAny>,
    impostor: &Bound<'_, PyAny>,
    f: impl FnOnce(&[f64], &[f64]) -> btp::Result<T> + Send,
) -> PyResult<T> {
    let (g, i) = (
        arrays::floats(genuine, "genuine")?,
        arrays::floats(impostor, "impostor")?,
    );
    let (g, i) = (g.as_slice(), i.as_slice());
    py.detach(|| f(g, i)).or_raise()
}

/// DET curve: `(fmr, fnmr, thresholds)`, thresholds increasing.
#[pyfunction]
pub fn eval_det<'py>(
    py: Python<'py>,
    genuine: &Bound<'py, PyAny>,
    impostor: &Bound<'py, PyAny>,
) -> PyResult<(F64s<'py>, F64s<'py>, F64s<'py>)> {
    Ok(curve(py, over_scores(py, genuine, impostor, eval::det)?))
}

/// ROC curve: `(fmr, fnmr, thresholds)`, thresholds decreasing.
#[pyfunction]
pub fn eval_roc<'py>(
    py: Python<'py>,
    genuine: &Bound<'py, PyAny>,
    impostor: &Bound<'py, PyAny>,
) -> PyResult<(F64s<'py>, F64s<'py>, F64s<'py>)> {
    Ok(curve(py, over_scores(py, genuine, impostor, eval::roc)?))
}

/// Checks scores as every metric does (non-empty, finite), naming `role`.
#[pyfunction]
pub fn eval_check_scores(scores: &Arg<'_>, role: &str) -> PyResult<()> {
    let s = arrays::floats(scores, "scores")?;
    eval::check_scores(role, s.as_slice()).or_raise()
}

/// `(eer, threshold, fmr, fnmr)`.
#[pyfunction]
pub fn eval_eer(
    py: Python<'_>,
    genuine: &Bound<'_, PyAny>,
    impostor: &Bound<'_, PyAny>,
) -> PyResult<(f64, f64, f64, f64)> {
    let e = over_scores(py, genuine, impostor, eval::eer)?;
    Ok((e.eer, e.threshold, e.fmr, e.fnmr))
}

/// `(threshold, achieved_fmr)`.
#[pyfunction]
pub fn eval_threshold_at_fmr(
    py: Python<'_>,
    impostor: &Bound<'_, PyAny>,
    target_fmr: &Arg<'_>,
) -> PyResult<(f64, f64)> {
    let target_fmr = float_arg(target_fmr, "fmr")?;
    let i = arrays::floats(impostor, "impostor")?;
    let i = i.as_slice();
    py.detach(|| eval::threshold_at_fmr(i, target_fmr))
        .or_raise()
}

/// The operating point at the threshold of `target_fmr`.
#[pyfunction]
pub fn eval_fnmr_at_fmr(
    py: Python<'_>,
    genuine: &Bound<'_, PyAny>,
    impostor: &Bound<'_, PyAny>,
    target_fmr: &Arg<'_>,
) -> PyResult<Point> {
    let target_fmr = float_arg(target_fmr, "fmr")?;
    over_scores(py, genuine, impostor, |g, i| {
        eval::fnmr_at_fmr(g, i, target_fmr)
    })
    .map(point)
}

/// The operating points at the thresholds of several target FMRs.
#[pyfunction]
pub fn eval_fnmr_at_fmrs(
    py: Python<'_>,
    genuine: &Bound<'_, PyAny>,
    impostor: &Bound<'_, PyAny>,
    targets: &Arg<'_>,
) -> PyResult<Vec<Point>> {
    let t = arrays::floats(targets, "fmr")?;
    let t = t.as_slice();
    over_scores(py, genuine, impostor, |g, i| eval::fnmr_at_fmrs(g, i, t))
        .map(|v| v.into_iter().map(point).collect())
}

/// The operating point at `threshold`.
#[pyfunction]
pub fn eval_operating_point(
    py: Python<'_>,
    genuine: &Bound<'_, PyAny>,
    impostor: &Bound<'_, PyAny>,
    threshold: &Arg<'_>,
) -> PyResult<Point> {
    let threshold = float_arg(threshold, "threshold")?;
    over_scores(py, genuine, impostor, |g, i| {
        eval::operating_point(g, i, threshold)
    })
    .map(point)
}

/// Clopper-Pearson interval `(lo, hi)`.
#[pyfunction]
pub fn eval_clopper_pearson(
    errors: &Arg<'_>,
    trials: &Arg<'_>,
    confidence: &Arg<'_>,
) -> PyResult<(f64, f64)> {
    eval::clopper_pearson(
        int_arg(errors, "errors")?,
        int_arg(trials, "trials")?,
        float_arg(confidence, "confidence")?,
    )
    .or_raise()
}

fn mates_of(mates: &Bound<'_, PyAny>) -> PyResult<Vec<Option<usize>>> {
    let m = arrays::ints(mates, "mates")?;
    m.as_slice()
        .iter()
        .map(|&c| match c {
            -1 => Ok(None),
            c if c >= 0 => Ok(Some(c as usize)),
            _ => Err(param("mates", "a mate is a gallery column, or -1 for none")),
        })
        .collect()
}

/// Runs `f` on the validated searches of a score matrix and its mates.
fn with_searches<T: Send>(
    py: Python<'_>,
    scores: &Bound<'_, PyAny>,
    mates: &Bound<'_, PyAny>,
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
pub fn eval_cmc<'py>(
    py: Python<'py>,
    scores: &Bound<'py, PyAny>,
    mates: &Bound<'py, PyAny>,
    max_rank: Option<&Arg<'py>>,
) -> PyResult<F64s<'py>> {
    let max_rank = opt_int_arg::<usize>(max_rank, "max_rank")?.unwrap_or(usize::MAX);
    let c = with_searches(py, scores, mates, |s| eval::cmc(s, max_rank))?;
    Ok(arrays::vec1(py, c))
}

/// FNIR at the threshold that gives FPIR <= target.
#[pyfunction]
pub fn eval_fnir_at_fpir(
    py: Python<'_>,
    scores: &Bound<'_, PyAny>,
    mates: &Bound<'_, PyAny>,
    rank: &Arg<'_>,
    target_fpir: &Arg<'_>,
) -> PyResult<IdPoint> {
    let (rank, target_fpir) = (int_arg(rank, "rank")?, float_arg(target_fpir, "fpir")?);
    with_searches(py, scores, mates, |s| {
        eval::fnir_at_fpir(s, rank, target_fpir)
    })
    .map(id_point)
}

/// FNIR and FPIR at a threshold.
#[pyfunction]
pub fn eval_identification_point(
    py: Python<'_>,
    scores: &Bound<'_, PyAny>,
    mates: &Bound<'_, PyAny>,
    rank: &Arg<'_>,
    threshold: &Arg<'_>,
) -> PyResult<IdPoint> {
    let (rank, threshold) = (int_arg(rank, "rank")?, float_arg(threshold, "threshold")?);
    with_searches(py, scores, mates, |s| {
        eval::identification_point(s, rank, threshold)
    })
    .map(id_point)
}

/// `(thresholds, fpir, fnir)`.
#[pyfunction]
pub fn eval_fnir_fpir_curve<'py>(
    py: Python<'py>,
    scores: &Bound<'py, PyAny>,
    mates: &Bound<'py, PyAny>,
    rank: &Arg<'py>,
) -> PyResult<(F64s<'py>, F64s<'py>, F64s<'py>)> {
    let rank = int_arg(rank, "rank")?;
    let c = with_searches(py, scores, mates, |s| eval::fnir_fpir_curve(s, rank))?;
    Ok((
        arrays::vec1(py, c.thresholds),
        arrays::vec1(py, c.fpir),
        arrays::vec1(py, c.fnir),
    ))
}

/// (errors, trials, rate, interval)
type Rate = (u64, u64, Option<f64>, Option<(f64, f64)>);
/// (groups, min, max, max_min_ratio, max_geomean_ratio, gini)
type Spread = (
    usize,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
);

fn rate(r: &eval::RateEstimate) -> Rate {
    (r.errors, r.trials, r.rate, r.interval)
}

fn spread(d: &eval::Disparity) -> Spread {
    (
        d.groups,
        d.min,
        d.max,
        d.max_min_ratio,
        d.max_geomean_ratio,
        d.gini,
    )
}

/// Per-group rates at a threshold: `(threshold, [(group, fmr, fnmr)],
/// fmr_spread, fnmr_spread, garbe, garbe_alpha)`; groups are the codes
/// given.
#[pyfunction]
#[allow(clippy::type_complexity)]
pub fn eval_differentials(
    py: Python<'_>,
    scores: &Bound<'_, PyAny>,
    is_genuine: &Bound<'_, PyAny>,
    groups: &Bound<'_, PyAny>,
    threshold: &Arg<'_>,
    confidence: &Arg<'_>,
    garbe_alpha: &Arg<'_>,
) -> PyResult<(
    f64,
    Vec<(u32, Rate, Rate)>,
    Spread,
    Spread,
    Option<f64>,
    f64,
)> {
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
    Ok((
        d.threshold,
        d.groups
            .iter()
            .map(|r| (r.group, rate(&r.fmr), rate(&r.fnmr)))
            .collect(),
        spread(&d.fmr),
        spread(&d.fnmr),
        d.garbe,
        d.garbe_alpha,
    ))
}

/// Genuine flags: 0 or 1 each (`bool` arrays arrive as `uint8`); anything
/// else is refused, never read as "not zero".
fn flags(obj: &Arg<'_>, name: &'static str) -> PyResult<Vec<bool>> {
    let v = arrays::ints(obj, name)?;
    v.as_slice()
        .iter()
        .enumerate()
        .map(|(i, &f)| match f {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(param(name, format!("must be 0 or 1 (element {i} is not)"))),
        })
        .collect()
}

/// `(d_sys, d_local, bin_centres, bin_edges, mated_density, nonmated_density)`.
#[pyfunction]
#[pyo3(signature = (mated, nonmated, bins, range, omega))]
#[allow(clippy::type_complexity)]
pub fn eval_unlinkability<'py>(
    py: Python<'py>,
    mated: &Bound<'py, PyAny>,
    nonmated: &Bound<'py, PyAny>,
    bins: &Arg<'py>,
    range: Option<&Arg<'py>>,
    omega: &Arg<'py>,
) -> PyResult<(f64, F64s<'py>, F64s<'py>, F64s<'py>, F64s<'py>, F64s<'py>)> {
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
    let u = py
        .detach(|| eval::unlinkability(m, n, bins, range, omega))
        .or_raise()?;
    Ok((
        u.d_sys,
        arrays::vec1(py, u.d_local),
        arrays::vec1(py, u.bin_centres),
        arrays::vec1(py, u.bin_edges),
        arrays::vec1(py, u.mated_density),
        arrays::vec1(py, u.nonmated_density),
    ))
}

fn scenario<'py>(py: Python<'py>, s: &eval::ScenarioReport) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("eer", s.eer.eer)?;
    d.set_item("eer_threshold", s.eer.threshold)?;
    d.set_item("at_target_fmr", point(s.at_target_fmr))?;
    d.set_item("genuine_pairs", s.genuine_pairs)?;
    d.set_item("impostor_pairs", s.impostor_pairs)?;
    d.set_item("genuine_mean", s.genuine_mean)?;
    d.set_item("impostor_mean", s.impostor_mean)?;
    Ok(d)
}

/// The auditor protocol; a dict that `btp.eval.protection_report` wraps.
#[pyfunction]
#[pyo3(signature = (x, labels, scheme, mk, application, version, target_fmr, bins, range, omega, max_nonmated_linkage_pairs))]
#[allow(clippy::too_many_arguments)]
pub fn eval_protection_report<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    labels: &Bound<'py, PyAny>,
    scheme: &PyScheme,
    mk: &PyMasterKey,
    application: Text,
    version: &Arg<'py>,
    target_fmr: &Arg<'py>,
    bins: &Arg<'py>,
    range: &Arg<'py>,
    omega: &Arg<'py>,
    max_nonmated_linkage_pairs: &Arg<'py>,
) -> PyResult<Bound<'py, PyDict>> {
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
    let d = PyDict::new(py);
    d.set_item("scheme", report.scheme.name())?;
    d.set_item("code_len", report.code_len)?;
    d.set_item("unprotected", scenario(py, &report.unprotected)?)?;
    d.set_item("normal", scenario(py, &report.normal)?)?;
    d.set_item("stolen_key", scenario(py, &report.stolen_key)?)?;
    let u = report.unlinkability;
    d.set_item(
        "unlinkability",
        (
            u.d_sys,
            arrays::vec1(py, u.d_local),
            arrays::vec1(py, u.bin_centres),
        ),
    )?;
    d.set_item("mated_linkage_pairs", report.mated_linkage_pairs)?;
    d.set_item("nonmated_linkage_pairs", report.nonmated_linkage_pairs)?;
    Ok(d)
}

/// Registers the functions of this module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(eval_det, m)?)?;
    m.add_function(wrap_pyfunction!(eval_roc, m)?)?;
    m.add_function(wrap_pyfunction!(eval_eer, m)?)?;
    m.add_function(wrap_pyfunction!(eval_threshold_at_fmr, m)?)?;
    m.add_function(wrap_pyfunction!(eval_fnmr_at_fmr, m)?)?;
    m.add_function(wrap_pyfunction!(eval_operating_point, m)?)?;
    m.add_function(wrap_pyfunction!(eval_clopper_pearson, m)?)?;
    m.add_function(wrap_pyfunction!(eval_cmc, m)?)?;
    m.add_function(wrap_pyfunction!(eval_fnir_at_fpir, m)?)?;
    m.add_function(wrap_pyfunction!(eval_identification_point, m)?)?;
    m.add_function(wrap_pyfunction!(eval_fnir_fpir_curve, m)?)?;
    m.add_function(wrap_pyfunction!(eval_differentials, m)?)?;
    m.add_function(wrap_pyfunction!(eval_unlinkability, m)?)?;
    m.add_function(wrap_pyfunction!(eval_protection_report, m)?)?;
    m.add_function(wrap_pyfunction!(eval_check_scores, m)?)?;
    m.add_function(wrap_pyfunction!(eval_fnmr_at_fmrs, m)?)?;
    Ok(())
}
