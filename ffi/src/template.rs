//! The protected template handle and its wire format.

use btp_core::ProtectedTemplate;

use zeroize::Zeroizing;

use crate::bytes::OutBytes;
use crate::error::{btp_result, FfiError};
use crate::guard::{ffi_call, ffi_free};
use crate::ptr::{self, OutHandle};

/// Length in bytes of a key fingerprint (`btp_template_fingerprint`).
pub const BTP_FINGERPRINT_LEN: usize = 8;

/// A protected (cancellable) template: scheme, parameters id, key
/// fingerprint and the protected code. Personal data: its memory is freed
/// by `btp_template_free`.
///
/// Thread safety: immutable; one template may be read by any number of
/// threads at once.
pub struct btp_template(pub(crate) ProtectedTemplate);

/// The versioned wire encoding of `t` into `(buf, len)`. `*needed` always
/// receives the encoded size; if `len` is smaller nothing is written and
/// `BTP_RESULT_BUFFER_TOO_SMALL` is returned (`buf` may be NULL with `len`
/// 0 to query the size).
///
/// # Safety
/// `t` must be a live handle or NULL; `buf` must be NULL or point to `len`
/// writable bytes; `needed` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_template_to_bytes(
    t: *const btp_template,
    buf: *mut u8,
    len: usize,
    needed: *mut usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_template_to_bytes", || unsafe {
        let t = ptr::handle(t, "t")?;
        ptr::copy_out(&Zeroizing::new(t.0.to_bytes()), buf, len, needed)
    })
}

/// The versioned wire encoding of `t` in a library buffer: `*out` receives
/// the bytes and `*out_len` their number. Release them with
/// `btp_bytes_free(*out, *out_len)` (which wipes them). On failure `*out`
/// is NULL and `*out_len` 0.
///
/// # Safety
/// `t` must be a live handle or NULL; `out` and `out_len` must be NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn btp_template_to_bytes_alloc(
    t: *const btp_template,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_template_to_bytes_alloc", || unsafe {
        let out = OutBytes::new(out, out_len)?;
        let t = ptr::handle(t, "t")?;
        out.set(t.0.to_bytes());
        Ok(())
    })
}

/// A template from its wire encoding (strict: `BTP_RESULT_DECODE` for
/// truncated, altered or foreign bytes).
///
/// # Safety
/// `bytes` must be NULL or point to `len` readable bytes; `out` must be
/// NULL or writable; it receives a handle to free with `btp_template_free`.
#[no_mangle]
pub unsafe extern "C" fn btp_template_from_bytes(
    bytes: *const u8,
    len: usize,
    out: *mut *mut btp_template,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_template_from_bytes", || unsafe {
        let out = OutHandle::new(out, "out")?;
        let bytes = ptr::slice(bytes, len, "bytes")?;
        let t = ProtectedTemplate::from_bytes(bytes).map_err(FfiError::about("bytes"))?;
        out.set(btp_template(t));
        Ok(())
    })
}

/// The fingerprint of the key `t` was made under, into `(buf, len)` with
/// `len >= BTP_FINGERPRINT_LEN`. Equal fingerprints mean the same key; they
/// reveal nothing else.
///
/// # Safety
/// `t` must be a live handle or NULL; `buf` must be NULL or point to `len`
/// writable bytes.
#[no_mangle]
pub unsafe extern "C" fn btp_template_fingerprint(
    t: *const btp_template,
    buf: *mut u8,
    len: usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_template_fingerprint", || unsafe {
        let t = ptr::handle(t, "t")?;
        write_fingerprint(&t.0.fingerprint().0, buf, len)
    })
}

/// Copies a fingerprint to a caller buffer of at least its length (NULL
/// with a non-zero `len` is `BTP_RESULT_NULL_ARGUMENT`).
pub(crate) unsafe fn write_fingerprint(
    fp: &[u8],
    buf: *mut u8,
    len: usize,
) -> crate::error::FfiResult {
    // SAFETY: `buf` is NULL or `len` writable bytes per the callers' contracts.
    let dst = unsafe { ptr::slice_mut(buf, len, "buf") }?;
    ptr::fits(dst.len(), fp.len(), "bytes")?;
    dst[..fp.len()].copy_from_slice(fp);
    Ok(())
}

#[cfg(test)]
#[test]
fn fingerprint_len_matches_the_core() {
    assert_eq!(BTP_FINGERPRINT_LEN, btp_core::keys::FINGERPRINT_LEN);
}

/// Frees a template. NULL does nothing. Set your pointer to NULL afterwards:
/// freeing the same handle twice is undefined behaviour.
///
/// # Safety
/// `t` must be NULL or a handle from this library not yet freed, and no
/// other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn btp_template_free(t: *mut btp_template) {
    // SAFETY: the caller passes NULL or a live handle it no longer uses (see `# Safety`).
    ffi_free(|| unsafe { ptr::free(t) });
}
