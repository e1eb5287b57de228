//! `btp._native`: the Python bindings of btp, imported by the typed package
//! `btp` (python/btp), which is the public interface.
//!
//! This crate only translates: numpy arrays and Python objects in, core
//! calls (without the GIL for anything that scales with its input), Python
//! objects and exceptions out. Everything computed lives in the core crate.

#![forbid(unsafe_code)]

mod args;
mod arrays;
mod audit;
mod errors;
mod eval;
mod gallery;
mod hazmat;
mod ids;
mod labelled;
mod protector;
mod purpose;
mod pytypes;
mod scheme;
mod store;
mod template;

use pyo3::prelude::*;

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(m)?;
    m.add_class::<scheme::PyMasterKey>()?;
    m.add_class::<scheme::PyScheme>()?;
    m.add_class::<template::PyTemplate>()?;
    m.add_class::<protector::PyProtector>()?;
    m.add_class::<gallery::PyGallery>()?;
    m.add_class::<purpose::PyPurpose>()?;
    m.add_class::<store::PyStore>()?;
    m.add_function(wrap_pyfunction!(scheme::fit_centre, m)?)?;
    m.add_function(wrap_pyfunction!(gallery::merge_results, m)?)?;
    m.add_function(wrap_pyfunction!(arrays::_reads_in_place, m)?)?;
    eval::register(m)?;
    labelled::register(m)?;
    hazmat::register(m)?;
    Ok(())
}
