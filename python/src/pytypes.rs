//! Python values of the package's own types in and out, other than
//! results (those are [`crate::results`]): times and durations, `btp.Codes`
//! arrays, and the fields of descriptions and audit heads read back.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use crate::args::Text;
use crate::errors::param;

/// Field `name` of `obj`, an instance of the package's type `kind` (a
/// description or an audit head) or any object with its fields: an object
/// without it is a `TypeError` naming `kind`, not an `AttributeError`.
pub fn field<'py>(obj: &Bound<'py, PyAny>, name: &str, kind: &str) -> PyResult<Bound<'py, PyAny>> {
    obj.getattr(name).map_err(|_| {
        PyTypeError::new_err(format!("expected a {kind}, got an object without `{name}`"))
    })
}

static FROM_TIMESTAMP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static UTC: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// A timezone-aware UTC `datetime` for Unix seconds.
pub fn datetime(py: Python<'_>, ts: i64) -> PyResult<Bound<'_, PyAny>> {
    let utc = UTC.get_or_try_init(py, || {
        Ok::<_, PyErr>(
            py.import("datetime")?
                .getattr("timezone")?
                .getattr("utc")?
                .unbind(),
        )
    })?;
    let from = FROM_TIMESTAMP.get_or_try_init(py, || {
        Ok::<_, PyErr>(
            py.import("datetime")?
                .getattr("datetime")?
                .getattr("fromtimestamp")?
                .unbind(),
        )
    })?;
    from.bind(py).call1((ts, utc.bind(py)))
}

/// Unix seconds from a timezone-aware `datetime` or a number of seconds
/// (rounded down). A naive `datetime` is refused: its time zone is a guess.
pub fn timestamp(obj: &Bound<'_, PyAny>, what: &'static str) -> PyResult<i64> {
    if obj.hasattr("tzinfo")? && obj.hasattr("timestamp")? {
        if obj.getattr("utcoffset")?.call0()?.is_none() {
            return Err(param(
                what,
                "a naive datetime has no time zone: give an aware one (e.g. with tzinfo=timezone.utc) or Unix seconds",
            ));
        }
        return seconds_of(&obj.call_method0("timestamp")?, what);
    }
    seconds_of(obj, what)
}

/// A duration in whole seconds from a `timedelta` or a number of seconds.
pub fn duration(obj: &Bound<'_, PyAny>, what: &'static str) -> PyResult<i64> {
    if obj.hasattr("total_seconds")? {
        return seconds_of(&obj.call_method0("total_seconds")?, what);
    }
    seconds_of(obj, what)
}

fn seconds_of(obj: &Bound<'_, PyAny>, what: &'static str) -> PyResult<i64> {
    // True is 1 to Python: a flag passed by mistake, not the second 1.
    if obj.is_instance_of::<pyo3::types::PyBool>() {
        return Err(param(
            what,
            "must be a datetime/timedelta or a number of seconds, not a bool",
        ));
    }
    if let Ok(i) = obj.extract::<i64>() {
        return Ok(i);
    }
    match obj.extract::<f64>() {
        Ok(f) if f.is_finite() && f.abs() < 9.0e18 => Ok(f.floor() as i64),
        Ok(_) => Err(param(what, "must be a finite number of seconds")),
        Err(_) => Err(param(
            what,
            "must be a datetime/timedelta or a number of seconds",
        )),
    }
}

static CODES: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The class `btp._codes.Codes`.
fn codes_class(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    CODES
        .get_or_try_init(py, || {
            Ok::<_, PyErr>(py.import("btp._codes")?.getattr("Codes")?.unbind())
        })
        .map(|c| c.bind(py))
}

/// `btp.Codes(array, fingerprint, params_id)`: packed codes with their origin.
pub fn codes<'py>(
    py: Python<'py>,
    array: Bound<'py, PyAny>,
    fingerprint: &str,
    params_id: &str,
) -> PyResult<Bound<'py, PyAny>> {
    codes_class(py)?.call1((array, fingerprint, params_id))
}

/// The origin `(fingerprint, params_id)` of a `btp.Codes` array (either
/// may be missing), or `None` for any other object.
pub fn codes_origin(obj: &Bound<'_, PyAny>) -> PyResult<Option<(Option<String>, Option<String>)>> {
    if !obj.is_instance(codes_class(obj.py())?)? {
        return Ok(None);
    }
    let origin = |name| -> PyResult<Option<String>> {
        let text: Option<Text> = obj.getattr(name)?.extract()?;
        Ok(text.map(Text::into_string))
    };
    Ok(Some((origin("fingerprint")?, origin("params_id")?)))
}
