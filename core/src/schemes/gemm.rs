//! Batch projections by matrix multiplication, certified to give the same
//! codes as the fixed-order dot products of `rng::dot`.
//!
//! Templates must be bit-identical everywhere, so the reference transform
//! computes every projection with `rng::dot` in one fixed order. A GEMM
//! (`kernel.rs`: the matrix packed once, a register-tiled AVX2/FMA kernel
//! chosen at run time) is several times faster but sums in another order,
//! so its values differ from the reference in the last bits. Only the
//! *decision* (the index of the largest projection in an IoM window, the
//! sign of a BioHash projection) is kept, and a decision taken on GEMM
//! values is certain to equal the reference one when the GEMM values clear
//! it by more than both computations' rounding error; otherwise the few
//! undecided windows are recomputed with `rng::dot`.
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

use zeroize::{Zeroize, Zeroizing};

use super::kernel::{dispatch, Job, Packed};
use super::rng::{argmax, dot};

/// Rows projected per block: the block's projections for one chunk of
/// outputs (`rows x CHUNK_OUTPUTS` floats) stay in cache while they are
/// turned into codes.
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

/// Euclidean norm of `v` in `f64`, summed in eight lanes (it only enters
/// error bounds, which allow for its own rounding many times over; one
/// chain of dependent adds would cost as much as the row's projections).
#[inline(always)]
pub(crate) fn norm(v: &[f32]) -> f64 {
    libm::sqrt(crate::features::sum_of_squares(v))
}

/// A caller's buffer for one block's projections, at least `len` floats.
/// A buffer too small is replaced, never grown in place: growing would
/// free the old contents unwiped.
fn scratch(buf: &mut Zeroizing<Vec<f32>>, len: usize) -> &mut [f32] {
    if buf.len() < len {
        *buf = Zeroizing::new(vec![0f32; len]);
    }
    &mut buf[..len]
}

/// The norms of a block's rows (at most [`BLOCK_ROWS`]).
#[inline(always)]
fn block_norms(rows: &[f32], dim: usize) -> [f64; BLOCK_ROWS] {
    assert!(rows.len() <= BLOCK_ROWS * dim);
    let mut xn = [0f64; BLOCK_ROWS];
    for (v, x) in xn.iter_mut().zip(rows.chunks_exact(dim)) {
        *v = norm(x);
    }
    xn
}

/// IoM-GRP codes of a block of at most [`BLOCK_ROWS`] preprocessed rows:
/// for each row and each window of `window` matrix rows, the index of the
/// largest projection (lowest index on ties), exactly as `argmax` over
/// `rng::dot` values. `packed` is `matrix` packed in whole windows.
///
/// `window_norm[h]` is the largest row norm of window `h`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn iom_block(
    rows: &[f32],
    packed: &Packed,
    matrix: &[f32],
    dim: usize,
    window: usize,
    window_norm: &[f64],
    out: &mut [u8],
    buf: &mut Zeroizing<Vec<f32>>,
) {
    dispatch(&mut IomBlock {
        rows,
        packed,
        matrix,
        dim,
        window,
        window_norm,
        out,
        buf,
    });
}

/// The arguments of [`iom_block`], as a [`Job`].
struct IomBlock<'a> {
    rows: &'a [f32],
    packed: &'a Packed,
    matrix: &'a [f32],
    dim: usize,
    window: usize,
    window_norm: &'a [f64],
    out: &'a mut [u8],
    buf: &'a mut Zeroizing<Vec<f32>>,
}

impl Job for IomBlock<'_> {
    #[inline(always)]
    fn run<const FMA: bool>(&mut self) {
        let (rows, packed, dim, window) = (self.rows, self.packed, self.dim, self.window);
        let window_norm = self.window_norm;
        let hashes = window_norm.len();
        let n = rows.len() / dim;
        let mut xn = block_norms(rows, dim);
        let (rel, abs) = tolerance(dim);
        let largest = window_norm.iter().copied().fold(0.0, f64::max);
        let proj = scratch(self.buf, n * packed.max_stride());
        let mut exact = Zeroizing::new(vec![0f32; window]);
        for (c, range) in packed.chunks().enumerate() {
            let stride = packed.stride(c);
            packed.project(c, rows, proj);
            let first = range.start / window;
            for (r, (x, o)) in rows
                .chunks_exact(dim)
                .zip(self.out.chunks_exact_mut(hashes))
                .enumerate()
            {
                let may_overflow = !fits(largest, xn[r]);
                let p = &proj[r * stride..][..range.len()];
                for (i, g) in p.chunks_exact(window).enumerate() {
                    let h = first + i;
                    // Two projections of the window may each be off by `tol`.
                    let tol = 2.0 * (rel * window_norm[h] * xn[r] + abs);
                    let certain = if may_overflow {
                        None
                    } else if window == 16 {
                        // The usual window, its length known to the
                        // compiler: unrolled and vectorised.
                        certain_argmax(&g[..16], tol)
                    } else {
                        certain_argmax(g, tol)
                    };
                    o[h] = match certain {
                        Some(j) => j as u8,
                        None => {
                            let w = &self.matrix[h * window * dim..][..window * dim];
                            for (e, row) in exact.iter_mut().zip(w.chunks_exact(dim)) {
                                *e = dot(row, x);
                            }
                            argmax(&exact) as u8
                        }
                    };
                }
            }
        }
        xn.zeroize();
    }
}

/// Whether every partial sum of `<w, x>` stays far from `f32` overflow in
/// any summation order (`|partial| <= sum |w_i x_i| <= |w| |x|`). The error
/// bound assumes no overflow: the reference may reach infinity (and then
/// NaN) where the GEMM, summing in another order, does not (found by the
/// protect_floats fuzz target with centred inputs near 1e38).
#[inline(always)]
fn fits(w_norm: f64, x_norm: f64) -> bool {
    w_norm * x_norm < f64::from(f32::MAX) / 4.0
}

/// The index of the largest of `g` if it beats every other by more than
/// `tol` (so any values within `tol / 2` of `g` have the same argmax), else
/// `None`. Non-finite values or bound give `None`.
///
/// Branch-free over the window (a compare-and-branch per value mispredicts
/// on random projections and cost more than the window's projections): the
/// maximum `m`, then a threshold `t <= m - tol`; the window is decided when
/// exactly one value reaches `t`, and that value's index is the answer.
#[inline(always)]
fn certain_argmax(g: &[f32], tol: f64) -> Option<usize> {
    if !tol.is_finite() {
        return None;
    }
    let mut m = f32::NEG_INFINITY;
    let mut non_finite = false;
    for &v in g {
        m = if v > m { v } else { m };
        non_finite |= !v.is_finite();
    }
    if non_finite || g.is_empty() {
        return None;
    }
    let below = f64::from(m) - tol;
    let mut t = below as f32;
    if f64::from(t) > below {
        t = t.next_down();
    }
    if g.len() <= 32 {
        // A bit per value: one compare and a mask (windows of 16).
        let mut mask = 0u32;
        for (i, &v) in g.iter().enumerate() {
            mask |= u32::from(v >= t) << i;
        }
        return (mask.count_ones() == 1).then_some(mask.trailing_zeros() as usize);
    }
    let (mut count, mut at) = (0usize, 0usize);
    for (i, &v) in g.iter().enumerate() {
        let reaches = usize::from(v >= t);
        count += reaches;
        at += i * reaches;
    }
    (count == 1).then_some(at)
}

/// BioHash bits of a block of at most [`BLOCK_ROWS`] preprocessed rows:
/// bit `j` of a row is 1 iff `rng::dot(basis[j], x) > 0`, decided on GEMM
/// values when they are farther than the error bound from 0. `packed` is
/// `basis` packed one bit per group.
pub(crate) fn sign_block(
    rows: &[f32],
    packed: &Packed,
    basis: &[f32],
    dim: usize,
    norms: &[f64],
    out: &mut [u8],
    buf: &mut Zeroizing<Vec<f32>>,
) {
    dispatch(&mut SignBlock {
        rows,
        packed,
        basis,
        dim,
        norms,
        out,
        buf,
    });
}

/// The arguments of [`sign_block`], as a [`Job`].
struct SignBlock<'a> {
    rows: &'a [f32],
    packed: &'a Packed,
    basis: &'a [f32],
    dim: usize,
    norms: &'a [f64],
    out: &'a mut [u8],
    buf: &'a mut Zeroizing<Vec<f32>>,
}

impl Job for SignBlock<'_> {
    #[inline(always)]
    fn run<const FMA: bool>(&mut self) {
        let (rows, packed, dim, norms) = (self.rows, self.packed, self.dim, self.norms);
        let bits = norms.len();
        let n = rows.len() / dim;
        let mut xn = block_norms(rows, dim);
        let (rel, abs) = tolerance(dim);
        let largest = norms.iter().copied().fold(0.0, f64::max);
        let proj = scratch(self.buf, n * packed.max_stride());
        for (c, range) in packed.chunks().enumerate() {
            let stride = packed.stride(c);
            packed.project(c, rows, proj);
            let chunk_norm = norms[range.clone()].iter().copied().fold(0.0, f64::max);
            for (r, (x, o)) in rows
                .chunks_exact(dim)
                .zip(self.out.chunks_exact_mut(bits))
                .enumerate()
            {
                let p = &proj[r * stride..][..range.len()];
                let o = &mut o[range.clone()];
                // One bound for the chunk's bits, in f32 and rounded up (the
                // bound is already doubled): the decision loop is
                // branch-free and vectorises.
                let t = ((rel * xn[r] * chunk_norm + abs) * (1.0 + 1e-6)) as f32;
                let mut uncertain = !fits(largest, xn[r]) || !t.is_finite();
                if !uncertain {
                    let mut undecided = 0u32;
                    for (&g, bit) in p.iter().zip(o.iter_mut()) {
                        *bit = u8::from(g > t);
                        // A NaN (never from finite inputs) counts as undecided.
                        undecided += u32::from(g.abs() <= t || g.is_nan());
                    }
                    uncertain = undecided > 0;
                }
                if uncertain {
                    for ((j, &g), bit) in range.clone().zip(p).zip(o.iter_mut()) {
                        let t = rel * norms[j] * xn[r] + abs;
                        let sure = fits(norms[j], xn[r]) && g.is_finite() && t.is_finite();
                        *bit = if sure && f64::from(g).abs() > t {
                            u8::from(g > 0.0)
                        } else {
                            u8::from(dot(&self.basis[j * dim..][..dim], x) > 0.0)
                        };
                    }
                }
            }
        }
        xn.zeroize();
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
        let packed = Packed::new(&matrix, dim, 1);
        let stride = packed.stride(0);
        let mut out = vec![0f32; 3 * stride];
        packed.project(0, &rows, &mut out);
        let (rel, abs) = tolerance(dim);
        for r in 0..3 {
            let x = &rows[r * dim..][..dim];
            for j in 0..5 {
                let w = &matrix[j * dim..][..dim];
                let want = dot(w, x);
                let tol = rel * norm(w) * norm(x) + abs;
                assert!((f64::from(out[r * stride + j]) - f64::from(want)).abs() <= tol);
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
