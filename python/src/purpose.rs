//! `btp.Purpose`: a programme a store serves and its rules.

use std::time::Duration;

use btp::store::Purpose;
use pyo3::prelude::*;
use pyo3::types::PyType;

use crate::args::{float_arg, items, u32_arg, Text};
use crate::errors::{param, OrRaise};
use crate::pytypes::duration;
use crate::scheme::PyScheme;

/// A programme a store serves and its rules: scheme, application of the
/// transform keys, match threshold, longest retention (a `timedelta` or
/// seconds).
#[pyclass(frozen, module = "btp", name = "Purpose")]
#[derive(Clone)]
pub struct PyPurpose {
    pub(crate) purpose: Purpose,
}

#[pymethods]
impl PyPurpose {
    #[new]
    #[pyo3(signature = (name, scheme, application, threshold, max_retention, transform_version = None))]
    fn new(
        name: Text,
        scheme: &PyScheme,
        application: Text,
        threshold: &Bound<'_, PyAny>,
        max_retention: &Bound<'_, PyAny>,
        transform_version: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let transform_version = match transform_version {
            Some(v) if !v.is_none() => u32_arg(v, "transform_version", 1)?,
            _ => 1,
        };
        let threshold = float_arg(threshold, "threshold")?;
        let secs = duration(max_retention, "max_retention")?;
        let secs = u64::try_from(secs)
            .map_err(|_| param("max_retention", "must be at least one second"))?;
        let mut purpose = Purpose::new(
            &name,
            scheme.params.clone(),
            &application,
            threshold,
            Duration::from_secs(secs),
        )
        .or_raise()?;
        purpose.transform_version = transform_version;
        Ok(Self { purpose })
    }

    #[getter]
    fn name(&self) -> &str {
        &self.purpose.name
    }

    #[getter]
    fn scheme(&self) -> PyScheme {
        PyScheme {
            params: self.purpose.params.clone(),
        }
    }

    #[getter]
    fn application(&self) -> &str {
        &self.purpose.application
    }

    #[getter]
    fn threshold(&self) -> f64 {
        self.purpose.threshold
    }

    /// Longest retention, a `timedelta`.
    #[getter]
    fn max_retention<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py.import("datetime")?
            .getattr("timedelta")?
            .call1((0, self.purpose.max_retention.as_secs()))
    }

    #[getter]
    fn transform_version(&self) -> u32 {
        self.purpose.transform_version
    }

    fn __repr__(&self) -> String {
        format!(
            "Purpose({:?}, {}, application={:?}, threshold={}, max_retention={} s, transform_version={})",
            self.purpose.name,
            self.purpose.params.scheme_id().name(),
            self.purpose.application,
            self.purpose.threshold,
            self.purpose.max_retention.as_secs(),
            self.purpose.transform_version
        )
    }

    #[allow(clippy::type_complexity)]
    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(
        Bound<'py, PyType>,
        (String, PyScheme, String, f64, u64, u32),
    )> {
        let p = &self.purpose;
        Ok((
            py.get_type::<Self>(),
            (
                p.name.clone(),
                self.scheme(),
                p.application.clone(),
                p.threshold,
                p.max_retention.as_secs(),
                p.transform_version,
            ),
        ))
    }
}

/// The purposes of a `purposes` argument (a sequence of `Purpose`).
pub fn purpose_list(purposes: &Bound<'_, PyAny>) -> PyResult<Vec<Purpose>> {
    items(purposes, "purposes", |p| {
        Ok(p.cast::<PyPurpose>()?.get().purpose.clone())
    })
}
