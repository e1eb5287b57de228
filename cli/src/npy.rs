//! `.npy` files of float32 or float64 values, checked before anything is
//! allocated: the header's shape times the item size must be exactly the
//! data the file holds, so a header that lies (a claimed (10^11, 128) on a
//! small file) or a truncated file is bad input naming the file, never an
//! allocation the size of the lie.
//!
//! The header's dictionary is parsed by `ndarray-npy`; the values are
//! decoded here, straight into one buffer of the final type (zeroized when
//! dropped: feature values are biometric data).

use std::path::Path;

use ndarray_npy::npy::header::Header;
use zeroize::{Zeroize, Zeroizing};

use crate::error::{CliError, Result};

const MAGIC: &[u8] = b"\x93NUMPY";

/// The values of an `.npy` file in row-major order, and its shape.
pub struct Array<T: Zeroize> {
    /// The shape from the header (checked against the file's length).
    pub shape: Vec<usize>,
    /// `shape.iter().product()` values, C order.
    pub values: Zeroizing<Vec<T>>,
}

/// A value type the reader produces.
pub trait Element: Copy + Zeroize {
    /// From a float32.
    fn from_f32(v: f32) -> Self;
    /// From a float64.
    fn from_f64(v: f64) -> Self;
}

impl Element for f32 {
    fn from_f32(v: f32) -> Self {
        v
    }
    fn from_f64(v: f64) -> Self {
        // Out-of-range values become infinite, then refused as non-finite.
        v as f32
    }
}

impl Element for f64 {
    fn from_f32(v: f32) -> Self {
        f64::from(v)
    }
    fn from_f64(v: f64) -> Self {
        v
    }
}

#[derive(Clone, Copy)]
enum Dtype {
    F32 { big: bool },
    F64 { big: bool },
}

impl Dtype {
    fn parse(descr: &str) -> Option<Self> {
        let (order, kind) = descr.split_at_checked(1)?;
        let big = match order {
            "<" => false,
            ">" => true,
            "=" => cfg!(target_endian = "big"),
            _ => return None,
        };
        match kind {
            "f4" => Some(Self::F32 { big }),
            "f8" => Some(Self::F64 { big }),
            _ => None,
        }
    }

    fn size(self) -> usize {
        match self {
            Self::F32 { .. } => 4,
            Self::F64 { .. } => 8,
        }
    }

    fn decode<T: Element>(self, b: &[u8]) -> T {
        match self {
            Self::F32 { big } => {
                let a: [u8; 4] = b.try_into().expect("4 bytes");
                T::from_f32(if big {
                    f32::from_be_bytes(a)
                } else {
                    f32::from_le_bytes(a)
                })
            }
            Self::F64 { big } => {
                let a: [u8; 8] = b.try_into().expect("8 bytes");
                T::from_f64(if big {
                    f64::from_be_bytes(a)
                } else {
                    f64::from_le_bytes(a)
                })
            }
        }
    }
}

fn bad(path: &Path, what: impl std::fmt::Display) -> CliError {
    CliError::input(format!("{}: not a valid .npy file: {what}", path.display()))
}

/// Where the data starts: after the magic, version, header length and
/// header, checked against the file's length.
fn data_offset(path: &Path, bytes: &[u8]) -> Result<usize> {
    if bytes.len() < MAGIC.len() + 2 || &bytes[..MAGIC.len()] != MAGIC {
        return Err(bad(path, "no .npy signature"));
    }
    let (len_at, len_size) = match bytes[MAGIC.len()] {
        1 => (MAGIC.len() + 2, 2),
        2 | 3 => (MAGIC.len() + 2, 4),
        v => return Err(bad(path, format_args!("unknown format version {v}"))),
    };
    let len_bytes = bytes
        .get(len_at..len_at + len_size)
        .ok_or_else(|| bad(path, "truncated header"))?;
    let header_len = len_bytes
        .iter()
        .rev()
        .fold(0usize, |n, &b| (n << 8) | usize::from(b));
    (len_at + len_size)
        .checked_add(header_len)
        .filter(|&end| end <= bytes.len())
        .ok_or_else(|| {
            bad(
                path,
                format_args!(
                    "the header claims {header_len} bytes, the file has {}",
                    bytes.len()
                ),
            )
        })
}

/// Reads the `.npy` content `bytes` of `path` into values of type `T`.
pub fn parse<T: Element>(path: &Path, bytes: &[u8]) -> Result<Array<T>> {
    let start = data_offset(path, bytes)?;
    let header = Header::from_reader(&mut &bytes[..start]).map_err(|e| bad(path, e))?;
    let dtype = header
        .type_descriptor
        .as_string()
        .and_then(|d| Dtype::parse(d));
    let Some(dtype) = dtype else {
        let d = header.type_descriptor.to_string();
        let d = if d.len() <= 24 { d } else { "an array".into() };
        return Err(CliError::input(format!(
            "{}: .npy of type {d}: float32 or float64 expected",
            path.display()
        )));
    };
    let data = &bytes[start..];
    let count = header
        .shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d));
    let needed = count.and_then(|n| n.checked_mul(dtype.size()));
    if needed != Some(data.len()) {
        return Err(CliError::input(format!(
            "{}: the .npy header claims shape {:?} of {}-byte values, {} bytes, but the file holds {} bytes of data (truncated or not an .npy file)",
            path.display(),
            header.shape,
            dtype.size(),
            needed.map_or_else(|| "more than 2^64".to_owned(), |n| n.to_string()),
            data.len()
        )));
    }
    let count = count.unwrap_or_default();
    let mut values = Zeroizing::new(btp::alloc::with_capacity::<T>(count, "the .npy values")?);
    let size = dtype.size();
    match (header.layout.is_fortran(), header.shape.as_slice()) {
        // Column-major 2-D: element (i, j) is stored at j * rows + i.
        (true, &[rows, cols]) if rows > 1 && cols > 1 => {
            for i in 0..rows {
                for j in 0..cols {
                    let at = (j * rows + i) * size;
                    values.push(dtype.decode(&data[at..at + size]));
                }
            }
        }
        // Other shapes read the same in both orders (or are refused by
        // the caller: only 1-D and 2-D arrays are taken).
        _ => values.extend(data.chunks_exact(size).map(|b| dtype.decode::<T>(b))),
    }
    Ok(Array {
        shape: header.shape,
        values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
        let dict = format!(
            "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}",
            if fortran { "True" } else { "False" }
        );
        let mut header = dict.into_bytes();
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(b' ');
        }
        header.push(b'\n');
        let mut out = MAGIC.to_vec();
        out.extend([1, 0]);
        out.extend((header.len() as u16).to_le_bytes());
        out.extend(header);
        out.extend(data);
        out
    }

    fn le32(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn known_files_decode() {
        let p = Path::new("t.npy");
        let a = parse::<f32>(
            p,
            &npy("<f4", false, "(2, 3)", &le32(&[1., 2., 3., 4., 5., 6.])),
        )
        .unwrap();
        assert_eq!(a.shape, vec![2, 3]);
        assert_eq!(&a.values[..], &[1., 2., 3., 4., 5., 6.]);
        // Fortran order: the same matrix stored by columns.
        let a = parse::<f32>(
            p,
            &npy("<f4", true, "(2, 3)", &le32(&[1., 4., 2., 5., 3., 6.])),
        )
        .unwrap();
        assert_eq!(&a.values[..], &[1., 2., 3., 4., 5., 6.]);
        let be: Vec<u8> = [0.5f64, -2.0]
            .iter()
            .flat_map(|x| x.to_be_bytes())
            .collect();
        let a = parse::<f64>(p, &npy(">f8", false, "(2,)", &be)).unwrap();
        assert_eq!(&a.values[..], &[0.5, -2.0]);
        // What ndarray-npy writes reads back.
        let mut buf = Vec::new();
        ndarray_npy::WriteNpyExt::write_npy(&ndarray::arr2(&[[1.5f64, 2.5]]), &mut buf).unwrap();
        let a = parse::<f32>(p, &buf).unwrap();
        assert_eq!((a.shape, &a.values[..]), (vec![1, 2], &[1.5f32, 2.5][..]));
    }

    #[test]
    fn lying_or_truncated_headers_are_bad_input_without_allocating() {
        let p = Path::new("lie.npy");
        for (shape, data) in [
            ("(100000000000, 128)", le32(&[1.0; 4])),
            ("(18446744073709551615, 2)", le32(&[1.0; 4])),
            ("(2, 16)", le32(&[1.0; 16])),
            ("(1, 3)", le32(&[1.0; 4])),
        ] {
            let e = parse::<f32>(p, &npy("<f4", false, shape, &data))
                .err()
                .unwrap();
            assert_eq!(e.class, crate::error::Class::Input, "{shape}");
            assert!(e.message.starts_with("lie.npy: "), "{}", e.message);
            assert!(e.message.contains("header claims"), "{}", e.message);
        }
        // A header length beyond the end of the file.
        let mut b = npy("<f4", false, "(1,)", &le32(&[1.0]));
        b[8..10].copy_from_slice(&u16::MAX.to_le_bytes());
        let e = parse::<f32>(p, &b).err().unwrap();
        assert!(
            e.message.contains("the header claims 65535 bytes"),
            "{}",
            e.message
        );
        let mut b = npy("<f4", false, "(1,)", &le32(&[1.0]));
        b[6] = 2;
        b.splice(8..10, u32::MAX.to_le_bytes());
        assert!(parse::<f32>(p, &b).is_err());
        for junk in [
            &b""[..],
            b"\x93NUMPY",
            b"\x93NUMPY\x01\x00\x05",
            b"PK\x03\x04 zip",
        ] {
            assert_eq!(
                parse::<f32>(p, junk).err().unwrap().class,
                crate::error::Class::Input
            );
        }
        let e = parse::<f32>(p, &npy("<i8", false, "(1,)", &[0; 8]))
            .err()
            .unwrap();
        assert!(e.message.contains("float32 or float64"), "{}", e.message);
    }
}
