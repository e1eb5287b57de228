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
    pub fn generate(&self) -> Result<Dataset> {
        if self.subjects == 0 || self.samples == 0 || self.dim == 0 {
            return Err(Error::param(
                "population",
                "subjects, samples and dim must be at least 1",
            ));
        }
        let sds = [self.offset, self.between, self.within];
        if sds.iter().any(|s| !s.is_finite() || *s < 0.0) {
            return Err(Error::param(
                "population",
                "standard deviations must be finite and >= 0",
            ));
        }
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&self.seed.to_le_bytes());
        seed[8..24].copy_from_slice(b"btp/synthetic/v1");
        let mut rng = KeyedRng::new(seed);
        let mu: Vec<f64> = (0..self.dim)
            .map(|_| rng.gaussian() * self.offset)
            .collect();
        let mut rows = Vec::with_capacity(self.subjects * self.samples * self.dim);
        let mut labels = Vec::with_capacity(self.subjects * self.samples);
        for s in 0..self.subjects {
            let centre: Vec<f64> = mu
                .iter()
                .map(|m| m + rng.gaussian() * self.between)
                .collect();
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
