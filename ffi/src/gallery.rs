//! The 1:N gallery handle: add, remove, look up and search templates, and
//! merge the results of sharded searches (packed codes are in `codes`).

use btp_core::{Candidate, Error, Gallery};

use crate::arrays::OutArray;
use crate::error::{btp_result, FfiError, FfiResult};
use crate::guard::{ffi_call, ffi_free};
use crate::protector::btp_protector;
use crate::ptr::{self, Out, OutHandle};
use crate::template::btp_template;

/// A 1:N gallery of the templates of one protector, keyed by caller ids.
/// Holds copies of the codes (wiped when freed); does not keep the protector.
///
/// Thread safety: not synchronised. `btp_gallery_add*`, `_remove*`,
/// `_set_threads` and `_free` need exclusive access: no other call on the
/// same gallery may run at the same time. `btp_gallery_search*` and
/// `btp_gallery_len` only read: any number of threads may run them at once
/// while no write runs. A gallery may be moved between threads.
pub struct btp_gallery(pub(crate) Gallery);

/// One search result.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct btp_candidate {
    /// The caller's id of the gallery entry.
    pub id: u64,
    /// Similarity in [0, 1].
    pub score: f64,
}

impl From<btp_candidate> for Candidate {
    fn from(c: btp_candidate) -> Self {
        Self {
            id: c.id,
            score: c.score,
        }
    }
}

impl From<Candidate> for btp_candidate {
    fn from(c: Candidate) -> Self {
        Self {
            id: c.id,
            score: c.score,
        }
    }
}

/// An empty gallery for the templates of `prot` (which may be freed
/// afterwards).
///
/// # Safety
/// `prot` must be a live handle or NULL; `out` NULL or writable: it
/// receives a handle to free with `btp_gallery_free`.
#[no_mangle]
pub unsafe extern "C" fn btp_gallery_new(
    prot: *const btp_protector,
    out: *mut *mut btp_gallery,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_gallery_new", || unsafe {
        let out = OutHandle::new(out, "out")?;
        let p = ptr::handle(prot, "prot")?;
        out.set(btp_gallery(Gallery::new(&p.0)));
        Ok(())
    })
}

/// Adds a copy of template `t` under `id` (`BTP_RESULT_DUPLICATE_ID` if
/// present; `BTP_RESULT_KEY_MISMATCH` / `_SCHEME_MISMATCH` for a template
/// of another protector). `t` stays the caller's.
///
/// # Safety
/// `g`, `t` must be live handles or NULL; exclusive access to `g`.
#[no_mangle]
pub unsafe extern "C" fn btp_gallery_add(
    g: *mut btp_gallery,
    id: u64,
    t: *const btp_template,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_gallery_add", || unsafe {
        let g = ptr::handle_mut(g, "g")?;
        let t = ptr::handle(t, "t")?;
        g.0.add(id, &t.0)?;
        Ok(())
    })
}

/// Adds copies of `templates[i]` under `ids[i]`: all or nothing (a
/// duplicate id, within the batch or with the gallery, or a template of
/// another protector adds none). `ids_len` must equal `templates_len`
/// (else `BTP_RESULT_INVALID_PARAMETER`). The templates stay the caller's.
///
/// # Safety
/// `g` must be a live handle or NULL; `ids` NULL or `ids_len` readable ids;
/// `templates` NULL or `templates_len` readable pointers to live templates;
/// exclusive access to `g`.
#[no_mangle]
pub unsafe extern "C" fn btp_gallery_add_batch(
    g: *mut btp_gallery,
    ids: *const u64,
    ids_len: usize,
    templates: *const *const btp_template,
    templates_len: usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_gallery_add_batch", || unsafe {
        let g = ptr::handle_mut(g, "g")?;
        let ids = ptr::slice(ids, ids_len, "ids")?;
        let templates: Vec<_> = ptr::handles(templates, templates_len, "templates")?
            .into_iter()
            .map(|t| t.0.clone())
            .collect();
        g.0.add_batch(ids, &templates)?;
        Ok(())
    })
}

/// Protects the row-major feature vectors `rows` (`ids_len` rows of the
/// protector's dimension, so `rows_len = ids_len * dim`) with `prot` and
/// adds the codes under `ids`: all or nothing, without making template
/// handles. `rows_len` not a multiple of the dimension is
/// `BTP_RESULT_WRONG_DIMENSION`; a number of rows other than `ids_len` is
/// `BTP_RESULT_INVALID_PARAMETER`. `prot` must be the gallery's protector
/// (else `BTP_RESULT_KEY_MISMATCH` / `_SCHEME_MISMATCH`). A bad row gives
/// its error; the message names the row. The feature vectors are not kept.
///
/// # Safety
/// `g`, `prot` must be live handles or NULL; `ids` NULL or `ids_len`
/// readable ids; `rows` NULL or `rows_len` readable floats; exclusive
/// access to `g`.
#[no_mangle]
pub unsafe extern "C" fn btp_gallery_add_features(
    g: *mut btp_gallery,
    prot: *const btp_protector,
    ids: *const u64,
    ids_len: usize,
    rows: *const f32,
    rows_len: usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_gallery_add_features", || unsafe {
        let g = ptr::handle_mut(g, "g")?;
        let p = ptr::handle(prot, "prot")?;
        let ids = ptr::slice(ids, ids_len, "ids")?;
        let rows = ptr::slice(rows, rows_len, "rows")?;
        g.0.add_features(&p.0, ids, rows)
            .map_err(FfiError::about("rows"))
    })
}

/// Removes the entry under `id` (`BTP_RESULT_NOT_FOUND` if absent).
///
/// # Safety
/// `g` must be a live handle or NULL; exclusive access to `g`.
#[no_mangle]
pub unsafe extern "C" fn btp_gallery_remove(g: *mut btp_gallery, id: u64) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_gallery_remove", || unsafe {
        ptr::handle_mut(g, "g")?.0.remove(id)?;
        Ok(())
    })
}

/// Removes every entry whose id is in `ids` (absent ids are skipped);
/// `*removed` receives how many were removed.
///
/// # Safety
/// `g` must be a live handle or NULL; `ids` NULL or `ids_len` readable
/// ids; `removed` NULL or writable; exclusive access to `g`.
#[no_mangle]
pub unsafe extern "C" fn btp_gallery_remove_batch(
    g: *mut btp_gallery,
    ids: *const u64,
    ids_len: usize,
    removed: *mut usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_gallery_remove_batch", || unsafe {
        let g = ptr::handle_mut(g, "g")?;
        let ids = ptr::slice(ids, ids_len, "ids")?;
        let removed = Out::new(removed, "removed")?;
        removed.write(g.0.remove_batch(ids));
        Ok(())
    })
}

/// The number of entries.
///
/// # Safety
/// `g` must be a live handle or NULL; `len` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_gallery_len(g: *const btp_gallery, len: *mut usize) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_gallery_len", || unsafe {
        let g = ptr::handle(g, "g")?;
        Out::new(len, "len")?.write(g.0.len());
        Ok(())
    })
}

/// Whether an entry is stored under `id` (`*present`).
///
/// # Safety
/// `g` must be a live handle or NULL; `present` NULL or writable; no write
/// to `g` may run at the same time.
#[no_mangle]
pub unsafe extern "C" fn btp_gallery_contains(
    g: *const btp_gallery,
    id: u64,
    present: *mut bool,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_gallery_contains", || unsafe {
        let g = ptr::handle(g, "g")?;
        Out::new(present, "present")?.write(g.0.contains(id));
        Ok(())
    })
}

/// A copy of the template stored under `id` (`BTP_RESULT_NOT_FOUND` if
/// absent). Free it with `btp_template_free`.
///
/// # Safety
/// `g` must be a live handle or NULL; `out` NULL or writable; no write to
/// `g` may run at the same time.
#[no_mangle]
pub unsafe extern "C" fn btp_gallery_get(
    g: *const btp_gallery,
    id: u64,
    out: *mut *mut btp_template,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_gallery_get", || unsafe {
        let out = OutHandle::new(out, "out")?;
        let g = ptr::handle(g, "g")?;
        let t = g.0.get(id).ok_or(Error::NotFound(id))?;
        out.set(btp_template(t));
        Ok(())
    })
}

/// The similarity of `probe` with every entry, in storage order (the order
/// of the ids of `btp_gallery_codes`): `*scores` receives
/// `btp_gallery_len` doubles; release them with `btp_array_f64_free`.
///
/// # Safety
/// `g`, `probe` must be live handles or NULL; `scores`, `scores_len` NULL
/// or writable; no write to `g` may run at the same time.
#[no_mangle]
pub unsafe extern "C" fn btp_gallery_scores(
    g: *const btp_gallery,
    probe: *const btp_template,
    scores: *mut *mut f64,
    scores_len: *mut usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_gallery_scores", || unsafe {
        let out = OutArray::new(scores, scores_len, "scores", "scores_len")?;
        let g = ptr::handle(g, "g")?;
        let probe = ptr::handle(probe, "probe")?;
        out.set(g.0.scores(&probe.0)?);
        Ok(())
    })
}

/// The search threads set by `btp_gallery_set_threads` (0: automatic).
///
/// # Safety
/// `g` must be a live handle or NULL; `threads` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_gallery_threads(
    g: *const btp_gallery,
    threads: *mut usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_gallery_threads", || unsafe {
        let g = ptr::handle(g, "g")?;
        Out::new(threads, "threads")?.write(g.0.threads());
        Ok(())
    })
}

/// Merges the candidates of one probe gathered from searches of disjoint
/// shards of one gallery (each searched with the same `k` and threshold)
/// into the best `k` (at least 1), in the order a single search of the
/// whole gallery gives: score descending, ties by ascending id. `*found`
/// receives their number; `out_len` smaller than it is
/// `BTP_RESULT_BUFFER_TOO_SMALL` and nothing is written. A NaN score is
/// `BTP_RESULT_INVALID_SCORES`.
///
/// # Safety
/// `candidates` NULL or `candidates_len` readable candidates; `out` NULL
/// or `out_len` writable candidates; `found` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_candidates_merge(
    candidates: *const btp_candidate,
    candidates_len: usize,
    k: usize,
    out: *mut btp_candidate,
    out_len: usize,
    found: *mut usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_candidates_merge", || unsafe {
        let parts = ptr::slice(candidates, candidates_len, "candidates")?;
        let dst = ptr::slice_mut(out, out_len, "out")?;
        let found = Out::new(found, "found")?;
        let parts = parts.iter().map(|&c| c.into()).collect();
        let best = btp_core::matching::top_k(parts, k)?;
        found.write(best.len());
        ptr::fits(dst.len(), best.len(), "candidates")?;
        for (slot, c) in dst.iter_mut().zip(best) {
            *slot = c.into();
        }
        Ok(())
    })
}

/// Search threads: 0 (the default) is one thread for small galleries and
/// every core for large ones. A search starts at most 256 threads (and no
/// more than it has entries to scan), whatever is asked.
///
/// # Safety
/// `g` must be a live handle or NULL; exclusive access to `g`.
#[no_mangle]
pub unsafe extern "C" fn btp_gallery_set_threads(
    g: *mut btp_gallery,
    threads: usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_gallery_set_threads", || unsafe {
        ptr::handle_mut(g, "g")?.0.set_threads(threads);
        Ok(())
    })
}

/// The best `k` candidates for `probe`, sorted by score descending (ties by
/// ascending id), restricted to scores `>= threshold` unless `threshold` is
/// NaN (no threshold; otherwise it must be in [0, 1]). `*found` receives
/// the number of candidates (at most `k`); they are written to `out`. If
/// `out_len` is smaller than that number, `BTP_RESULT_BUFFER_TOO_SMALL` is
/// returned and nothing is written to `out`: pass `out_len >= k`.
///
/// # Safety
/// `g`, `probe` must be live handles or NULL; `out` NULL or `out_len`
/// writable candidates; `found` NULL or writable; no write to `g` may run
/// at the same time.
#[no_mangle]
pub unsafe extern "C" fn btp_gallery_search(
    g: *const btp_gallery,
    probe: *const btp_template,
    k: usize,
    threshold: f64,
    out: *mut btp_candidate,
    out_len: usize,
    found: *mut usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_gallery_search", || unsafe {
        let g = ptr::handle(g, "g")?;
        let probe = ptr::handle(probe, "probe")?;
        let found = Out::new(found, "found")?;
        let dst = ptr::slice_mut(out, out_len, "out")?;
        let threshold = (!threshold.is_nan()).then_some(threshold);
        let hits = g.0.search(&probe.0, k, threshold)?;
        found.write(hits.len());
        if dst.len() < hits.len() {
            return Err(FfiError::new(
                btp_result::BufferTooSmall,
                format!("out holds {} candidates, {} found", dst.len(), hits.len()),
            ));
        }
        for (slot, c) in dst.iter_mut().zip(hits) {
            *slot = c.into();
        }
        Ok(())
    })
}

/// `btp_gallery_search` for `probes_len` probes at once (spread over
/// threads by probe), into fixed slots: probe `i` gets the `k` candidates
/// `out[i * k ..]`, of which the first `found[i]` are filled (sorted as in
/// `btp_gallery_search`); the remaining slots of each probe are zeroed.
/// `out_len` must be at least `probes_len * k` and `found_len` at least
/// `probes_len`, else `BTP_RESULT_BUFFER_TOO_SMALL` before any search and
/// nothing is written (a product `probes_len * k` that overflows is
/// `BTP_RESULT_INVALID_PARAMETER` naming `k`). All probes are checked
/// first: one of another protector fails the whole call.
///
/// # Safety
/// `g` must be a live handle or NULL; `probes` NULL or `probes_len`
/// readable pointers to live templates; `out` NULL or `out_len` writable
/// candidates; `found` NULL or `found_len` writable sizes; no write to `g`
/// may run at the same time.
#[no_mangle]
pub unsafe extern "C" fn btp_gallery_search_batch(
    g: *const btp_gallery,
    probes: *const *const btp_template,
    probes_len: usize,
    k: usize,
    threshold: f64,
    out: *mut btp_candidate,
    out_len: usize,
    found: *mut usize,
    found_len: usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_gallery_search_batch", || unsafe {
        let g = ptr::handle(g, "g")?;
        let probes: Vec<_> = ptr::handles(probes, probes_len, "probes")?
            .into_iter()
            .map(|t| t.0.clone())
            .collect();
        let (dst, found) = result_slots(out, out_len, found, found_len, probes.len(), k)?;
        let threshold = (!threshold.is_nan()).then_some(threshold);
        write_results(g.0.search_batch(&probes, k, threshold)?, k, dst, found);
        Ok(())
    })
}

/// The caller's result slots of a batch search of `probes` probes: `out`
/// must hold `probes * k` candidates and `found` `probes` counts, else
/// `BTP_RESULT_BUFFER_TOO_SMALL` (checked before any search).
///
/// # Safety
/// `out` NULL or `out_len` writable candidates; `found` NULL or
/// `found_len` writable sizes; not overlapping.
pub(crate) unsafe fn result_slots<'a>(
    out: *mut btp_candidate,
    out_len: usize,
    found: *mut usize,
    found_len: usize,
    probes: usize,
    k: usize,
) -> FfiResult<(&'a mut [btp_candidate], &'a mut [usize])> {
    // SAFETY: per the contract.
    let dst = unsafe { ptr::slice_mut(out, out_len, "out") }?;
    // SAFETY: per the contract.
    let found = unsafe { ptr::slice_mut(found, found_len, "found") }?;
    let slots = probes
        .checked_mul(k)
        .ok_or_else(|| FfiError::invalid("k", "probes_len x k overflows"))?;
    if dst.len() < slots || found.len() < probes {
        return Err(FfiError::new(
            btp_result::BufferTooSmall,
            format!(
                "out holds {} candidates and found {} counts; {} x {} = {} and {} needed",
                dst.len(),
                found.len(),
                probes,
                k,
                slots,
                probes
            ),
        ));
    }
    Ok((dst, found))
}

/// Writes the candidate lists of a batch search into the slots checked by
/// [`result_slots`]: probe `i` gets `dst[i * k ..][..k]`, its first
/// `found[i]` filled, the rest zeroed.
pub(crate) fn write_results(
    lists: Vec<Vec<Candidate>>,
    k: usize,
    dst: &mut [btp_candidate],
    found: &mut [usize],
) {
    for (i, hits) in lists.into_iter().enumerate() {
        found[i] = hits.len();
        let row = &mut dst[i * k..(i + 1) * k];
        row.fill(btp_candidate { id: 0, score: 0.0 });
        for (slot, c) in row.iter_mut().zip(hits) {
            *slot = c.into();
        }
    }
}

/// Frees a gallery, wiping its codes. NULL does nothing. Set your pointer
/// to NULL afterwards: freeing the same handle twice is undefined behaviour.
///
/// # Safety
/// `g` must be NULL or a handle from this library not yet freed; exclusive
/// access to `g`.
#[no_mangle]
pub unsafe extern "C" fn btp_gallery_free(g: *mut btp_gallery) {
    // SAFETY: the caller passes NULL or a live handle it no longer uses (see `# Safety`).
    ffi_free(|| unsafe { ptr::free(g) });
}
