//! The scheme parameters handle.

use btp_core::SchemeParams;

use crate::arrays::OutArray;
use crate::bytes::OutBytes;
use crate::error::{btp_result, FfiError, FfiResult};
use crate::guard::{ffi_call, ffi_free};
use crate::ptr::{self, Out, OutHandle};

/// The parameters of a cancellable scheme: scheme, dimension, code length,
/// and preprocessing (centre, L2 normalisation). Not secret.
///
/// Thread safety: immutable; `btp_params_with_*` return a new handle and
/// leave their input unchanged. One handle may be used by any number of
/// threads at once.
pub struct btp_params(pub(crate) SchemeParams);

/// The body of every constructor: `out` is checked and set to NULL before
/// `p` checks the other arguments and makes the parameters, so that a
/// failure always leaves NULL there.
unsafe fn make(
    out: *mut *mut btp_params,
    p: impl FnOnce() -> FfiResult<SchemeParams>,
) -> FfiResult {
    // SAFETY: `out` is NULL or writable per the entry points' contracts.
    let out = unsafe { OutHandle::new(out, "out") }?;
    // SAFETY: as above.
    unsafe { out.set(btp_params(p()?)) };
    Ok(())
}

/// IoM hashing with Gaussian random projections: `hashes` code elements,
/// each the argmax of `window` projections of the `dim`-dimensional input.
///
/// # Safety
/// `out` must be NULL or writable; it receives a handle to free with
/// `btp_params_free` (NULL on failure).
#[no_mangle]
pub unsafe extern "C" fn btp_params_iom_grp(
    dim: u32,
    hashes: u32,
    window: u32,
    out: *mut *mut btp_params,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_params_iom_grp", || unsafe {
        make(out, || Ok(SchemeParams::iom_grp(dim, hashes, window)?))
    })
}

/// IoM hashing with uniformly random permutations (`order` products per
/// element; `window <= dim`).
///
/// # Safety
/// As `btp_params_iom_grp`.
#[no_mangle]
pub unsafe extern "C" fn btp_params_iom_urp(
    dim: u32,
    hashes: u32,
    window: u32,
    order: u32,
    out: *mut *mut btp_params,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_params_iom_urp", || unsafe {
        make(out, || {
            Ok(SchemeParams::iom_urp(dim, hashes, window, order)?)
        })
    })
}

/// BioHashing: `bits` (at most `dim`) binary code elements.
///
/// # Safety
/// As `btp_params_iom_grp`.
#[no_mangle]
pub unsafe extern "C" fn btp_params_biohash(
    dim: u32,
    bits: u32,
    out: *mut *mut btp_params,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_params_biohash", || unsafe {
        make(out, || Ok(SchemeParams::biohash(dim, bits)?))
    })
}

/// A copy of `params` that subtracts `centre` (`len` = the dimension, all
/// finite) before protection; `params` is unchanged. The centre is a
/// parameter: another length, NaN or an infinity is
/// `BTP_RESULT_INVALID_PARAMETER` naming `centre`.
///
/// # Safety
/// `params` must be a live handle or NULL; `centre` must be NULL or point to
/// `len` readable floats; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_params_with_centre(
    params: *const btp_params,
    centre: *const f32,
    len: usize,
    out: *mut *mut btp_params,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_params_with_centre", || unsafe {
        make(out, || {
            let p = ptr::handle(params, "params")?;
            let centre = ptr::slice(centre, len, "centre")?;
            Ok(p.0.clone().with_centre(centre.to_vec())?)
        })
    })
}

/// The centre of a sample of feature vectors for `btp_params_with_centre`:
/// the mean of the row-major `rows` (`rows_len` a non-zero multiple of
/// `dim`, every value finite), accumulated in double precision. `*centre`
/// receives `dim` floats; release them with `btp_array_f32_free(*centre,
/// *centre_len)`.
///
/// # Safety
/// `rows` NULL or `rows_len` readable floats; `centre`, `centre_len` NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_fit_centre(
    rows: *const f32,
    rows_len: usize,
    dim: usize,
    centre: *mut *mut f32,
    centre_len: *mut usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_fit_centre", || unsafe {
        let out = OutArray::new(centre, centre_len, "centre", "centre_len")?;
        let rows = ptr::slice(rows, rows_len, "rows")?;
        out.set(btp_core::fit_centre(rows, dim).map_err(FfiError::about("rows"))?);
        Ok(())
    })
}

/// A copy of `params` with L2 normalisation switched on or off; `params` is
/// unchanged.
///
/// # Safety
/// As `btp_params_with_centre`.
#[no_mangle]
pub unsafe extern "C" fn btp_params_with_l2(
    params: *const btp_params,
    l2: bool,
    out: *mut *mut btp_params,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_params_with_l2", || unsafe {
        make(out, || {
            Ok(ptr::handle(params, "params")?.0.clone().with_l2(l2))
        })
    })
}

/// The input dimension of `params`.
///
/// # Safety
/// `params` must be a live handle or NULL; `dim` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_params_dim(params: *const btp_params, dim: *mut usize) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_params_dim", || unsafe {
        let p = ptr::handle(params, "params")?;
        Out::new(dim, "dim")?.write(p.0.dim());
        Ok(())
    })
}

/// The canonical encoding of `params` into `(buf, len)`. `*needed` always
/// receives the encoded size; if `len` is smaller nothing is written and
/// `BTP_RESULT_BUFFER_TOO_SMALL` is returned (`buf` may be NULL with `len`
/// 0 to query the size).
///
/// # Safety
/// `params` must be a live handle or NULL; `buf` must be NULL or point to
/// `len` writable bytes; `needed` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_params_to_bytes(
    params: *const btp_params,
    buf: *mut u8,
    len: usize,
    needed: *mut usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_params_to_bytes", || unsafe {
        let p = ptr::handle(params, "params")?;
        ptr::copy_out(&p.0.to_bytes(), buf, len, needed)
    })
}

/// The canonical encoding of `params` in a library buffer: `*out` receives
/// the bytes and `*out_len` their number; release them with
/// `btp_bytes_free(*out, *out_len)`. On failure `*out` is NULL and
/// `*out_len` 0.
///
/// # Safety
/// `params` must be a live handle or NULL; `out` and `out_len` must be NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_params_to_bytes_alloc(
    params: *const btp_params,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_params_to_bytes_alloc", || unsafe {
        let out = OutBytes::new(out, out_len)?;
        let p = ptr::handle(params, "params")?;
        out.set(p.0.to_bytes());
        Ok(())
    })
}

/// Parameters from their canonical encoding (strict: `BTP_RESULT_DECODE`
/// for anything else).
///
/// # Safety
/// `bytes` must be NULL or point to `len` readable bytes; `out` must be
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_params_from_bytes(
    bytes: *const u8,
    len: usize,
    out: *mut *mut btp_params,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_params_from_bytes", || unsafe {
        make(out, || {
            let bytes = ptr::slice(bytes, len, "bytes")?;
            SchemeParams::from_bytes(bytes).map_err(FfiError::about("bytes"))
        })
    })
}

/// Frees parameters. NULL does nothing. Set your pointer to NULL afterwards:
/// freeing the same handle twice is undefined behaviour.
///
/// # Safety
/// `params` must be NULL or a handle from this library not yet freed, and
/// no other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn btp_params_free(params: *mut btp_params) {
    // SAFETY: the caller passes NULL or a live handle it no longer uses (see `# Safety`).
    ffi_free(|| unsafe { ptr::free(params) });
}
