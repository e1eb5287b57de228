//! Matching in the protected domain: 1:N galleries and their search
//! results.
//!
//! A [`Gallery`] holds the packed codes of one scheme, parameters and key
//! contiguously (`len * words` `u64`s, see [`crate::codes`]), so a search is
//! one linear scan of memory: XOR, fold, popcount per word, with a bounded
//! heap keeping the best `k` (no sort of the whole gallery). Large galleries
//! are split across threads and the partial results merged. Results are
//! sorted by score descending, ties broken by ascending id, so a search is
//! deterministic whatever the thread count.
//!
//! - `gallery.rs`: the [`Gallery`]: adding, removing, searching.
//! - `scan.rs`: the 1:N scan (one build per CPU feature set) and its
//!   bounded top-k heap.
//! - here: [`Candidate`], merging shard results ([`top_k`]) and search
//!   results as padded arrays ([`padded`]).
//!
//! 1:1 decisions are in [`crate::decision`]; threshold calibration is
//! `eval::threshold_at_fmr`.

mod gallery;
mod scan;

pub use crate::threads::MAX_THREADS;
pub use gallery::Gallery;

use crate::error::{Error, Result};

/// Bytes of packed codes a search must scan before it uses every core by
/// default: below it, starting threads costs more than it saves (a 1:N
/// scan reads about 20 GB/s on one core; a thread start costs tens of
/// microseconds).
pub const PARALLEL_FROM_BYTES: usize = 4 << 20;

/// One entry of a search result.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Candidate {
    /// The caller's id of the gallery entry.
    pub id: u64,
    /// Similarity in [0, 1].
    pub score: f64,
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

#[cfg(test)]
mod tests;
