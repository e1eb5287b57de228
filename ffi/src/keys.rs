//! The master key handle.

use btp_core::MasterKey;

use crate::error::{btp_result, FfiError};
use crate::guard::{ffi_call, ffi_free};
use crate::ptr::{self, OutHandle};

/// The root secret of a deployment: 32 bytes, zeroized when freed.
///
/// Thread safety: immutable after creation; one key may be used by any
/// number of threads at once. Free it once, after every use has returned.
pub struct btp_master_key(pub(crate) MasterKey);

/// A new master key from the operating system's random number generator.
///
/// # Safety
/// `out` must be NULL or writable; on success it receives a handle to free
/// with `btp_master_key_free`, on failure NULL.
#[no_mangle]
pub unsafe extern "C" fn btp_master_key_generate(out: *mut *mut btp_master_key) -> btp_result {
    ffi_call("btp_master_key_generate", || {
        // SAFETY: `out` is NULL or writable per `# Safety`.
        let out = unsafe { OutHandle::new(out, "out") }?;
        // SAFETY: as above.
        unsafe { out.set(btp_master_key(MasterKey::generate()?)) };
        Ok(())
    })
}

/// A master key from exactly 32 bytes (else `BTP_RESULT_INVALID_KEY_LENGTH`).
/// The library keeps its own copy: the caller should wipe `bytes`.
///
/// # Safety
/// `bytes` must be NULL or point to `len` readable bytes; `out` must be NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_master_key_from_bytes(
    bytes: *const u8,
    len: usize,
    out: *mut *mut btp_master_key,
) -> btp_result {
    ffi_call("btp_master_key_from_bytes", || {
        // SAFETY: `out` is NULL or writable per `# Safety`.
        let out = unsafe { OutHandle::new(out, "out") }?;
        // SAFETY: `bytes` is NULL or `len` readable bytes per `# Safety`.
        let bytes = unsafe { ptr::slice(bytes, len, "bytes") }?;
        let key = MasterKey::from_bytes(bytes).map_err(FfiError::about("bytes"))?;
        // SAFETY: as for `out` above.
        unsafe { out.set(btp_master_key(key)) };
        Ok(())
    })
}

/// The 32 bytes of `key` into `(buf, len)`, to write a key file: handle
/// them as the key itself and wipe them after use. `*needed` always
/// receives 32; a smaller `len` is `BTP_RESULT_BUFFER_TOO_SMALL` and writes
/// nothing.
///
/// # Safety
/// `key` must be a live handle or NULL; `buf` NULL or `len` writable bytes;
/// `needed` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_master_key_expose_secret(
    key: *const btp_master_key,
    buf: *mut u8,
    len: usize,
    needed: *mut usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_master_key_expose_secret", || unsafe {
        let key = ptr::handle(key, "key")?;
        ptr::copy_out(key.0.expose_secret(), buf, len, needed)
    })
}

/// Frees a master key, wiping its bytes. NULL does nothing. Set your pointer
/// to NULL afterwards: freeing the same handle twice is undefined behaviour.
///
/// # Safety
/// `key` must be NULL or a handle from this library not yet freed, and no
/// other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn btp_master_key_free(key: *mut btp_master_key) {
    // SAFETY: the caller passes NULL or a live handle it no longer uses (see `# Safety`).
    ffi_free(|| unsafe { ptr::free(key) });
}
