//! Arrays of numbers allocated by the library and released by their
//! `btp_array_*_free`: score curves, score matrices, packed codes, ids,
//! mate columns and pair indices, whose size the caller cannot know before
//! the call.
//!
//! An array goes out as `(T *, size_t)` through two out-pointers, both set
//! to `(NULL, 0)` before any other argument is checked, and `(NULL, 0)`
//! again for an empty result. It belongs to the caller until it passes
//! exactly that pointer and length back to the free function of its type,
//! which wipes it: codes and scores are personal data.

use zeroize::{DefaultIsZeroes, Zeroize};

use crate::error::FfiResult;
use crate::guard::ffi_free;
use crate::ptr::Out;

/// The two out-pointers of a library array, checked non-NULL and set to
/// `(NULL, 0)` at once, so that a failed call always leaves them so.
pub struct OutArray<T> {
    ptr: Out<*mut T>,
    len: Out<usize>,
}

impl<T: DefaultIsZeroes> OutArray<T> {
    /// Checks both pointers (named `name` and `len_name` in errors) and
    /// writes `(NULL, 0)` through them.
    ///
    /// # Safety
    /// Non-NULL pointers must be writable.
    pub unsafe fn new(
        ptr: *mut *mut T,
        len: *mut usize,
        name: &str,
        len_name: &str,
    ) -> FfiResult<Self> {
        // Each valid out-pointer is emptied before either is refused: a
        // failed call leaves (NULL, 0) wherever it can write (found by a
        // red-team pass: a NULL length left the array pointer as it was).
        let ptr = Out::new(ptr, name);
        let len = Out::new(len, len_name);
        // SAFETY: writable per the contract.
        unsafe {
            if let Ok(p) = &ptr {
                p.write(std::ptr::null_mut());
            }
            if let Ok(l) = &len {
                l.write(0);
            }
        }
        Ok(Self {
            ptr: ptr?,
            len: len?,
        })
    }

    /// Hands `values` to the caller: `(NULL, 0)` when empty, else an array
    /// of exactly `values.len()` elements. A `Vec` with spare capacity is
    /// copied and wiped, so that no unwiped copy is left behind.
    ///
    /// # Safety
    /// As [`OutArray::new`].
    pub unsafe fn set(self, values: Vec<T>) {
        let (ptr, len) = into_raw(values);
        // SAFETY: writable per the contract.
        unsafe {
            self.ptr.write(ptr);
            self.len.write(len);
        }
    }
}

/// `values` as a library array `(ptr, len)`: `(NULL, 0)` when empty, else
/// exactly `values.len()` elements, released by [`free_array`]. A `Vec`
/// with spare capacity is copied and wiped, so that no unwiped copy is
/// left behind.
pub(crate) fn into_raw<T: DefaultIsZeroes>(mut values: Vec<T>) -> (*mut T, usize) {
    if values.is_empty() {
        values.zeroize();
        return (std::ptr::null_mut(), 0);
    }
    let boxed: Box<[T]> = if values.len() == values.capacity() {
        values.into_boxed_slice()
    } else {
        let b = Box::from(values.as_slice());
        values.zeroize();
        b
    };
    let len = boxed.len();
    (Box::into_raw(boxed).cast::<T>(), len)
}

/// Wipes and frees an array made by [`into_raw`]; NULL does nothing.
///
/// # Safety
/// `ptr` must be NULL or an array from [`into_raw`] for `T`, not yet
/// freed, with its length `len`.
pub(crate) unsafe fn free_array<T: DefaultIsZeroes>(ptr: *mut T, len: usize) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: made by `into_raw` as a Box<[T]> of `len` elements and not
    // freed, per the contract.
    let mut b = unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len)) };
    b.zeroize();
}

/// Wipes and frees an array of doubles the library allocated (scores,
/// curves). `len` must be the length returned with `ptr`. NULL does
/// nothing (whatever `len`). Set your pointer to NULL afterwards: freeing
/// the same array twice is undefined behaviour.
///
/// # Safety
/// `ptr` must be NULL or an array of doubles from this library, not yet
/// freed, with its length `len`; no other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn btp_array_f64_free(ptr: *mut f64, len: usize) {
    // SAFETY: the caller passes NULL or a live array it no longer uses (see `# Safety`).
    ffi_free(|| unsafe { free_array(ptr, len) });
}

/// Wipes and frees an array of floats the library allocated (score
/// matrices, centres), as `btp_array_f64_free`.
///
/// # Safety
/// `ptr` must be NULL or an array of floats from this library, not yet
/// freed, with its length `len`; no other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn btp_array_f32_free(ptr: *mut f32, len: usize) {
    // SAFETY: the caller passes NULL or a live array it no longer uses (see `# Safety`).
    ffi_free(|| unsafe { free_array(ptr, len) });
}

/// Wipes and frees an array of `uint64_t` the library allocated (packed
/// codes, gallery ids), as `btp_array_f64_free`.
///
/// # Safety
/// `ptr` must be NULL or an array of `uint64_t` from this library, not yet
/// freed, with its length `len`; no other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn btp_array_u64_free(ptr: *mut u64, len: usize) {
    // SAFETY: the caller passes NULL or a live array it no longer uses (see `# Safety`).
    ffi_free(|| unsafe { free_array(ptr, len) });
}

/// Wipes and frees an array of `int64_t` the library allocated (mate
/// columns), as `btp_array_f64_free`.
///
/// # Safety
/// `ptr` must be NULL or an array of `int64_t` from this library, not yet
/// freed, with its length `len`; no other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn btp_array_i64_free(ptr: *mut i64, len: usize) {
    // SAFETY: the caller passes NULL or a live array it no longer uses (see `# Safety`).
    ffi_free(|| unsafe { free_array(ptr, len) });
}

/// Wipes and frees an array of `size_t` the library allocated (the
/// `[row, column]` pairs of split scores), as `btp_array_f64_free`.
///
/// # Safety
/// `ptr` must be NULL or an array of `size_t` from this library, not yet
/// freed, with its length `len`; no other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn btp_array_size_free(ptr: *mut usize, len: usize) {
    // SAFETY: the caller passes NULL or a live array it no longer uses (see `# Safety`).
    ffi_free(|| unsafe { free_array(ptr, len) });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_round_trip_and_empty_is_null() {
        let (mut p, mut n) = (std::ptr::null_mut::<f64>(), 7usize);
        // SAFETY: local out-pointers.
        unsafe {
            let out = OutArray::new(&mut p, &mut n, "out", "out_len").unwrap();
            let mut v = Vec::with_capacity(10);
            v.extend_from_slice(&[1.5, 2.5]);
            out.set(v);
            assert_eq!(std::slice::from_raw_parts(p, n), &[1.5, 2.5]);
            btp_array_f64_free(p, n);
            let out = OutArray::new(&mut p, &mut n, "out", "out_len").unwrap();
            out.set(Vec::new());
            assert!(p.is_null() && n == 0);
            btp_array_f64_free(p, n);
            let e = OutArray::<f64>::new(std::ptr::null_mut(), &mut n, "fmr", "fmr_len");
            assert!(e.err().unwrap().message.contains("`fmr`"));
            let e = OutArray::new(&mut p, std::ptr::null_mut(), "fmr", "fmr_len");
            assert!(e.err().unwrap().message.contains("`fmr_len`"));
            // The other out-pointer is emptied all the same.
            let mut stale = [0.0f64; 1];
            p = stale.as_mut_ptr();
            let e = OutArray::new(&mut p, std::ptr::null_mut(), "fmr", "fmr_len");
            assert!(e.is_err() && p.is_null());
            n = 9;
            let e = OutArray::<f64>::new(std::ptr::null_mut(), &mut n, "fmr", "fmr_len");
            assert!(e.is_err() && n == 0);
        }
    }
}
