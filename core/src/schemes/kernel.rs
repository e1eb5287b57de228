//! The projection kernel behind batch protection: `rows * matrix^T` for a
//! block of preprocessed rows and a secret matrix packed once.
//!
//! A general GEMM (BLAS, matrixmultiply) packs both operands into buffers
//! of its own on every call and frees them unwiped: a panel of the secret
//! matrix and of the features stays in freed memory, and packing the same
//! matrix again for every block of rows costs as much as a quarter of the
//! multiplication when the matrix is small (a 128-bit BioHash). Here:
//!
//! * the matrix is packed once, into a buffer wiped on drop, in *chunks* of
//!   whole groups of outputs (an IoM window is a group, a BioHash bit its
//!   own), each chunk about [`CHUNK_OUTPUTS`] wide: the caller turns a
//!   chunk's projections into codes while they are in cache, and never
//!   holds the whole `rows x outputs` product;
//! * a chunk is stored as panels of [`NR`] outputs, coordinate-major
//!   (`panel[k * NR + j]` is coefficient `k` of the panel's output `j`),
//!   zero-padded to a whole panel;
//! * rows are read in place (no copy): the micro-kernel broadcasts one
//!   coordinate of each of its [`MR`] rows and multiplies it into a whole
//!   panel row, keeping the `MR x NR` sums in registers (12 of AVX2's 16
//!   vector registers), two loads per twelve fused multiply-adds.
//!
//! The kernel is built twice (see [`Job`] and [`dispatch`]): for AVX2 +
//! FMA, chosen at run time (the x86-64 baseline has neither), with the tile
//! written in intrinsics; and portably, the same tile in plain Rust with
//! separate multiply and add. Its values differ from the fixed-order
//! reference `rng::dot` in the last bits; the callers (`gemm.rs`) certify
//! every decision against that.

use std::ops::Range;

use zeroize::Zeroizing;

/// Outputs per panel: two AVX2 vectors of `f32`.
pub(crate) const NR: usize = 16;
/// Rows per micro-kernel call.
const MR: usize = 6;
/// About how many outputs a chunk spans (a chunk's packed panels, `dim *
/// CHUNK_OUTPUTS` floats, stay in L2 while every row of a block passes).
pub(crate) const CHUNK_OUTPUTS: usize = 256;

/// A matrix of `outputs` rows of `dim` coefficients packed for
/// [`Packed::project`].
pub(crate) struct Packed {
    dim: usize,
    /// Output range of each chunk and where its panels start in `data`.
    chunks: Vec<(Range<usize>, usize)>,
    data: Zeroizing<Vec<f32>>,
}

impl Packed {
    /// Packs `matrix` (`outputs` rows of `dim`), `group` outputs never being
    /// split between chunks (`outputs` is a multiple of `group`).
    pub(crate) fn new(matrix: &[f32], dim: usize, group: usize) -> Self {
        assert!(dim > 0 && group > 0 && matrix.len().is_multiple_of(dim * group));
        let outputs = matrix.len() / dim;
        let per_chunk = group * (CHUNK_OUTPUTS / group).max(1);
        let mut chunks = Vec::new();
        let mut size = 0;
        for start in (0..outputs).step_by(per_chunk) {
            let end = (start + per_chunk).min(outputs);
            chunks.push((start..end, size));
            size += (end - start).div_ceil(NR) * NR * dim;
        }
        let mut data = Zeroizing::new(vec![0f32; size]);
        for (range, at) in &chunks {
            for (o, row) in matrix[range.start * dim..range.end * dim]
                .chunks_exact(dim)
                .enumerate()
            {
                let panel = &mut data[at + (o / NR) * NR * dim..][..NR * dim];
                for (k, &w) in row.iter().enumerate() {
                    panel[k * NR + o % NR] = w;
                }
            }
        }
        Self { dim, chunks, data }
    }

    /// The output range of each chunk, in order.
    pub(crate) fn chunks(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        self.chunks.iter().map(|(r, _)| r.clone())
    }

    /// Floats per row of a chunk's projections (its width rounded up to
    /// whole panels): the row stride [`Packed::project`] writes with.
    pub(crate) fn stride(&self, chunk: usize) -> usize {
        self.chunks[chunk].0.len().div_ceil(NR) * NR
    }

    /// The widest chunk's stride.
    pub(crate) fn max_stride(&self) -> usize {
        (0..self.chunks.len())
            .map(|c| self.stride(c))
            .max()
            .unwrap_or(0)
    }

    /// `out[r * stride + j] = <rows[r], matrix[start + j]>` for chunk `chunk`
    /// (`start..end`, `stride` from [`Packed::stride`]) and every row of
    /// `rows` (`n * dim` floats); the padding columns get 0.
    pub(crate) fn project(&self, chunk: usize, rows: &[f32], out: &mut [f32]) {
        let dim = self.dim;
        assert!(rows.len().is_multiple_of(dim));
        let at = self.chunks[chunk].1;
        let stride = self.stride(chunk);
        let n = rows.len() / dim;
        dispatch(&mut Project {
            rows,
            dim,
            panels: &self.data[at..][..stride * dim],
            out: &mut out[..n * stride],
            stride,
        });
    }
}

/// The arguments of [`Packed::project`], as a [`Job`]: the kernel is built
/// as a function of its own, apart from the decisions that call it, so
/// that its tile has the vector registers to itself.
struct Project<'a> {
    rows: &'a [f32],
    dim: usize,
    panels: &'a [f32],
    out: &'a mut [f32],
    stride: usize,
}

impl Job for Project<'_> {
    #[inline(always)]
    fn run<const FMA: bool>(&mut self) {
        project_body::<FMA>(self.rows, self.dim, self.panels, self.out, self.stride);
    }
}

/// Work compiled once per instruction set: [`dispatch`] runs `run::<true>`
/// inside its AVX2 + FMA build, so the kernel it inlines may use fused
/// multiply-adds (the kernel checks the CPU again before its intrinsics).
pub(crate) trait Job {
    /// The work; must be `#[inline(always)]` so that it is compiled into
    /// the caller's instruction set.
    fn run<const FMA: bool>(&mut self);
}

/// Runs `job` compiled for AVX2 + FMA when this CPU has them (chosen at run
/// time: the x86-64 baseline has neither, and without them the kernel and
/// the decisions around it run at half speed or less), portably otherwise.
pub(crate) fn dispatch<J: Job>(job: &mut J) {
    #[cfg(target_arch = "x86_64")]
    if avx2_fma() {
        #[allow(unsafe_code)]
        // SAFETY: the function only needs AVX2 and FMA, which this CPU has
        // (checked just above); it is otherwise the same safe code.
        unsafe {
            run_avx2_fma(job)
        };
        return;
    }
    job.run::<false>();
}

/// Whether this CPU has AVX2 and FMA (detected once, then a cached load).
#[cfg(target_arch = "x86_64")]
fn avx2_fma() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

/// One function per job type, never inlined: a job started inside another
/// (the kernel inside the decisions) keeps a function of its own.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline(never)]
fn run_avx2_fma<J: Job>(job: &mut J) {
    job.run::<true>();
}

/// Every panel times every row, [`MR`] rows at a time. Panel-outer: one
/// panel (`dim * NR` floats) stays in L1 while the block's rows pass.
#[inline(always)]
fn project_body<const FMA: bool>(
    rows: &[f32],
    dim: usize,
    panels: &[f32],
    out: &mut [f32],
    stride: usize,
) {
    let n = rows.len() / dim;
    for (p, panel) in panels.chunks_exact(NR * dim).enumerate() {
        let mut r = 0;
        while r < n {
            let m = (n - r).min(MR);
            let x = &rows[r * dim..(r + m) * dim];
            let o = &mut out[r * stride + p * NR..];
            match m {
                6 => tile::<6, FMA>(x, dim, panel, o, stride),
                5 => tile::<5, FMA>(x, dim, panel, o, stride),
                4 => tile::<4, FMA>(x, dim, panel, o, stride),
                3 => tile::<3, FMA>(x, dim, panel, o, stride),
                2 => tile::<2, FMA>(x, dim, panel, o, stride),
                _ => tile::<1, FMA>(x, dim, panel, o, stride),
            }
            r += m;
        }
    }
}

/// `M` rows (`x`, `M * dim` floats) times one panel into `out[r * stride +
/// j]`, `j < NR`: with fused multiply-adds the AVX2 tile, else the portable
/// one.
#[inline(always)]
fn tile<const M: usize, const FMA: bool>(
    x: &[f32],
    dim: usize,
    panel: &[f32],
    out: &mut [f32],
    stride: usize,
) {
    assert!(x.len() >= M * dim && panel.len() >= dim * NR && out.len() >= (M - 1) * stride + NR);
    // `FMA` says the caller was compiled for AVX2 + FMA (`dispatch`); the
    // run-time check (a cached load) keeps the intrinsics sound whoever
    // calls.
    #[cfg(target_arch = "x86_64")]
    if FMA && avx2_fma() {
        tile_avx2::<M>(x, dim, panel, out, stride);
        return;
    }
    tile_portable::<M>(x, dim, panel, out, stride);
}

/// The portable tile: the `M x NR` sums are locals the compiler keeps in
/// vector registers where it can.
#[inline(always)]
fn tile_portable<const M: usize>(
    x: &[f32],
    dim: usize,
    panel: &[f32],
    out: &mut [f32],
    stride: usize,
) {
    let mut acc = [[0f32; NR]; M];
    for (k, w) in panel[..dim * NR].chunks_exact(NR).enumerate() {
        for (r, sums) in acc.iter_mut().enumerate() {
            let a = x[r * dim + k];
            for (s, &w) in sums.iter_mut().zip(w) {
                *s += a * w;
            }
        }
    }
    for (r, sums) in acc.iter().enumerate() {
        out[r * stride..][..NR].copy_from_slice(sums);
    }
}

/// The AVX2 + FMA tile, written with intrinsics: the vectoriser, given the
/// portable tile, spills and re-loads panel rows once the tile is inlined
/// into a larger function. Per coordinate: two loads of the panel row,
/// `M` broadcasts, `2 M` fused multiply-adds into `2 M` registers (12 of
/// the 16 for `M = 6`).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn tile_avx2<const M: usize>(x: &[f32], dim: usize, panel: &[f32], out: &mut [f32], stride: usize) {
    use std::arch::x86_64::{
        __m256, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_set1_ps, _mm256_setzero_ps,
        _mm256_storeu_ps,
    };
    #[allow(unsafe_code)]
    // SAFETY: `tile` checked that this CPU has AVX2 and FMA, the
    // intrinsics' only requirement besides memory. Loads read
    // `panel[k * NR..k * NR + 16]` with `k < dim` (`panel.len() >= dim *
    // NR`) and `x[r * dim + k]` with `r < M`, `k < dim` (`x.len() >= M *
    // dim`); stores write `out[r * stride..r * stride + 16]` with `r < M`
    // (`out.len() >= (M - 1) * stride + NR`): all asserted by `tile`.
    unsafe {
        let mut lo: [__m256; M] = [_mm256_setzero_ps(); M];
        let mut hi: [__m256; M] = [_mm256_setzero_ps(); M];
        let w = panel.as_ptr();
        let x = x.as_ptr();
        for k in 0..dim {
            let w0 = _mm256_loadu_ps(w.add(k * NR));
            let w1 = _mm256_loadu_ps(w.add(k * NR + 8));
            for r in 0..M {
                let a = _mm256_set1_ps(*x.add(r * dim + k));
                lo[r] = _mm256_fmadd_ps(a, w0, lo[r]);
                hi[r] = _mm256_fmadd_ps(a, w1, hi[r]);
            }
        }
        let o = out.as_mut_ptr();
        for r in 0..M {
            _mm256_storeu_ps(o.add(r * stride), lo[r]);
            _mm256_storeu_ps(o.add(r * stride + 8), hi[r]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, seed: usize) -> Vec<f32> {
        (0..n)
            .map(|i| ((i * 7919 + seed * 104729) % 1013) as f32 / 400.0 - 1.2)
            .collect()
    }

    /// Every chunk and remainder shape against a plain `f64` product: rows
    /// not a multiple of `MR`, chunks not a multiple of `NR`, groups that
    /// do not divide `CHUNK_OUTPUTS`, both kernels.
    #[test]
    fn projections_equal_the_plain_product() {
        for &(dim, outputs, group, n) in &[
            (37, 15, 5, 1),
            (128, 512, 16, 13),
            (9, 600, 200, 7),
            (64, 300, 1, 6),
            (3, 17, 17, 20),
        ] {
            let matrix = data(outputs * dim, 1);
            let rows = data(n * dim, 2);
            let packed = Packed::new(&matrix, dim, group);
            let mut covered = 0;
            for (c, range) in packed.chunks().enumerate() {
                assert_eq!(range.start, covered);
                assert_eq!(range.len() % group, 0);
                covered = range.end;
                let stride = packed.stride(c);
                for fma in [false, true] {
                    let mut out = vec![f32::NAN; n * stride];
                    let at = packed.chunks[c].1;
                    let mut job = Project {
                        rows: &rows,
                        dim,
                        panels: &packed.data[at..][..stride * dim],
                        out: &mut out,
                        stride,
                    };
                    if fma {
                        dispatch(&mut job);
                    } else {
                        job.run::<false>();
                    }
                    for r in 0..n {
                        for j in 0..stride {
                            let want: f64 = if range.start + j < range.end {
                                let w = &matrix[(range.start + j) * dim..][..dim];
                                let x = &rows[r * dim..][..dim];
                                w.iter()
                                    .zip(x)
                                    .map(|(&a, &b)| f64::from(a) * f64::from(b))
                                    .sum()
                            } else {
                                0.0
                            };
                            let got = f64::from(out[r * stride + j]);
                            assert!(
                                (got - want).abs() <= 1e-4 * (1.0 + want.abs()),
                                "dim {dim} outputs {outputs} row {r} col {j}: {got} vs {want}"
                            );
                        }
                    }
                }
            }
            assert_eq!(covered, outputs);
        }
    }
}
