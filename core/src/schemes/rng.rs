//! Deterministic sampling from a transform key.
//!
//! Transform parameters must be bit-identical on every platform and in every
//! binding, so nothing here depends on a library's sampling algorithm or on
//! the platform's maths library: the raw ChaCha20 stream (RFC 8439 block
//! function as implemented by `rand_chacha`, seeded with the 32-byte
//! transform key, stream 0) is turned into numbers by the fixed recipes
//! below, with `libm` (a pure-Rust port of musl's libm) for `ln`, `sin`, `cos`.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

/// The generator of one transform.
pub(crate) struct KeyedRng {
    rng: ChaCha20Rng,
    spare: Option<f64>,
}

impl KeyedRng {
    pub(crate) fn new(seed: [u8; 32]) -> Self {
        Self {
            rng: ChaCha20Rng::from_seed(seed),
            spare: None,
        }
    }

    /// Uniform in `[0, 1)` with 53 random bits: `(next_u64 >> 11) * 2^-53`.
    fn unit(&mut self) -> f64 {
        (self.rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal by the Box–Muller transform: `u1 = 1 - unit()` (in
    /// `(0, 1]`), `u2 = unit()`, `r = sqrt(-2 ln u1)`; yields `r cos(2 pi u2)`
    /// then `r sin(2 pi u2)`.
    pub(crate) fn gaussian(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let u1 = 1.0 - self.unit();
        let u2 = self.unit();
        let r = libm::sqrt(-2.0 * libm::log(u1));
        let theta = 2.0 * std::f64::consts::PI * u2;
        self.spare = Some(r * libm::sin(theta));
        r * libm::cos(theta)
    }

    /// Uniform integer in `0..n` (`n >= 1`) without bias: Lemire's
    /// multiply-and-reject on `next_u32`.
    pub(crate) fn below(&mut self, n: u32) -> u32 {
        debug_assert!(n > 0);
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = u64::from(self.rng.next_u32()) * u64::from(n);
            if (m as u32) >= threshold {
                return (m >> 32) as u32;
            }
        }
    }

    /// A uniformly random permutation of `0..n` (Fisher–Yates, from the end).
    pub(crate) fn permutation(&mut self, n: usize) -> Vec<u32> {
        let mut p: Vec<u32> = (0..n as u32).collect();
        for i in (1..n).rev() {
            let j = self.below(i as u32 + 1) as usize;
            p.swap(i, j);
        }
        p
    }
}

/// Dot product in `f32` with eight lanes in a fixed order, so the result is
/// the same on every platform (no reassociation, no FMA) yet vectorises.
#[inline]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let mut lanes = [0f32; 8];
    let ca = a.chunks_exact(8);
    let cb = b.chunks_exact(8);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            lanes[l] += x[l] * y[l];
        }
    }
    for (l, (x, y)) in ra.iter().zip(rb).enumerate() {
        lanes[l] += x * y;
    }
    ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5]))
        + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]))
}

/// Index of the largest value; the lowest index wins a tie.
#[inline]
pub(crate) fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate().skip(1) {
        if *x > v[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_is_fixed() {
        // Known answer: the first outputs for seed [0; 32] (ChaCha20, RFC 8439
        // test vector 1 keystream starts 76 b8 e0 ad a0 f1 3d 90).
        let mut r = KeyedRng::new([0; 32]);
        assert_eq!(r.rng.next_u32(), 0xade0b876);
    }

    #[test]
    fn gaussians_have_unit_moments() {
        let mut r = KeyedRng::new([1; 32]);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| r.gaussian()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        // Standard errors: 1/sqrt(n) = 0.0022 for the mean, ~0.0032 for the variance.
        assert!(mean.abs() < 0.01, "{mean}");
        assert!((var - 1.0).abs() < 0.015, "{var}");
    }

    #[test]
    fn permutations_are_permutations_and_uniform() {
        let mut r = KeyedRng::new([2; 32]);
        let mut first = [0u32; 4];
        for _ in 0..40_000 {
            let p = r.permutation(4);
            let mut s = p.clone();
            s.sort();
            assert_eq!(s, vec![0, 1, 2, 3]);
            first[p[0] as usize] += 1;
        }
        for c in first {
            // Expected 10,000 each; sd ~87.
            assert!((9_600..10_400).contains(&c), "{first:?}");
        }
    }

    #[test]
    fn dot_and_argmax() {
        let a: Vec<f32> = (0..19).map(|i| i as f32).collect();
        let b = vec![1f32; 19];
        assert_eq!(dot(&a, &b), 171.0);
        assert_eq!(argmax(&[1.0, 3.0, 3.0, 2.0]), 1);
    }
}
