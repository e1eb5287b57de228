//! `btp.Protector`: a scheme bound to a key.

use btp::{scoring, ProtectedTemplate, Protector};
use numpy::PyArrayDyn;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString, PyType};

use zeroize::Zeroizing;

use crate::args::{float_arg, items, text, u32_arg, Text};
use crate::arrays;
use crate::errors::{param, OrRaise};
use crate::keys::PyMasterKey;
use crate::pytypes::{self, field};
use crate::results;
use crate::scheme::{hex, PyScheme};
use crate::template::PyTemplate;

/// A scheme bound to a key: protects feature vectors and compares the
/// templates it made.
#[pyclass(frozen, module = "btp", name = "Protector")]
pub struct PyProtector {
    pub(crate) inner: Protector,
    application: String,
    version: u32,
    subject: Option<Vec<u8>>,
}

fn subject_bytes(subject: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<u8>>> {
    match subject {
        None => Ok(None),
        Some(s) if s.is_none() => Ok(None),
        Some(s) => {
            if let Ok(b) = s.cast::<PyBytes>() {
                Ok(Some(b.as_bytes().to_vec()))
            } else if s.cast::<PyString>().is_ok() {
                Ok(Some(text(s, "subject")?.into_bytes()))
            } else {
                Err(PyTypeError::new_err("subject must be bytes, str or None"))
            }
        }
    }
}

impl PyProtector {
    pub(crate) fn build(
        scheme: &PyScheme,
        mk: &PyMasterKey,
        application: &str,
        version: u32,
        subject: Option<Vec<u8>>,
    ) -> PyResult<Self> {
        let inner = Protector::new(
            scheme.params.clone(),
            &mk.key,
            application,
            version,
            subject.as_deref(),
        )
        .or_raise()?;
        Ok(Self {
            inner,
            application: application.to_owned(),
            version,
            subject,
        })
    }

    pub(crate) fn words(&self) -> usize {
        self.inner.layout().words()
    }

    pub(crate) fn wrap(&self, t: ProtectedTemplate) -> PyTemplate {
        PyTemplate { t }
    }

    /// Protects a batch of feature vectors `(n, dim)` without the GIL.
    pub(crate) fn protect_rows(&self, py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<Vec<u64>> {
        let rows = arrays::features_of_dim(x, "x", &[2], self.inner.dim())?;
        let data = rows.as_slice();
        py.detach(|| self.inner.protect_batch_packed(data))
            .or_raise()
    }

    /// Codes of a batch argument: a list of `Template`, packed codes as
    /// `btp.Codes` (their origin checked against this protector), or
    /// anything else as feature vectors `(n, dim)` (any numeric dtype,
    /// unsigned integers included), protected here. A plain integer array
    /// is never taken as codes: raw features of the codes' width would be
    /// stored unprotected. Returns the codes and their number.
    pub(crate) fn batch_codes(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
    ) -> PyResult<(Zeroizing<Vec<u64>>, usize)> {
        let words = self.words();
        if let Ok(list) = data.cast::<PyList>() {
            if list
                .iter()
                .next()
                .is_some_and(|t| t.cast::<PyTemplate>().is_ok())
            {
                let mut codes = Zeroizing::new(
                    btp::alloc::with_capacity(
                        btp::alloc::product(list.len(), words, 8, "the codes of the templates")
                            .or_raise()?,
                        "the codes of the templates",
                    )
                    .or_raise()?,
                );
                for item in list.iter() {
                    let t = item.cast::<PyTemplate>().map_err(|_| {
                        PyTypeError::new_err("a list of templates holds something else")
                    })?;
                    self.inner.check(&t.get().t).or_raise()?;
                    codes.extend_from_slice(t.get().t.words());
                }
                return Ok((codes, list.len()));
            }
        }
        if self.check_origin(data, "codes")? {
            let c = arrays::codes(data, "codes", &[2], words)?;
            let slice = c.as_slice();
            py.detach(|| self.inner.layout().check_batch(slice))
                .or_raise()?;
            return Ok((Zeroizing::new(slice.to_vec()), c.rows()));
        }
        let codes = Zeroizing::new(self.protect_rows(py, data)?);
        let n = codes.len() / words;
        Ok((codes, n))
    }

    /// The template of a single probe: a `Template` or a `btp.Codes` code
    /// (checked against this protector), or anything else as a feature
    /// vector (protected here).
    pub(crate) fn probe(
        &self,
        py: Python<'_>,
        x: &Bound<'_, PyAny>,
    ) -> PyResult<ProtectedTemplate> {
        if let Ok(t) = x.cast::<PyTemplate>() {
            self.inner.check(&t.get().t).or_raise()?;
            return Ok(t.get().t.clone());
        }
        if self.check_origin(x, "code")? {
            let c = arrays::codes(x, "code", &[1], self.words())?;
            return self.inner.template(c.as_slice().to_vec()).or_raise();
        }
        let v = arrays::features_of_dim(x, "x", &[1], self.inner.dim())?;
        let data = v.as_slice();
        py.detach(|| self.inner.protect(data)).or_raise()
    }

    /// Whether `obj` is a `btp.Codes` array, after checking that this
    /// protector made it: codes of another key are `KeyMismatchError`, of
    /// another scheme `SchemeMismatchError`, never matched as if they were
    /// this protector's.
    pub(crate) fn check_origin(
        &self,
        obj: &Bound<'_, PyAny>,
        what: &'static str,
    ) -> PyResult<bool> {
        let Some((fingerprint, params_id)) = pytypes::codes_origin(obj)? else {
            return Ok(false);
        };
        let (Some(fingerprint), Some(params_id)) = (fingerprint, params_id) else {
            return Err(param(
                what,
                "a Codes array without its origin: make it with Protector.as_codes",
            ));
        };
        if params_id != hex(&self.inner.params().id()) {
            return Err(crate::errors::to_py(btp::Error::SchemeMismatch(
                "the codes were made under another scheme or parameters",
            )));
        }
        if fingerprint != hex(&self.inner.fingerprint().0) {
            return Err(crate::errors::to_py(btp::Error::KeyMismatch));
        }
        Ok(true)
    }

    /// Packed codes of this protector for Python: a `btp.Codes` array
    /// `(rows, words)` carrying this protector's origin.
    pub(crate) fn wrap_codes<'py>(
        &self,
        py: Python<'py>,
        codes: Vec<u64>,
        rows: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        let a = arrays::vec2(py, codes, rows, self.words());
        pytypes::codes(
            py,
            a.into_any(),
            &hex(&self.inner.fingerprint().0),
            &hex(&self.inner.params().id()),
        )
    }

    /// Packed codes given where only codes make sense (`scores`, `unpack`,
    /// ...): a `btp.Codes` array is checked against this protector; a plain
    /// integer array is taken as this protector's codes (its padding bits
    /// are checked where the result depends on them).
    pub(crate) fn codes_arg<'py>(
        &self,
        obj: &Bound<'py, PyAny>,
        what: &'static str,
        ndims: &[usize],
    ) -> PyResult<arrays::Input<'py, u64>> {
        self.check_origin(obj, what)?;
        arrays::codes(obj, what, ndims, self.words())
    }

    pub(crate) fn description<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        results::ProtectorDescription::make(
            py,
            PyBytes::new(py, &self.inner.params().to_bytes()),
            &self.application,
            self.version,
            self.subject.as_deref().map(|s| PyBytes::new(py, s)),
            hex(&self.inner.fingerprint().0),
        )
    }

    /// Reopens a `ProtectorDescription` (any object with its attributes).
    pub(crate) fn from_description(
        description: &Bound<'_, PyAny>,
        mk: &PyMasterKey,
    ) -> PyResult<Self> {
        const KIND: &str = "ProtectorDescription";
        let scheme_bytes = field(description, "scheme", KIND)?;
        let scheme_bytes = scheme_bytes
            .cast::<PyBytes>()
            .map_err(|_| PyTypeError::new_err("a description's scheme is bytes"))?;
        let scheme = PyScheme {
            params: btp::SchemeParams::from_bytes(scheme_bytes.as_bytes()).or_raise()?,
        };
        let application: Text = field(description, "application", KIND)?.extract()?;
        let version = u32_arg(&field(description, "version", KIND)?, "version", 0)?;
        let subject = subject_bytes(Some(&field(description, "subject", KIND)?))?;
        let p = Self::build(&scheme, mk, &application, version, subject)?;
        let expected: Option<Text> = field(description, "fingerprint", KIND)?.extract()?;
        if let Some(fp) = expected {
            if *fp != hex(&p.inner.fingerprint().0) {
                return Err(crate::errors::to_py(btp::Error::KeyMismatch));
            }
        }
        Ok(p)
    }
}

#[pymethods]
impl PyProtector {
    /// The protector of `scheme` for an application, a version (bump it to
    /// revoke) and optionally a subject (per-subject keys), under keys
    /// derived from `mk`.
    #[new]
    #[pyo3(signature = (scheme, mk, application, version = None, subject = None))]
    fn new(
        scheme: &PyScheme,
        mk: &PyMasterKey,
        application: Text,
        version: Option<&Bound<'_, PyAny>>,
        subject: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let version = match version {
            Some(v) if !v.is_none() => u32_arg(v, "version", 0)?,
            _ => 1,
        };
        Self::build(scheme, mk, &application, version, subject_bytes(subject)?)
    }

    /// Protects one feature vector `(dim,)` into a `Template`.
    fn protect(&self, py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<PyTemplate> {
        let v = arrays::features_of_dim(x, "x", &[1], self.inner.dim())?;
        let data = v.as_slice();
        let t = py.detach(|| self.inner.protect(data)).or_raise()?;
        Ok(self.wrap(t))
    }

    /// Protects a batch `(n, dim)` into packed codes `(n, words)`: a
    /// `btp.Codes` array (`uint64`, one row per template, carrying this
    /// protector's origin), on every core, without the GIL. `float32`
    /// C-contiguous input is read in place; other dtypes are converted.
    fn protect_batch<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let codes = self.protect_rows(py, x)?;
        let n = codes.len() / self.words();
        self.wrap_codes(py, codes, n)
    }

    /// Declares that packed codes (e.g. read back with `np.load`) were made
    /// by this protector: checks their shape and padding bits and returns
    /// them as `btp.Codes` with this protector's origin, so that a gallery
    /// takes them. Codes of another protector give wrong scores, not an
    /// error: declare only codes you know the origin of.
    fn as_codes<'py>(
        &self,
        py: Python<'py>,
        codes: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let c = self.codes_arg(codes, "codes", &[1, 2])?;
        let slice = c.as_slice();
        py.detach(|| self.inner.layout().check_batch(slice))
            .or_raise()?;
        let a = if c.shape().len() == 1 {
            arrays::vec1(py, slice.to_vec()).into_any()
        } else {
            arrays::vec2(py, slice.to_vec(), c.rows(), self.words()).into_any()
        };
        pytypes::codes(
            py,
            a,
            &hex(&self.inner.fingerprint().0),
            &hex(&self.inner.params().id()),
        )
    }

    /// Protects a batch `(n, dim)` into a list of templates.
    fn protect_templates(&self, py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<Vec<PyTemplate>> {
        let rows = arrays::features_of_dim(x, "x", &[2], self.inner.dim())?;
        let data = rows.as_slice();
        let ts = py.detach(|| self.inner.protect_batch(data)).or_raise()?;
        Ok(ts.into_iter().map(|t| self.wrap(t)).collect())
    }

    /// The template of one packed code (a row of `protect_batch`), checked.
    fn template(&self, code: &Bound<'_, PyAny>) -> PyResult<PyTemplate> {
        let c = self.codes_arg(code, "code", &[1])?;
        Ok(self.wrap(self.inner.template(c.as_slice().to_vec()).or_raise()?))
    }

    /// The templates of packed codes `(n, words)`, each checked.
    fn templates(&self, py: Python<'_>, codes: &Bound<'_, PyAny>) -> PyResult<Vec<PyTemplate>> {
        let c = self.codes_arg(codes, "codes", &[2])?;
        let slice = c.as_slice();
        let ts = py
            .detach(|| self.inner.templates_from_codes(slice))
            .or_raise()?;
        Ok(ts.into_iter().map(|t| self.wrap(t)).collect())
    }

    /// Packed codes `(n, words)` (`btp.Codes`) of templates made by this
    /// protector.
    fn codes<'py>(
        &self,
        py: Python<'py>,
        templates: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let templates: Vec<PyRef<'py, PyTemplate>> = items(templates, "templates", |t| {
            Ok(t.cast::<PyTemplate>()?.borrow())
        })?;
        let mut out = Vec::new();
        for t in &templates {
            self.inner.check(&t.t).or_raise()?;
            out.extend_from_slice(t.t.words());
        }
        self.wrap_codes(py, out, templates.len())
    }

    /// The elements of packed codes: `(n, words)` gives `(n, code_len)`
    /// `uint8`, one code `(words,)` gives `(code_len,)`.
    fn unpack<'py>(
        &self,
        py: Python<'py>,
        codes: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArrayDyn<u8>>> {
        let c = self.codes_arg(codes, "codes", &[1, 2])?;
        let layout = self.inner.layout();
        let slice = c.as_slice();
        let elements = py.detach(|| layout.unpack_batch(slice)).or_raise()?;
        Ok(if c.shape().len() == 1 {
            arrays::vec1(py, elements)
        } else {
            arrays::vec2(py, elements, c.rows(), layout.len())
        })
    }

    /// Similarity in [0, 1] of two templates of this protector.
    fn compare(&self, a: &PyTemplate, b: &PyTemplate) -> PyResult<f64> {
        self.inner.compare(&a.t, &b.t).or_raise()
    }

    /// 1:1 decision: `Decision(score, threshold, matched)`, matched iff
    /// `score >= threshold`.
    fn verify<'py>(
        &self,
        py: Python<'py>,
        reference: &PyTemplate,
        probe: &PyTemplate,
        threshold: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let threshold = float_arg(threshold, "threshold")?;
        let d = self
            .inner
            .verify(&reference.t, &probe.t, threshold)
            .or_raise()?;
        decision(py, d)
    }

    /// All-pairs similarities of packed codes: `(na, nb)` `float32`.
    fn scores<'py>(
        &self,
        py: Python<'py>,
        codes_a: &Bound<'py, PyAny>,
        codes_b: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
        let a = self.codes_arg(codes_a, "codes_a", &[2])?;
        let b = self.codes_arg(codes_b, "codes_b", &[2])?;
        let layout = self.inner.layout();
        let (sa, sb) = (a.as_slice(), b.as_slice());
        let m = py
            .detach(|| scoring::score_matrix(&layout, sa, sb))
            .or_raise()?;
        Ok(arrays::vec2(py, m, a.rows(), b.rows()))
    }

    /// Row-wise similarities of two equally long batches of codes: `(n,)`
    /// `float32`.
    fn paired_scores<'py>(
        &self,
        py: Python<'py>,
        codes_a: &Bound<'py, PyAny>,
        codes_b: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
        let a = self.codes_arg(codes_a, "codes_a", &[2])?;
        let b = self.codes_arg(codes_b, "codes_b", &[2])?;
        let layout = self.inner.layout();
        let (sa, sb) = (a.as_slice(), b.as_slice());
        let s = py
            .detach(|| scoring::paired_scores(&layout, sa, sb))
            .or_raise()?;
        Ok(arrays::vec1(py, s))
    }

    /// The scheme.
    #[getter]
    fn scheme(&self) -> PyScheme {
        PyScheme {
            params: self.inner.params().clone(),
        }
    }

    /// Feature dimension.
    #[getter]
    fn dim(&self) -> usize {
        self.inner.dim()
    }

    /// Elements per code.
    #[getter]
    fn code_len(&self) -> usize {
        self.inner.layout().len()
    }

    /// `uint64` words per packed code.
    #[getter(words)]
    fn words_py(&self) -> usize {
        self.words()
    }

    /// The key fingerprint (hex; reveals only equality of keys).
    #[getter]
    fn fingerprint(&self) -> String {
        hex(&self.inner.fingerprint().0)
    }

    /// The application name.
    #[getter]
    fn application(&self) -> &str {
        &self.application
    }

    /// The key version.
    #[getter]
    fn version(&self) -> u32 {
        self.version
    }

    /// The subject bound into the key, if any.
    #[getter]
    fn subject<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.subject.as_deref().map(|s| PyBytes::new(py, s))
    }

    /// A `ProtectorDescription`: everything but the key. Pickling a
    /// protector gives this; `description.open(mk)` or
    /// `Protector.reopen(description, mk)` makes the protector again.
    fn describe<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.description(py)
    }

    /// The protector of a description, under `mk` (`KeyMismatchError` if
    /// `mk` is not the key the description was made with).
    #[classmethod]
    fn reopen(
        _cls: &Bound<'_, PyType>,
        description: &Bound<'_, PyAny>,
        mk: &PyMasterKey,
    ) -> PyResult<Self> {
        Self::from_description(description, mk)
    }

    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        reduce_to(py, self.description(py)?)
    }

    fn __repr__(&self) -> String {
        format!(
            "Protector({}, dim={}, code_len={}, application={:?}, version={}, key {})",
            self.inner.params().scheme_id().name(),
            self.inner.dim(),
            self.inner.layout().len(),
            self.application,
            self.version,
            hex(&self.inner.fingerprint().0)
        )
    }
}

/// `(type(obj), (field values...))` of a dataclass instance, so that
/// unpickling gives the dataclass back.
pub(crate) fn reduce_to<'py>(
    py: Python<'py>,
    obj: Bound<'py, PyAny>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let fields = py
        .import("dataclasses")?
        .getattr("fields")?
        .call1((&obj,))?;
    let mut values = Vec::new();
    for f in fields.try_iter()? {
        let name = f?.getattr("name")?;
        values.push(obj.getattr(name.cast::<PyString>()?)?);
    }
    Ok((
        obj.get_type().into_any(),
        pyo3::types::PyTuple::new(py, values)?.into_any(),
    ))
}

/// `btp.Decision(score, threshold, matched)`.
pub(crate) fn decision<'py>(py: Python<'py>, d: btp::Decision) -> PyResult<Bound<'py, PyAny>> {
    results::Decision::make(py, d.score, d.threshold, d.matched)
}
