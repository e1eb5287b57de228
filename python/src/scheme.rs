//! `btp.Scheme` and `btp.fit_centre`.

use btp::{SchemeParams, SchemeSpec};
use numpy::PyArrayDyn;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::args::{u32_arg, Text};
use crate::arrays;
use crate::errors::{param, OrRaise};

/// A cancellable scheme with its parameters and preprocessing (what the
/// transform keys are derived from). Immutable: `with_centring` and
/// `with_l2` return new schemes.
#[pyclass(frozen, eq, module = "btp", name = "Scheme")]
#[derive(Clone, PartialEq)]
pub struct PyScheme {
    pub(crate) params: SchemeParams,
}

fn preprocessed(
    params: SchemeParams,
    centre: Option<&Bound<'_, PyAny>>,
    l2: bool,
) -> PyResult<PyScheme> {
    let mut params = params.with_l2(l2);
    if let Some(c) = centre {
        params = params
            .with_centre(arrays::features(c, "centre", &[1])?.as_slice().to_vec())
            .or_raise()?;
    }
    Ok(PyScheme { params })
}

#[pymethods]
impl PyScheme {
    /// Index-of-Max hashing: `method="grp"` (Gaussian random projection,
    /// `window` projections per hash) or `"urp"` (uniformly random
    /// permutations of `order` copies, the first `window` entries).
    #[staticmethod]
    #[pyo3(signature = (dim, hashes = None, window = None, method = Text::from_static("grp"), order = None, *, centre = None, l2 = false))]
    #[allow(clippy::too_many_arguments)]
    fn iom(
        dim: &Bound<'_, PyAny>,
        hashes: Option<&Bound<'_, PyAny>>,
        window: Option<&Bound<'_, PyAny>>,
        method: Text,
        order: Option<&Bound<'_, PyAny>>,
        centre: Option<&Bound<'_, PyAny>>,
        l2: bool,
    ) -> PyResult<Self> {
        let dim = u32_arg(dim, "dim", 0)?;
        let hashes = opt_u32(hashes, "hashes")?.unwrap_or(512);
        let window = opt_u32(window, "window")?.unwrap_or(16);
        let order = opt_u32(order, "order")?;
        let params = match &*method {
            "grp" => {
                if order.is_some() {
                    return Err(param("order", "applies to method=\"urp\" only"));
                }
                SchemeParams::iom_grp(dim, hashes, window)
            }
            "urp" => SchemeParams::iom_urp(dim, hashes, window, order.unwrap_or(2)),
            _ => return Err(param("method", "must be \"grp\" or \"urp\"")),
        }
        .or_raise()?;
        preprocessed(params, centre, l2)
    }

    /// BioHashing to `bits` bits (default: the dimension).
    #[staticmethod]
    #[pyo3(signature = (dim, bits = None, *, centre = None, l2 = false))]
    fn biohash(
        dim: &Bound<'_, PyAny>,
        bits: Option<&Bound<'_, PyAny>>,
        centre: Option<&Bound<'_, PyAny>>,
        l2: bool,
    ) -> PyResult<Self> {
        let dim = u32_arg(dim, "dim", 0)?;
        let bits = opt_u32(bits, "bits")?;
        let params = SchemeParams::biohash(dim, bits.unwrap_or(dim)).or_raise()?;
        preprocessed(params, centre, l2)
    }

    /// Decodes the canonical encoding made by `to_bytes`.
    #[staticmethod]
    fn from_bytes(data: &[u8]) -> PyResult<Self> {
        Ok(Self {
            params: SchemeParams::from_bytes(data).or_raise()?,
        })
    }

    /// The canonical encoding: what keys are derived from and stores keep.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.params.to_bytes())
    }

    fn __bytes__<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        self.to_bytes(py)
    }

    /// The same scheme, centring every vector on `centre` (see `fit_centre`).
    fn with_centring(&self, centre: &Bound<'_, PyAny>) -> PyResult<Self> {
        let c = arrays::features(centre, "centre", &[1])?;
        Ok(Self {
            params: self
                .params
                .clone()
                .with_centre(c.as_slice().to_vec())
                .or_raise()?,
        })
    }

    /// The same scheme with L2 normalisation (after centring) on or off.
    #[pyo3(signature = (l2 = true))]
    fn with_l2(&self, l2: bool) -> Self {
        Self {
            params: self.params.clone().with_l2(l2),
        }
    }

    /// `"iom-grp"`, `"iom-urp"` or `"biohash"`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.params.scheme_id().name()
    }

    /// Feature dimension.
    #[getter]
    fn dim(&self) -> usize {
        self.params.dim()
    }

    /// IoM hashes (None for BioHash).
    #[getter]
    fn hashes(&self) -> Option<u32> {
        match self.params.spec() {
            SchemeSpec::IomGrp { hashes, .. } | SchemeSpec::IomUrp { hashes, .. } => Some(hashes),
            SchemeSpec::BioHash { .. } => None,
        }
    }

    /// IoM window (None for BioHash).
    #[getter]
    fn window(&self) -> Option<u32> {
        match self.params.spec() {
            SchemeSpec::IomGrp { window, .. } | SchemeSpec::IomUrp { window, .. } => Some(window),
            SchemeSpec::BioHash { .. } => None,
        }
    }

    /// IoM-URP order (None otherwise).
    #[getter]
    fn order(&self) -> Option<u32> {
        match self.params.spec() {
            SchemeSpec::IomUrp { order, .. } => Some(order),
            _ => None,
        }
    }

    /// BioHash bits (None for IoM).
    #[getter]
    fn bits(&self) -> Option<u32> {
        match self.params.spec() {
            SchemeSpec::BioHash { bits } => Some(bits),
            _ => None,
        }
    }

    /// Elements per code (IoM hashes or BioHash bits).
    #[getter]
    fn code_len(&self) -> usize {
        self.params.layout().len()
    }

    /// Elements are below this (IoM window, 2 for BioHash).
    #[getter]
    fn alphabet(&self) -> u16 {
        self.params.layout().alphabet()
    }

    /// `uint64` words per packed code.
    #[getter]
    fn words(&self) -> usize {
        self.params.layout().words()
    }

    /// Whether vectors are L2-normalised.
    #[getter]
    fn l2(&self) -> bool {
        self.params.preprocess().l2
    }

    /// The centring vector (a copy), or None.
    #[getter]
    fn centre<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArrayDyn<f32>>> {
        self.params
            .preprocess()
            .centre
            .clone()
            .map(|c| arrays::vec1(py, c))
    }

    /// The parameters id templates carry (16 hex digits).
    #[getter]
    fn id(&self) -> String {
        hex(&self.params.id())
    }

    fn __hash__(&self) -> u64 {
        u64::from_le_bytes(self.params.id())
    }

    fn __repr__(&self) -> String {
        let p = &self.params;
        let spec = match p.spec() {
            SchemeSpec::IomGrp { hashes, window } => format!("hashes={hashes}, window={window}"),
            SchemeSpec::IomUrp {
                hashes,
                window,
                order,
            } => format!("hashes={hashes}, window={window}, order={order}"),
            SchemeSpec::BioHash { bits } => format!("bits={bits}"),
        };
        let centred = if p.preprocess().centre.is_some() {
            ", centred"
        } else {
            ""
        };
        let l2 = if p.preprocess().l2 { ", l2" } else { "" };
        format!(
            "Scheme({}, dim={}, {spec}{centred}{l2})",
            p.scheme_id().name(),
            p.dim()
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

/// An optional `uint32` argument (None when absent or None).
fn opt_u32(obj: Option<&Bound<'_, PyAny>>, name: &'static str) -> PyResult<Option<u32>> {
    obj.filter(|o| !o.is_none())
        .map(|o| u32_arg(o, name, 0))
        .transpose()
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The mean of a sample of feature vectors `(n, dim)`, accumulated in
/// float64: the centring vector of a scheme.
#[pyfunction]
pub fn fit_centre<'py>(py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let rows = arrays::features(x, "x", &[2])?;
    let dim = rows.shape()[1];
    let data = rows.as_slice();
    let centre = py.detach(|| btp::fit_centre(data, dim)).or_raise()?;
    Ok(arrays::vec1(py, centre).into_any())
}
