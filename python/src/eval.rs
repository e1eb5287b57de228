//! Evaluation functions of `btp::eval`, flat and private (`_native.eval_*`):
//! `btp.eval` converts arguments and wraps the plain tuples returned here
//! into its named result types. Every function runs without the GIL.

use btp::eval::{self, DifferentialOptions, ProtocolOptions, SearchScores};
use btp::{batch, synthetic::Population};
use numpy::PyArrayDyn;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::arrays;
use crate::errors::{param, OrRaise};
use crate::scheme::{PyMasterKey, PyScheme};

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
    target_fmr: f64,
) -> PyResult<(f64, f64)> {
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
    target_fmr: f64,
) -> PyResult<Point> {
    over_scores(py, genuine, impostor, |g, i| {
        eval::fnmr_at_fmr(g, i, target_fmr)
    })
    .map(point)
}

/// The operating point at `threshold`.
#[pyfunction]
pub fn eval_operating_point(
    py: Python<'_>,
    genuine: &Bound<'_, PyAny>,
    impostor: &Bound<'_, PyAny>,
    threshold: f64,
) -> PyResult<Point> {
    over_scores(py, genuine, impostor, |g, i| {
        eval::operating_point(g, i, threshold)
    })
    .map(point)
}

/// Clopper-Pearson interval `(lo, hi)`.
#[pyfunction]
pub fn eval_clopper_pearson(errors: u64, trials: u64, confidence: f64) -> PyResult<(f64, f64)> {
    eval::clopper_pearson(errors, trials, confidence).or_raise()
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

/// Rank-1..=max_rank identification rates.
#[pyfunction]
pub fn eval_cmc<'py>(
    py: Python<'py>,
    scores: &Bound<'py, PyAny>,
    mates: &Bound<'py, PyAny>,
    max_rank: usize,
) -> PyResult<F64s<'py>> {
    let c = with_searches(py, scores, mates, |s| eval::cmc(s, max_rank))?;
    Ok(arrays::vec1(py, c))
}

/// FNIR at the threshold that gives FPIR <= target.
#[pyfunction]
pub fn eval_fnir_at_fpir(
    py: Python<'_>,
    scores: &Bound<'_, PyAny>,
    mates: &Bound<'_, PyAny>,
    rank: usize,
    target_fpir: f64,
) -> PyResult<IdPoint> {
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
    rank: usize,
    threshold: f64,
) -> PyResult<IdPoint> {
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
    rank: usize,
) -> PyResult<(F64s<'py>, F64s<'py>, F64s<'py>)> {
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
    threshold: f64,
    confidence: f64,
    garbe_alpha: f64,
) -> PyResult<(
    f64,
    Vec<(u32, Rate, Rate)>,
    Spread,
    Spread,
    Option<f64>,
    f64,
)> {
    let s = arrays::floats(scores, "scores")?;
    let g = arrays::labels(is_genuine, "is_genuine")?;
    let groups = arrays::labels(groups, "groups")?;
    let (s, g, groups) = (s.as_slice(), g.as_slice(), groups.as_slice());
    let d = py
        .detach(|| {
            let genuine: Vec<bool> = g.iter().map(|&v| v != 0).collect();
            eval::differentials(
                s,
                &genuine,
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

/// `(d_sys, d_local, bin_centres, bin_edges, mated_density, nonmated_density)`.
#[pyfunction]
#[pyo3(signature = (mated, nonmated, bins, range, omega))]
#[allow(clippy::type_complexity)]
pub fn eval_unlinkability<'py>(
    py: Python<'py>,
    mated: &Bound<'py, PyAny>,
    nonmated: &Bound<'py, PyAny>,
    bins: usize,
    range: Option<(f64, f64)>,
    omega: f64,
) -> PyResult<(f64, F64s<'py>, F64s<'py>, F64s<'py>, F64s<'py>, F64s<'py>)> {
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
    application: String,
    version: u32,
    target_fmr: f64,
    bins: usize,
    range: (f64, f64),
    omega: f64,
    max_nonmated_linkage_pairs: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let rows = arrays::features_of_dim(x, "x", &[2], scheme.params.dim())?;
    let labels = arrays::labels(labels, "labels")?;
    let options = ProtocolOptions {
        application,
        version,
        target_fmr,
        unlinkability_bins: bins,
        unlinkability_range: range,
        omega,
        max_nonmated_linkage_pairs,
    };
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

/// `(genuine, impostor)` of a labelled score matrix (see
/// `btp::batch::split_scores`).
#[pyfunction]
#[pyo3(signature = (scores, row_labels, column_labels = None))]
pub fn eval_split_scores<'py>(
    py: Python<'py>,
    scores: &Bound<'py, PyAny>,
    row_labels: &Bound<'py, PyAny>,
    column_labels: Option<&Bound<'py, PyAny>>,
) -> PyResult<(F64s<'py>, F64s<'py>)> {
    let s = arrays::matrix(scores, "scores")?;
    let rows = arrays::labels(row_labels, "row_labels")?;
    let cols = column_labels
        .map(|c| arrays::labels(c, "column_labels"))
        .transpose()?;
    if s.shape()
        != [
            rows.as_slice().len(),
            cols.as_ref()
                .map_or(rows.as_slice().len(), |c| c.as_slice().len()),
        ]
    {
        return Err(crate::errors::shape(format!(
            "`scores` of shape {:?} does not match the labels",
            s.shape()
        )));
    }
    let (sl, rl, cl) = (
        s.as_slice(),
        rows.as_slice(),
        cols.as_ref().map(|c| c.as_slice()),
    );
    let (g, i) = py.detach(|| batch::split_scores(sl, rl, cl)).or_raise()?;
    Ok((arrays::vec1(py, g), arrays::vec1(py, i)))
}

/// The gallery column of each probe's mate, -1 for none.
#[pyfunction]
pub fn eval_mate_columns<'py>(
    py: Python<'py>,
    probe_labels: &Bound<'py, PyAny>,
    gallery_labels: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyArrayDyn<i64>>> {
    let p = arrays::labels(probe_labels, "probe_labels")?;
    let g = arrays::labels(gallery_labels, "gallery_labels")?;
    let m = batch::mate_columns(p.as_slice(), g.as_slice()).or_raise()?;
    Ok(arrays::vec1(
        py,
        m.into_iter().map(|c| c.map_or(-1, |c| c as i64)).collect(),
    ))
}

/// Feature vectors and their labels.
type Dataset<'py> = (Bound<'py, PyArrayDyn<f32>>, Bound<'py, PyArrayDyn<u32>>);

/// A seeded synthetic population: `(x (n, dim) float32, labels (n,) uint32)`.
#[pyfunction]
#[pyo3(signature = (subjects, samples, dim, offset, between, within, seed))]
#[allow(clippy::too_many_arguments)]
pub fn synthetic_population<'py>(
    py: Python<'py>,
    subjects: usize,
    samples: usize,
    dim: usize,
    offset: f64,
    between: f64,
    within: f64,
    seed: u64,
) -> PyResult<Dataset<'py>> {
    let p = Population {
        subjects,
        samples,
        dim,
        offset,
        between,
        within,
        seed,
    };
    let d = py.detach(|| p.generate()).or_raise()?;
    let n = d.len();
    Ok((arrays::vec2(py, d.rows, n, dim), arrays::vec1(py, d.labels)))
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
    m.add_function(wrap_pyfunction!(eval_split_scores, m)?)?;
    m.add_function(wrap_pyfunction!(eval_mate_columns, m)?)?;
    m.add_function(wrap_pyfunction!(synthetic_population, m)?)?;
    Ok(())
}
