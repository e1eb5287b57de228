//! Scalar arguments from Python, checked in one place.
//!
//! pyo3's own conversion of a Python `int` into a `usize`, `u32` or `u64`
//! raises `OverflowError` for a negative value (`cmc(max_rank=-1)`) or one
//! past the type (`seed=2**64`), and `TypeError` with pyo3's wording; and
//! its `f64` conversion takes `True` as 1.0. Arguments go through these
//! helpers instead: every refusal is `InvalidParameterError` (a `BtpError`
//! and a `ValueError`) that names the caller's argument and the range.
//!
//! - Integers: a Python `int` or an object with `__index__` (numpy
//!   integers). `bool`, floats (even `5.0`: Python's `range` refuses them
//!   too) and strings are refused, so nothing is truncated or parsed.
//! - Reals: a Python `float` or `int`, or an object with `__float__` (numpy
//!   floating scalars). `bool`, strings and complex numbers (whose
//!   imaginary part numpy would drop) are refused. Whether NaN or an
//!   infinity is acceptable is the core's decision, per argument.
//!
//! - Text: [`Text`] where pyo3 would take `&str`, since pyo3 raises
//!   `UnicodeEncodeError` for a `str` holding a lone surrogate.
//! - Sequences: [`items`] where pyo3 would take a `Vec`, since pyo3
//!   reserves room for the length a sequence claims before reading it (a
//!   `range(10**12)` aborts the process).
//!
//! Functions take such arguments as `&Bound<PyAny>` and convert them here,
//! before any work.

use std::ops::Deref;
use std::path::PathBuf;

use btp::ErrorKind;
use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyComplex, PyString};

use crate::errors::{param, raise};

/// A `str` argument, where pyo3 would take `&str` or `String`. A `str`
/// holding a lone surrogate (`"\ud800"`) is no Unicode text: pyo3's own
/// conversion raises `UnicodeEncodeError`, a `ValueError` outside btp's
/// classes; this one `InvalidParameterError` (pyo3 adds a note naming the
/// argument). Anything but a `str` is a `TypeError`, as with pyo3's.
pub struct Text(String);

impl Text {
    /// A default value.
    pub fn from_static(s: &'static str) -> Self {
        Self(s.to_owned())
    }

    /// The text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl FromPyObject<'_, '_> for Text {
    type Error = PyErr;

    fn extract(obj: Borrowed<'_, '_, PyAny>) -> PyResult<Self> {
        obj.cast::<PyString>()?.to_cow().map_or_else(
            |_| {
                Err(raise(
                    ErrorKind::InvalidParameter,
                    "invalid parameter: a str holding a lone surrogate is not Unicode text".into(),
                ))
            },
            |s| Ok(Self(s.into_owned())),
        )
    }
}

/// The text of the `str` argument `name` (see [`Text`]), naming it.
pub fn text(obj: &Bound<'_, PyAny>, name: &'static str) -> PyResult<String> {
    match obj.cast::<PyString>()?.to_cow() {
        Ok(s) => Ok(s.into_owned()),
        Err(_) => Err(param(
            name,
            "is not Unicode text: it holds a lone surrogate",
        )),
    }
}

/// The items of the sequence argument `name`, each converted by `item`,
/// read as they come (pyo3's `Vec` conversion first reserves the length
/// the sequence claims). A `str` is refused, not taken as its characters.
pub fn items<'py, T>(
    obj: &Bound<'py, PyAny>,
    name: &'static str,
    mut item: impl FnMut(&Bound<'py, PyAny>) -> PyResult<T>,
) -> PyResult<Vec<T>> {
    let iter = match obj.try_iter() {
        Ok(it) if !obj.is_instance_of::<PyString>() => it,
        _ => {
            return Err(PyTypeError::new_err(format!(
                "`{name}` must be a sequence, not {}",
                type_name(obj)
            )))
        }
    };
    let mut out = Vec::new();
    for x in iter {
        out.push(item(&x?)?);
    }
    Ok(out)
}

/// Integer types an argument may be converted to, with their range.
pub trait Int: TryFrom<i128> + Copy {
    /// Smallest value.
    const MIN: i128;
    /// Largest value.
    const MAX: i128;
}

macro_rules! int_types {
    ($($t:ty),*) => {$(
        impl Int for $t {
            const MIN: i128 = <$t>::MIN as i128;
            const MAX: i128 = <$t>::MAX as i128;
        }
    )*};
}
int_types!(u8, u16, u32, u64, usize, i32, i64, i128);

fn range<T: Int>() -> String {
    format!("an integer in {}..={}", T::MIN, T::MAX)
}

/// The integer argument `name` as a `T`, or `InvalidParameterError` naming
/// it (see the module documentation).
pub fn int_arg<T: Int>(obj: &Bound<'_, PyAny>, name: &'static str) -> PyResult<T> {
    if obj.is_instance_of::<PyBool>() {
        return Err(param(name, format!("must be {}, not a bool", range::<T>())));
    }
    match obj.extract::<i128>() {
        Ok(v) => {
            T::try_from(v).map_err(|_| param(name, format!("must be {}, got {v}", range::<T>())))
        }
        Err(e) if e.is_instance_of::<PyOverflowError>(obj.py()) => {
            Err(param(name, format!("must be {}", range::<T>())))
        }
        Err(_) => Err(param(
            name,
            format!("must be {}, not {}", range::<T>(), type_name(obj)),
        )),
    }
}

/// The integer argument `name` in `lo..=hi` (a narrower range than its
/// type's), as a `T`.
pub fn int_in<T: Int>(
    obj: &Bound<'_, PyAny>,
    name: &'static str,
    lo: i128,
    hi: i128,
) -> PyResult<T> {
    let v: i128 = int_arg(obj, name)?;
    if v < lo || v > hi {
        return Err(param(
            name,
            format!("must be an integer in {lo}..={hi}, got {v}"),
        ));
    }
    T::try_from(v).map_err(|_| param(name, format!("must be an integer in {lo}..={hi}")))
}

/// A count or size argument, at least `min`.
pub fn count(obj: &Bound<'_, PyAny>, name: &'static str, min: usize) -> PyResult<usize> {
    int_in(obj, name, min as i128, usize::MAX as i128)
}

/// An optional count: `None` (or absent) gives `default`.
pub fn count_or(
    obj: Option<&Bound<'_, PyAny>>,
    name: &'static str,
    min: usize,
    default: usize,
) -> PyResult<usize> {
    obj.filter(|o| !o.is_none())
        .map_or(Ok(default), |o| count(o, name, min))
}

/// A `uint32` argument (scheme sizes, versions), at least `min`.
pub fn u32_arg(obj: &Bound<'_, PyAny>, name: &'static str, min: u32) -> PyResult<u32> {
    int_in(obj, name, i128::from(min), i128::from(u32::MAX))
}

/// A non-negative `int64` argument (record, hold and event numbers).
pub fn id_arg(obj: &Bound<'_, PyAny>, name: &'static str) -> PyResult<i64> {
    int_in(obj, name, 0, i128::from(i64::MAX))
}

/// [`int_arg`] for an optional argument: `None` stays `None`.
pub fn opt_int_arg<T: Int>(
    obj: Option<&Bound<'_, PyAny>>,
    name: &'static str,
) -> PyResult<Option<T>> {
    match obj {
        Some(o) if !o.is_none() => int_arg(o, name).map(Some),
        _ => Ok(None),
    }
}

/// The real argument `name` as an `f64`, or `InvalidParameterError` naming
/// it (see the module documentation).
pub fn float_arg(obj: &Bound<'_, PyAny>, name: &'static str) -> PyResult<f64> {
    if obj.is_instance_of::<PyBool>()
        || obj.is_instance_of::<PyString>()
        || obj.is_instance_of::<PyBytes>()
        || is_complex(obj)
    {
        return Err(param(
            name,
            format!("must be a real number, not {}", type_name(obj)),
        ));
    }
    obj.extract::<f64>().map_err(|e| {
        if e.is_instance_of::<PyOverflowError>(obj.py()) {
            param(name, "is too large for a 64-bit float")
        } else {
            param(
                name,
                format!("must be a real number, not {}", type_name(obj)),
            )
        }
    })
}

/// [`float_arg`] for an optional argument: `None` stays `None`.
pub fn opt_float_arg(obj: Option<&Bound<'_, PyAny>>, name: &'static str) -> PyResult<Option<f64>> {
    obj.filter(|o| !o.is_none())
        .map(|o| float_arg(o, name))
        .transpose()
}

/// A file path argument (`str`, `bytes` or `os.PathLike`). pyo3's own
/// conversion raises `UnicodeEncodeError` for a `str` the file system
/// encoding cannot hold (a lone surrogate).
pub fn path_arg(obj: &Bound<'_, PyAny>, name: &'static str) -> PyResult<PathBuf> {
    obj.extract::<PathBuf>().map_err(|e| {
        if e.is_instance_of::<PyTypeError>(obj.py()) {
            e
        } else {
            param(name, "is not a file name this system can encode")
        }
    })
}

/// A pair of reals `(lo, hi)` (any sequence of two), or `None`.
pub fn opt_pair_arg(
    obj: Option<&Bound<'_, PyAny>>,
    name: &'static str,
) -> PyResult<Option<(f64, f64)>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    let items: Vec<Bound<'_, PyAny>> = match obj.try_iter() {
        // Three at most: a pair is two, and a huge iterable is not drained.
        Ok(it) if !obj.is_instance_of::<PyString>() => it.take(3).collect::<PyResult<_>>()?,
        _ => return Err(param(name, "must be a pair (lo, hi) of real numbers")),
    };
    match items.as_slice() {
        [lo, hi] => Ok(Some((float_arg(lo, name)?, float_arg(hi, name)?))),
        _ => Err(param(name, "must be a pair (lo, hi) of real numbers")),
    }
}

/// A complex number (Python's, or numpy's of any width, scalar or array):
/// numpy's `__float__` would drop its imaginary part with a warning.
fn is_complex(obj: &Bound<'_, PyAny>) -> bool {
    obj.is_instance_of::<PyComplex>()
        || obj
            .getattr("dtype")
            .and_then(|d| d.getattr("kind"))
            .and_then(|k| k.extract::<String>())
            .is_ok_and(|k| k == "c")
}

/// The Python type name of `obj`, for messages (never its value).
pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "this type".into())
}
