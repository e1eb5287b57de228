//! Gallery ids from Python: an int, a str, or a 1-D sequence of either.

use numpy::{PyArrayDescrMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyInt, PyString};

use crate::args::{int_in, items, text, type_name};
use crate::arrays;
use crate::errors::param;

/// Largest integer id: ids are non-negative `int64` values, so that batch
/// results can mark "no candidate" with -1.
pub const MAX_ID: u64 = i64::MAX as u64;

/// Ids as given by the caller.
pub enum Ids {
    Ints(Vec<u64>),
    Strings(Vec<String>),
}

impl Ids {
    pub fn len(&self) -> usize {
        match self {
            Ids::Ints(v) => v.len(),
            Ids::Strings(v) => v.len(),
        }
    }
}

fn int_ids(values: &[i64]) -> PyResult<Vec<u64>> {
    values
        .iter()
        .map(|&i| u64::try_from(i).map_err(|_| param("ids", "ids must be in [0, 2**63)")))
        .collect()
}

/// Ids from an int, a str, or a 1-D array-like of either; and whether a
/// single id was given.
pub fn ids_of(obj: &Bound<'_, PyAny>) -> PyResult<(Ids, bool)> {
    if obj.is_instance_of::<PyString>() {
        return Ok((Ids::Strings(vec![text(obj, "ids")?]), true));
    }
    if obj.is_instance_of::<PyInt>() || obj.hasattr("__index__")? && !obj.hasattr("__len__")? {
        let id: u64 = int_in(obj, "ids", 0, i128::from(MAX_ID))?;
        return Ok((Ids::Ints(vec![id]), true));
    }
    let arr = if obj.cast::<PyUntypedArray>().is_ok() {
        obj.clone()
    } else {
        arrays::asarray(obj, "ids")?
    };
    let untyped = arr.cast::<PyUntypedArray>()?;
    if untyped.ndim() != 1 {
        return Err(crate::errors::shape(
            "`ids` must be an id or a 1-D sequence of ids",
        ));
    }
    // numpy makes `[1, "a"]` strings and `[1, True]` integers: the items of
    // a sequence that is not an array must all be of the kind numpy chose.
    let given = if obj.is(&arr) { &arr } else { obj };
    match untyped.dtype().kind() {
        b'U' | b'O' | b'S' if untyped.len() > 0 => {
            let labels: Vec<String> = items(given, "ids", |x| {
                x.cast::<PyString>()
                    .map_err(|_| PyTypeError::new_err("string ids must all be str"))?;
                text(x, "ids")
            })?;
            Ok((Ids::Strings(labels), false))
        }
        b'i' | b'u' => {
            if !obj.is(&arr) {
                for x in obj.try_iter()? {
                    if x?.is_instance_of::<PyBool>() {
                        return Err(PyTypeError::new_err("integer ids are int, not bool"));
                    }
                }
            }
            Ok((
                Ids::Ints(int_ids(arrays::ints(&arr, "ids")?.as_slice())?),
                false,
            ))
        }
        _ if untyped.len() == 0 => Ok((Ids::Ints(Vec::new()), false)),
        _ => Err(param("ids", "ids are integers or strings")),
    }
}

/// The one id `get` and `in` look up (an int or a str), `None` if no
/// template can have it (an int outside `[0, 2**63)`, a str that is not
/// Unicode text); anything else is a `TypeError`, as a dict's lookup of an
/// unhashable key.
pub fn lookup_id(obj: &Bound<'_, PyAny>) -> PyResult<Option<Ids>> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_cow().ok().map(|s| Ids::Strings(vec![s.into_owned()])));
    }
    let int =
        obj.is_instance_of::<PyInt>() || obj.hasattr("__index__")? && !obj.hasattr("__len__")?;
    if !int || obj.is_instance_of::<PyBool>() {
        let kind = type_name(obj);
        return Err(PyTypeError::new_err(format!(
            "an id is an int or a str, not {kind}"
        )));
    }
    let id = int_in::<u64>(obj, "id", 0, i128::from(MAX_ID)).ok();
    Ok(id.map(|id| Ids::Ints(vec![id])))
}
