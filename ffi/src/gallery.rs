//! The 1:N gallery handle.

use btp_core::{Candidate, Gallery};

use crate::error::{btp_result, FfiError};
use crate::guard::{ffi_call, ffi_free};
use crate::protector::btp_protector;
use crate::ptr::{self, Out, OutHandle};
use crate::template::btp_template;

/// A 1:N gallery of the templates of one protector, keyed by caller ids.
/// Holds copies of the codes (wiped when freed); does not keep the protector.
///
/// Thread safety: not synchronised. `btp_gallery_add`, `_remove`,
/// `_set_threads` and `_free` need exclusive access: no other call on the
/// same gallery may run at the same time. `btp_gallery_search` and
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
    ffi_call("btp_gallery_add", || unsafe {
        let g = ptr::handle_mut(g, "g")?;
        let t = ptr::handle(t, "t")?;
        g.0.add(id, &t.0)?;
        Ok(())
    })
}

/// Removes the entry under `id` (`BTP_RESULT_NOT_FOUND` if absent).
///
/// # Safety
/// `g` must be a live handle or NULL; exclusive access to `g`.
#[no_mangle]
pub unsafe extern "C" fn btp_gallery_remove(g: *mut btp_gallery, id: u64) -> btp_result {
    ffi_call("btp_gallery_remove", || unsafe {
        ptr::handle_mut(g, "g")?.0.remove(id)?;
        Ok(())
    })
}

/// The number of entries.
///
/// # Safety
/// `g` must be a live handle or NULL; `len` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_gallery_len(g: *const btp_gallery, len: *mut usize) -> btp_result {
    ffi_call("btp_gallery_len", || unsafe {
        let g = ptr::handle(g, "g")?;
        Out::new(len, "len")?.write(g.0.len());
        Ok(())
    })
}

/// Search threads: 0 (the default) is one thread for small galleries and
/// every core for large ones.
///
/// # Safety
/// `g` must be a live handle or NULL; exclusive access to `g`.
#[no_mangle]
pub unsafe extern "C" fn btp_gallery_set_threads(
    g: *mut btp_gallery,
    threads: usize,
) -> btp_result {
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

/// Frees a gallery, wiping its codes. NULL does nothing. Set your pointer
/// to NULL afterwards: freeing the same handle twice is undefined behaviour.
///
/// # Safety
/// `g` must be NULL or a handle from this library not yet freed; exclusive
/// access to `g`.
#[no_mangle]
pub unsafe extern "C" fn btp_gallery_free(g: *mut btp_gallery) {
    ffi_free(|| unsafe { ptr::free(g) });
}
