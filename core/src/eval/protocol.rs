//! The protocol an auditor runs on a labelled set of feature vectors to show
//! what protection costs and what it gives (in the spirit of ISO/IEC 30136):
//!
//! 1. **Unprotected** baseline: cosine similarity of the feature vectors
//!    after the scheme's own preprocessing (centring), all pairs.
//! 2. **Normal** scenario: every subject has its own transform key (the
//!    subject id is bound into the key). Genuine pairs are two samples of a
//!    subject under its key; impostor pairs compare one subject's template
//!    under its key with another's under theirs.
//! 3. **Stolen-key** scenario: the attacker holds the key, so everybody's
//!    templates are made under one key; this is the worst case for
//!    accuracy and the figure to compare with the baseline.
//! 4. **Unlinkability** (Gomez-Barrero et al., IEEE TIFS 2018): templates of
//!    every sample under two applications' keys; mated scores compare
//!    different samples of one subject across the two applications,
//!    non-mated scores different subjects across them. `D<->sys` near 0
//!    means a template in one application says nothing about the other.
//!
//! Pairs are unordered (`i < j`) within a scenario and ordered (`i != j`)
//! across applications. Protected scores are counted in
//! [`ScoreHistogram`]s, so the verification figures need O(code length)
//! memory whatever the number of pairs; the unprotected scores and the
//! linkage scores are held once as `f64` (the linkage set is capped by
//! [`ProtocolOptions::max_nonmated_linkage_pairs`], taken as an evenly
//! spaced subsample of the pairs in order).

use zeroize::Zeroizing;

use super::{
    eer_from, fnmr_at_fmr_from, unlinkability, Eer, OperatingPoint, ScoreDistribution,
    ScoreHistogram, SortedScores, Unlinkability,
};
use crate::alloc;
use crate::error::{Error, Result};
use crate::features;
use crate::keys::MasterKey;
use crate::protector::Protector;
use crate::schemes::{SchemeId, SchemeParams};

/// Settings of [`protection_report`].
#[derive(Clone, Debug, PartialEq)]
pub struct ProtocolOptions {
    /// Application name of the transform keys (the linkage test uses this
    /// name with `/link-a` and `/link-b` appended).
    pub application: String,
    /// Transform key version.
    pub version: u32,
    /// FMR at which the FNMR is reported.
    pub target_fmr: f64,
    /// Histogram bins of the unlinkability measure.
    pub unlinkability_bins: usize,
    /// Histogram range of the unlinkability measure; protected scores lie
    /// in `[0, 1]`.
    pub unlinkability_range: (f64, f64),
    /// Prior ratio `P(mated) / P(non-mated)` of the unlinkability measure.
    pub omega: f64,
    /// At most this many non-mated linkage pairs are scored.
    pub max_nonmated_linkage_pairs: usize,
}

impl Default for ProtocolOptions {
    fn default() -> Self {
        Self {
            application: "audit".into(),
            version: 1,
            target_fmr: 1e-3,
            unlinkability_bins: 100,
            unlinkability_range: (0.0, 1.0),
            omega: 1.0,
            max_nonmated_linkage_pairs: 2_000_000,
        }
    }
}

/// Verification accuracy of one scenario.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScenarioReport {
    /// Equal error rate and its threshold.
    pub eer: Eer,
    /// FNMR at the target FMR.
    pub at_target_fmr: OperatingPoint,
    /// Number of genuine pairs.
    pub genuine_pairs: u64,
    /// Number of impostor pairs.
    pub impostor_pairs: u64,
    /// Mean genuine score.
    pub genuine_mean: f64,
    /// Mean impostor score.
    pub impostor_mean: f64,
}

/// Everything [`protection_report`] measured.
#[derive(Clone, Debug, PartialEq)]
pub struct ProtectionReport {
    /// The scheme measured.
    pub scheme: SchemeId,
    /// Its code length (IoM hashes or BioHash bits).
    pub code_len: usize,
    /// Cosine similarity of the preprocessed feature vectors.
    pub unprotected: ScenarioReport,
    /// Protected, one key per subject.
    pub normal: ScenarioReport,
    /// Protected, one key for everybody.
    pub stolen_key: ScenarioReport,
    /// Cross-application linkage of protected templates.
    pub unlinkability: Unlinkability,
    /// Mated linkage pairs scored.
    pub mated_linkage_pairs: u64,
    /// Non-mated linkage pairs scored.
    pub nonmated_linkage_pairs: u64,
}

/// Runs the auditor's protocol (see the module documentation) on `rows`
/// (row-major feature vectors of the scheme's dimension) labelled by subject.
pub fn protection_report(
    rows: &[f32],
    labels: &[u32],
    params: &SchemeParams,
    master: &MasterKey,
    options: &ProtocolOptions,
) -> Result<ProtectionReport> {
    let dim = params.dim();
    let n = features::validate_batch(rows, dim)?;
    if labels.len() != n {
        return Err(Error::param(
            "labels",
            "one label per feature vector is needed",
        ));
    }
    if options.max_nonmated_linkage_pairs == 0 {
        return Err(Error::param(
            "max_nonmated_linkage_pairs",
            "must be at least 1",
        ));
    }
    let genuine_exists = genuine_pairs(labels) > 0;
    let impostor_exists = labels.iter().any(|&l| l != labels[0]);
    if !genuine_exists || !impostor_exists {
        return Err(Error::param(
            "labels",
            "at least two subjects and one subject with two samples are needed",
        ));
    }
    let layout = params.layout();
    let words = layout.words();
    let app = options.application.as_str();

    let unprotected = unprotected_scenario(rows, labels, params, options.target_fmr)?;

    let shared = Protector::new(params.clone(), master, app, options.version, None)?;
    let stolen_codes = shared.protect_batch_packed(rows)?;
    let stolen_key = protected_scenario(&stolen_codes, labels, params, options.target_fmr)?;

    // One key per subject: protect each subject's rows under its own key.
    let mut own_codes = alloc::filled(
        alloc::product(n, words, 8, "the codes of `x`")?,
        0u64,
        "the codes of `x`",
    )?;
    let mut subjects: Vec<u32> = labels.to_vec();
    subjects.sort_unstable();
    subjects.dedup();
    for s in subjects {
        let prot = Protector::new(
            params.clone(),
            master,
            app,
            options.version,
            Some(&s.to_le_bytes()),
        )?;
        for i in (0..n).filter(|&i| labels[i] == s) {
            prot.protect_packed(
                &rows[i * dim..(i + 1) * dim],
                &mut own_codes[i * words..(i + 1) * words],
            )?;
        }
    }
    let normal = protected_scenario(&own_codes, labels, params, options.target_fmr)?;

    // Two applications: linkage across them.
    let link_a = Protector::new(
        params.clone(),
        master,
        &format!("{app}/link-a"),
        options.version,
        None,
    )?;
    let link_b = Protector::new(
        params.clone(),
        master,
        &format!("{app}/link-b"),
        options.version,
        None,
    )?;
    let codes_a = link_a.protect_batch_packed(rows)?;
    let codes_b = link_b.protect_batch_packed(rows)?;
    let linkage = super::linkage_scores(
        &link_a,
        &codes_a,
        &link_b,
        &codes_b,
        labels,
        options.max_nonmated_linkage_pairs,
    )?;
    let (mated, nonmated) = (linkage.mated, linkage.nonmated);
    let unlinkability = unlinkability(
        &mated,
        &nonmated,
        options.unlinkability_bins,
        Some(options.unlinkability_range),
        options.omega,
    )?;

    Ok(ProtectionReport {
        scheme: params.scheme_id(),
        code_len: layout.len(),
        unprotected,
        normal,
        stolen_key,
        unlinkability,
        mated_linkage_pairs: mated.len() as u64,
        nonmated_linkage_pairs: nonmated.len() as u64,
    })
}

fn report<G: ScoreDistribution, I: ScoreDistribution>(
    genuine: &G,
    impostor: &I,
    means: (f64, f64),
    target_fmr: f64,
) -> Result<ScenarioReport> {
    Ok(ScenarioReport {
        eer: eer_from(genuine, impostor)?,
        at_target_fmr: fnmr_at_fmr_from(genuine, impostor, target_fmr)?,
        genuine_pairs: genuine.total(),
        impostor_pairs: impostor.total(),
        genuine_mean: means.0,
        impostor_mean: means.1,
    })
}

/// All unordered pairs of packed codes, counted by mismatches.
fn protected_scenario(
    codes: &[u64],
    labels: &[u32],
    params: &SchemeParams,
    target_fmr: f64,
) -> Result<ScenarioReport> {
    let layout = params.layout();
    let words = layout.words();
    let len = layout.len();
    let mut genuine = vec![0u64; len + 1];
    let mut impostor = vec![0u64; len + 1];
    let n = labels.len();
    for i in 0..n {
        let a = &codes[i * words..(i + 1) * words];
        for j in i + 1..n {
            let m = layout.mismatches(a, &codes[j * words..(j + 1) * words]) as usize;
            if labels[i] == labels[j] {
                genuine[m] += 1;
            } else {
                impostor[m] += 1;
            }
        }
    }
    let histogram = |counts: &[u64]| -> Result<(ScoreHistogram, f64)> {
        let mut h = ScoreHistogram::for_codes(&layout)?;
        let mut sum = 0.0;
        for (m, &c) in counts.iter().enumerate() {
            if c > 0 {
                h.add_level(len - m, c)?;
                sum += layout.score(m as u32) * c as f64;
            }
        }
        let mean = sum / h.total() as f64;
        Ok((h, mean))
    };
    let (g, gm) = histogram(&genuine)?;
    let (i, im) = histogram(&impostor)?;
    report(&g, &i, (gm, im), target_fmr)
}

/// Number of unordered pairs of equal labels.
fn genuine_pairs(labels: &[u32]) -> usize {
    let mut counts = std::collections::HashMap::<u32, usize>::new();
    for &l in labels {
        *counts.entry(l).or_default() += 1;
    }
    counts.values().map(|c| c * (c - 1) / 2).sum()
}

/// Cosine similarity of all unordered pairs of preprocessed vectors.
fn unprotected_scenario(
    rows: &[f32],
    labels: &[u32],
    params: &SchemeParams,
    target_fmr: f64,
) -> Result<ScenarioReport> {
    let dim = params.dim();
    let n = labels.len();
    let mut unit: Zeroizing<Vec<f32>> = Zeroizing::new(Vec::with_capacity(rows.len()));
    for x in rows.chunks_exact(dim) {
        let mut y = params.preprocess().apply(x, dim)?;
        let norm = y
            .iter()
            .map(|v| f64::from(*v) * f64::from(*v))
            .sum::<f64>()
            .sqrt();
        y.iter_mut()
            .for_each(|v| *v = (f64::from(*v) / norm) as f32);
        unit.extend_from_slice(&y);
    }
    // All n (n - 1) / 2 pairs are held as f64: counted first, so that a
    // large `x` is an error, not an abort.
    let pairs = n * n.saturating_sub(1) / 2;
    let n_genuine = genuine_pairs(labels);
    const WHAT: &str = "the unprotected scores of all pairs of `x`";
    let mut genuine = alloc::with_capacity(n_genuine, WHAT)?;
    let mut impostor = alloc::with_capacity(pairs - n_genuine, WHAT)?;
    for i in 0..n {
        let a = &unit[i * dim..(i + 1) * dim];
        for j in i + 1..n {
            let b = &unit[j * dim..(j + 1) * dim];
            let s: f64 = a
                .iter()
                .zip(b)
                .map(|(x, y)| f64::from(*x) * f64::from(*y))
                .sum();
            if labels[i] == labels[j] {
                genuine.push(s);
            } else {
                impostor.push(s);
            }
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let means = (mean(&genuine), mean(&impostor));
    let g = SortedScores::new(genuine)?;
    let i = SortedScores::new(impostor)?;
    report(&g, &i, means, target_fmr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::Population;

    #[test]
    fn input_is_checked() {
        let mk = MasterKey::from_bytes(&[1; 32]).unwrap();
        let p = SchemeParams::biohash(4, 4).unwrap();
        let o = ProtocolOptions::default();
        assert!(protection_report(&[0.0; 7], &[0, 1], &p, &mk, &o).is_err());
        assert!(protection_report(&[1.0; 8], &[0], &p, &mk, &o).is_err());
        // One subject only: no impostor pair.
        assert!(protection_report(&[1.0; 8], &[0, 0], &p, &mk, &o).is_err());
        // No non-mated linkage pair: refused, as `linkage_scores` refuses
        // it (it was quietly raised to 1).
        let none = ProtocolOptions {
            max_nonmated_linkage_pairs: 0,
            ..ProtocolOptions::default()
        };
        let x = [1.0, 0.0, 0.0, 0.0, 1.0, 0.1, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0];
        let e = protection_report(&x, &[0, 0, 1], &p, &mk, &none).unwrap_err();
        assert!(e.to_string().contains("max_nonmated_linkage_pairs"), "{e}");
        assert!(protection_report(&x, &[0, 0, 1], &p, &mk, &o).is_ok());
    }

    #[test]
    fn counts_every_pair() {
        let d = Population {
            subjects: 6,
            samples: 3,
            dim: 16,
            ..Population::default()
        }
        .generate()
        .unwrap();
        let mk = MasterKey::from_bytes(&[1; 32]).unwrap();
        let p = SchemeParams::iom_grp(16, 32, 8).unwrap();
        let r =
            protection_report(&d.rows, &d.labels, &p, &mk, &ProtocolOptions::default()).unwrap();
        // 18 samples: 6 * C(3,2) = 18 genuine pairs, C(18,2) - 18 = 135 impostor pairs.
        for s in [&r.unprotected, &r.normal, &r.stolen_key] {
            assert_eq!((s.genuine_pairs, s.impostor_pairs), (18, 135));
        }
        assert_eq!(r.mated_linkage_pairs, 36);
        assert_eq!(r.nonmated_linkage_pairs, 18 * 15);
        assert_eq!(r.code_len, 32);
    }
}
