//! `btp.MasterKey`: the root secret, zeroized on drop, never printed,
//! pickled or copied.

use btp::MasterKey;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes};
use zeroize::Zeroizing;

use crate::errors::OrRaise;

/// The root secret of a deployment: 32 bytes, zeroized when the object is
/// freed. It never prints, pickles or copies.
#[pyclass(frozen, module = "btp", name = "MasterKey")]
pub struct PyMasterKey {
    pub(crate) key: MasterKey,
}

#[pymethods]
impl PyMasterKey {
    /// A new key from the operating system's random number generator.
    #[staticmethod]
    fn generate() -> PyResult<Self> {
        Ok(Self {
            key: MasterKey::generate().or_raise()?,
        })
    }

    /// A key from exactly 32 bytes (`bytes` or `bytearray`; clear a
    /// `bytearray` afterwards to leave no copy behind).
    #[staticmethod]
    fn from_bytes(data: &Bound<'_, PyAny>) -> PyResult<Self> {
        let key = if let Ok(b) = data.cast::<PyBytes>() {
            MasterKey::from_bytes(b.as_bytes())
        } else if let Ok(b) = data.cast::<PyByteArray>() {
            let copy = Zeroizing::new(b.to_vec());
            MasterKey::from_bytes(&copy)
        } else {
            return Err(PyTypeError::new_err(
                "a master key is made from bytes or bytearray",
            ));
        };
        Ok(Self {
            key: key.or_raise()?,
        })
    }

    /// The raw 32 key bytes, to write a key file. Handle with care: the
    /// returned `bytes` object cannot be wiped.
    fn expose_secret<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.key.expose_secret())
    }

    fn __repr__(&self) -> &'static str {
        "MasterKey(<redacted>)"
    }

    fn __reduce__(&self) -> PyResult<()> {
        Err(PyTypeError::new_err(
            "a MasterKey cannot be pickled or copied: pass the key to each worker by your own secure channel and reopen descriptions with it",
        ))
    }
}
