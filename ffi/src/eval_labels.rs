//! Labelled scores: splitting a score matrix into genuine and impostor
//! scores by subject labels (with the `[row, column]` of each score on
//! request), the mate column of each probe, and the linkage scores of the
//! same samples under two protectors (the input of
//! `btp_eval_unlinkability`).
//!
//! Labels are `uint32_t` subject codes (map your labels to them); score
//! matrices are row-major `(const double *, size_t)`. Results are library
//! arrays released by their `btp_array_*_free`. These functions hold no
//! state: any number of threads may call them at once.

use btp_core::eval;

use crate::arrays::OutArray;
use crate::error::{btp_result, FfiResult};
use crate::guard::ffi_call;
use crate::protector::btp_protector;
use crate::ptr::{self, Out};

/// Column labels: NULL (with length 0) is `None`, a comparison of the rows
/// with themselves; a non-NULL pointer is a set of columns, even if empty.
///
/// # Safety
/// `p` NULL or `len` readable labels.
unsafe fn opt_columns<'a>(p: *const u32, len: usize) -> FfiResult<Option<&'a [u32]>> {
    // SAFETY: per the contract (NULL with a non-zero length is refused).
    let labels = unsafe { ptr::slice(p, len, "column_labels") }?;
    Ok((!p.is_null()).then_some(labels))
}

/// Splits the row-major `row_labels_len x column_labels_len` score matrix
/// into genuine scores (row and column labels equal) and impostor scores
/// (labels differ), in row-major order. With `column_labels` NULL (and
/// `column_labels_len` 0) the matrix compares the rows with themselves
/// (square, `row_labels_len` columns): only the cells above the diagonal
/// are used, so each pair counts once and nobody is compared with
/// themselves. A matrix of another size is `BTP_RESULT_INVALID_PARAMETER`,
/// a non-finite score `BTP_RESULT_INVALID_SCORES`. Release the two arrays
/// with `btp_array_f64_free`.
///
/// # Safety
/// `scores` NULL or `scores_len` readable doubles; `row_labels`,
/// `column_labels` NULL or their lengths of readable labels; the four
/// out-pointers NULL or writable.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn btp_eval_split_scores(
    scores: *const f64,
    scores_len: usize,
    row_labels: *const u32,
    row_labels_len: usize,
    column_labels: *const u32,
    column_labels_len: usize,
    genuine: *mut *mut f64,
    genuine_len: *mut usize,
    impostor: *mut *mut f64,
    impostor_len: *mut usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_eval_split_scores", || unsafe {
        let genuine = OutArray::new(genuine, genuine_len, "genuine", "genuine_len")?;
        let impostor = OutArray::new(impostor, impostor_len, "impostor", "impostor_len")?;
        let s = ptr::slice(scores, scores_len, "scores")?;
        let rows = ptr::slice(row_labels, row_labels_len, "row_labels")?;
        let cols = opt_columns(column_labels, column_labels_len)?;
        let (g, i) = eval::split_scores(s, rows, cols)?;
        genuine.set(g);
        impostor.set(i);
        Ok(())
    })
}

/// `btp_eval_split_scores` with the `[row, column]` of every genuine and
/// impostor score, in the same order: `*genuine_pairs` holds `2 *
/// *genuine_len` indices (row, column, row, column, ...), likewise
/// `*impostor_pairs`. Release the score arrays with `btp_array_f64_free`
/// and the pair arrays with `btp_array_size_free` (their own lengths).
///
/// # Safety
/// As `btp_eval_split_scores`; the four further out-pointers NULL or
/// writable.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn btp_eval_split_scores_with_pairs(
    scores: *const f64,
    scores_len: usize,
    row_labels: *const u32,
    row_labels_len: usize,
    column_labels: *const u32,
    column_labels_len: usize,
    genuine: *mut *mut f64,
    genuine_len: *mut usize,
    impostor: *mut *mut f64,
    impostor_len: *mut usize,
    genuine_pairs: *mut *mut usize,
    genuine_pairs_len: *mut usize,
    impostor_pairs: *mut *mut usize,
    impostor_pairs_len: *mut usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_eval_split_scores_with_pairs", || unsafe {
        let genuine = OutArray::new(genuine, genuine_len, "genuine", "genuine_len")?;
        let impostor = OutArray::new(impostor, impostor_len, "impostor", "impostor_len")?;
        let g_pairs = OutArray::new(
            genuine_pairs,
            genuine_pairs_len,
            "genuine_pairs",
            "genuine_pairs_len",
        )?;
        let i_pairs = OutArray::new(
            impostor_pairs,
            impostor_pairs_len,
            "impostor_pairs",
            "impostor_pairs_len",
        )?;
        let s = ptr::slice(scores, scores_len, "scores")?;
        let rows = ptr::slice(row_labels, row_labels_len, "row_labels")?;
        let cols = opt_columns(column_labels, column_labels_len)?;
        let split = eval::split_scores_with_pairs(s, rows, cols)?;
        genuine.set(split.genuine);
        impostor.set(split.impostor);
        g_pairs.set(split.genuine_pairs.into_flattened());
        i_pairs.set(split.impostor_pairs.into_flattened());
        Ok(())
    })
}

/// For each probe label, the gallery column holding the same label (its
/// mate), or -1 when the label is not in the gallery: the `mates` of the
/// identification metrics (`btp_eval_cmc`, ...). A label twice in the
/// gallery is `BTP_RESULT_INVALID_PARAMETER`. Release `*out` with
/// `btp_array_i64_free(*out, *out_len)`.
///
/// # Safety
/// `probe_labels`, `gallery_labels` NULL or their lengths of readable
/// labels; `out`, `out_len` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_eval_mate_columns(
    probe_labels: *const u32,
    probe_labels_len: usize,
    gallery_labels: *const u32,
    gallery_labels_len: usize,
    out: *mut *mut i64,
    out_len: *mut usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_eval_mate_columns", || unsafe {
        let out = OutArray::new(out, out_len, "out", "out_len")?;
        let p = ptr::slice(probe_labels, probe_labels_len, "probe_labels")?;
        let g = ptr::slice(gallery_labels, gallery_labels_len, "gallery_labels")?;
        let mates = eval::mate_columns(p, g)?;
        out.set(eval::mates_to_signed(&mates));
        Ok(())
    })
}

/// Linkage scores of the same samples protected by two protectors of one
/// scheme (two applications or two versions; else
/// `BTP_RESULT_SCHEME_MISMATCH`), for `btp_eval_unlinkability`: code `i`
/// of `codes_a` (packed codes of `prot_a`, see
/// `btp_protector_protect_packed`) and of `codes_b` (of `prot_b`) is the
/// same sample, of subject `labels[i]`. Mated scores: sample `i` under `a`
/// against every other sample `j != i` of its subject under `b`;
/// non-mated: against other subjects' samples, an evenly spaced subsample
/// of at most `max_nonmated` (at least 1) pairs, of `*nonmated_total`.
/// Release the arrays with `btp_array_f64_free`.
///
/// # Safety
/// `prot_a`, `prot_b` live handles or NULL; `codes_a`, `codes_b`,
/// `labels` NULL or their lengths of readable values; the out-pointers
/// NULL or writable.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn btp_eval_linkage_scores(
    prot_a: *const btp_protector,
    codes_a: *const u64,
    codes_a_len: usize,
    prot_b: *const btp_protector,
    codes_b: *const u64,
    codes_b_len: usize,
    labels: *const u32,
    labels_len: usize,
    max_nonmated: usize,
    mated: *mut *mut f64,
    mated_len: *mut usize,
    nonmated: *mut *mut f64,
    nonmated_len: *mut usize,
    nonmated_total: *mut u64,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_eval_linkage_scores", || unsafe {
        let mated = OutArray::new(mated, mated_len, "mated", "mated_len")?;
        let nonmated = OutArray::new(nonmated, nonmated_len, "nonmated", "nonmated_len")?;
        let a = ptr::handle(prot_a, "prot_a")?;
        let ca = ptr::slice(codes_a, codes_a_len, "codes_a")?;
        let b = ptr::handle(prot_b, "prot_b")?;
        let cb = ptr::slice(codes_b, codes_b_len, "codes_b")?;
        let l = ptr::slice(labels, labels_len, "labels")?;
        let total = Out::new(nonmated_total, "nonmated_total")?;
        let out = eval::linkage_scores(&a.0, ca, &b.0, cb, l, max_nonmated)?;
        total.write(out.nonmated_total);
        mated.set(out.mated);
        nonmated.set(out.nonmated);
        Ok(())
    })
}
