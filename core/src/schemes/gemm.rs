//! Batch projections by matrix multiplication, certified to give the same
//! codes as the fixed-order dot products of `rng::dot`.
//!
//! Templates must be bit-identical everywhere, so the reference transform
//! computes every projection with `rng::dot` in one fixed order. A GEMM
//! (ndarray's `general_mat_mul`, i.e. `matrixmultiply::sgemm`: packed,
//! blocked, AVX/FMA kernels chosen at run time) is several times faster but sums in another order, so its values
//! differ from the reference in the last bits. Only the *decision* (the
//! index of the largest projection in an IoM window, the sign of a BioHash
//! projection) is kept, and a decision taken on GEMM values is certain to
//! equal the reference one when the GEMM values clear it by more than both
//! computations' rounding error; otherwise the few undecided windows are
//! recomputed with `rng::dot`.
//!
//! ## The error bound
//!
//! For `s = sum_i a_i b_i` with `n` terms, any evaluation order in binary32
//! with or without fused multiply-add satisfies
//! `|computed - s| <= gamma(n + 1) * sum_i |a_i b_i|` with
//! `gamma(k) = k u / (1 - k u)`, `u = 2^-24` (Higham, *Accuracy and
//! Stability of Numerical Algorithms*, 2nd ed., section 3.1: recursive
//! summation in any order has depth at most `n - 1`, plus one rounding per
//! product), as long as nothing overflows; underflow adds at most
//! `n * 2^-149` per result. By Cauchy–Schwarz `sum |a_i b_i| <= |a| |b|`.
//! So the GEMM value `g` and the reference value `r` of one projection
//! differ by at most `tol = 2 (gamma(n + 1) |w| |x| + n 2^-149)`, computed in
//! `f64` and widened by a factor of two against the rounding of the bound
//! itself. A non-finite value anywhere sends the window to the reference,
//! and so does a row where `|w| |x|` comes near the `f32` range (the bound
//! holds only without overflow).

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2};
use zeroize::Zeroizing;

use super::rng::{argmax, dot};

/// Rows projected per GEMM call: the block's projections (`rows x outputs`
/// floats) stay in cache while they are turned into codes.
pub(crate) const BLOCK_ROWS: usize = 64;

/// `gamma(k)` for binary32.
fn gamma(k: usize) -> f64 {
    let ku = k as f64 * f64::powi(2.0, -24);
    ku / (1.0 - ku)
}

/// The half-width within which a GEMM projection and its reference may
/// differ, per unit of `|w| * |x|`, and the absolute underflow allowance,
/// for vectors of `dim` coordinates. Already doubled for safety.
pub(crate) fn tolerance(dim: usize) -> (f64, f64) {
    let relative = 2.0 * gamma(dim + 1);
    let absolute = 2.0 * dim as f64 * f64::powi(2.0, -149);
    (2.0 * relative, 2.0 * absolute)
}

/// Euclidean norms of the `dim`-long rows of `matrix`, in `f64`.
pub(crate) fn row_norms(matrix: &[f32], dim: usize) -> Vec<f64> {
    matrix.chunks_exact(dim).map(norm).collect()
}

/// Euclidean norm of `v` in `f64`.
pub(crate) fn norm(v: &[f32]) -> f64 {
    libm::sqrt(v.iter().map(|&a| f64::from(a) * f64::from(a)).sum())
}

/// `out[r * outputs + j] = <rows[r], matrix[j]>` for the `n = rows.len() /
/// dim` rows and `outputs = matrix.len() / dim` matrix rows, by one GEMM
/// (`rows * matrix^T`). Values are close to, not equal to, `rng::dot`.
pub(crate) fn project(rows: &[f32], matrix: &[f32], dim: usize, out: &mut [f32]) {
    assert!(dim > 0 && rows.len().is_multiple_of(dim) && matrix.len().is_multiple_of(dim));
    let (n, outputs) = (rows.len() / dim, matrix.len() / dim);
    assert_eq!(out.len(), n * outputs);
    if n == 0 || outputs == 0 {
        return;
    }
    let a = ArrayView2::from_shape((n, dim), rows).expect("extent checked above");
    let w = ArrayView2::from_shape((outputs, dim), matrix).expect("extent checked above");
    let mut c = ArrayViewMut2::from_shape((n, outputs), out).expect("extent checked above");
    // C = 1 * A W^T + 0 * C: ndarray hands the strided views to
    // matrixmultiply's sgemm without copying them.
    general_mat_mul(1.0, &a, &w.t(), 0.0, &mut c);
}

/// IoM-GRP codes of a block of preprocessed rows: for each row and each
/// window of `window` matrix rows, the index of the largest projection
/// (lowest index on ties), exactly as `argmax` over `rng::dot` values.
///
/// `window_norm[h]` is the largest row norm of window `h`.
pub(crate) fn iom_block(
    rows: &[f32],
    matrix: &[f32],
    dim: usize,
    window: usize,
    window_norm: &[f64],
    out: &mut [u8],
) {
    let hashes = window_norm.len();
    let outputs = hashes * window;
    let n = rows.len() / dim;
    let mut proj = Zeroizing::new(vec![0f32; n * outputs]);
    project(rows, matrix, dim, &mut proj);
    let (rel, abs) = tolerance(dim);
    let largest = window_norm.iter().copied().fold(0.0, f64::max);
    let mut exact = Zeroizing::new(vec![0f32; window]);
    for ((x, p), o) in rows
        .chunks_exact(dim)
        .zip(proj.chunks_exact(outputs))
        .zip(out.chunks_exact_mut(hashes))
    {
        let xn = norm(x);
        let may_overflow = !fits(largest, xn);
        for (h, (g, code)) in p.chunks_exact(window).zip(o.iter_mut()).enumerate() {
            // Two projections of the window may each be off by `tol`.
            let tol = 2.0 * (rel * window_norm[h] * xn + abs);
            let certain = if may_overflow {
                None
            } else {
                certain_argmax(g, tol)
            };
            *code = match certain {
                Some(j) => j as u8,
                None => {
                    let w = &matrix[h * window * dim..][..window * dim];
                    for (e, row) in exact.iter_mut().zip(w.chunks_exact(dim)) {
                        *e = dot(row, x);
                    }
                    argmax(&exact) as u8
                }
            };
        }
    }
}

/// Whether every partial sum of `<w, x>` stays far from `f32` overflow in
/// any summation order (`|partial| <= sum |w_i x_i| <= |w| |x|`). The error
/// bound assumes no overflow: the reference may reach infinity (and then
/// NaN) where the GEMM, summing in another order, does not (found by the
/// protect_floats fuzz target with centred inputs near 1e38).
fn fits(w_norm: f64, x_norm: f64) -> bool {
    w_norm * x_norm < f64::from(f32::MAX) / 4.0
}

/// The index of the largest of `g` if it beats every other by more than
/// `tol` (so any values within `tol / 2` of `g` have the same argmax), else
/// `None`. Non-finite values or bound give `None`.
fn certain_argmax(g: &[f32], tol: f64) -> Option<usize> {
    if !tol.is_finite() {
        return None;
    }
    let mut best = 0;
    let mut second = f32::NEG_INFINITY;
    if !g[0].is_finite() {
        return None;
    }
    for (i, &v) in g.iter().enumerate().skip(1) {
        if !v.is_finite() {
            return None;
        }
        if v > g[best] {
            second = g[best];
            best = i;
        } else if v > second {
            second = v;
        }
    }
    let margin = f64::from(g[best]) - f64::from(second);
    (g.len() == 1 || margin > tol).then_some(best)
}

/// BioHash bits of a block of preprocessed rows: bit `j` of a row is 1 iff
/// `rng::dot(basis[j], x) > 0`, decided on GEMM values when they are
/// farther than the error bound from 0.
pub(crate) fn sign_block(rows: &[f32], basis: &[f32], dim: usize, norms: &[f64], out: &mut [u8]) {
    let bits = norms.len();
    let n = rows.len() / dim;
    let mut proj = Zeroizing::new(vec![0f32; n * bits]);
    project(rows, basis, dim, &mut proj);
    let (rel, abs) = tolerance(dim);
    let largest = norms.iter().copied().fold(0.0, f64::max);
    // Per-bit bounds in f32, rounded up (the bound is already doubled):
    // the decision loop below is branch-free and vectorises.
    let mut tol = vec![0f32; bits];
    for ((x, p), o) in rows
        .chunks_exact(dim)
        .zip(proj.chunks_exact(bits))
        .zip(out.chunks_exact_mut(bits))
    {
        let xn = norm(x);
        let scale = rel * xn;
        let mut uncertain = !fits(largest, xn) || !scale.is_finite();
        if !uncertain {
            for (t, &n) in tol.iter_mut().zip(norms) {
                *t = ((scale * n + abs) * (1.0 + 1e-6)) as f32;
            }
            let mut undecided = 0u32;
            for ((&g, &t), bit) in p.iter().zip(&tol).zip(o.iter_mut()) {
                *bit = u8::from(g > t);
                // A NaN (never from finite inputs) counts as undecided.
                undecided += u32::from(g.abs() <= t || g.is_nan());
            }
            uncertain = undecided > 0;
        }
        if uncertain {
            for (j, (&g, bit)) in p.iter().zip(o.iter_mut()).enumerate() {
                let t = rel * norms[j] * xn + abs;
                let sure = fits(norms[j], xn) && g.is_finite() && t.is_finite();
                if !(sure && f64::from(g).abs() > t) {
                    *bit = u8::from(dot(&basis[j * dim..][..dim], x) > 0.0);
                } else {
                    *bit = u8::from(g > 0.0);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_matches_dot_within_the_bound() {
        let dim = 37;
        let rows: Vec<f32> = (0..3 * dim)
            .map(|i| ((i * 7919) % 113) as f32 / 50.0 - 1.0)
            .collect();
        let matrix: Vec<f32> = (0..5 * dim)
            .map(|i| ((i * 104729) % 97) as f32 / 40.0 - 1.2)
            .collect();
        let mut out = vec![0f32; 15];
        project(&rows, &matrix, dim, &mut out);
        let (rel, abs) = tolerance(dim);
        for r in 0..3 {
            let x = &rows[r * dim..][..dim];
            for j in 0..5 {
                let w = &matrix[j * dim..][..dim];
                let want = dot(w, x);
                let tol = rel * norm(w) * norm(x) + abs;
                assert!((f64::from(out[r * 5 + j]) - f64::from(want)).abs() <= tol);
            }
        }
    }

    #[test]
    fn undecided_windows_are_left_to_the_reference() {
        assert_eq!(certain_argmax(&[0.0, 2.0, 1.0], 0.5), Some(1));
        assert_eq!(certain_argmax(&[0.0, 2.0, 1.9], 0.5), None);
        assert_eq!(certain_argmax(&[2.0, 2.0], 0.0), None);
        assert_eq!(certain_argmax(&[1.0, f32::NAN], 0.1), None);
        assert_eq!(certain_argmax(&[1.0, 0.0], f64::INFINITY), None);
        assert_eq!(certain_argmax(&[1.0], 0.1), Some(0));
    }
}
