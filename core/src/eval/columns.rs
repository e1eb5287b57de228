//! Evaluation inputs and outputs in the plain integer arrays that C and
//! numpy carry: mate columns as signed integers (`-1`: no mate in the
//! gallery) and genuine flags as bytes (`0` or `1`), checked, so that
//! bindings convert them without a check of their own.

use crate::error::{Error, Result};

/// Mate columns from signed integers: `c >= 0` is the gallery column of
/// the search's mate, `-1` means the search has none (a non-mated search).
/// The `mates` argument of [`SearchScores::new`](super::SearchScores::new),
/// which checks the columns against the gallery size.
///
/// # Errors
/// [`Error::InvalidParameter`] naming `mates` and the first search whose
/// value is below `-1`.
pub fn mates_from_signed(columns: &[i64]) -> Result<Vec<Option<usize>>> {
    columns
        .iter()
        .enumerate()
        .map(|(i, &c)| match c {
            -1 => Ok(None),
            // A column that does not fit in `usize` is out of range of
            // any gallery: keep it out of range.
            c if c >= 0 => Ok(Some(usize::try_from(c).unwrap_or(usize::MAX))),
            _ => Err(Error::param(
                "mates",
                format!("a mate is a gallery column, or -1 for none (search {i} is neither)"),
            )),
        })
        .collect()
}

/// Mate columns as signed integers, `-1` for none: the inverse of
/// [`mates_from_signed`] (a column beyond `i64::MAX`, which no gallery
/// reaches, would also be `-1`).
pub fn mates_to_signed(mates: &[Option<usize>]) -> Vec<i64> {
    mates
        .iter()
        .map(|m| m.and_then(|c| i64::try_from(c).ok()).unwrap_or(-1))
        .collect()
}

/// Genuine flags from bytes: `1` is a genuine (mated) comparison, `0` an
/// impostor one; any other value is refused, never read as "not zero".
///
/// # Errors
/// [`Error::InvalidParameter`] naming `name` and the first bad element.
pub fn flags_from_bytes(flags: &[u8], name: &'static str) -> Result<Vec<bool>> {
    flags_from(flags, name)
}

/// Genuine flags from integers (numpy's default integer arrays), as
/// [`flags_from_bytes`].
///
/// # Errors
/// [`Error::InvalidParameter`] naming `name` and the first bad element.
pub fn flags_from_ints(flags: &[i64], name: &'static str) -> Result<Vec<bool>> {
    flags_from(flags, name)
}

fn flags_from<T: Copy + Into<i64>>(flags: &[T], name: &'static str) -> Result<Vec<bool>> {
    flags
        .iter()
        .enumerate()
        .map(|(i, &f)| match f.into() {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(Error::param(
                name,
                format!("must be 0 or 1 (element {i} is not)"),
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_from_ints_refuse_what_is_not_0_or_1() {
        assert_eq!(
            flags_from_ints(&[1, 0, 1], "f").unwrap(),
            vec![true, false, true]
        );
        for bad in [2, -1, i64::MAX] {
            let e = flags_from_ints(&[0, bad], "f").unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidParameter);
            assert!(e.to_string().contains("element 1"), "{e}");
        }
    }

    #[test]
    fn mates_round_trip_and_refuse_other_negatives() {
        let m = mates_from_signed(&[2, -1, 0]).unwrap();
        assert_eq!(m, vec![Some(2), None, Some(0)]);
        assert_eq!(mates_to_signed(&m), vec![2, -1, 0]);
        let e = mates_from_signed(&[0, -2]).unwrap_err();
        assert!(e.to_string().contains("search 1"), "{e}");
        assert!(matches!(e, Error::InvalidParameter { name: "mates", .. }));
        assert_eq!(mates_from_signed(&[]).unwrap(), vec![]);
    }

    #[test]
    fn flags_are_zero_or_one() {
        assert_eq!(
            flags_from_bytes(&[1, 0, 1], "is_genuine").unwrap(),
            vec![true, false, true]
        );
        let e = flags_from_bytes(&[1, 2], "is_genuine").unwrap_err();
        assert!(e.to_string().contains("element 1"), "{e}");
    }
}
