//! Scores of labelled samples: a score matrix split into genuine and
//! impostor scores by the labels of its rows and columns, the mated and
//! non-mated linkage scores of two applications, and the mate column of
//! each probe of a search.

use crate::alloc;
use crate::error::{Error, Result};
use crate::protector::Protector;

/// The genuine and impostor scores of a labelled score matrix, with the
/// `[row, column]` of each score when asked for (see
/// [`split_scores_with_pairs`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SplitScores {
    /// Scores whose row and column labels are equal, row-major.
    pub genuine: Vec<f64>,
    /// Scores whose labels differ, row-major.
    pub impostor: Vec<f64>,
    /// `[row, column]` of each genuine score (empty unless asked for).
    pub genuine_pairs: Vec<[usize; 2]>,
    /// `[row, column]` of each impostor score (empty unless asked for).
    pub impostor_pairs: Vec<[usize; 2]>,
}

/// Splits a row-major `na x nb` score matrix into genuine scores (row and
/// column labels equal) and impostor scores (labels differ), in row-major
/// order.
///
/// With `column_labels = None` the matrix compares one set with itself
/// (`nb = na`, the same labels): only the cells above the diagonal
/// (`i < j`) are used, so each unordered pair counts once and nobody is
/// compared with themselves.
///
/// # Errors
/// [`Error::InvalidParameter`] for sizes that disagree, a self-comparison
/// matrix that is not square; [`Error::InvalidScores`] for a non-finite
/// score; [`Error::OutOfMemory`] if the two score vectors cannot be
/// allocated (their sizes are counted first).
pub fn split_scores(
    scores: &[f64],
    row_labels: &[u32],
    column_labels: Option<&[u32]>,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let s = split(scores, row_labels, column_labels, false)?;
    Ok((s.genuine, s.impostor))
}

/// [`split_scores`] with the `[row, column]` of every genuine and impostor
/// score, in the same order: per-pair metadata (a group, a capture
/// condition) is then `meta[pairs[:, 0]]` without a loop over the matrix.
///
/// # Errors
/// As [`split_scores`].
pub fn split_scores_with_pairs(
    scores: &[f64],
    row_labels: &[u32],
    column_labels: Option<&[u32]>,
) -> Result<SplitScores> {
    split(scores, row_labels, column_labels, true)
}

/// Number of genuine cells (equal labels) [`split_scores`] uses.
fn genuine_cells(row_labels: &[u32], column_labels: Option<&[u32]>) -> usize {
    let mut counts = std::collections::HashMap::<u32, usize>::new();
    for &l in column_labels.unwrap_or(row_labels) {
        *counts.entry(l).or_default() += 1;
    }
    match column_labels {
        // c * (c - 1) / 2 unordered pairs of each label.
        None => counts.values().map(|c| c * (c - 1) / 2).sum(),
        Some(_) => row_labels
            .iter()
            .map(|l| counts.get(l).copied().unwrap_or(0))
            .sum(),
    }
}

fn split(
    scores: &[f64],
    row_labels: &[u32],
    column_labels: Option<&[u32]>,
    with_pairs: bool,
) -> Result<SplitScores> {
    let na = row_labels.len();
    let cols = column_labels.unwrap_or(row_labels);
    let nb = cols.len();
    if na.checked_mul(nb) != Some(scores.len()) {
        return Err(Error::param(
            "scores",
            format!("a {na} x {nb} matrix is needed for the labels given"),
        ));
    }
    if let Some(i) = scores.iter().position(|s| !s.is_finite()) {
        return Err(Error::InvalidScores(format!(
            "the score matrix holds a non-finite value at row {}, column {}",
            i / nb.max(1),
            i % nb.max(1)
        )));
    }
    let used = if column_labels.is_none() {
        na * na.saturating_sub(1) / 2
    } else {
        scores.len()
    };
    let n_genuine = genuine_cells(row_labels, column_labels);
    let n_impostor = used - n_genuine;
    const WHAT: &str = "the genuine and impostor scores of `scores`";
    let mut out = SplitScores {
        genuine: alloc::with_capacity(n_genuine, WHAT)?,
        impostor: alloc::with_capacity(n_impostor, WHAT)?,
        ..SplitScores::default()
    };
    if with_pairs {
        out.genuine_pairs = alloc::with_capacity(n_genuine, WHAT)?;
        out.impostor_pairs = alloc::with_capacity(n_impostor, WHAT)?;
    }
    for (i, row) in scores.chunks_exact(nb.max(1)).enumerate().take(na) {
        let start = if column_labels.is_none() { i + 1 } else { 0 };
        for (j, &s) in row.iter().enumerate().skip(start) {
            let (values, pairs) = if row_labels[i] == cols[j] {
                (&mut out.genuine, &mut out.genuine_pairs)
            } else {
                (&mut out.impostor, &mut out.impostor_pairs)
            };
            values.push(s);
            if with_pairs {
                pairs.push([i, j]);
            }
        }
    }
    Ok(out)
}

/// Linkage scores across two applications (Gomez-Barrero et al., IEEE
/// TIFS 2018): the input of [`unlinkability`](super::unlinkability()).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LinkageScores {
    /// Code of sample `i` under `a` against sample `j != i` of the same
    /// subject under `b`, for every such ordered pair.
    pub mated: Vec<f64>,
    /// Code of sample `i` under `a` against sample `j` of another subject
    /// under `b`: an evenly spaced subsample of at most `max_nonmated` of
    /// the ordered pairs (every `stride`-th, in row-major order).
    pub nonmated: Vec<f64>,
    /// How many non-mated pairs there are before subsampling.
    pub nonmated_total: u64,
}

/// Mated and non-mated linkage scores of the same samples protected by two
/// protectors of one scheme (two applications, or two versions): row `i` of
/// `codes_a` (under `a`) and of `codes_b` (under `b`) are the same sample,
/// labelled `labels[i]` by subject. Pairs `i != j` only: comparing a
/// sample's own two templates is not a linkage between different captures.
///
/// # Errors
/// [`Error::SchemeMismatch`] if the protectors have different parameters;
/// [`Error::InvalidParameter`] for codes that do not check (see
/// [`CodeLayout::check_batch`](crate::codes::CodeLayout::check_batch)),
/// row counts that differ from the labels, or `max_nonmated == 0`; [`Error::OutOfMemory`] if the mated scores (whose
/// number is counted first) cannot be allocated.
pub fn linkage_scores(
    a: &Protector,
    codes_a: &[u64],
    b: &Protector,
    codes_b: &[u64],
    labels: &[u32],
    max_nonmated: usize,
) -> Result<LinkageScores> {
    if a.params() != b.params() {
        return Err(Error::SchemeMismatch(
            "the two protectors of a linkage test must share their scheme parameters",
        ));
    }
    let layout = a.layout();
    let words = layout.words();
    let n = labels.len();
    for (name, codes) in [("codes_a", codes_a), ("codes_b", codes_b)] {
        let rows = layout.check_batch(codes)?;
        if rows != n {
            return Err(Error::param(
                name,
                format!("{rows} codes for {n} labels: one code per labelled sample is needed"),
            ));
        }
    }
    if max_nonmated == 0 {
        return Err(Error::param("max_nonmated", "must be at least 1"));
    }
    let mut counts = std::collections::HashMap::<u32, usize>::new();
    for &l in labels {
        *counts.entry(l).or_default() += 1;
    }
    let mated_total: usize = counts.values().map(|c| c * (c - 1)).sum();
    let nonmated_total: usize = counts.values().map(|c| c * (n - c)).sum();
    let stride = nonmated_total.div_ceil(max_nonmated).max(1);
    const WHAT: &str = "the linkage scores of `codes_a` and `codes_b`";
    let mut out = LinkageScores {
        mated: alloc::with_capacity(mated_total, WHAT)?,
        nonmated: alloc::with_capacity(nonmated_total.div_ceil(stride), WHAT)?,
        nonmated_total: nonmated_total as u64,
    };
    let mut q = 0usize;
    for (i, x) in codes_a.chunks_exact(words).enumerate() {
        for (j, y) in codes_b.chunks_exact(words).enumerate() {
            if j == i {
                continue;
            }
            if labels[i] == labels[j] {
                out.mated.push(layout.score(layout.mismatches(x, y)));
            } else {
                if q.is_multiple_of(stride) {
                    out.nonmated.push(layout.score(layout.mismatches(x, y)));
                }
                q += 1;
            }
        }
    }
    Ok(out)
}

/// For each probe label, the gallery column holding the same label (its
/// mate), or `None` when the label is not enrolled: the `mates` argument of
/// [`SearchScores::new`](super::SearchScores::new).
///
/// # Errors
/// [`Error::InvalidParameter`] if a label appears twice in the gallery (a
/// search would have two mates).
pub fn mate_columns(probe_labels: &[u32], gallery_labels: &[u32]) -> Result<Vec<Option<usize>>> {
    let mut column = std::collections::HashMap::with_capacity(gallery_labels.len());
    for (j, &l) in gallery_labels.iter().enumerate() {
        if column.insert(l, j).is_some() {
            return Err(Error::param(
                "gallery_labels",
                format!(
                    "a label appears twice (column {j}): one gallery entry per subject is needed"
                ),
            ));
        }
    }
    Ok(probe_labels
        .iter()
        .map(|l| column.get(l).copied())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MasterKey, SchemeParams};

    fn rows(n: usize) -> Vec<f32> {
        (0..n * 8).map(|i| ((i * 37 % 11) as f32) - 5.0).collect()
    }

    #[test]
    fn split_and_mates() {
        // Labels 0, 0, 1 against themselves: one genuine pair (0, 1).
        let s = [1.0, 0.9, 0.2, 0.9, 1.0, 0.3, 0.2, 0.3, 1.0];
        let (g, i) = split_scores(&s, &[0, 0, 1], None).unwrap();
        assert_eq!((g, i), (vec![0.9], vec![0.2, 0.3]));
        let (g, i) = split_scores(&s[..6], &[0, 1], Some(&[0, 0, 1])).unwrap();
        assert_eq!((g, i), (vec![1.0, 0.9, 0.3], vec![0.2, 0.9, 1.0]));
        assert!(split_scores(&s, &[0, 1], None).is_err());
        assert!(split_scores(&[f64::NAN], &[0], Some(&[0])).is_err());
        assert_eq!(
            mate_columns(&[3, 9, 1], &[1, 2, 3]).unwrap(),
            vec![Some(2), None, Some(0)]
        );
        assert!(mate_columns(&[1], &[1, 1]).is_err());
    }

    #[test]
    fn split_pairs_index_the_matrix() {
        let s: Vec<f64> = (0..12).map(f64::from).collect();
        // 3 x 4, cross.
        let out = split_scores_with_pairs(&s, &[1, 2, 1], Some(&[1, 1, 2, 3])).unwrap();
        assert_eq!(
            (out.genuine.clone(), out.impostor.clone()),
            split_scores(&s, &[1, 2, 1], Some(&[1, 1, 2, 3])).unwrap()
        );
        assert_eq!(
            out.genuine_pairs,
            vec![[0, 0], [0, 1], [1, 2], [2, 0], [2, 1]]
        );
        for (v, [i, j]) in out.genuine.iter().zip(&out.genuine_pairs) {
            assert_eq!(*v, s[i * 4 + j]);
        }
        for (v, [i, j]) in out.impostor.iter().zip(&out.impostor_pairs) {
            assert_eq!(*v, s[i * 4 + j]);
        }
        assert_eq!(out.genuine.len() + out.impostor.len(), 12);
        // 3 x 3 against itself: i < j only.
        let out = split_scores_with_pairs(&s[..9], &[5, 5, 6], None).unwrap();
        assert_eq!(out.genuine_pairs, vec![[0, 1]]);
        assert_eq!(out.impostor_pairs, vec![[0, 2], [1, 2]]);
        assert_eq!(genuine_cells(&[5, 5, 6], None), 1);
        assert_eq!(split_scores(&[], &[], None).unwrap(), (vec![], vec![]));
    }

    #[test]
    fn linkage_pairs_cross_applications() {
        let mk = MasterKey::from_bytes(&[7; 32]).unwrap();
        let params = SchemeParams::iom_grp(8, 20, 4).unwrap();
        let a = Protector::new(params.clone(), &mk, "app-a", 1, None).unwrap();
        let b = Protector::new(params, &mk, "app-b", 1, None).unwrap();
        let x = rows(6);
        let (ca, cb) = (
            a.protect_batch_packed(&x).unwrap(),
            b.protect_batch_packed(&x).unwrap(),
        );
        let labels = [0, 0, 0, 1, 1, 2];
        let l = linkage_scores(&a, &ca, &b, &cb, &labels, usize::MAX).unwrap();
        // Mated: 3 * 2 + 2 * 1 ordered pairs; non-mated: 6 * 6 - 6 - 8.
        assert_eq!(
            (l.mated.len(), l.nonmated.len(), l.nonmated_total),
            (8, 22, 22)
        );
        let ta = a.templates_from_codes(&ca).unwrap();
        let tb = b.templates_from_codes(&cb).unwrap();
        let layout = a.layout();
        let score =
            |i: usize, j: usize| layout.score(layout.mismatches(ta[i].words(), tb[j].words()));
        assert_eq!(l.mated[0], score(0, 1));
        assert_eq!(l.nonmated[0], score(0, 3));
        // Subsampled: every 3rd of the 22 non-mated pairs.
        let few = linkage_scores(&a, &ca, &b, &cb, &labels, 8).unwrap();
        assert_eq!(few.nonmated.len(), 8);
        assert_eq!(few.nonmated[1], l.nonmated[3]);
        // Refusals.
        let other =
            Protector::new(SchemeParams::iom_grp(8, 20, 8).unwrap(), &mk, "b", 1, None).unwrap();
        assert!(matches!(
            linkage_scores(&a, &ca, &other, &cb, &labels, 10),
            Err(Error::SchemeMismatch(_))
        ));
        assert!(linkage_scores(&a, &ca, &b, &cb, &labels[..5], 10).is_err());
        assert!(linkage_scores(&a, &ca, &b, &cb, &labels, 0).is_err());
    }
}
