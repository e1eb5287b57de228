//! The library version at run time (the header has `BTP_VERSION_*` macros).

use std::ffi::c_char;

/// The version of the library, e.g. `"0.1.0"`: static, never NULL, never
/// freed. Compare it with `BTP_VERSION_MAJOR/MINOR/PATCH` of the header the
/// program was compiled with.
///
/// # Safety
/// Always safe to call.
#[no_mangle]
pub unsafe extern "C" fn btp_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

#[cfg(test)]
mod tests {
    /// The header's version macros (from cbindgen.toml) agree with the crate.
    #[test]
    fn header_macros_match_the_crate_version() {
        let header = include_str!("../../include/btp.h");
        for (name, value) in [
            ("MAJOR", env!("CARGO_PKG_VERSION_MAJOR")),
            ("MINOR", env!("CARGO_PKG_VERSION_MINOR")),
            ("PATCH", env!("CARGO_PKG_VERSION_PATCH")),
        ] {
            let line = format!("#define BTP_VERSION_{name} {value}\n");
            assert!(header.contains(&line), "include/btp.h lacks `{line}`");
        }
        // SAFETY: a static NUL-terminated string.
        let v = unsafe { std::ffi::CStr::from_ptr(super::btp_version()) };
        assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }
}
