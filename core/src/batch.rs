//! Batch operations over packed codes and labelled score matrices: what a
//! data scientist does with thousands of templates at once, kept here so
//! that bindings (the Python package, the C ABI) only convert types.
//!
//! Codes are row-major packed words, `layout.words()` per code, exactly as
//! [`Protector::protect_batch_packed`](crate::Protector::protect_batch_packed)
//! makes them. Every function checks each code (word count, zero padding,
//! elements inside the alphabet) and names the first bad row.
//!
//! Scores are the similarities of [`CodeLayout::score`], `1 - mismatches /
//! len`, computed in `f64` and rounded once to `f32` for the score matrices
//! (the exact value is a multiple of `1 / len`; `f32` halves the memory of
//! an all-pairs matrix).

use crate::alloc;
use crate::codes::CodeLayout;
use crate::error::{Error, Result};
use crate::matching::{Candidate, Gallery};
use crate::protector::Protector;
use crate::template::ProtectedTemplate;

/// Score cells per thread below which a matrix stays on one thread.
const CELLS_PER_THREAD: usize = 1 << 16;

/// Checks a batch of packed codes (`n * layout.words()` words) and returns
/// `n`. A bad code is an [`Error::Row`] naming its row.
pub fn check_codes(layout: &CodeLayout, codes: &[u64]) -> Result<usize> {
    let words = layout.words();
    if !codes.len().is_multiple_of(words) {
        return Err(Error::param(
            "codes",
            format!(
                "length {} is not a multiple of the {words} words of a code",
                codes.len()
            ),
        ));
    }
    for (row, code) in codes.chunks_exact(words).enumerate() {
        layout.check_words(code).map_err(|e| Error::row(row, e))?;
    }
    Ok(codes.len() / words)
}

/// The elements of each code (IoM indices or BioHash bits), one byte each:
/// `n * layout.len()` bytes, row-major.
pub fn unpack_codes(layout: &CodeLayout, codes: &[u64]) -> Result<Vec<u8>> {
    check_codes(layout, codes)?;
    let mut out = Vec::with_capacity(codes.len() / layout.words() * layout.len());
    for code in codes.chunks_exact(layout.words()) {
        out.extend(layout.unpack(code));
    }
    Ok(out)
}

/// The templates of a protector from packed codes, each checked.
pub fn templates(protector: &Protector, codes: &[u64]) -> Result<Vec<ProtectedTemplate>> {
    let layout = protector.layout();
    check_codes(&layout, codes)?;
    codes
        .chunks_exact(layout.words())
        .map(|c| protector.template(c.to_vec()))
        .collect()
}

/// Number of threads for `cells` units of work.
fn threads_for(cells: usize, rows: usize) -> usize {
    std::thread::available_parallelism()
        .map_or(1, |t| t.get())
        .min(cells.div_ceil(CELLS_PER_THREAD))
        .min(rows)
        .max(1)
}

/// The similarity of every code of `a` with every code of `b`: a row-major
/// `na x nb` matrix, `out[i * nb + j] = score(a_i, b_j)`. Spread over the
/// cores for large matrices; the result does not depend on the thread count.
pub fn score_matrix(layout: &CodeLayout, a: &[u64], b: &[u64]) -> Result<Vec<f32>> {
    let na = check_codes(layout, a)?;
    let nb = check_codes(layout, b)?;
    let what = "the score matrix (codes_a x codes_b)";
    let cells = crate::alloc::product(na, nb, 4, what)?;
    let mut out = crate::alloc::filled(cells, 0f32, what)?;
    if cells == 0 {
        return Ok(out);
    }
    let words = layout.words();
    let fill = |a_rows: &[u64], out_rows: &mut [f32]| {
        for (code_a, row) in a_rows
            .chunks_exact(words)
            .zip(out_rows.chunks_exact_mut(nb))
        {
            for (cell, code_b) in row.iter_mut().zip(b.chunks_exact(words)) {
                *cell = layout.score(layout.mismatches(code_a, code_b)) as f32;
            }
        }
    };
    let threads = threads_for(cells, na);
    if threads == 1 {
        fill(a, &mut out);
    } else {
        let per = na.div_ceil(threads);
        std::thread::scope(|s| {
            for (a_rows, out_rows) in a.chunks(per * words).zip(out.chunks_mut(per * nb)) {
                s.spawn(move || fill(a_rows, out_rows));
            }
        });
    }
    Ok(out)
}

/// Row-wise similarities: `out[i] = score(a_i, b_i)`; `a` and `b` hold the
/// same number of codes.
pub fn paired_scores(layout: &CodeLayout, a: &[u64], b: &[u64]) -> Result<Vec<f32>> {
    let na = check_codes(layout, a)?;
    let nb = check_codes(layout, b)?;
    if na != nb {
        return Err(Error::param(
            "codes",
            format!("paired scores need as many codes on each side, got {na} and {nb}"),
        ));
    }
    let words = layout.words();
    Ok(a.chunks_exact(words)
        .zip(b.chunks_exact(words))
        .map(|(x, y)| layout.score(layout.mismatches(x, y)) as f32)
        .collect())
}

/// The packed codes of a gallery in storage order, one per id of
/// [`Gallery::ids`]: with the ids, everything needed to rebuild it with
/// [`Gallery::add_packed`] under the same protector.
pub fn gallery_codes(gallery: &Gallery) -> Vec<u64> {
    let mut out = Vec::with_capacity(gallery.len() * gallery.layout().words());
    for &id in gallery.ids() {
        let t = gallery.get(id).expect("every listed id is present");
        out.extend_from_slice(t.words());
    }
    out
}

/// [`Gallery::search_batch`] for packed probe codes of `protector` (the
/// gallery's protector).
pub fn search_packed(
    gallery: &Gallery,
    protector: &Protector,
    codes: &[u64],
    k: usize,
    threshold: Option<f64>,
) -> Result<Vec<Vec<Candidate>>> {
    let probes = templates(protector, codes)?;
    gallery.search_batch(&probes, k, threshold)
}

/// Search results as two row-major `lists.len() x width` arrays: ids (as
/// `i64`) and scores, each row padded with id -1 and score NaN after its
/// candidates (a row with more than `width` keeps its first `width`).
/// The shape of batch search results in bindings; callers clamp `width`
/// (a gallery's size, the columns of the parts merged), and a size that
/// does not fit is [`Error::OutOfMemory`], never an abort.
pub fn padded(lists: &[Vec<Candidate>], width: usize) -> Result<(Vec<i64>, Vec<f64>)> {
    let what = "the search results (probes x k)";
    let cells = crate::alloc::product(lists.len(), width, 16, what)?;
    let mut ids = crate::alloc::filled(cells, -1i64, what)?;
    let mut scores = crate::alloc::filled(cells, f64::NAN, what)?;
    for (r, list) in lists.iter().enumerate() {
        for (c, cand) in list.iter().take(width).enumerate() {
            ids[r * width + c] = i64::try_from(cand.id).unwrap_or(-1);
            scores[r * width + c] = cand.score;
        }
    }
    Ok((ids, scores))
}

/// Protects the row-major feature vectors `rows` (one row of
/// `protector.dim()` floats per id) with `protector`, the gallery's, and
/// adds their codes under `ids`: all or nothing, the shapes checked before
/// any row is protected.
///
/// # Errors
/// [`Error::WrongDimension`] (in an [`Error::Row`] naming the last, partial
/// row) when `rows.len()` is not a multiple of the dimension;
/// [`Error::InvalidParameter`] naming `ids` when the rows and ids differ in
/// number; then the errors of
/// [`Protector::protect_batch_packed`] and [`Gallery::add_packed`].
pub fn add_features(
    gallery: &mut Gallery,
    protector: &Protector,
    ids: &[u64],
    rows: &[f32],
) -> Result<()> {
    let dim = protector.dim();
    let n = rows.len() / dim;
    if !rows.len().is_multiple_of(dim) {
        let got = rows.len() % dim;
        return Err(Error::row(n, Error::WrongDimension { expected: dim, got }));
    }
    if n != ids.len() {
        return Err(Error::param(
            "ids",
            format!("{} ids for {n} rows: one id per row is needed", ids.len()),
        ));
    }
    let codes = zeroize::Zeroizing::new(protector.protect_batch_packed(rows)?);
    gallery.add_packed(protector, ids, &codes)
}

/// The best `k` of candidates gathered from searches of disjoint shards of
/// one gallery, in the order a single search gives: score descending, ties
/// by ascending id.
///
/// # Errors
/// [`Error::InvalidParameter`] for `k == 0`; [`Error::InvalidScores`] for a
/// score that is not a number.
pub fn top_k(mut candidates: Vec<Candidate>, k: usize) -> Result<Vec<Candidate>> {
    if k == 0 {
        return Err(Error::param("k", "must be at least 1"));
    }
    if candidates.iter().any(|c| c.score.is_nan()) {
        return Err(Error::InvalidScores("a candidate score is NaN".into()));
    }
    candidates.sort_unstable_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
    candidates.truncate(k);
    Ok(candidates)
}

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
/// TIFS 2018): the input of [`eval::unlinkability`](crate::eval::unlinkability).
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
/// [`check_codes`]), row counts that differ from the labels, or
/// `max_nonmated == 0`; [`Error::OutOfMemory`] if the mated scores (whose
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
        let rows = check_codes(&layout, codes)?;
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
/// [`eval::SearchScores::new`](crate::eval::SearchScores::new).
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

    fn protector() -> Protector {
        let mk = MasterKey::from_bytes(&[7; 32]).unwrap();
        let params = SchemeParams::iom_grp(8, 20, 4).unwrap();
        Protector::new(params, &mk, "batch-test", 1, None).unwrap()
    }

    fn rows(n: usize) -> Vec<f32> {
        (0..n * 8).map(|i| ((i * 37 % 11) as f32) - 5.0).collect()
    }

    #[test]
    fn matrices_agree_with_templates() {
        let p = protector();
        let a = p.protect_batch_packed(&rows(5)).unwrap();
        let b = p.protect_batch_packed(&rows(3)).unwrap();
        let ta = templates(&p, &a).unwrap();
        let tb = templates(&p, &b).unwrap();
        let m = score_matrix(&p.layout(), &a, &b).unwrap();
        assert_eq!(m.len(), 15);
        for i in 0..5 {
            for j in 0..3 {
                assert_eq!(m[i * 3 + j], p.compare(&ta[i], &tb[j]).unwrap() as f32);
            }
        }
        let paired = paired_scores(&p.layout(), &a[..3 * p.layout().words()], &b).unwrap();
        assert_eq!(paired, vec![m[0], m[4], m[8]]);
        assert!(paired_scores(&p.layout(), &a, &b).is_err());
        let elements = unpack_codes(&p.layout(), &a).unwrap();
        assert_eq!(&elements[..20], &ta[0].elements()[..]);
    }

    #[test]
    fn large_matrices_split_over_threads_give_the_same_cells() {
        let p = protector();
        let a = p.protect_batch_packed(&rows(300)).unwrap();
        let m = score_matrix(&p.layout(), &a, &a).unwrap();
        let words = p.layout().words();
        for i in [0, 150, 299] {
            let row = score_matrix(&p.layout(), &a[i * words..(i + 1) * words], &a).unwrap();
            assert_eq!(&m[i * 300..(i + 1) * 300], &row[..]);
        }
    }

    #[test]
    fn bad_codes_name_their_row() {
        let p = protector();
        let mut a = p.protect_batch_packed(&rows(3)).unwrap();
        let words = p.layout().words();
        a[words] = u64::MAX; // padding bits and elements out of the alphabet
        let e = check_codes(&p.layout(), &a).unwrap_err();
        assert!(matches!(e, Error::Row { row: 1, .. }), "{e:?}");
        assert!(check_codes(&p.layout(), &a[..words + 1]).is_err());
    }

    #[test]
    fn gallery_round_trip_and_packed_search() {
        let p = protector();
        let codes = p.protect_batch_packed(&rows(6)).unwrap();
        let mut g = Gallery::new(&p);
        g.add_packed(&p, &[10, 11, 12, 13, 14, 15], &codes).unwrap();
        g.remove(12).unwrap();
        let mut again = Gallery::new(&p);
        again.add_packed(&p, g.ids(), &gallery_codes(&g)).unwrap();
        let probes = &codes[..2 * p.layout().words()];
        let a = search_packed(&g, &p, probes, 3, None).unwrap();
        let b = search_packed(&again, &p, probes, 3, None).unwrap();
        assert_eq!(a, b);
        assert_eq!(a[0][0].id, 10);
        assert_eq!(a[0][0].score, 1.0);
    }

    #[test]
    fn features_are_added_like_their_codes_and_shapes_are_checked_first() {
        let p = protector();
        let x = rows(3);
        let mut g = Gallery::new(&p);
        let e = add_features(&mut g, &p, &[1, 2, 3], &x[..x.len() - 1]).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::WrongDimension);
        assert!(matches!(e, Error::Row { row: 2, .. }), "{e:?}");
        let e = add_features(&mut g, &p, &[1, 2], &x).unwrap_err();
        assert!(
            matches!(e, Error::InvalidParameter { name: "ids", .. }),
            "{e:?}"
        );
        assert!(g.is_empty());
        add_features(&mut g, &p, &[1, 2, 3], &x).unwrap();
        let mut h = Gallery::new(&p);
        h.add_packed(&p, &[1, 2, 3], &p.protect_batch_packed(&x).unwrap())
            .unwrap();
        assert_eq!(gallery_codes(&g), gallery_codes(&h));
        let e = p.protect_batch_packed(&x[..9]).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::WrongDimension);
        assert_eq!(e.to_string(), "row 1: wrong dimension: expected 8, got 1");
    }

    #[test]
    fn shard_results_merge_like_one_search() {
        let p = protector();
        let codes = p.protect_batch_packed(&rows(8)).unwrap();
        let words = p.layout().words();
        let ids: Vec<u64> = (0..8).collect();
        let mut whole = Gallery::new(&p);
        whole.add_packed(&p, &ids, &codes).unwrap();
        let (mut a, mut b) = (Gallery::new(&p), Gallery::new(&p));
        a.add_packed(&p, &ids[..3], &codes[..3 * words]).unwrap();
        b.add_packed(&p, &ids[3..], &codes[3 * words..]).unwrap();
        let probe = &codes[5 * words..6 * words];
        let one = search_packed(&whole, &p, probe, 4, None).unwrap();
        let mut parts = search_packed(&a, &p, probe, 4, None).unwrap().remove(0);
        parts.extend(search_packed(&b, &p, probe, 4, None).unwrap().remove(0));
        assert_eq!(top_k(parts, 4).unwrap(), one[0]);
        assert!(top_k(Vec::new(), 0).is_err());
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
        let ta = templates(&a, &ca).unwrap();
        let tb = templates(&b, &cb).unwrap();
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
