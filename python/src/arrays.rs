//! numpy arrays in and out.
//!
//! Input: a C-contiguous array of the native element type (`float32`
//! features, `uint64` codes) is read in place, without a copy, through a
//! read-only borrow. Anything else is converted once: `float64` (or
//! integer) features to `float32`, any other sequence through
//! `numpy.asarray`, a non-contiguous view by copying it in C order, an
//! unaligned one (or one whose strides are not whole elements) by numpy.
//!
//! Copies made here (a `float64` batch converted to `float32`, a
//! non-contiguous view) are wiped when dropped: feature vectors are
//! biometric data. A conversion numpy makes (a list, an integer array) is
//! numpy's memory and is freed, not wiped.
//!
//! Output: vectors computed by the core are moved into new numpy arrays,
//! without a copy.
//!
//! While a batch call runs without the GIL, another Python thread could
//! write into an input array that is read in place; the result would then be
//! made from a mix of old and new values. Do not modify arrays while a call
//! that reads them runs.

use numpy::ndarray::{ArrayD, ArrayViewD, IxDyn};
use numpy::prelude::*;
use numpy::{Element, PyArrayDyn, PyReadonlyArrayDyn, PyUntypedArray};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use zeroize::{Zeroize, Zeroizing};

use crate::errors::{param, shape};

/// Element types read from numpy: copies of them are wiped on drop.
pub trait Elem: Element + Copy + Zeroize {}
impl<T: Element + Copy + Zeroize> Elem for T {}

/// The elements of an input array: borrowed from numpy or copied.
enum Data<'py, T: Elem> {
    Borrowed(PyReadonlyArrayDyn<'py, T>),
    Owned(Zeroizing<Vec<T>>),
}

/// An input array, row-major, with its shape.
pub struct Input<'py, T: Elem> {
    data: Data<'py, T>,
    shape: Vec<usize>,
    /// Whether numpy made a converted copy first (dtype or sequence).
    converted: bool,
}

impl<T: Elem> Input<'_, T> {
    /// The elements in C order.
    pub fn as_slice(&self) -> &[T] {
        match &self.data {
            Data::Borrowed(a) => a.as_slice().expect("checked contiguous"),
            Data::Owned(v) => v,
        }
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Rows: the first dimension (1 for a 1-D array).
    pub fn rows(&self) -> usize {
        if self.shape.len() == 1 {
            1
        } else {
            self.shape[0]
        }
    }

    /// Whether the caller's array is read in place (no copy was made).
    pub fn borrowed(&self) -> bool {
        !self.converted && matches!(self.data, Data::Borrowed(_))
    }
}

static ASARRAY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// `numpy.asarray(obj)`; a ragged nesting is a `DimensionError` naming
/// the argument `what`, not numpy's `ValueError`.
pub fn asarray<'py>(obj: &Bound<'py, PyAny>, what: &'static str) -> PyResult<Bound<'py, PyAny>> {
    let py = obj.py();
    ASARRAY
        .get_or_try_init(py, || {
            Ok::<_, PyErr>(py.import("numpy")?.getattr("asarray")?.unbind())
        })?
        .bind(py)
        .call1((obj,))
        .map_err(|e| {
            if e.is_instance_of::<PyValueError>(py) {
                shape(format!("`{what}` must be a rectangular array"))
            } else {
                e
            }
        })
}

/// What an input array holds.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Floating point (features, scores).
    Float,
    /// Unsigned integers (codes, ids).
    Unsigned,
    /// Signed integers.
    Signed,
    /// Anything else (bool, complex, strings, objects).
    Other,
}

/// An array of `T` from any array-like of a numeric kind in `accept`, with
/// `ndim` dimensions (one of `ndims`). `what` names the argument in errors;
/// `layout` describes the expected shape for messages, e.g. `(n, dim)`.
fn input<'py, T: Elem>(
    obj: &Bound<'py, PyAny>,
    what: &'static str,
    accept: &[Kind],
    ndims: &[usize],
    layout: &str,
) -> PyResult<Input<'py, T>> {
    let py = obj.py();
    let mut converted = false;
    let arr = if obj.cast::<PyUntypedArray>().is_ok() {
        obj.clone()
    } else {
        converted = true;
        asarray(obj, what)?
    };
    let untyped = arr.cast::<PyUntypedArray>()?;
    let ndim = untyped.ndim();
    if !ndims.contains(&ndim) {
        return Err(shape(format!(
            "`{what}` must be an array of shape {layout}, got {ndim} dimension(s)"
        )));
    }
    let dtype = untyped.dtype();
    let target = numpy::dtype::<T>(py);
    let arr = if dtype.is_equiv_to(&target) && well_behaved(untyped) {
        arr
    } else if dtype.is_equiv_to(&target) {
        converted = true;
        arr.call_method1("astype", (target,))?
    } else {
        let kind = match dtype.kind() {
            b'f' => Kind::Float,
            b'u' => Kind::Unsigned,
            b'i' => Kind::Signed,
            _ => Kind::Other,
        };
        if !accept.contains(&kind) {
            return Err(param(
                what,
                format!(
                    "elements of dtype {} cannot be used here",
                    dtype.str().map(|s| s.to_string()).unwrap_or_default()
                ),
            ));
        }
        converted = true;
        let out = arr.call_method1("astype", (target.clone(),))?;
        // numpy wraps an integer the target cannot hold (-1 becomes
        // 2**64 - 1, 2**64 - 1 becomes -1: "no mate" in `btp.eval`).
        // Checked once the copy was made, so that a huge view costs no scan.
        let negative = |a: &Bound<'py, PyAny>| -> PyResult<bool> {
            a.call_method1("__lt__", (0,))?
                .call_method0("any")?
                .is_truthy()
        };
        match (kind, target.kind()) {
            (Kind::Signed, b'u') if negative(&arr)? => {
                return Err(param(what, "holds a negative integer"));
            }
            (Kind::Unsigned, b'i') if negative(&out)? => {
                return Err(param(what, "holds an integer past 2**63 - 1"));
            }
            _ => out,
        }
    };
    let typed = arr.cast::<PyArrayDyn<T>>()?;
    let ro = typed.try_readonly()?;
    let shape = ro.shape().to_vec();
    // `as_slice` also accepts Fortran order: only C order is row-major.
    let data = if typed.is_c_contiguous() && ro.as_slice().is_ok() {
        Data::Borrowed(ro)
    } else {
        Data::Owned(copy(&ro.as_array(), what, |&v| v)?)
    };
    Ok(Input {
        data,
        shape,
        converted,
    })
}

/// Whether an array of the element type it claims can be viewed by Rust:
/// aligned, and every stride a multiple of the element size. A field of a
/// structured array (`rec["a"]` of `[("a", "f4"), ("b", "u1")]`, a 5-byte
/// stride) or a view at an odd offset of a buffer is neither: rust-numpy
/// would view it with its strides divided by the element size, reading the
/// wrong elements. numpy copies such an array (`astype`) first.
fn well_behaved(a: &Bound<'_, PyUntypedArray>) -> bool {
    let size = a.dtype().itemsize().max(1) as isize;
    a.is_aligned() && a.strides().iter().all(|s| s % size == 0)
}

/// The elements of `a` in row-major order (`iter` walks the logical order
/// whatever the strides), converted by `f` into a buffer wiped on drop. The
/// size is the caller's (a broadcast view of a few bytes can claim 10**12
/// elements): too large for memory is `OutOfMemoryError`, never an abort.
fn copy<T: Copy, U: Zeroize>(
    a: &ArrayViewD<'_, T>,
    what: &'static str,
    f: impl Fn(&T) -> U,
) -> PyResult<Zeroizing<Vec<U>>> {
    let mut out = btp::alloc::with_capacity(a.len(), what).map_err(crate::errors::to_py)?;
    out.extend(a.iter().map(f));
    Ok(Zeroizing::new(out))
}

/// Feature vectors: `float32` read in place, `float64` converted here
/// (into a buffer wiped on drop), other real dtypes converted by numpy.
pub fn features<'py>(
    obj: &Bound<'py, PyAny>,
    what: &'static str,
    ndims: &[usize],
) -> PyResult<Input<'py, f32>> {
    let layout = if ndims == [1] { "(dim,)" } else { "(n, dim)" };
    // uint64 is the dtype of packed codes. A `btp.Codes` never gets here,
    // but numpy functions (concatenate, vstack, arithmetic) return plain
    // arrays: such codes taken as features would be protected again and
    // match nothing, silently whenever the code's word count equals the
    // dimension.
    if obj.cast::<PyArrayDyn<u64>>().is_ok() {
        return Err(param(
            what,
            "is a uint64 array, the type of packed codes: pass codes as btp.Codes \
             (numpy functions such as concatenate return plain arrays: wrap the result \
             with Protector.as_codes) and features as floats",
        ));
    }
    if let Some(wide) = obj
        .cast::<PyArrayDyn<f64>>()
        .ok()
        .filter(|a| well_behaved(a.as_untyped()))
    {
        let ro = wide.try_readonly()?;
        let ndim = ro.ndim();
        if !ndims.contains(&ndim) {
            return Err(shape(format!(
                "`{what}` must be an array of shape {layout}, got {ndim} dimension(s)"
            )));
        }
        let narrow = copy(&ro.as_array(), what, |&v| v as f32)?;
        return Ok(Input {
            data: Data::Owned(narrow),
            shape: ro.shape().to_vec(),
            converted: true,
        });
    }
    input(
        obj,
        what,
        &[Kind::Float, Kind::Signed, Kind::Unsigned],
        ndims,
        layout,
    )
}

/// Feature vectors of exactly `dim` columns.
pub fn features_of_dim<'py>(
    obj: &Bound<'py, PyAny>,
    what: &'static str,
    ndims: &[usize],
    dim: usize,
) -> PyResult<Input<'py, f32>> {
    let x = features(obj, what, ndims)?;
    let got = *x.shape().last().expect("at least one dimension");
    if got != dim {
        return Err(crate::errors::to_py(btp::Error::WrongDimension {
            expected: dim,
            got,
        }));
    }
    Ok(x)
}

/// Packed codes of `words` words each: `uint64` read in place.
pub fn codes<'py>(
    obj: &Bound<'py, PyAny>,
    what: &'static str,
    ndims: &[usize],
    words: usize,
) -> PyResult<Input<'py, u64>> {
    let layout = if ndims == [1] {
        "(words,)"
    } else {
        "(n, words)"
    };
    let c: Input<'py, u64> = input(obj, what, &[Kind::Unsigned, Kind::Signed], ndims, layout)?;
    let got = *c.shape().last().expect("at least one dimension");
    if got != words {
        return Err(shape(format!(
            "`{what}` must have {words} words per code (the protector's code), got {got}"
        )));
    }
    Ok(c)
}

/// Scores (or any `float64` vector): 1-D.
pub fn floats<'py>(obj: &Bound<'py, PyAny>, what: &'static str) -> PyResult<Input<'py, f64>> {
    input(
        obj,
        what,
        &[Kind::Float, Kind::Signed, Kind::Unsigned],
        &[1],
        "(n,)",
    )
}

/// A row-major score matrix: 2-D `float64`.
pub fn matrix<'py>(obj: &Bound<'py, PyAny>, what: &'static str) -> PyResult<Input<'py, f64>> {
    input(
        obj,
        what,
        &[Kind::Float, Kind::Signed, Kind::Unsigned],
        &[2],
        "(rows, columns)",
    )
}

/// A 1-D array of signed 64-bit integers.
pub fn ints<'py>(obj: &Bound<'py, PyAny>, what: &'static str) -> PyResult<Input<'py, i64>> {
    input(obj, what, &[Kind::Unsigned, Kind::Signed], &[1], "(n,)")
}

/// A 2-D array of signed 64-bit integers.
pub fn int_matrix<'py>(obj: &Bound<'py, PyAny>, what: &'static str) -> PyResult<Input<'py, i64>> {
    input(
        obj,
        what,
        &[Kind::Unsigned, Kind::Signed],
        &[2],
        "(rows, columns)",
    )
}

/// Whether a `float32` feature array would be read in place (the
/// zero-copy rule of this module), for tests and curious users.
#[pyfunction]
pub fn _reads_in_place(x: &Bound<'_, PyAny>) -> PyResult<bool> {
    Ok(features(x, "x", &[1, 2])?.borrowed())
}

/// A new 1-D numpy array owning `v`.
pub fn vec1<'py, T: Element>(py: Python<'py>, v: Vec<T>) -> Bound<'py, PyArrayDyn<T>> {
    ArrayD::from_shape_vec(IxDyn(&[v.len()]), v)
        .expect("1-D shape of the vector's length")
        .into_pyarray(py)
}

/// A new 2-D numpy array owning `v` (`rows * cols` elements).
pub fn vec2<'py, T: Element>(
    py: Python<'py>,
    v: Vec<T>,
    rows: usize,
    cols: usize,
) -> Bound<'py, PyArrayDyn<T>> {
    ArrayD::from_shape_vec(IxDyn(&[rows, cols]), v)
        .expect("the vector holds rows x cols elements")
        .into_pyarray(py)
}
