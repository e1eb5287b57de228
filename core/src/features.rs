//! Feature vectors: validation and the preprocessing stored with a scheme.
//!
//! Real extractors (dlib, ArcFace, ...) give vectors that are far from
//! centred: dlib's impostor cosine similarity averages about 0.85. Random
//! projections then see mostly the common mean and lose their accuracy, so a
//! scheme's parameters may carry a centring vector (fitted once with
//! [`fit_centre`] on a sample of feature vectors) and an L2 normalisation.
//! Preprocessing is `x' = x - centre` then, if enabled, `x' = x' / |x'|`.
//!
//! Preprocessed copies of a vector are held in [`Zeroizing`] buffers: a
//! feature vector is biometric data and must not linger in freed memory.

use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Smallest squared norm a vector may have after centring.
const MIN_NORM_SQ: f64 = 1e-30;

/// Checks a feature vector's length and that every value is finite.
/// The error names the index and kind of the first bad value, never a value.
pub fn validate(x: &[f32], dim: usize) -> Result<()> {
    if x.len() != dim {
        return Err(Error::WrongDimension {
            expected: dim,
            got: x.len(),
        });
    }
    check_finite(x)
}

fn check_finite(x: &[f32]) -> Result<()> {
    // Branch-free over blocks (a compare per value, or-ed): validating a
    // batch costs a memory pass, not a compare-and-branch per value. The
    // first bad value is then searched.
    let bad = |v: &f32| !v.is_finite();
    let all_finite = x
        .chunks(256)
        .all(|block| !block.iter().fold(false, |any, v| any | bad(v)));
    if all_finite {
        return Ok(());
    }
    match x.iter().position(bad) {
        None => Ok(()),
        Some(index) => Err(Error::NonFinite {
            index,
            kind: if x[index].is_nan() { "NaN" } else { "infinity" },
        }),
    }
}

/// Checks a row-major batch of vectors of dimension `dim`; returns the row count.
pub fn validate_batch(rows: &[f32], dim: usize) -> Result<usize> {
    if dim == 0 || !rows.len().is_multiple_of(dim) {
        return Err(Error::WrongDimension {
            expected: dim,
            got: if dim == 0 {
                rows.len()
            } else {
                rows.len() % dim
            },
        });
    }
    check_finite(rows).map_err(|e| match e {
        Error::NonFinite { index, kind } => Error::row(
            index / dim,
            Error::NonFinite {
                index: index % dim,
                kind,
            },
        ),
        other => other,
    })?;
    Ok(rows.len() / dim)
}

/// The mean of a sample of feature vectors (row-major, `dim` columns),
/// accumulated in `f64`: the centring vector of a scheme's preprocessing.
pub fn fit_centre(rows: &[f32], dim: usize) -> Result<Vec<f32>> {
    let n = validate_batch(rows, dim)?;
    if n == 0 {
        return Err(Error::param(
            "rows",
            "at least one feature vector is needed",
        ));
    }
    let mut sum = vec![0f64; dim];
    for row in rows.chunks_exact(dim) {
        for (s, v) in sum.iter_mut().zip(row) {
            *s += f64::from(*v);
        }
    }
    Ok(sum.into_iter().map(|s| (s / n as f64) as f32).collect())
}

/// Preprocessing applied to every vector before the transform.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Preprocess {
    /// Subtracted from every vector, if present (length = dimension).
    pub centre: Option<Vec<f32>>,
    /// Scale every (centred) vector to unit L2 norm.
    pub l2: bool,
}

impl Preprocess {
    /// Checks the centre against the dimension.
    pub fn validate(&self, dim: usize) -> Result<()> {
        if let Some(c) = &self.centre {
            if c.len() != dim {
                return Err(Error::param(
                    "centre",
                    format!("length {} differs from the dimension {dim}", c.len()),
                ));
            }
            if c.iter().any(|v| !v.is_finite()) {
                return Err(Error::param("centre", "holds a non-finite value"));
            }
        }
        Ok(())
    }

    /// Validates `x` and returns its preprocessed copy.
    pub fn apply(&self, x: &[f32], dim: usize) -> Result<Zeroizing<Vec<f32>>> {
        validate(x, dim)?;
        let mut out = Zeroizing::new(x.to_vec());
        self.apply_in_place(&mut out)?;
        Ok(out)
    }

    /// Preprocesses an already validated vector in place.
    pub(crate) fn apply_in_place(&self, x: &mut [f32]) -> Result<()> {
        self.apply_rows_in_place(x, x.len()).map_err(|(_, e)| e)
    }

    /// Preprocesses validated rows (row-major, `dim` columns) in place,
    /// each exactly as [`Preprocess::apply_in_place`] would; a row whose
    /// centred norm is zero gives its index and [`Error::ZeroNorm`]. Rows
    /// go [`ROWS_AT_ONCE`] at a time so that their squared norms, each a
    /// sum in coordinate order (the order fixes the result's last bits),
    /// advance side by side instead of one long chain of dependent adds.
    pub(crate) fn apply_rows_in_place(
        &self,
        rows: &mut [f32],
        dim: usize,
    ) -> std::result::Result<(), (usize, Error)> {
        if let Some(c) = &self.centre {
            for x in rows.chunks_exact_mut(dim) {
                for (v, c) in x.iter_mut().zip(c) {
                    *v -= *c;
                }
            }
        }
        if !self.l2 {
            // The norm only decides `ZeroNorm`: no scale depends on its bits.
            return check_norms(rows, dim);
        }
        for (g, group) in rows.chunks_mut(ROWS_AT_ONCE * dim).enumerate() {
            let mut norm_sq = [0f64; ROWS_AT_ONCE];
            let n = group.len() / dim;
            if n == ROWS_AT_ONCE {
                for k in 0..dim {
                    for (r, s) in norm_sq.iter_mut().enumerate() {
                        let v = f64::from(group[r * dim + k]);
                        *s += v * v;
                    }
                }
            } else {
                for (s, x) in norm_sq.iter_mut().zip(group.chunks_exact(dim)) {
                    for v in x {
                        *s += f64::from(*v) * f64::from(*v);
                    }
                }
            }
            for (r, (x, &sq)) in group.chunks_exact_mut(dim).zip(&norm_sq).enumerate() {
                if sq.is_nan() || sq < MIN_NORM_SQ {
                    return Err((g * ROWS_AT_ONCE + r, Error::ZeroNorm));
                }
                let inv = 1.0 / sq.sqrt();
                for v in x.iter_mut() {
                    *v = (f64::from(*v) * inv) as f32;
                }
            }
        }
        Ok(())
    }

    /// Whether preprocessing leaves every value as it is (no centre, no
    /// scaling): then only [`check_norms`] applies, and rows can be used in
    /// place.
    pub(crate) fn is_identity(&self) -> bool {
        self.centre.is_none() && !self.l2
    }
}

/// Rows whose squared norms [`Preprocess::apply_rows_in_place`] sums side
/// by side.
const ROWS_AT_ONCE: usize = 8;

/// `sum v_i^2` in `f64`, in eight lanes (vectorised; not the coordinate
/// order, so its last bits may differ from a sum in order).
#[inline]
pub(crate) fn sum_of_squares(v: &[f32]) -> f64 {
    let mut lanes = [0f64; 8];
    let chunks = v.chunks_exact(8);
    let tail: f64 = chunks
        .remainder()
        .iter()
        .map(|&a| f64::from(a) * f64::from(a))
        .sum();
    for c in chunks {
        for (s, &a) in lanes.iter_mut().zip(c) {
            *s += f64::from(a) * f64::from(a);
        }
    }
    lanes.iter().sum::<f64>() + tail
}

/// The `ZeroNorm` check of (preprocessed, unscaled) rows: the index of the
/// first row whose squared norm, summed in coordinate order, is below
/// `MIN_NORM_SQ`. Sums are taken in eight lanes: for non-negative terms any
/// order changes the sum by a relative `n * 2^-53` at most, so only a sum
/// within a factor of two of the threshold needs the coordinate-order one
/// (the decision is then exactly that of the single-vector path). No sum is
/// NaN: the values are finite (or an infinity from centring, whose sum is
/// infinite in any order), and squares of `f32` cannot overflow `f64`.
pub(crate) fn check_norms(rows: &[f32], dim: usize) -> std::result::Result<(), (usize, Error)> {
    for (i, x) in rows.chunks_exact(dim).enumerate() {
        if sum_of_squares(x) < 2.0 * MIN_NORM_SQ {
            let mut sq = 0f64;
            for &v in x {
                sq += f64::from(v) * f64::from(v);
            }
            if sq.is_nan() || sq < MIN_NORM_SQ {
                return Err((i, Error::ZeroNorm));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Near the threshold the decision is the coordinate-order sum's, as
    /// in the single-vector path; far from it the lanes decide.
    #[test]
    fn zero_norm_check_is_exact_near_the_threshold() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let (mut below, mut above) = (0, 0);
        for dim in [1usize, 7, 8, 13, 128] {
            for _ in 0..400 {
                let raw: Vec<f64> = (0..dim).map(|_| next() - 0.5).collect();
                let sq: f64 = raw.iter().map(|v| v * v).sum();
                // A squared norm between 1/4 and 4 times the threshold.
                let target = MIN_NORM_SQ * 4f64.powf(2.0 * next() - 1.0);
                let scale = (target / sq).sqrt();
                let x: Vec<f32> = raw.iter().map(|v| (v * scale) as f32).collect();
                let mut exact = 0f64;
                for &v in &x {
                    exact += f64::from(v) * f64::from(v);
                }
                let want = exact < MIN_NORM_SQ;
                below += usize::from(want);
                above += usize::from(!want);
                assert_eq!(check_norms(&x, dim).is_err(), want, "dim {dim}");
                let mut rows = x.repeat(3);
                rows.splice(0..0, vec![1.0; dim]);
                let got = check_norms(&rows, dim);
                assert_eq!(got.map_err(|(i, _)| i), if want { Err(1) } else { Ok(()) });
            }
        }
        assert!(below > 500 && above > 500, "{below} below, {above} above");
    }

    #[test]
    fn wrong_length_and_non_finite_are_named() {
        assert_eq!(
            validate(&[1.0, 2.0], 3).unwrap_err(),
            Error::WrongDimension {
                expected: 3,
                got: 2
            }
        );
        let e = validate(&[1.0, f32::NAN, 2.0], 3).unwrap_err();
        assert_eq!(
            e,
            Error::NonFinite {
                index: 1,
                kind: "NaN"
            }
        );
        let e = validate(&[1.0, 2.0, f32::NEG_INFINITY], 3).unwrap_err();
        assert_eq!(
            e,
            Error::NonFinite {
                index: 2,
                kind: "infinity"
            }
        );
        // The message holds no value.
        let msg = validate(&[123.456, f32::NAN], 2).unwrap_err().to_string();
        assert!(!msg.contains("123"), "{msg}");
    }

    #[test]
    fn batch_validation() {
        assert_eq!(validate_batch(&[0.0; 6], 3).unwrap(), 2);
        assert!(validate_batch(&[0.0; 7], 3).is_err());
        assert!(validate_batch(&[0.0; 6], 0).is_err());
        let mut rows = vec![1.0; 6];
        rows[4] = f32::INFINITY;
        assert_eq!(
            validate_batch(&rows, 3).unwrap_err(),
            Error::row(
                1,
                Error::NonFinite {
                    index: 1,
                    kind: "infinity"
                }
            )
        );
    }

    #[test]
    fn centre_is_the_mean() {
        let rows = [1.0, 10.0, 3.0, 20.0];
        assert_eq!(fit_centre(&rows, 2).unwrap(), vec![2.0, 15.0]);
        assert!(fit_centre(&[], 2).is_err());
    }

    #[test]
    fn preprocessing_centres_then_normalises() {
        let p = Preprocess {
            centre: Some(vec![1.0, 1.0]),
            l2: true,
        };
        let y = p.apply(&[4.0, 5.0], 2).unwrap();
        assert!((y[0] - 0.6).abs() < 1e-6 && (y[1] - 0.8).abs() < 1e-6);
        assert_eq!(p.apply(&[1.0, 1.0], 2).unwrap_err(), Error::ZeroNorm);
        assert!(Preprocess {
            centre: Some(vec![0.0]),
            l2: false
        }
        .validate(2)
        .is_err());
    }
}
