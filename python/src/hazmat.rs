//! `_native.hazmat.expose_transform`: the secret transform of a protector
//! (`btp::Protector::expose_transform`), for `btp.hazmat` only. The arrays
//! returned are numpy's memory: they are not wiped when freed, which is one
//! more reason `btp.hazmat` tells callers to keep them out of long-lived
//! objects. The core's copy is wiped as soon as it is converted.

use btp::schemes::TransformMaterial;
use numpy::ndarray::{ArrayD, IxDyn};
use numpy::{IntoPyArray, PyArrayDyn};
use pyo3::prelude::*;

use crate::protector::PyProtector;

/// Copies `v` into a new numpy array of `shape`.
fn array<'py, T: numpy::Element + Copy>(
    py: Python<'py>,
    v: &[T],
    shape: &[usize],
) -> Bound<'py, PyArrayDyn<T>> {
    ArrayD::from_shape_vec(IxDyn(shape), v.to_vec())
        .expect("the material holds the product of its shape")
        .into_pyarray(py)
}

/// `(kind, array)`: `("iom-grp", matrix (hashes, window, dim) float32)`,
/// `("iom-urp", permutations (hashes, order, window) uint32)` or
/// `("biohash", basis (bits, dim) float32)`.
#[pyfunction]
#[pyo3(name = "expose_transform")]
pub fn hazmat_expose_transform<'py>(
    py: Python<'py>,
    protector: &PyProtector,
) -> (&'static str, Bound<'py, PyAny>) {
    match protector.inner.expose_transform() {
        TransformMaterial::IomGrp {
            hashes,
            window,
            dim,
            matrix,
        } => (
            "iom-grp",
            array(py, &matrix, &[hashes, window, dim]).into_any(),
        ),
        TransformMaterial::IomUrp {
            hashes,
            window,
            order,
            permutations,
            ..
        } => (
            "iom-urp",
            array(py, &permutations, &[hashes, order, window]).into_any(),
        ),
        TransformMaterial::BioHash { bits, dim, basis } => {
            ("biohash", array(py, &basis, &[bits, dim]).into_any())
        }
    }
}

/// Makes the submodule `_native.hazmat`.
pub fn register(parent: &Bound<'_, PyModule>) -> PyResult<()> {
    let m = crate::submodule(parent, "hazmat")?;
    m.add_function(wrap_pyfunction!(hazmat_expose_transform, &m)?)?;
    Ok(())
}
