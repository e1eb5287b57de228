//! The exception classes: `btp.BtpError` and one subclass per
//! [`btp::ErrorKind`], defined here once and re-exported by the package.
//!
//! The kind-to-class table is an exhaustive `match`, so a new kind in the
//! core stops this crate from compiling until it has a class. Classes for
//! bad input also derive from `ValueError` (shapes, dimensions, NaN,
//! parameters, bytes, scores), classes for absent things from `LookupError`,
//! the I/O class from `OSError` and the memory class from `MemoryError`, so
//! generic handlers catch them too.
//! Messages are the core's `Display`: they name arguments, indices and
//! record ids, never feature values or keys.

use btp::{Error, ErrorKind};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyLookupError, PyMemoryError, PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};

create_exception!(
    btp,
    BtpError,
    PyException,
    "Base class of every error btp raises."
);

/// The builtin class a kind's class also derives from.
enum Also {
    Nothing,
    Value,
    Lookup,
    Os,
    Memory,
}

/// Class name, extra base and docstring of each kind.
fn spec(kind: ErrorKind) -> (&'static str, Also, &'static str) {
    use Also::{Lookup, Memory, Nothing, Os, Value};
    match kind {
        ErrorKind::InvalidKeyLength => (
            "InvalidKeyLengthError",
            Value,
            "Key bytes of the wrong length: a master key is 32 bytes.",
        ),
        ErrorKind::Rng => (
            "RngError",
            Nothing,
            "The operating system's random number generator failed.",
        ),
        ErrorKind::WrongDimension => (
            "DimensionError",
            Value,
            "An array of the wrong shape, or a feature vector of the wrong dimension.",
        ),
        ErrorKind::NonFinite => (
            "NonFiniteError",
            Value,
            "A feature vector holds NaN or an infinity (only its position is named).",
        ),
        ErrorKind::ZeroNorm => (
            "ZeroNormError",
            Value,
            "A feature vector has zero length after centring.",
        ),
        ErrorKind::InvalidParameter => (
            "InvalidParameterError",
            Value,
            "A scheme, gallery, store or evaluation parameter out of its range.",
        ),
        ErrorKind::KeyMismatch => (
            "KeyMismatchError",
            Nothing,
            "Templates (or a template and a protector) made under different keys.",
        ),
        ErrorKind::SchemeMismatch => (
            "SchemeMismatchError",
            Nothing,
            "Templates of different schemes or scheme parameters.",
        ),
        ErrorKind::Decode => (
            "DecodeError",
            Value,
            "Bytes that do not decode (bad magic, version, checksum, length, field).",
        ),
        ErrorKind::DuplicateId => (
            "DuplicateIdError",
            Value,
            "A gallery id that is already present.",
        ),
        ErrorKind::NotFound => (
            "NotFoundError",
            Lookup,
            "An id, record, hold, subject or event that is not present.",
        ),
        ErrorKind::Integrity => (
            "IntegrityError",
            Nothing,
            "A stored record failed authentication: altered, moved or corrupted.",
        ),
        ErrorKind::UnknownPurpose => (
            "UnknownPurposeError",
            Lookup,
            "A purpose the store is not opened with.",
        ),
        ErrorKind::RetentionTooLong => (
            "RetentionError",
            Value,
            "A retention longer than the purpose allows, or not positive.",
        ),
        ErrorKind::Expired => (
            "ExpiredError",
            Nothing,
            "The record exists but its retention period has ended.",
        ),
        ErrorKind::Held => ("HeldError", Nothing, "A legal hold blocks the deletion."),
        ErrorKind::WrongKey => (
            "WrongKeyError",
            Nothing,
            "The master key is not the one the store was created with.",
        ),
        ErrorKind::NotAStore => ("NotAStoreError", Nothing, "The file is not a btp store."),
        ErrorKind::UnsupportedSchema => (
            "UnsupportedSchemaError",
            Nothing,
            "The store was written by a newer btp.",
        ),
        ErrorKind::KeyExhausted => (
            "KeyExhaustedError",
            Nothing,
            "A storage key reached its encryption limit: rotate the purpose's key.",
        ),
        ErrorKind::AuditBroken => (
            "AuditBrokenError",
            Nothing,
            "The audit chain does not verify.",
        ),
        ErrorKind::Corrupt => ("CorruptError", Nothing, "The database file is damaged."),
        ErrorKind::Busy => (
            "BusyError",
            Nothing,
            "Another connection held the database lock past the busy timeout.",
        ),
        ErrorKind::Io => (
            "StoreIOError",
            Os,
            "Reading or writing the store file failed (disk full, I/O error, permissions).",
        ),
        ErrorKind::Database => ("DatabaseError", Nothing, "Any other database failure."),
        ErrorKind::InvalidScores => (
            "InvalidScoresError",
            Value,
            "Score arrays that cannot be evaluated (empty, NaN, infinite, mismatched).",
        ),
        ErrorKind::ExpiryInPast => (
            "ExpiryInPastError",
            Value,
            "An expiry date that is not after the present.",
        ),
        ErrorKind::OutOfMemory => (
            "OutOfMemoryError",
            Memory,
            "Memory for a result sized by the arguments (rows, k, bins) could not be allocated; nothing was changed.",
        ),
    }
}

/// One class per kind, in the order of [`ErrorKind::ALL`].
static KIND_CLASSES: PyOnceLock<Vec<Py<PyType>>> = PyOnceLock::new();

fn classes(py: Python<'_>) -> PyResult<&Vec<Py<PyType>>> {
    KIND_CLASSES.get_or_try_init(py, || {
        let metaclass = py.get_type::<PyType>();
        ErrorKind::ALL
            .iter()
            .map(|&kind| {
                let (name, also, doc) = spec(kind);
                let base = py.get_type::<BtpError>();
                let bases = match also {
                    Also::Nothing => PyTuple::new(py, [base])?,
                    Also::Value => PyTuple::new(py, [base, py.get_type::<PyValueError>()])?,
                    Also::Lookup => PyTuple::new(py, [base, py.get_type::<PyLookupError>()])?,
                    Also::Os => PyTuple::new(py, [base, py.get_type::<PyOSError>()])?,
                    Also::Memory => PyTuple::new(py, [base, py.get_type::<PyMemoryError>()])?,
                };
                let dict = PyDict::new(py);
                dict.set_item("__doc__", doc)?;
                dict.set_item("__module__", "btp")?;
                let class = metaclass.call1((name, bases, dict))?;
                Ok(class.cast_into::<PyType>()?.unbind())
            })
            .collect()
    })
}

/// `StoreClosedError`: a Python-side state, not a core error kind (the
/// core has no "closed" handle: dropping is closing). A `ValueError` too,
/// as Python's closed files and sqlite3 connections raise.
static STORE_CLOSED: PyOnceLock<Py<PyType>> = PyOnceLock::new();

fn store_closed_class(py: Python<'_>) -> PyResult<&Py<PyType>> {
    STORE_CLOSED.get_or_try_init(py, || {
        let bases = PyTuple::new(
            py,
            [py.get_type::<BtpError>(), py.get_type::<PyValueError>()],
        )?;
        let dict = PyDict::new(py);
        dict.set_item(
            "__doc__",
            "The store handle was closed (close() or the end of a with block): open the store again.",
        )?;
        dict.set_item("__module__", "btp")?;
        let class = py
            .get_type::<PyType>()
            .call1(("StoreClosedError", bases, dict))?;
        Ok(class.cast_into::<PyType>()?.unbind())
    })
}

/// The error of a call on a closed store handle.
pub fn store_closed() -> PyErr {
    Python::attach(|py| match store_closed_class(py) {
        Ok(c) => PyErr::from_type(
            c.bind(py).clone(),
            "the store is closed: open it again with Store.open",
        ),
        Err(e) => e,
    })
}

/// Adds `BtpError`, every kind's class and `StoreClosedError` to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("BtpError", py.get_type::<BtpError>())?;
    for (&kind, class) in ErrorKind::ALL.iter().zip(classes(py)?) {
        m.add(spec(kind).0, class.bind(py))?;
    }
    m.add("StoreClosedError", store_closed_class(py)?.bind(py))?;
    Ok(())
}

/// The exception of `kind` with `message`.
pub fn raise(kind: ErrorKind, message: String) -> PyErr {
    Python::attach(|py| match classes(py) {
        Ok(all) => {
            let i = ErrorKind::ALL
                .iter()
                .position(|&k| k == kind)
                .expect("ErrorKind::ALL lists every kind");
            PyErr::from_type(all[i].bind(py).clone(), message)
        }
        Err(e) => e,
    })
}

/// The Python exception of a core error.
pub fn to_py(e: Error) -> PyErr {
    raise(e.kind(), e.to_string())
}

/// `InvalidParameterError` for a binding-level check of argument `name`.
pub fn param(name: &'static str, reason: impl Into<String>) -> PyErr {
    to_py(Error::InvalidParameter {
        name,
        reason: reason.into(),
    })
}

/// `DimensionError` with a message about an array's shape.
pub fn shape(message: impl Into<String>) -> PyErr {
    raise(ErrorKind::WrongDimension, message.into())
}

/// Converts core results: `result.or_raise()?`.
pub trait OrRaise<T> {
    /// The value, or the Python exception of the error.
    fn or_raise(self) -> PyResult<T>;
}

impl<T> OrRaise<T> for btp::Result<T> {
    fn or_raise(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}
