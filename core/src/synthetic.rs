//! Seeded synthetic identities: clustered feature vectors for tests, demos
//! and benchmarks when no real data may be used.
//!
//! Sample `j` of subject `s` is `x = mu + b_s + e_sj` where the population
//! mean `mu` has entries `N(0, offset^2)` (real embeddings are far from
//! centred: this is what centring preprocessing must undo), the subject
//! effect `b_s` has entries `N(0, between^2)` and the sample noise `e_sj`
//! has entries `N(0, within^2)`. The ratio `within / between` sets the
//! difficulty. Everything is drawn from ChaCha20 seeded with `seed`, so a
//! seed gives the same data on every platform.

use crate::alloc;
use crate::error::{Error, Result};
use crate::schemes::rng::KeyedRng;

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Population {
    /// Number of subjects.
    pub subjects: usize,
    /// Samples per subject.
    pub samples: usize,
    /// Feature dimension.
    pub dim: usize,
    /// Standard deviation of the population mean's entries.
    pub offset: f64,
    /// Standard deviation of a subject effect's entries.
    pub between: f64,
    /// Standard deviation of a sample's noise entries.
    pub within: f64,
    /// Seed of the generator.
    pub seed: u64,
}

impl Default for Population {
    /// 100 subjects x 5 samples of dimension 128, uncentred, with a
    /// within/between ratio that gives an unprotected (cosine, centred) EER
    /// of about 1%, close to dlib on ORL.
    fn default() -> Self {
        Self {
            subjects: 100,
            samples: 5,
            dim: 128,
            offset: 2.0,
            between: 1.0,
            within: 1.2,
            seed: 1,
        }
    }
}

/// Row-major feature vectors (`subjects * samples` rows of `dim`) and the
/// subject label of each row; rows of a subject are consecutive.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// `labels.len() * dim` values.
    pub rows: Vec<f32>,
    /// Subject of each row.
    pub labels: Vec<u32>,
    /// Feature dimension.
    pub dim: usize,
}

impl Population {
    /// Generates the data set.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the field: `subjects`, `samples`
    /// or `dim` of 0, more subjects than `u32` labels (2^32), a standard
    /// deviation that is negative or not finite. [`Error::OutOfMemory`]
    /// when `subjects * samples * dim` values do not fit in memory (checked
    /// before anything is drawn).
    pub fn generate(&self) -> Result<Dataset> {
        for (name, v) in [
            ("subjects", self.subjects),
            ("samples", self.samples),
            ("dim", self.dim),
        ] {
            if v == 0 {
                return Err(Error::param(name, "must be at least 1"));
            }
        }
        if u32::try_from(self.subjects - 1).is_err() {
            return Err(Error::param(
                "subjects",
                "must be at most 2^32 (labels are u32)",
            ));
        }
        for (name, sd) in [
            ("offset", self.offset),
            ("between", self.between),
            ("within", self.within),
        ] {
            if !(sd.is_finite() && sd >= 0.0) {
                return Err(Error::param(
                    name,
                    "must be a finite standard deviation >= 0",
                ));
            }
        }
        const WHAT: &str = "the synthetic population (subjects x samples x dim)";
        let n = alloc::product(
            self.subjects,
            self.samples,
            self.dim.saturating_mul(4),
            WHAT,
        )?;
        let values = alloc::product(n, self.dim, 4, WHAT)?;
        let mut rows = alloc::with_capacity(values, WHAT)?;
        let mut labels = alloc::with_capacity(n, WHAT)?;
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&self.seed.to_le_bytes());
        seed[8..24].copy_from_slice(b"btp/synthetic/v1");
        let mut rng = KeyedRng::new(seed);
        let mut mu: Vec<f64> = alloc::with_capacity(self.dim, WHAT)?;
        mu.extend((0..self.dim).map(|_| rng.gaussian() * self.offset));
        let mut centre: Vec<f64> = alloc::filled(self.dim, 0.0, WHAT)?;
        for s in 0..self.subjects {
            for (c, m) in centre.iter_mut().zip(&mu) {
                *c = m + rng.gaussian() * self.between;
            }
            for _ in 0..self.samples {
                rows.extend(
                    centre
                        .iter()
                        .map(|c| (c + rng.gaussian() * self.within) as f32),
                );
                labels.push(s as u32);
            }
        }
        Ok(Dataset {
            rows,
            labels,
            dim: self.dim,
        })
    }
}

impl Dataset {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there is no row.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.rows[i * self.dim..(i + 1) * self.dim]
    }

    /// Splits into the rows of subjects `< subjects` and the rest: disjoint
    /// people from one population, e.g. to fit a centring vector on some
    /// and measure on the others.
    pub fn split_subjects(&self, subjects: u32) -> (Dataset, Dataset) {
        let mut parts = [self.empty(), self.empty()];
        for (i, &l) in self.labels.iter().enumerate() {
            let part = &mut parts[usize::from(l >= subjects)];
            part.rows.extend_from_slice(self.row(i));
            part.labels.push(l);
        }
        let [a, b] = parts;
        (a, b)
    }

    fn empty(&self) -> Dataset {
        Dataset {
            rows: Vec::new(),
            labels: Vec::new(),
            dim: self.dim,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_and_determinism() {
        let p = Population {
            subjects: 3,
            samples: 2,
            dim: 4,
            ..Population::default()
        };
        let a = p.generate().unwrap();
        assert_eq!(a.rows.len(), 24);
        assert_eq!(a.labels, vec![0, 0, 1, 1, 2, 2]);
        assert_eq!(a.rows, p.generate().unwrap().rows);
        let b = Population { seed: 2, ..p }.generate().unwrap();
        assert_ne!(a.rows, b.rows);
        assert!(Population { subjects: 0, ..p }.generate().is_err());
        for (q, name) in [
            (Population { samples: 0, ..p }, "samples"),
            (Population { dim: 0, ..p }, "dim"),
            (Population { offset: -1.0, ..p }, "offset"),
            (
                Population {
                    between: f64::INFINITY,
                    ..p
                },
                "between",
            ),
        ] {
            assert!(
                matches!(q.generate(), Err(Error::InvalidParameter { name: n, .. }) if n == name),
                "{name}"
            );
        }
        assert!(Population {
            within: f64::NAN,
            ..p
        }
        .generate()
        .is_err());
        let (x, y) = a.split_subjects(1);
        assert_eq!((x.labels, y.labels), (vec![0, 0], vec![1, 1, 2, 2]));
        assert_eq!(x.rows, a.rows[..8]);
        assert_eq!(y.rows, a.rows[8..]);
    }

    #[test]
    fn caller_sizes_are_checked_before_allocating() {
        // 10^6 x 10^3 x 512 floats (2 TB) used to abort the process.
        let huge = Population {
            subjects: 1_000_000,
            samples: 1_000,
            dim: 512,
            ..Population::default()
        };
        assert!(matches!(huge.generate(), Err(Error::OutOfMemory { .. })));
        let overflow = Population {
            subjects: 1 << 31,
            samples: usize::MAX / 4,
            ..Population::default()
        };
        assert!(matches!(
            overflow.generate(),
            Err(Error::OutOfMemory { .. })
        ));
        let too_many = Population {
            subjects: (u32::MAX as usize) + 2,
            ..Population::default()
        };
        assert!(matches!(
            too_many.generate(),
            Err(Error::InvalidParameter {
                name: "subjects",
                ..
            })
        ));
    }

    #[test]
    fn samples_of_a_subject_are_closer() {
        let d = Population::default().generate().unwrap();
        let dist = |i: usize, j: usize| -> f64 {
            d.row(i)
                .iter()
                .zip(d.row(j))
                .map(|(a, b)| f64::from(a - b).powi(2))
                .sum()
        };
        // Same subject (rows 0, 1) vs different subjects (rows 0, 5).
        assert!(dist(0, 1) < dist(0, 5));
    }
}
