//! BioHashing (Teoh, Ngo, Goh: "BioHashing: two factor authentication
//! featuring fingerprint data and tokenised random numbers", Pattern
//! Recognition 37(11), 2004).
//!
//! `L` Gaussian vectors of the feature dimension are drawn from the keyed
//! generator (vector-major), orthonormalised by modified Gram–Schmidt in
//! `f64` in draw order, and stored as `f32`. Bit `i` is 1 iff
//! `<r_i, x> > 0`: the threshold is 0, which suits centred inputs (use the
//! scheme's centring preprocessing for raw embeddings).

use zeroize::Zeroizing;

use super::rng::{dot, KeyedRng};
use super::Transform;

pub(crate) struct BioHash {
    dim: usize,
    /// `bits` orthonormal rows of `dim` coefficients.
    basis: Zeroizing<Vec<f32>>,
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
        let basis = Zeroizing::new(q.iter().map(|&x| x as f32).collect());
        Self { dim, basis }
    }
}

impl Transform for BioHash {
    fn apply(&self, x: &[f32], out: &mut [u8]) {
        for (o, row) in out.iter_mut().zip(self.basis.chunks_exact(self.dim)) {
            *o = u8::from(dot(row, x) > 0.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
