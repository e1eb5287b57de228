//! Labelled scores and samples (in `_native.eval` and
//! `_native.synthetic`): splitting a score matrix by labels
//! (`btp::eval::split_scores`, with the pair indices if asked),
//! the mate column of each probe, linkage scores across two applications
//! and the synthetic population. `btp.eval` turns the caller's labels (of
//! any type) into the `u32` codes these take.

use btp::{eval, synthetic::Population};
use numpy::PyArrayDyn;
use pyo3::prelude::*;

use crate::args::{float_arg, int_arg};
use crate::arrays;
use crate::errors::{param, OrRaise};
use crate::protector::PyProtector;

type Arg<'py> = Bound<'py, PyAny>;
type F64s<'py> = Bound<'py, PyArrayDyn<f64>>;
type I64s<'py> = Bound<'py, PyArrayDyn<i64>>;

/// Label codes in `0..=u32::MAX`, 1-D. Any integer dtype is read, and a
/// value outside the range is refused (numpy's `astype(uint32)` would wrap
/// -1 to 4294967295 and 2**32 to 0, merging distinct labels).
pub fn label_codes(obj: &Arg<'_>, name: &'static str) -> PyResult<Vec<u32>> {
    let v = arrays::ints(obj, name)?;
    v.as_slice()
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            u32::try_from(l).map_err(|_| {
                param(
                    name,
                    format!("label codes must be in 0..=4294967295 (element {i} is not)"),
                )
            })
        })
        .collect()
}

/// A score matrix, its row labels and its column labels (None: the rows').
type Labelled<'py> = (arrays::Input<'py, f64>, Vec<u32>, Option<Vec<u32>>);

/// The score matrix and its labels, checked against each other.
fn matrix_and_labels<'py>(
    scores: &Arg<'py>,
    row_labels: &Arg<'py>,
    column_labels: Option<&Arg<'py>>,
) -> PyResult<Labelled<'py>> {
    let s = arrays::matrix(scores, "scores")?;
    let rows = label_codes(row_labels, "row_labels")?;
    let cols = column_labels
        .map(|c| label_codes(c, "column_labels"))
        .transpose()?;
    let want = [rows.len(), cols.as_ref().map_or(rows.len(), Vec::len)];
    if s.shape() != want {
        return Err(crate::errors::shape(format!(
            "`scores` of shape {:?} does not match the labels ({} x {})",
            s.shape(),
            want[0],
            want[1]
        )));
    }
    Ok((s, rows, cols))
}

/// `(genuine, impostor)` of a labelled score matrix (see
/// `btp::eval::split_scores`).
#[pyfunction]
#[pyo3(name = "split_scores", signature = (scores, row_labels, column_labels = None))]
pub fn eval_split_scores<'py>(
    py: Python<'py>,
    scores: &Arg<'py>,
    row_labels: &Arg<'py>,
    column_labels: Option<&Arg<'py>>,
) -> PyResult<(F64s<'py>, F64s<'py>)> {
    let (s, rows, cols) = matrix_and_labels(scores, row_labels, column_labels)?;
    let (sl, rl, cl) = (s.as_slice(), rows.as_slice(), cols.as_deref());
    let (g, i) = py.detach(|| eval::split_scores(sl, rl, cl)).or_raise()?;
    Ok((arrays::vec1(py, g), arrays::vec1(py, i)))
}

/// `(n, 2)` `int64` array of `[row, column]` pairs.
fn pairs(py: Python<'_>, p: Vec<[usize; 2]>) -> PyResult<I64s<'_>> {
    let n = p.len();
    let mut flat = btp::alloc::with_capacity(2 * n, "the pairs of `scores`").or_raise()?;
    flat.extend(p.into_iter().flat_map(|[i, j]| [i as i64, j as i64]));
    Ok(arrays::vec2(py, flat, n, 2))
}

/// `SplitScores(genuine, impostor, genuine_pairs, impostor_pairs)` (see
/// `btp::eval::split_scores_with_pairs`).
#[pyfunction]
#[pyo3(name = "split_scores_with_pairs", signature = (scores, row_labels, column_labels = None))]
pub fn eval_split_scores_with_pairs<'py>(
    py: Python<'py>,
    scores: &Arg<'py>,
    row_labels: &Arg<'py>,
    column_labels: Option<&Arg<'py>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (s, rows, cols) = matrix_and_labels(scores, row_labels, column_labels)?;
    let (sl, rl, cl) = (s.as_slice(), rows.as_slice(), cols.as_deref());
    let out = py
        .detach(|| eval::split_scores_with_pairs(sl, rl, cl))
        .or_raise()?;
    crate::results::SplitScores::make(
        py,
        arrays::vec1(py, out.genuine),
        arrays::vec1(py, out.impostor),
        pairs(py, out.genuine_pairs)?,
        pairs(py, out.impostor_pairs)?,
    )
}

/// The gallery column of each probe's mate, -1 for none.
#[pyfunction]
#[pyo3(name = "mates")]
pub fn eval_mate_columns<'py>(
    py: Python<'py>,
    probe_labels: &Arg<'py>,
    gallery_labels: &Arg<'py>,
) -> PyResult<I64s<'py>> {
    let p = label_codes(probe_labels, "probe_labels")?;
    let g = label_codes(gallery_labels, "gallery_labels")?;
    let m = eval::mate_columns(&p, &g).or_raise()?;
    Ok(arrays::vec1(py, eval::mates_to_signed(&m)))
}

/// `LinkageScores(mated, nonmated)` of the same samples
/// under two protectors (see `btp::eval::linkage_scores`).
#[pyfunction]
#[pyo3(name = "linkage_scores", signature = (prot_a, codes_a, prot_b, codes_b, labels, max_nonmated))]
pub fn eval_linkage_scores<'py>(
    py: Python<'py>,
    prot_a: &PyProtector,
    codes_a: &Arg<'py>,
    prot_b: &PyProtector,
    codes_b: &Arg<'py>,
    labels: &Arg<'py>,
    max_nonmated: &Arg<'py>,
) -> PyResult<Bound<'py, PyAny>> {
    let max_nonmated = int_arg(max_nonmated, "max_nonmated")?;
    let (a, b) = (&prot_a.inner, &prot_b.inner);
    // A `btp.Codes` array is checked against its protector, as in
    // `Protector.scores` (found by a red-team pass: codes of another key
    // were scored).
    let ca = prot_a.codes_arg(codes_a, "codes_a", &[2])?;
    let cb = prot_b.codes_arg(codes_b, "codes_b", &[2])?;
    let labels = label_codes(labels, "labels")?;
    let (ca, cb, l) = (ca.as_slice(), cb.as_slice(), labels.as_slice());
    let out = py
        .detach(|| eval::linkage_scores(a, ca, b, cb, l, max_nonmated))
        .or_raise()?;
    crate::results::LinkageScores::make(
        py,
        arrays::vec1(py, out.mated),
        arrays::vec1(py, out.nonmated),
    )
}

/// Feature vectors and their labels.
type Dataset<'py> = (Bound<'py, PyArrayDyn<f32>>, Bound<'py, PyArrayDyn<u32>>);

/// A seeded synthetic population: `(x (n, dim) float32, labels (n,) uint32)`.
#[pyfunction]
#[pyo3(name = "population", signature = (subjects, samples, dim, offset, between, within, seed))]
#[allow(clippy::too_many_arguments)]
pub fn synthetic_population<'py>(
    py: Python<'py>,
    subjects: &Arg<'py>,
    samples: &Arg<'py>,
    dim: &Arg<'py>,
    offset: &Arg<'py>,
    between: &Arg<'py>,
    within: &Arg<'py>,
    seed: &Arg<'py>,
) -> PyResult<Dataset<'py>> {
    let p = Population {
        subjects: int_arg(subjects, "subjects")?,
        samples: int_arg(samples, "samples")?,
        dim: int_arg(dim, "dim")?,
        offset: float_arg(offset, "offset")?,
        between: float_arg(between, "between")?,
        within: float_arg(within, "within")?,
        seed: int_arg(seed, "seed")?,
    };
    let d = py.detach(|| p.generate()).or_raise()?;
    let n = d.len();
    Ok((
        arrays::vec2(py, d.rows, n, p.dim),
        arrays::vec1(py, d.labels),
    ))
}

/// Registers the labelled-score functions in `_native.eval`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(eval_split_scores, m)?)?;
    m.add_function(wrap_pyfunction!(eval_split_scores_with_pairs, m)?)?;
    m.add_function(wrap_pyfunction!(eval_mate_columns, m)?)?;
    m.add_function(wrap_pyfunction!(eval_linkage_scores, m)?)?;
    Ok(())
}

/// Makes the submodule `_native.synthetic` (`population`).
pub fn register_synthetic(parent: &Bound<'_, PyModule>) -> PyResult<()> {
    let m = crate::submodule(parent, "synthetic")?;
    m.add_function(wrap_pyfunction!(synthetic_population, &m)?)?;
    Ok(())
}
