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

use zeroize::Zeroizing;

use super::rng::{argmax, dot, KeyedRng};
use super::Transform;

pub(crate) struct Grp {
    dim: usize,
    window: usize,
    /// `hashes * window` rows of `dim` coefficients.
    matrix: Zeroizing<Vec<f32>>,
}

impl Grp {
    pub(crate) fn new(rng: &mut KeyedRng, dim: usize, hashes: u32, window: u32) -> Self {
        let n = hashes as usize * window as usize * dim;
        let mut matrix = Zeroizing::new(Vec::with_capacity(n));
        for _ in 0..n {
            matrix.push(rng.gaussian() as f32);
        }
        Self {
            dim,
            window: window as usize,
            matrix,
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
}

pub(crate) struct Urp {
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
}
