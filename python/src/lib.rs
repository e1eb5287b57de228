//! `btp._native`: the Python bindings of btp, imported by the typed package
//! `btp` (python/btp), which is the public interface.
//!
//! This crate only translates: numpy arrays and Python objects in, core
//! calls (without the GIL for anything that scales with its input), Python
//! objects and exceptions out. Everything computed lives in the core crate.
//!
//! Layout of the module: `_native.__all__` is the public names the package
//! `btp` re-exports (classes, exceptions, `fit_centre`, `merge_results`);
//! the functions behind `btp.eval`, `btp.synthetic` and `btp.hazmat` are
//! the submodules `_native.eval`, `_native.synthetic` and `_native.hazmat`;
//! private helpers start with `_`. Stubs: `btp/_native/*.pyi`.

#![forbid(unsafe_code)]

mod args;
mod arrays;
mod audit;
mod errors;
mod eval;
mod gallery;
mod hazmat;
mod ids;
mod keys;
mod labelled;
mod protector;
mod purpose;
mod pytypes;
mod results;
mod scheme;
mod store;
mod template;

use pyo3::prelude::*;

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // Public: `add` and `add_class` list each name in `__all__`.
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(m)?;
    m.add_class::<keys::PyMasterKey>()?;
    m.add_class::<scheme::PyScheme>()?;
    m.add_class::<template::PyTemplate>()?;
    m.add_class::<protector::PyProtector>()?;
    m.add_class::<gallery::PyGallery>()?;
    m.add_class::<purpose::PyPurpose>()?;
    m.add_class::<store::PyStore>()?;
    m.add_function(wrap_pyfunction!(scheme::fit_centre, m)?)?;
    m.add_function(wrap_pyfunction!(gallery::merge_results, m)?)?;
    // Private and submodules: `setattr`, which leaves `__all__` alone.
    m.setattr(
        "_reads_in_place",
        wrap_pyfunction!(arrays::_reads_in_place, m)?,
    )?;
    results::register(m)?;
    eval::register(m)?;
    labelled::register_synthetic(m)?;
    hazmat::register(m)?;
    Ok(())
}

/// The submodule `_native.<name>`, importable as `btp._native.<name>`:
/// listed in `sys.modules` (Python looks for the submodules of an extension
/// module only there) and set as an attribute of `parent` but not listed in
/// its `__all__` (the package's public names).
fn submodule<'py>(parent: &Bound<'py, PyModule>, name: &str) -> PyResult<Bound<'py, PyModule>> {
    let py = parent.py();
    let qualified = format!("btp._native.{name}");
    let m = PyModule::new(py, &qualified)?;
    py.import("sys")?
        .getattr("modules")?
        .set_item(&qualified, &m)?;
    parent.setattr(name, &m)?;
    Ok(m)
}
