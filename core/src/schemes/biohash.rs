//! BioHashing (Teoh, Ngo, Goh: "BioHashing: two factor authentication
//! featuring fingerprint data and tokenised random numbers", Pattern
//! Recognition 37(11), 2004).
//!
//! `L` Gaussian vectors of the feature dimension are drawn from the keyed
//! generator (vector-major), orthonormalised by modified Gram–Schmidt in
//! `f64` in draw order, and stored as `f32`. Bit `i` is 1 iff
//! `<r_i, x> > 0`: the threshold is 0, which suits centred inputs (use the
//! scheme's centring preprocessing for raw embeddings).

use std::sync::OnceLock;

use zeroize::Zeroizing;

use super::gemm;
use super::kernel::Packed;
use super::rng::{dot, KeyedRng};
use super::{Transform, TransformMaterial};

pub(crate) struct BioHash {
    dim: usize,
    /// `bits` orthonormal rows of `dim` coefficients.
    basis: Zeroizing<Vec<f32>>,
    /// The norm of each stored (`f32`) row (batch error bounds).
    norms: Zeroizing<Vec<f64>>,
    /// `basis` packed for the batch kernel, on the first batch.
    packed: OnceLock<Packed>,
}

impl BioHash {
    pub(crate) fn new(rng: &mut KeyedRng, dim: usize, bits: u32) -> Self {
        let bits = bits as usize;
        let mut q: Zeroizing<Vec<f64>> =
            Zeroizing::new((0..bits * dim).map(|_| rng.gaussian()).collect());
        for i in 0..bits {
            let (done, rest) = q.split_at_mut(i * dim);
            let v = &mut rest[..dim];
            for u in done.chunks_exact(dim) {
                let c: f64 = u.iter().zip(v.iter()).map(|(a, b)| a * b).sum();
                for (x, a) in v.iter_mut().zip(u) {
                    *x -= c * a;
                }
            }
            let norm = libm::sqrt(v.iter().map(|x| x * x).sum::<f64>());
            // Gaussian vectors in dimension >= bits are independent with
            // probability 1; a norm this small would mean a broken generator.
            assert!(norm > 1e-9, "degenerate BioHash basis");
            for x in v.iter_mut() {
                *x /= norm;
            }
        }
        let basis: Zeroizing<Vec<f32>> = Zeroizing::new(q.iter().map(|&x| x as f32).collect());
        let norms = Zeroizing::new(gemm::row_norms(&basis, dim));
        Self {
            dim,
            basis,
            norms,
            packed: OnceLock::new(),
        }
    }
}

impl Transform for BioHash {
    fn apply(&self, x: &[f32], out: &mut [u8]) {
        for (o, row) in out.iter_mut().zip(self.basis.chunks_exact(self.dim)) {
            *o = u8::from(dot(row, x) > 0.0);
        }
    }

    fn apply_batch(&self, rows: &[f32], out: &mut [u8], scratch: &mut Zeroizing<Vec<f32>>) {
        let bits = self.norms.len();
        let packed = self
            .packed
            .get_or_init(|| Packed::new(&self.basis, self.dim, 1));
        for (block, o) in rows
            .chunks(gemm::BLOCK_ROWS * self.dim)
            .zip(out.chunks_mut(gemm::BLOCK_ROWS * bits))
        {
            gemm::sign_block(
                block,
                packed,
                &self.basis,
                self.dim,
                &self.norms,
                o,
                scratch,
            );
        }
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn expose(&self) -> TransformMaterial {
        TransformMaterial::BioHash {
            bits: self.norms.len(),
            dim: self.dim,
            basis: self.basis.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_bits_equal_single_bits_even_near_zero() {
        let dim = 32;
        let b = BioHash::new(&mut KeyedRng::new([5; 32]), dim, 32);
        let mut rng = KeyedRng::new([6; 32]);
        let n = gemm::BLOCK_ROWS + 9;
        let mut rows = Vec::new();
        for i in 0..n {
            // Every other row nearly orthogonal to basis row i % 32.
            let v: Vec<f64> = (0..dim).map(|_| rng.gaussian()).collect();
            let r = &b.basis[(i % 32) * dim..][..dim];
            let c: f64 = if i % 2 == 0 {
                v.iter().zip(r).map(|(a, w)| a * f64::from(*w)).sum()
            } else {
                0.0
            };
            rows.extend(v.iter().zip(r).map(|(a, w)| (a - c * f64::from(*w)) as f32));
        }
        let mut batch = vec![0u8; n * 32];
        b.apply_batch(&rows, &mut batch, &mut Zeroizing::new(Vec::new()));
        for (x, got) in rows.chunks_exact(dim).zip(batch.chunks_exact(32)) {
            let mut single = vec![0u8; 32];
            b.apply(x, &mut single);
            assert_eq!(got, &single[..]);
        }
    }

    #[test]
    fn basis_is_orthonormal() {
        let mut rng = KeyedRng::new([3; 32]);
        let b = BioHash::new(&mut rng, 32, 32);
        for i in 0..32 {
            for j in 0..32 {
                let r = &b.basis[i * 32..(i + 1) * 32];
                let s = &b.basis[j * 32..(j + 1) * 32];
                let d: f64 = r
                    .iter()
                    .zip(s)
                    .map(|(a, b)| f64::from(*a) * f64::from(*b))
                    .sum();
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((d - want).abs() < 1e-5, "{i} {j} {d}");
            }
        }
    }
}
