//! Allocations sized by a caller or a file header.
//!
//! A size that comes from outside (rows of a batch, `k` of a search, bins
//! of a histogram, a shape read from a header) is multiplied with checked
//! arithmetic and reserved with `try_reserve`: a request that does not fit
//! in the address space, or that the allocator refuses, is
//! [`Error::OutOfMemory`] naming what it was for, never an abort of the
//! process (a Jupyter kernel, a gate's matcher, the command line).
//!
//! What this cannot catch: an allocation the operating system grants
//! lazily (overcommit) and then cannot back when it is touched. Requests
//! larger than the machine's memory and swap are refused at once under
//! Linux's default overcommit policy, which covers the absurd sizes a typo
//! or a hostile header gives.

use crate::error::{Error, Result};

/// `a * b` elements, or [`Error::OutOfMemory`] for `what` when the product
/// does not fit in `usize` (elements of `elem` bytes, for the message).
pub fn product(a: usize, b: usize, elem: usize, what: &'static str) -> Result<usize> {
    a.checked_mul(b).ok_or(Error::OutOfMemory {
        what,
        bytes: a as u128 * b as u128 * elem as u128,
    })
}

/// An empty vector with room for `n` elements, or [`Error::OutOfMemory`].
pub fn with_capacity<T>(n: usize, what: &'static str) -> Result<Vec<T>> {
    let mut v = Vec::new();
    reserve(&mut v, n, what)?;
    Ok(v)
}

/// Reserves room for `additional` more elements in `v`, or
/// [`Error::OutOfMemory`] (and `v` unchanged).
pub fn reserve<T>(v: &mut Vec<T>, additional: usize, what: &'static str) -> Result<()> {
    v.try_reserve_exact(additional)
        .map_err(|_| Error::OutOfMemory {
            what,
            bytes: (v.len() as u128 + additional as u128) * std::mem::size_of::<T>() as u128,
        })
}

/// `n` copies of `value`, or [`Error::OutOfMemory`].
pub fn filled<T: Clone>(n: usize, value: T, what: &'static str) -> Result<Vec<T>> {
    let mut v = with_capacity(n, what)?;
    v.resize(n, value);
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_sizes_are_errors_not_aborts() {
        let e = product(usize::MAX, 2, 4, "the test").unwrap_err();
        assert_eq!(
            e,
            Error::OutOfMemory {
                what: "the test",
                bytes: (usize::MAX as u128) * 8
            }
        );
        assert!(matches!(
            with_capacity::<u64>(usize::MAX / 4, "x"),
            Err(Error::OutOfMemory { what: "x", .. })
        ));
        // More than any machine has, yet within the address space.
        assert!(filled(1usize << 60, 0u8, "y").is_err());
        assert_eq!(filled(3, 7u8, "z").unwrap(), vec![7, 7, 7]);
        assert_eq!(product(3, 4, 8, "w").unwrap(), 12);
    }
}
