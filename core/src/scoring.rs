//! Similarity scores of many packed codes at once: all-pairs score matrices
//! and row-wise paired scores.
//!
//! Codes are row-major packed words, `layout.words()` per code, exactly as
//! [`Protector::protect_batch_packed`](crate::Protector::protect_batch_packed)
//! makes them; each is checked ([`CodeLayout::check_batch`]: word count,
//! zero padding, elements inside the alphabet) and a bad one is named by
//! its row.
//!
//! Scores are the similarities of [`CodeLayout::score`], `1 - mismatches /
//! len`, computed in `f64` and rounded once to `f32` (the exact value is a
//! multiple of `1 / len`; `f32` halves the memory of an all-pairs matrix).

use crate::codes::CodeLayout;
use crate::error::{Error, Result};

/// Score cells per thread below which a matrix stays on one thread.
const CELLS_PER_THREAD: usize = 1 << 16;

/// The similarity of every code of `a` with every code of `b`: a row-major
/// `na x nb` matrix, `out[i * nb + j] = score(a_i, b_j)`. Spread over the
/// cores for large matrices; the result does not depend on the thread count.
pub fn score_matrix(layout: &CodeLayout, a: &[u64], b: &[u64]) -> Result<Vec<f32>> {
    let na = layout.check_batch(a)?;
    let nb = layout.check_batch(b)?;
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
    let threads = crate::threads::for_work(cells, CELLS_PER_THREAD, na);
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
    let na = layout.check_batch(a)?;
    let nb = layout.check_batch(b)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MasterKey, Protector, SchemeParams};

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
        let ta = p.templates_from_codes(&a).unwrap();
        let tb = p.templates_from_codes(&b).unwrap();
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
        let elements = p.layout().unpack_batch(&a).unwrap();
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
        let e = score_matrix(&p.layout(), &a, &a).unwrap_err();
        assert!(matches!(e, Error::Row { row: 1, .. }), "{e:?}");
        let e = p.templates_from_codes(&a).unwrap_err();
        assert!(matches!(e, Error::Row { row: 1, .. }), "{e:?}");
        assert!(p.layout().check_batch(&a[..words + 1]).is_err());
    }
}
