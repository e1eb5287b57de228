//! 1:N identification metrics with the NIST FRVT/FRTE definitions
//! (NISTIR 8271, "Face Recognition Vendor Test Part 2: Identification").
//!
//! Input is a [`SearchScores`]: for `n_probes` searches against a gallery of
//! `n_gallery` entries, a row-major `n_probes x n_gallery` similarity matrix,
//! and for each search the gallery column of its mate (`Some(column)`, a
//! *mated* search) or `None` (a *non-mated* search: the person is not
//! enrolled). The matrix is borrowed, never copied.
//!
//! **Rank and ties.** The rank of a mate is `1 + #{non-mate entries with a
//! score >= the mate's score}`: a non-mate tied with the mate is counted as
//! ranked ahead of it (pessimistic). With continuous scores ties have
//! probability zero and every tie rule agrees; with the discrete `k/n`
//! scores of protected templates ties are common, and the pessimistic rule
//! never credits the system with a success that a deterministic candidate
//! list could not guarantee.
//!
//! Definitions, for a rank `R` and threshold `T` (accept iff `score >= T`):
//! - CMC / rank-`k` identification rate (closed set): fraction of mated
//!   searches whose mate has rank `<= k`. Non-mated searches are ignored.
//! - `FNIR(R, T)`: fraction of mated searches whose mate is *not* returned
//!   at rank `<= R` with score `>= T`.
//! - `FPIR(T)`: fraction of non-mated searches returning at least one
//!   candidate with score `>= T`, i.e. whose top score is `>= T`.
//!
//! Identification mode is `R = 1` with a threshold; investigation mode is a
//! larger `R` with a low threshold. `FNIR(R, -inf) = 1 - CMC(R)`.

use super::scores::{rate, ScoreDistribution, SortedScores};
use super::verification::threshold_at_fmr_from;
use crate::error::{Error, Result};

/// The scores of a batch of 1:N searches, validated. See the
/// [module docs](self) for the layout.
#[derive(Debug, Clone, Copy)]
pub struct SearchScores<'a> {
    scores: &'a [f64],
    n_gallery: usize,
    mates: &'a [Option<usize>],
}

impl<'a> SearchScores<'a> {
    /// Wraps a row-major `mates.len() x n_gallery` score matrix.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `n_gallery == 0`, there is no search,
    /// the matrix is not `mates.len() * n_gallery` long, or a mate column is
    /// out of range; [`Error::InvalidScores`] if a score is NaN or infinite
    /// (the message gives its search and gallery column).
    pub fn new(scores: &'a [f64], n_gallery: usize, mates: &'a [Option<usize>]) -> Result<Self> {
        if n_gallery == 0 {
            return Err(Error::param("n_gallery", "must be at least 1"));
        }
        if mates.is_empty() {
            return Err(Error::param("mates", "there must be at least one search"));
        }
        if mates.len().checked_mul(n_gallery) != Some(scores.len()) {
            return Err(Error::param(
                "scores",
                format!(
                    "length must be mates.len() * n_gallery = {} * {n_gallery}",
                    mates.len()
                ),
            ));
        }
        if let Some(p) = mates.iter().position(|m| m.is_some_and(|c| c >= n_gallery)) {
            return Err(Error::param(
                "mates",
                format!("mate column of search {p} is out of range"),
            ));
        }
        if let Some(i) = scores.iter().position(|s| !s.is_finite()) {
            let kind = if scores[i].is_nan() {
                "NaN"
            } else {
                "an infinity"
            };
            return Err(Error::InvalidScores(format!(
                "search scores contain {kind} at search {}, gallery column {}",
                i / n_gallery,
                i % n_gallery
            )));
        }
        Ok(Self {
            scores,
            n_gallery,
            mates,
        })
    }

    /// Number of searches (rows).
    pub fn n_searches(&self) -> usize {
        self.mates.len()
    }

    /// Gallery size (columns).
    pub fn n_gallery(&self) -> usize {
        self.n_gallery
    }

    /// Number of mated searches.
    pub fn n_mated(&self) -> usize {
        self.mates.iter().filter(|m| m.is_some()).count()
    }

    /// Number of non-mated searches.
    pub fn n_nonmated(&self) -> usize {
        self.n_searches() - self.n_mated()
    }

    fn row(&self, p: usize) -> &'a [f64] {
        &self.scores[p * self.n_gallery..(p + 1) * self.n_gallery]
    }

    /// Rank (pessimistic, see the module docs) and score of the mate of
    /// each mated search, in search order.
    pub fn mate_ranks(&self) -> Vec<(usize, f64)> {
        self.mates
            .iter()
            .enumerate()
            .filter_map(|(p, m)| m.map(|c| (p, c)))
            .map(|(p, c)| {
                let row = self.row(p);
                let s = row[c];
                let ahead = row
                    .iter()
                    .enumerate()
                    .filter(|&(j, &x)| j != c && x >= s)
                    .count();
                (1 + ahead, s)
            })
            .collect()
    }

    /// Top score of each non-mated search, in search order.
    pub fn nonmated_top_scores(&self) -> Vec<f64> {
        self.mates
            .iter()
            .enumerate()
            .filter(|(_, m)| m.is_none())
            .map(|(p, _)| {
                self.row(p)
                    .iter()
                    .copied()
                    .fold(f64::NEG_INFINITY, f64::max)
            })
            .collect()
    }
}

/// Cumulative match characteristic: element `k - 1` is the rank-`k`
/// identification rate, the fraction of mated searches whose mate has rank
/// `<= k` (ties counted against the mate), for `k = 1..=max_rank`.
/// Non-mated searches are ignored.
///
/// `max_rank` is clamped to the gallery size: every mate has a rank `<=
/// n_gallery` (the rate there is 1), so the curve has `min(max_rank,
/// n_gallery)` elements and a caller's `max_rank` never sizes an
/// allocation beyond the gallery (`usize::MAX` means "every rank").
///
/// ```
/// use btp::eval::{cmc, SearchScores};
/// // Two searches, three gallery entries; mates in columns 0 and 2.
/// let scores = [0.9, 0.1, 0.2,   0.5, 0.7, 0.5];
/// let s = SearchScores::new(&scores, 3, &[Some(0), Some(2)])?;
/// // The second mate (0.5) has 0.7 ahead and ties with 0.5: rank 3.
/// assert_eq!(cmc(&s, 3)?, vec![0.5, 0.5, 1.0]);
/// # Ok::<(), btp::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidParameter`] if `max_rank == 0`;
/// [`Error::InvalidScores`] if there is no mated search.
pub fn cmc(searches: &SearchScores<'_>, max_rank: usize) -> Result<Vec<f64>> {
    if max_rank == 0 {
        return Err(Error::param("max_rank", "must be at least 1"));
    }
    let ranks = searches.mate_ranks();
    if ranks.is_empty() {
        return Err(Error::InvalidScores("there is no mated search".into()));
    }
    let max_rank = max_rank.min(searches.n_gallery());
    let mut at_rank = vec![0u64; max_rank + 1];
    for &(r, _) in &ranks {
        if r <= max_rank {
            at_rank[r] += 1;
        }
    }
    let n = ranks.len() as u64;
    let mut cumulative = 0u64;
    Ok(at_rank[1..]
        .iter()
        .map(|&c| {
            cumulative += c;
            rate(cumulative, n)
        })
        .collect())
}

/// FNIR and FPIR, with their counts, at one threshold and rank.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IdentificationPoint {
    /// The threshold: a candidate is returned iff its score `>= threshold`.
    pub threshold: f64,
    /// The rank `R` a mate must reach to count as found.
    pub rank: usize,
    /// `misses / mated`.
    pub fnir: f64,
    /// `false_positives / nonmated`.
    pub fpir: f64,
    /// Mated searches whose mate was not returned at rank `<= R`, score `>= T`.
    pub misses: u64,
    /// Number of mated searches.
    pub mated: u64,
    /// Non-mated searches with a top score `>= T`.
    pub false_positives: u64,
    /// Number of non-mated searches.
    pub nonmated: u64,
}

/// FNIR/FPIR trade-off: `fnir[i]` and `fpir[i]` at `thresholds[i]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IdentificationCurve {
    /// Thresholds, increasing: every distinct non-mated top score and every
    /// score of a mate at rank `<= R`, then `+inf` (nothing returned).
    pub thresholds: Vec<f64>,
    /// FPIR at each threshold (non-increasing).
    pub fpir: Vec<f64>,
    /// FNIR at each threshold (non-decreasing).
    pub fnir: Vec<f64>,
}

/// Per-search outcomes at rank `R`: sorted scores of the mates found at
/// rank `<= R`, the number of mates ranked beyond `R`, and the sorted
/// non-mated top scores.
struct OpenSet {
    found: Vec<f64>,
    beyond_rank: u64,
    mated: u64,
    tops: SortedScores,
}

impl OpenSet {
    fn new(searches: &SearchScores<'_>, rank: usize) -> Result<Self> {
        if rank == 0 {
            return Err(Error::param("rank", "must be at least 1"));
        }
        let ranks = searches.mate_ranks();
        if ranks.is_empty() {
            return Err(Error::InvalidScores("there is no mated search".into()));
        }
        let tops = searches.nonmated_top_scores();
        if tops.is_empty() {
            return Err(Error::InvalidScores("there is no non-mated search".into()));
        }
        let tops = SortedScores::with_role("non-mated top", tops)?;
        let mated = ranks.len() as u64;
        let mut found: Vec<f64> = ranks
            .into_iter()
            .filter(|&(r, _)| r <= rank)
            .map(|(_, s)| s + 0.0)
            .collect();
        found.sort_unstable_by(f64::total_cmp);
        let beyond_rank = mated - found.len() as u64;
        Ok(Self {
            found,
            beyond_rank,
            mated,
            tops,
        })
    }

    fn point(&self, threshold: f64, rank: usize) -> IdentificationPoint {
        let below = self.found.partition_point(|&s| s < threshold) as u64;
        let misses = self.beyond_rank + below;
        let nonmated = self.tops.total();
        let false_positives = self.tops.count_at_or_above(threshold);
        IdentificationPoint {
            threshold,
            rank,
            fnir: rate(misses, self.mated),
            fpir: rate(false_positives, nonmated),
            misses,
            mated: self.mated,
            false_positives,
            nonmated,
        }
    }
}

/// FNIR at rank `rank` and the threshold that gives FPIR `<= target_fpir`.
///
/// The threshold is chosen on the non-mated top scores exactly as
/// [`threshold_at_fmr`](super::threshold_at_fmr) chooses it on impostor
/// scores: the smallest non-mated top score whose FPIR is at most the
/// target, or the next `f64` above the largest one when no non-mated search
/// may return a candidate.
///
/// # Errors
/// [`Error::InvalidParameter`] if `rank == 0` or the target is not in
/// `[0, 1]`; [`Error::InvalidScores`] without mated or without non-mated
/// searches.
pub fn fnir_at_fpir(
    searches: &SearchScores<'_>,
    rank: usize,
    target_fpir: f64,
) -> Result<IdentificationPoint> {
    if !(target_fpir.is_finite() && (0.0..=1.0).contains(&target_fpir)) {
        return Err(Error::param("target_fpir", "must be a rate in [0, 1]"));
    }
    let open = OpenSet::new(searches, rank)?;
    let (threshold, _) = threshold_at_fmr_from(&open.tops, target_fpir)?;
    Ok(open.point(threshold, rank))
}

/// FNIR and FPIR at a given threshold and rank.
///
/// # Errors
/// As [`fnir_at_fpir`]; [`Error::InvalidParameter`] for a NaN threshold.
pub fn identification_point(
    searches: &SearchScores<'_>,
    rank: usize,
    threshold: f64,
) -> Result<IdentificationPoint> {
    if threshold.is_nan() {
        return Err(Error::param("threshold", "must not be NaN"));
    }
    Ok(OpenSet::new(searches, rank)?.point(threshold, rank))
}

/// The FNIR/FPIR trade-off at rank `rank` over every threshold that changes
/// either rate, increasing, ending at `+inf` (FPIR 0, FNIR 1).
///
/// # Errors
/// As [`fnir_at_fpir`].
pub fn fnir_fpir_curve(searches: &SearchScores<'_>, rank: usize) -> Result<IdentificationCurve> {
    let open = OpenSet::new(searches, rank)?;
    let tops = open.tops.as_slice();
    let mut thresholds: Vec<f64> = open.found.iter().chain(tops).copied().collect();
    thresholds.sort_unstable_by(f64::total_cmp);
    thresholds.dedup();
    thresholds.push(f64::INFINITY);
    let mut curve = IdentificationCurve::default();
    for t in thresholds {
        let p = open.point(t, rank);
        curve.thresholds.push(t);
        curve.fpir.push(p.fpir);
        curve.fnir.push(p.fnir);
    }
    Ok(curve)
}

#[cfg(test)]
mod tests {
    use super::super::scores::next_up;
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn validation() {
        let s = [0.0; 6];
        assert!(SearchScores::new(&s, 0, &[None]).is_err());
        assert!(SearchScores::new(&s, 3, &[]).is_err());
        assert!(SearchScores::new(&s, 4, &[None, None]).is_err());
        assert!(SearchScores::new(&s, 3, &[None, Some(3)]).is_err());
        let mut bad = s;
        bad[4] = f64::NAN;
        assert_eq!(
            SearchScores::new(&bad, 3, &[None, Some(1)]).unwrap_err(),
            Error::InvalidScores("search scores contain NaN at search 1, gallery column 1".into())
        );
        let ok = SearchScores::new(&s, 3, &[None, Some(1)]).unwrap();
        assert_eq!((ok.n_mated(), ok.n_nonmated()), (1, 1));
        assert!(cmc(&ok, 0).is_err());
        let only_nonmated = SearchScores::new(&s, 3, &[None, None]).unwrap();
        assert!(cmc(&only_nonmated, 1).is_err());
        assert!(fnir_at_fpir(&only_nonmated, 1, 0.1).is_err());
        let only_mated = SearchScores::new(&s, 3, &[Some(0), Some(1)]).unwrap();
        assert!(fnir_at_fpir(&only_mated, 1, 0.1).is_err());
        assert!(fnir_at_fpir(&ok, 0, 0.1).is_err());
        assert!(fnir_at_fpir(&ok, 1, 1.5).is_err());
    }

    #[test]
    fn pessimistic_ties() {
        // Mate tied with two non-mates, one non-mate above.
        let scores = [0.5, 0.9, 0.5, 0.5, 0.1];
        let s = SearchScores::new(&scores, 5, &[Some(0)]).unwrap();
        assert_eq!(s.mate_ranks(), vec![(4, 0.5)]);
        assert_eq!(cmc(&s, 5).unwrap(), vec![0.0, 0.0, 0.0, 1.0, 1.0]);
    }

    #[test]
    fn max_rank_is_clamped_to_the_gallery() {
        // A caller's max_rank (10^12, usize::MAX) used to size a vector.
        let scores = [0.5, 0.9, 0.5];
        let s = SearchScores::new(&scores, 3, &[Some(0)]).unwrap();
        assert_eq!(cmc(&s, 1_000_000_000_000).unwrap(), vec![0.0, 0.0, 1.0]);
        assert_eq!(cmc(&s, usize::MAX).unwrap(), vec![0.0, 0.0, 1.0]);
        assert_eq!(cmc(&s, 2).unwrap(), vec![0.0, 0.0]);
        assert_eq!(
            fnir_at_fpir(&s, usize::MAX, 0.5).unwrap_err().kind(),
            crate::ErrorKind::InvalidScores
        );
        let open = SearchScores::new(&[0.5, 0.9, 0.5, 0.1, 0.2, 0.3], 3, &[Some(0), None]).unwrap();
        assert_eq!(
            identification_point(&open, usize::MAX, 0.0).unwrap().misses,
            0
        );
    }

    #[test]
    fn open_set_known_answers() {
        // 3 mated searches (mates at ranks 1, 1, 2), 2 non-mated.
        #[rustfmt::skip]
        let scores = [
            0.9, 0.2, 0.1,   // mate col 0, score .9, rank 1
            0.3, 0.8, 0.4,   // mate col 1, score .8, rank 1
            0.6, 0.1, 0.7,   // mate col 0, score .6, rank 2 (0.7 ahead)
            0.5, 0.2, 0.1,   // non-mated, top .5
            0.3, 0.65, 0.2,  // non-mated, top .65
        ];
        let mates = [Some(0), Some(1), Some(0), None, None];
        let s = SearchScores::new(&scores, 3, &mates).unwrap();
        assert_eq!(cmc(&s, 3).unwrap(), vec![2.0 / 3.0, 1.0, 1.0]);
        // Rank 1: found mates .8, .9; one beyond rank.
        let p = fnir_at_fpir(&s, 1, 0.5).unwrap();
        assert_eq!(
            (p.threshold, p.fpir, p.misses, p.fnir),
            (0.65, 0.5, 1, 1.0 / 3.0)
        );
        let p = fnir_at_fpir(&s, 1, 0.0).unwrap();
        assert_eq!((p.threshold, p.fpir), (next_up(0.65), 0.0));
        assert_eq!(p.misses, 1);
        let p = fnir_at_fpir(&s, 2, 1.0).unwrap();
        assert_eq!((p.threshold, p.fpir, p.misses), (0.5, 1.0, 0));
        let p = identification_point(&s, 2, 0.85).unwrap();
        assert_eq!((p.misses, p.false_positives), (2, 0));
        let c = fnir_fpir_curve(&s, 1).unwrap();
        assert_eq!(c.thresholds, vec![0.5, 0.65, 0.8, 0.9, f64::INFINITY]);
        assert_eq!(c.fpir, vec![1.0, 0.5, 0.0, 0.0, 0.0]);
        assert_eq!(
            c.fnir,
            vec![1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0, 2.0 / 3.0, 1.0]
        );
    }

    proptest! {
        #[test]
        fn cmc_and_open_set_match_brute_force(
            n_gallery in 1usize..6,
            rows in prop::collection::vec(
                (prop::collection::vec(0u8..5, 6), prop::option::of(0usize..6)), 2..12),
            rank in 1usize..4,
            target in 0.0f64..=1.0,
        ) {
            let mut scores = Vec::new();
            let mut mates = Vec::new();
            for (row, mate) in &rows {
                scores.extend(row[..n_gallery].iter().map(|&k| f64::from(k) / 4.0));
                mates.push(mate.map(|m| m % n_gallery));
            }
            let s = SearchScores::new(&scores, n_gallery, &mates).unwrap();
            let n_mated = mates.iter().filter(|m| m.is_some()).count();
            let n_non = mates.len() - n_mated;
            let brute_rank = |p: usize, c: usize| {
                let row = &scores[p * n_gallery..(p + 1) * n_gallery];
                1 + (0..n_gallery).filter(|&j| j != c && row[j] >= row[c]).count()
            };
            if n_mated > 0 {
                let curve = cmc(&s, n_gallery + 1).unwrap();
                prop_assert_eq!(curve.len(), n_gallery);
                prop_assert_eq!(&cmc(&s, usize::MAX).unwrap(), &curve);
                for k in 1..=n_gallery {
                    let hits = mates.iter().enumerate()
                        .filter(|(p, m)| m.is_some_and(|c| brute_rank(*p, c) <= k)).count();
                    prop_assert_eq!(curve[k - 1], hits as f64 / n_mated as f64);
                    if k > 1 { prop_assert!(curve[k - 1] >= curve[k - 2]); }
                }
                prop_assert_eq!(curve[n_gallery - 1], 1.0);
            }
            if n_mated > 0 && n_non > 0 {
                let p = fnir_at_fpir(&s, rank, target).unwrap();
                prop_assert!(p.fpir <= target);
                let t = p.threshold;
                let top = |q: usize| scores[q * n_gallery..(q + 1) * n_gallery]
                    .iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let fp = mates.iter().enumerate().filter(|(q, m)| m.is_none() && top(*q) >= t).count();
                let miss = mates.iter().enumerate().filter(|(q, m)| match m {
                    Some(c) => !(brute_rank(*q, *c) <= rank && scores[q * n_gallery + c] >= t),
                    None => false,
                }).count();
                prop_assert_eq!((p.false_positives, p.misses), (fp as u64, miss as u64));
                // Tight: a smaller non-mated top score would exceed the target.
                for q in (0..mates.len()).filter(|&q| mates[q].is_none()) {
                    if top(q) < t {
                        let fp2 = mates.iter().enumerate()
                            .filter(|(r, m)| m.is_none() && top(*r) >= top(q)).count();
                        prop_assert!(fp2 as f64 / n_non as f64 > target);
                    }
                }
                let c = fnir_fpir_curve(&s, rank).unwrap();
                for i in 1..c.thresholds.len() {
                    prop_assert!(c.thresholds[i] > c.thresholds[i - 1]);
                    prop_assert!(c.fpir[i] <= c.fpir[i - 1]);
                    prop_assert!(c.fnir[i] >= c.fnir[i - 1]);
                }
            }
        }
    }
}
