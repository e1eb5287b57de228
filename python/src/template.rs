//! `btp.Template`: a protected template and its wire format.

use btp::ProtectedTemplate;
use numpy::PyArrayDyn;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::arrays;
use crate::errors::OrRaise;
use crate::scheme::hex;

/// A protected (cancellable) template: a packed code plus what made it.
/// `bytes(t)` is the versioned wire format; `Template.from_bytes` reads it.
#[pyclass(frozen, eq, hash, module = "btp", name = "Template")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PyTemplate {
    pub(crate) t: ProtectedTemplate,
}

#[pymethods]
impl PyTemplate {
    /// Decodes the wire format strictly (`DecodeError` on any defect).
    #[staticmethod]
    fn from_bytes(data: &[u8]) -> PyResult<Self> {
        Ok(Self {
            t: ProtectedTemplate::from_bytes(data).or_raise()?,
        })
    }

    /// The wire format.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.t.to_bytes())
    }

    fn __bytes__<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        self.to_bytes(py)
    }

    /// `"iom-grp"`, `"iom-urp"` or `"biohash"`.
    #[getter]
    fn scheme(&self) -> &'static str {
        self.t.scheme().name()
    }

    /// The parameters id of the scheme that made it (hex).
    #[getter]
    fn params_id(&self) -> String {
        hex(&self.t.params_id())
    }

    /// The fingerprint of the key that made it (hex; reveals only equality).
    #[getter]
    fn fingerprint(&self) -> String {
        hex(&self.t.fingerprint().0)
    }

    /// Number of code elements.
    #[getter]
    fn code_len(&self) -> usize {
        self.t.layout().len()
    }

    /// Elements are below this.
    #[getter]
    fn alphabet(&self) -> u16 {
        self.t.layout().alphabet()
    }

    /// The packed code, `uint64` words (a copy).
    #[getter]
    fn words<'py>(&self, py: Python<'py>) -> Bound<'py, PyArrayDyn<u64>> {
        arrays::vec1(py, self.t.words().to_vec())
    }

    /// The code elements, one `uint8` each.
    fn elements<'py>(&self, py: Python<'py>) -> Bound<'py, PyArrayDyn<u8>> {
        arrays::vec1(py, self.t.elements())
    }

    /// Similarity in [0, 1] with a template of the same origin.
    fn similarity(&self, other: &PyTemplate) -> PyResult<f64> {
        self.t.similarity(&other.t).or_raise()
    }

    fn __repr__(&self) -> String {
        format!(
            "Template({}, {} elements, params {}, key {})",
            self.t.scheme().name(),
            self.t.layout().len(),
            hex(&self.t.params_id()),
            hex(&self.t.fingerprint().0)
        )
    }

    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
        Ok((
            py.get_type::<Self>().getattr("from_bytes")?,
            (self.to_bytes(py),),
        ))
    }
}
