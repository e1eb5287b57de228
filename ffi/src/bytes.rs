//! Byte buffers allocated by the library and released by `btp_bytes_free`.
//!
//! Functions named `*_alloc` (and the audit export) hand out their output
//! as `(uint8_t *, size_t)` through two out-pointers. The buffer belongs to
//! the caller until it passes exactly that pointer and length back to
//! [`btp_bytes_free`], which wipes it before releasing it: template bytes
//! are personal data.

use crate::arrays::{free_array, OutArray};
use crate::error::FfiResult;
use crate::guard::ffi_free;

/// The two out-pointers of a library buffer, checked non-NULL (named
/// `out` and `out_len`) and set to `(NULL, 0)` at once, so that a failed
/// call always leaves them so.
pub struct OutBytes(OutArray<u8>);

impl OutBytes {
    /// Checks both pointers and writes `(NULL, 0)` through them.
    ///
    /// # Safety
    /// Non-NULL pointers must be writable.
    pub unsafe fn new(ptr: *mut *mut u8, len: *mut usize) -> FfiResult<Self> {
        // SAFETY: per the contract.
        unsafe { OutArray::new(ptr, len, "out", "out_len") }.map(Self)
    }

    /// Hands `bytes` to the caller: `(NULL, 0)` when empty, else a buffer
    /// of exactly `bytes.len()` bytes (see [`OutArray::set`]).
    ///
    /// # Safety
    /// As [`OutBytes::new`].
    pub unsafe fn set(self, bytes: Vec<u8>) {
        // SAFETY: per the contract.
        unsafe { self.0.set(bytes) }
    }
}

/// Wipes and frees a buffer the library allocated (`*_alloc` functions,
/// `btp_store_export_audit`). `len` must be the length returned with
/// `ptr`. NULL does nothing (whatever `len`). Set your pointer to NULL
/// afterwards: freeing the same buffer twice is undefined behaviour.
///
/// # Safety
/// `ptr` must be NULL or a buffer from this library, not yet freed, with
/// its length `len`; no other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn btp_bytes_free(ptr: *mut u8, len: usize) {
    // SAFETY: the caller passes NULL or a live buffer it no longer uses (see `# Safety`).
    ffi_free(|| unsafe { free_array(ptr, len) });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_round_trip_and_empty_is_null() {
        let (mut p, mut n) = (std::ptr::null_mut(), 7usize);
        // SAFETY: local out-pointers.
        unsafe {
            let out = OutBytes::new(&mut p, &mut n).unwrap();
            let mut v = Vec::with_capacity(10);
            v.extend_from_slice(b"abc");
            out.set(v);
            assert_eq!(std::slice::from_raw_parts(p, n), b"abc");
            btp_bytes_free(p, n);
            let out = OutBytes::new(&mut p, &mut n).unwrap();
            out.set(Vec::new());
            assert!(p.is_null() && n == 0);
            btp_bytes_free(p, n);
            assert!(OutBytes::new(std::ptr::null_mut(), &mut n).is_err());
            assert!(OutBytes::new(&mut p, std::ptr::null_mut()).is_err());
        }
    }
}
