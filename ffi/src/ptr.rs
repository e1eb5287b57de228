//! Checked conversions of C arguments: slices, strings, handles and
//! out-pointers. Every check a C caller can fail gives a code, not UB we
//! could have detected (NULL, misalignment, absurd lengths).

use std::ffi::{c_char, CStr};

use crate::error::{FfiError, FfiResult};

/// `(ptr, len)` as a slice. NULL is allowed only with `len == 0`.
///
/// # Safety
/// A non-NULL `ptr` must point to `len` readable, initialised `T`s that stay
/// unchanged for `'a`.
pub unsafe fn slice<'a, T>(ptr: *const T, len: usize, name: &str) -> FfiResult<&'a [T]> {
    if ptr.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(FfiError::null(name))
        };
    }
    check_extent::<T>(ptr, len, name)?;
    // SAFETY: non-NULL, aligned, size in range; readable per the contract.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// `(ptr, len)` as a mutable slice. NULL is allowed only with `len == 0`.
///
/// # Safety
/// A non-NULL `ptr` must point to `len` writable `T`s, not aliased for `'a`.
pub unsafe fn slice_mut<'a, T>(ptr: *mut T, len: usize, name: &str) -> FfiResult<&'a mut [T]> {
    if ptr.is_null() {
        return if len == 0 {
            Ok(&mut [])
        } else {
            Err(FfiError::null(name))
        };
    }
    check_extent::<T>(ptr, len, name)?;
    // SAFETY: non-NULL, aligned, size in range; writable per the contract.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr, len) })
}

fn check_extent<T>(ptr: *const T, len: usize, name: &str) -> FfiResult {
    if !ptr.is_aligned() {
        return Err(FfiError::invalid(
            name,
            "pointer is not aligned for its type",
        ));
    }
    if len
        .checked_mul(std::mem::size_of::<T>())
        .is_none_or(|b| b > isize::MAX as usize)
    {
        return Err(FfiError::invalid(name, "length is too large"));
    }
    Ok(())
}

/// A NUL-terminated UTF-8 string. NULL is refused.
///
/// # Safety
/// A non-NULL `ptr` must point to a NUL-terminated string valid for `'a`.
pub unsafe fn str<'a>(ptr: *const c_char, name: &str) -> FfiResult<&'a str> {
    if ptr.is_null() {
        return Err(FfiError::null(name));
    }
    // SAFETY: non-NULL and NUL-terminated per the contract.
    unsafe { CStr::from_ptr(ptr) }
        .to_str()
        .map_err(|_| FfiError::invalid(name, "not valid UTF-8"))
}

/// An optional NUL-terminated UTF-8 string: NULL is `None`.
///
/// # Safety
/// As [`str`](fn@str).
pub unsafe fn opt_str<'a>(ptr: *const c_char, name: &str) -> FfiResult<Option<&'a str>> {
    if ptr.is_null() {
        Ok(None)
    } else {
        // SAFETY: per the contract.
        unsafe { str(ptr, name) }.map(Some)
    }
}

/// A NUL-terminated file path. On Unix any bytes are accepted; elsewhere
/// it must be UTF-8. NULL is refused.
///
/// # Safety
/// As [`str`](fn@str).
pub unsafe fn path<'a>(ptr: *const c_char, name: &str) -> FfiResult<&'a std::path::Path> {
    if ptr.is_null() {
        return Err(FfiError::null(name));
    }
    // SAFETY: non-NULL and NUL-terminated per the contract.
    let c = unsafe { CStr::from_ptr(ptr) };
    if c.is_empty() {
        return Err(FfiError::invalid(name, "must not be empty"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Ok(std::path::Path::new(std::ffi::OsStr::from_bytes(
            c.to_bytes(),
        )))
    }
    #[cfg(not(unix))]
    {
        c.to_str()
            .map(std::path::Path::new)
            .map_err(|_| FfiError::invalid(name, "not valid UTF-8"))
    }
}

/// An array of `len` handle pointers as references; NULL is allowed only
/// with `len == 0`, and a NULL element is refused (naming its index).
///
/// # Safety
/// A non-NULL `ptr` must point to `len` readable pointers, each a live
/// handle of `T` (or NULL), unchanged for `'a`.
pub unsafe fn handles<'a, T>(
    ptr: *const *const T,
    len: usize,
    name: &str,
) -> FfiResult<Vec<&'a T>> {
    // SAFETY: per the contract.
    let ptrs = unsafe { slice(ptr, len, name) }?;
    ptrs.iter()
        .enumerate()
        .map(|(i, &p)| {
            // SAFETY: a live handle or NULL per the contract.
            unsafe { p.as_ref() }.ok_or_else(|| FfiError::null(&format!("{name}[{i}]")))
        })
        .collect()
}

/// A handle argument as a shared reference. NULL is refused.
///
/// # Safety
/// A non-NULL `ptr` must come from this library's constructor of `T` and not
/// have been freed.
pub unsafe fn handle<'a, T>(ptr: *const T, name: &str) -> FfiResult<&'a T> {
    // SAFETY: a live handle per the contract.
    unsafe { ptr.as_ref() }.ok_or_else(|| FfiError::null(name))
}

/// A handle argument as an exclusive reference. NULL is refused.
///
/// # Safety
/// As [`handle`], and no other thread may use the handle during the call.
pub unsafe fn handle_mut<'a, T>(ptr: *mut T, name: &str) -> FfiResult<&'a mut T> {
    // SAFETY: a live, unaliased handle per the contract.
    unsafe { ptr.as_mut() }.ok_or_else(|| FfiError::null(name))
}

/// An out-pointer for a value, checked non-NULL.
pub struct Out<T>(*mut T);

impl<T> Out<T> {
    /// Checks `ptr`. NULL is refused.
    pub fn new(ptr: *mut T, name: &str) -> FfiResult<Self> {
        if ptr.is_null() {
            Err(FfiError::null(name))
        } else if !ptr.is_aligned() {
            Err(FfiError::invalid(
                name,
                "pointer is not aligned for its type",
            ))
        } else {
            Ok(Self(ptr))
        }
    }

    /// Writes the value (the previous content is not read or dropped).
    ///
    /// # Safety
    /// The pointer given to [`Out::new`] must be writable.
    pub unsafe fn write(&self, v: T) {
        // SAFETY: non-NULL, aligned, writable per the contract.
        unsafe { self.0.write(v) }
    }
}

/// An out-pointer for a new handle: checked non-NULL and set to NULL at
/// once, so that a failed call always leaves NULL there.
pub struct OutHandle<T>(Out<*mut T>);

impl<T> OutHandle<T> {
    /// Checks `ptr` and writes NULL through it.
    ///
    /// # Safety
    /// A non-NULL `ptr` must be writable.
    pub unsafe fn new(ptr: *mut *mut T, name: &str) -> FfiResult<Self> {
        let out = Out::new(ptr, name)?;
        // SAFETY: writable per the contract.
        unsafe { out.write(std::ptr::null_mut()) };
        Ok(Self(out))
    }

    /// Moves `v` into a new handle and writes it out.
    ///
    /// # Safety
    /// As [`OutHandle::new`].
    pub unsafe fn set(self, v: T) {
        // SAFETY: writable per the contract.
        unsafe { self.0.write(Box::into_raw(Box::new(v))) }
    }
}

/// Releases a handle made by [`OutHandle::set`]; NULL does nothing.
///
/// # Safety
/// A non-NULL `ptr` must come from [`OutHandle::set`] for `T` and not have
/// been freed.
pub unsafe fn free<T>(ptr: *mut T) {
    if !ptr.is_null() {
        // SAFETY: made by Box::into_raw and not freed, per the contract.
        drop(unsafe { Box::from_raw(ptr) });
    }
}

/// Copies `bytes` to the caller's `(buf, len)`; `*needed` always receives
/// `bytes.len()`. `buf` NULL with `len` non-zero is
/// `BTP_RESULT_NULL_ARGUMENT`, whatever the size needed; NULL with `len` 0
/// is a size query. Too small a buffer gives `BTP_RESULT_BUFFER_TOO_SMALL`
/// and copies nothing.
///
/// # Safety
/// `buf` must be NULL or point to `len` writable bytes; `needed` must be
/// NULL or writable.
pub unsafe fn copy_out(bytes: &[u8], buf: *mut u8, len: usize, needed: *mut usize) -> FfiResult {
    let needed = Out::new(needed, "needed")?;
    // SAFETY: writable per the contract.
    unsafe { needed.write(bytes.len()) };
    // SAFETY: per the contract.
    let dst = unsafe { slice_mut(buf, len, "buf") }?;
    fits(dst.len(), bytes.len(), "bytes")?;
    dst[..bytes.len()].copy_from_slice(bytes);
    Ok(())
}

/// `BTP_RESULT_BUFFER_TOO_SMALL` unless a buffer of `len` holds `needed`
/// (`what` names its unit in the message).
pub fn fits(len: usize, needed: usize, what: &str) -> FfiResult {
    if len < needed {
        return Err(FfiError::new(
            crate::error::btp_result::BufferTooSmall,
            format!("buffer of {len} {what} is too small: {needed} needed"),
        ));
    }
    Ok(())
}

/// A value the caller passes by pointer (a `#[repr(C)]` struct or a
/// number): NULL is refused, as is a misaligned pointer.
///
/// # Safety
/// A non-NULL `ptr` must point to a readable, initialised `T`.
pub unsafe fn value<T: Copy>(ptr: *const T, name: &str) -> FfiResult<T> {
    // SAFETY: per the contract.
    unsafe { opt_value(ptr, name) }?.ok_or_else(|| FfiError::null(name))
}

/// An optional value passed by pointer: NULL is `None`; a misaligned
/// pointer is refused.
///
/// # Safety
/// As [`value`].
pub unsafe fn opt_value<T: Copy>(ptr: *const T, name: &str) -> FfiResult<Option<T>> {
    if ptr.is_null() {
        return Ok(None);
    }
    check_extent::<T>(ptr, 1, name)?;
    // SAFETY: non-NULL, aligned, readable per the contract.
    Ok(Some(unsafe { ptr.read() }))
}

/// An array of `len` out-pointers for new handles, checked as
/// [`slice_mut`] and set to NULL at once, so that a failed call leaves
/// NULL in every slot.
///
/// # Safety
/// As [`slice_mut`].
pub unsafe fn out_handles<'a, T>(
    ptr: *mut *mut T,
    len: usize,
    name: &str,
) -> FfiResult<&'a mut [*mut T]> {
    // SAFETY: per the contract.
    let slots = unsafe { slice_mut(ptr, len, name) }?;
    slots.fill(std::ptr::null_mut());
    Ok(slots)
}
