//! Index-of-Max hashing (Jin, Hwang, Lai, Kim, Teoh: "Ranking-based locality
//! sensitive hashing-enabled cancelable biometrics: Index-of-Max hashing",
//! IEEE TIFS 13(2), 2018).
//!
//! * GRP (Gaussian random projection): for each of `m` hashes, `q` Gaussian
//!   vectors `w_1..w_q`; the hash is `argmax_j <w_j, x>`. The matrix is drawn
//!   row by row (hash-major, then projection, then coordinate) from the keyed
//!   generator: `m * q * dim` standard normals.
//! * URP (uniformly random permutation): for each of `m` hashes, `p`
//!   permutations of the coordinates (Fisher–Yates from the keyed generator,
//!   hash-major then permutation); the hash is the argmax over the first `k`
//!   positions of the elementwise product of the `p` permuted vectors.
//!
//! Ties go to the lowest index. Only the argmax is kept, so magnitudes are
//! lost (the source of IoM's irreversibility) and the code is invariant to
//! positive scaling of `x`.

use std::sync::OnceLock;

use zeroize::Zeroizing;

use super::gemm;
use super::kernel::Packed;
use super::rng::{argmax, dot, KeyedRng};
use super::{Transform, TransformMaterial};

pub(crate) struct Grp {
    dim: usize,
    window: usize,
    /// `hashes * window` rows of `dim` coefficients.
    matrix: Zeroizing<Vec<f32>>,
    /// The largest row norm of each window (batch error bounds).
    window_norm: Zeroizing<Vec<f64>>,
    /// `matrix` packed for the batch kernel, on the first batch (single
    /// protection never needs it).
    packed: OnceLock<Packed>,
}

impl Grp {
    pub(crate) fn new(rng: &mut KeyedRng, dim: usize, hashes: u32, window: u32) -> Self {
        let n = hashes as usize * window as usize * dim;
        let mut matrix = Zeroizing::new(Vec::with_capacity(n));
        for _ in 0..n {
            matrix.push(rng.gaussian() as f32);
        }
        let window = window as usize;
        let window_norm = Zeroizing::new(
            gemm::row_norms(&matrix, dim)
                .chunks_exact(window)
                .map(|w| w.iter().copied().fold(0.0, f64::max))
                .collect(),
        );
        Self {
            dim,
            window,
            matrix,
            window_norm,
            packed: OnceLock::new(),
        }
    }
}

impl Transform for Grp {
    fn apply(&self, x: &[f32], out: &mut [u8]) {
        let mut proj = Zeroizing::new(vec![0f32; self.window]);
        let block = self.window * self.dim;
        for (o, rows) in out.iter_mut().zip(self.matrix.chunks_exact(block)) {
            for (p, row) in proj.iter_mut().zip(rows.chunks_exact(self.dim)) {
                *p = dot(row, x);
            }
            *o = argmax(&proj) as u8;
        }
    }

    fn apply_batch(&self, rows: &[f32], out: &mut [u8], scratch: &mut Zeroizing<Vec<f32>>) {
        let hashes = self.window_norm.len();
        let packed = self
            .packed
            .get_or_init(|| Packed::new(&self.matrix, self.dim, self.window));
        for (block, o) in rows
            .chunks(gemm::BLOCK_ROWS * self.dim)
            .zip(out.chunks_mut(gemm::BLOCK_ROWS * hashes))
        {
            gemm::iom_block(
                block,
                packed,
                &self.matrix,
                self.dim,
                self.window,
                &self.window_norm,
                o,
                scratch,
            );
        }
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn expose(&self) -> TransformMaterial {
        TransformMaterial::IomGrp {
            hashes: self.window_norm.len(),
            window: self.window,
            dim: self.dim,
            matrix: self.matrix.clone(),
        }
    }
}

pub(crate) struct Urp {
    dim: usize,
    window: usize,
    order: usize,
    /// For each hash, `order` permutations cut to their first `window` entries.
    index: Zeroizing<Vec<u32>>,
}

impl Urp {
    pub(crate) fn new(
        rng: &mut KeyedRng,
        dim: usize,
        hashes: u32,
        window: u32,
        order: u32,
    ) -> Self {
        let (window, order) = (window as usize, order as usize);
        let mut index = Zeroizing::new(Vec::with_capacity(hashes as usize * order * window));
        for _ in 0..hashes as usize * order {
            let mut p = rng.permutation(dim);
            index.extend_from_slice(&p[..window]);
            zeroize::Zeroize::zeroize(&mut p);
        }
        Self {
            dim,
            window,
            order,
            index,
        }
    }
}

impl Transform for Urp {
    fn apply(&self, x: &[f32], out: &mut [u8]) {
        let mut prod = Zeroizing::new(vec![0f32; self.window]);
        let block = self.order * self.window;
        for (o, perms) in out.iter_mut().zip(self.index.chunks_exact(block)) {
            prod.fill(1.0);
            for perm in perms.chunks_exact(self.window) {
                for (z, &i) in prod.iter_mut().zip(perm) {
                    *z *= x[i as usize];
                }
            }
            *o = argmax(&prod) as u8;
        }
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn expose(&self) -> TransformMaterial {
        TransformMaterial::IomUrp {
            hashes: self.index.len() / (self.order * self.window),
            window: self.window,
            order: self.order,
            dim: self.dim,
            permutations: self.index.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows whose first window is a near tie between its projections 0
    /// and 1 (`x` orthogonal to `w0 - w1` up to rounding), plus plain rows.
    fn near_ties(g: &Grp, n: usize) -> Vec<f32> {
        let dim = g.dim;
        let mut rng = KeyedRng::new([9; 32]);
        let (w0, w1) = (&g.matrix[..dim], &g.matrix[dim..2 * dim]);
        let d: Vec<f64> = w0.iter().zip(w1).map(|(a, b)| f64::from(a - b)).collect();
        let dd: f64 = d.iter().map(|v| v * v).sum();
        let mut rows = Vec::new();
        for i in 0..n {
            // Pointing along w0 + w1 makes projections 0 and 1 the window's
            // largest; removing the w0 - w1 component makes them (nearly) equal.
            let v: Vec<f64> = (0..dim)
                .map(|k| rng.gaussian() + 2.0 * f64::from(w0[k] + w1[k]))
                .collect();
            let c = if i % 2 == 0 {
                v.iter().zip(&d).map(|(a, b)| a * b).sum::<f64>() / dd
            } else {
                0.0
            };
            rows.extend(v.iter().zip(&d).map(|(a, b)| (a - c * b) as f32));
        }
        rows
    }

    /// Values near the top of the `f32` range overflow in some summation
    /// orders and not in others: such rows must follow the reference.
    #[test]
    fn batch_codes_equal_single_codes_near_overflow() {
        let dim = 8;
        let g = Grp::new(&mut KeyedRng::new([4; 32]), dim, 24, 4);
        let mut rng = KeyedRng::new([10; 32]);
        let rows: Vec<f32> = (0..50 * dim)
            .map(|i| (rng.gaussian() * 1e38 * f64::from(1 + i as u32 % 3)) as f32)
            .map(|v| v.clamp(-f32::MAX, f32::MAX))
            .collect();
        let mut batch = vec![0u8; 50 * 24];
        g.apply_batch(&rows, &mut batch, &mut Zeroizing::new(Vec::new()));
        for (x, b) in rows.chunks_exact(dim).zip(batch.chunks_exact(24)) {
            let mut single = vec![0u8; 24];
            g.apply(x, &mut single);
            assert_eq!(b, &single[..]);
        }
    }

    #[test]
    fn batch_codes_equal_single_codes_even_on_near_ties() {
        let dim = 24;
        let g = Grp::new(&mut KeyedRng::new([4; 32]), dim, 40, 16);
        let n = 2 * gemm::BLOCK_ROWS + 5;
        let rows = near_ties(&g, n);
        let mut batch = vec![0u8; n * 40];
        g.apply_batch(&rows, &mut batch, &mut Zeroizing::new(Vec::new()));
        let mut undecided = 0;
        for (x, b) in rows.chunks_exact(dim).zip(batch.chunks_exact(40)) {
            let mut single = vec![0u8; 40];
            g.apply(x, &mut single);
            assert_eq!(b, &single[..]);
            let packed = Packed::new(&g.matrix, dim, 16);
            let mut p = vec![0f32; packed.stride(0)];
            packed.project(0, x, &mut p);
            let (rel, abs) = gemm::tolerance(dim);
            let tol = 2.0 * (rel * g.window_norm[0] * gemm::norm(x) + abs);
            let mut w = p[..16].to_vec();
            w.sort_by(|a, b| b.total_cmp(a));
            undecided += usize::from(f64::from(w[0] - w[1]) <= tol);
        }
        // The crafted rows really reach the reference fallback.
        assert!(undecided >= n / 4, "{undecided} of {n}");
    }
}
