//! Byte buffers allocated by the library and released by `btp_bytes_free`.
//!
//! Functions named `*_alloc` (and the audit export) hand out their output
//! as `(uint8_t *, size_t)` through two out-pointers. The buffer belongs to
//! the caller until it passes exactly that pointer and length back to
//! [`btp_bytes_free`], which wipes it before releasing it: template bytes
//! are personal data.

use zeroize::Zeroize;

use crate::error::FfiResult;
use crate::guard::ffi_free;
use crate::ptr::Out;

/// The two out-pointers of a library buffer, checked non-NULL and set to
/// `(NULL, 0)` at once, so that a failed call always leaves them so.
pub struct OutBytes {
    ptr: Out<*mut u8>,
    len: Out<usize>,
}

impl OutBytes {
    /// Checks both pointers and writes `(NULL, 0)` through them.
    ///
    /// # Safety
    /// Non-NULL pointers must be writable.
    pub unsafe fn new(ptr: *mut *mut u8, len: *mut usize) -> FfiResult<Self> {
        let ptr = Out::new(ptr, "out")?;
        let len = Out::new(len, "out_len")?;
        // SAFETY: writable per the contract.
        unsafe {
            ptr.write(std::ptr::null_mut());
            len.write(0);
        }
        Ok(Self { ptr, len })
    }

    /// Hands `bytes` to the caller: `(NULL, 0)` when empty, else a buffer
    /// of exactly `bytes.len()` bytes. A `Vec` with spare capacity is copied
    /// and wiped, so that no unwiped copy is left behind.
    ///
    /// # Safety
    /// As [`OutBytes::new`].
    pub unsafe fn set(self, mut bytes: Vec<u8>) {
        if bytes.is_empty() {
            bytes.zeroize();
            return;
        }
        let boxed: Box<[u8]> = if bytes.len() == bytes.capacity() {
            bytes.into_boxed_slice()
        } else {
            let b = Box::from(bytes.as_slice());
            bytes.zeroize();
            b
        };
        let len = boxed.len();
        let ptr = Box::into_raw(boxed).cast::<u8>();
        // SAFETY: writable per the contract.
        unsafe {
            self.ptr.write(ptr);
            self.len.write(len);
        }
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
    ffi_free(|| {
        if ptr.is_null() {
            return;
        }
        // SAFETY: made by `OutBytes::set` as a Box<[u8]> of `len` bytes and
        // not freed, per the contract.
        let mut b = unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len)) };
        b.zeroize();
    });
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
