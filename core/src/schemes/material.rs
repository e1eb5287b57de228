//! What [`Protector::expose_transform`](crate::Protector::expose_transform)
//! gives: a copy of a built transform's secret material (hazardous; see
//! [`TransformMaterial`]).

use zeroize::Zeroizing;

/// The secret material of a built transform, as
/// [`Protector::expose_transform`](crate::Protector::expose_transform)
/// gives it: **hazardous**. Whoever holds it can compute every template of
/// this key and recover much of the features from a template (most for
/// BioHash: its basis and a code give a half-space per bit); it must never
/// be stored, logged or sent. It exists so that an independent
/// implementation (the numpy reference of the transforms in
/// `tests/python`, the numpy peer of `bench/run`) can be checked code for
/// code against btp. Buffers are wiped on drop.
///
/// Every code element is computed from the preprocessed vector `x` (see
/// [`Preprocess`](crate::features::Preprocess)) with `f32` dot products in btp's fixed order (eight
/// lanes, see `docs/decisions.md`); ties go to the lowest index (IoM) and a
/// projection of exactly 0 gives bit 0 (BioHash).
pub enum TransformMaterial {
    /// IoM-GRP: `matrix` holds `hashes * window` rows of `dim` standard
    /// normal coefficients, hash-major; hash `h` is the argmax over `j` of
    /// `<matrix[h * window + j], x>`.
    IomGrp {
        /// Number of hashes m.
        hashes: usize,
        /// Projections per hash q.
        window: usize,
        /// Feature dimension.
        dim: usize,
        /// `hashes * window * dim` coefficients.
        matrix: Zeroizing<Vec<f32>>,
    },
    /// IoM-URP: `permutations` holds, for each hash and each of its
    /// `order` permutations of `0..dim`, the permutation's first `window`
    /// entries (hash-major); hash `h` is the argmax over `j < window` of
    /// `prod_p x[permutations[(h * order + p) * window + j]]`.
    IomUrp {
        /// Number of hashes m.
        hashes: usize,
        /// Window k.
        window: usize,
        /// Permutations per hash p.
        order: usize,
        /// Feature dimension.
        dim: usize,
        /// `hashes * order * window` coordinates.
        permutations: Zeroizing<Vec<u32>>,
    },
    /// BioHashing: `basis` holds `bits` orthonormal rows of `dim`
    /// coefficients (Gaussian rows, modified Gram–Schmidt in `f64`, stored
    /// as `f32`); bit `i` is 1 iff `<basis[i], x> > 0`.
    BioHash {
        /// Number of bits L.
        bits: usize,
        /// Feature dimension.
        dim: usize,
        /// `bits * dim` coefficients.
        basis: Zeroizing<Vec<f32>>,
    },
}

impl std::fmt::Debug for TransformMaterial {
    /// Names the scheme and shape only, never a coefficient.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::IomGrp {
                hashes,
                window,
                dim,
                ..
            } => {
                write!(f, "TransformMaterial::IomGrp({hashes} x {window} x {dim})")
            }
            Self::IomUrp {
                hashes,
                window,
                order,
                dim,
                ..
            } => write!(
                f,
                "TransformMaterial::IomUrp({hashes} x {order} x {window}, dim {dim})"
            ),
            Self::BioHash { bits, dim, .. } => {
                write!(f, "TransformMaterial::BioHash({bits} x {dim})")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schemes::rng;
    use crate::SchemeParams;

    /// The exposed material reproduces `protect` with the documented
    /// recipe, and its `Debug` shows shapes only.
    #[test]
    fn exposed_transforms_reproduce_the_codes() {
        let mk = crate::MasterKey::from_bytes(&[3; 32]).unwrap();
        let all = [
            SchemeParams::iom_grp(12, 10, 4).unwrap(),
            SchemeParams::iom_urp(12, 10, 5, 3).unwrap(),
            SchemeParams::biohash(12, 9).unwrap(),
        ];
        let mut r = rng::KeyedRng::new([8; 32]);
        for params in all {
            let prot = crate::Protector::new(params, &mk, "expose", 1, None).unwrap();
            let material = prot.expose_transform();
            assert!(!format!("{material:?}").contains('.'), "{material:?}");
            for _ in 0..20 {
                let x: Vec<f32> = (0..12).map(|_| r.gaussian() as f32).collect();
                let want = prot.protect(&x).unwrap().elements();
                let got: Vec<u8> = match &material {
                    TransformMaterial::IomGrp {
                        window,
                        dim,
                        matrix,
                        ..
                    } => matrix
                        .chunks_exact(window * dim)
                        .map(|w| {
                            let p: Vec<f32> =
                                w.chunks_exact(*dim).map(|row| rng::dot(row, &x)).collect();
                            rng::argmax(&p) as u8
                        })
                        .collect(),
                    TransformMaterial::IomUrp {
                        window,
                        order,
                        dim,
                        permutations,
                        ..
                    } => {
                        assert!(permutations.iter().all(|&i| (i as usize) < *dim));
                        permutations
                            .chunks_exact(window * order)
                            .map(|perms| {
                                let mut z = vec![1f32; *window];
                                for perm in perms.chunks_exact(*window) {
                                    for (v, &i) in z.iter_mut().zip(perm) {
                                        *v *= x[i as usize];
                                    }
                                }
                                rng::argmax(&z) as u8
                            })
                            .collect()
                    }
                    TransformMaterial::BioHash { dim, basis, .. } => basis
                        .chunks_exact(*dim)
                        .map(|row| u8::from(rng::dot(row, &x) > 0.0))
                        .collect(),
                };
                assert_eq!(got, want);
            }
        }
    }
}
