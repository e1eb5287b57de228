//! The protector handle: protect, compare, verify (packed codes are in
//! `codes`).

use std::ffi::c_char;

use btp_core::{Decision, Protector};

use crate::error::{btp_result, FfiError};
use crate::guard::{ffi_call, ffi_free};
use crate::keys::btp_master_key;
use crate::params::btp_params;
use crate::ptr::{self, Out, OutHandle};
use crate::template::{btp_template, write_fingerprint};

/// A scheme bound to a transform key: protects feature vectors and compares
/// the templates it made. Holds secret transform matrices (wiped when freed).
///
/// Thread safety: immutable and `Send + Sync`: any number of threads may
/// call protect, compare and verify on one protector at once. Free it once,
/// after every call has returned (a gallery made from it does not keep it).
pub struct btp_protector(pub(crate) Protector);

/// A 1:1 decision: accept iff `score >= threshold`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct btp_decision {
    /// Similarity in [0, 1].
    pub score: f64,
    /// The threshold the score was held against.
    pub threshold: f64,
    /// `score >= threshold`.
    pub matched: bool,
}

impl From<Decision> for btp_decision {
    fn from(d: Decision) -> Self {
        Self {
            score: d.score,
            threshold: d.threshold,
            matched: d.matched,
        }
    }
}

/// The protector of `params` for `application` (non-empty UTF-8) at
/// `version`, under keys derived from `key`, optionally bound to a subject.
/// `subject` NULL (with `subject_len` 0) means no subject binding; a
/// non-NULL `subject` with `subject_len` 0 is a binding to the empty subject
/// (a different key). Bumping `version` revokes: templates of other versions
/// give `BTP_RESULT_KEY_MISMATCH`. `params` and `key` are not kept: they may
/// be freed afterwards.
///
/// # Safety
/// `params`, `key` must be live handles or NULL; `application` NULL or
/// NUL-terminated; `subject` NULL or `subject_len` readable bytes; `out`
/// NULL or writable: it receives a handle to free with
/// `btp_protector_free`.
#[no_mangle]
pub unsafe extern "C" fn btp_protector_new(
    params: *const btp_params,
    key: *const btp_master_key,
    application: *const c_char,
    version: u32,
    subject: *const u8,
    subject_len: usize,
    out: *mut *mut btp_protector,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_protector_new", || unsafe {
        let out = OutHandle::new(out, "out")?;
        let params = ptr::handle(params, "params")?;
        let key = ptr::handle(key, "key")?;
        let application = ptr::str(application, "application")?;
        let subject = if subject.is_null() {
            ptr::slice(subject, subject_len, "subject")?;
            None
        } else {
            Some(ptr::slice(subject, subject_len, "subject")?)
        };
        let p = Protector::new(params.0.clone(), &key.0, application, version, subject)?;
        out.set(btp_protector(p));
        Ok(())
    })
}

/// The input dimension (floats per feature vector).
///
/// # Safety
/// `prot` must be a live handle or NULL; `dim` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_protector_dim(
    prot: *const btp_protector,
    dim: *mut usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_protector_dim", || unsafe {
        let p = ptr::handle(prot, "prot")?;
        Out::new(dim, "dim")?.write(p.0.dim());
        Ok(())
    })
}

/// The number of `uint64_t` words of one packed code of this protector
/// (`btp_protector_protect_packed`, `btp_protector_score_matrix`, ...).
///
/// # Safety
/// `prot` must be a live handle or NULL; `words` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_protector_words(
    prot: *const btp_protector,
    words: *mut usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_protector_words", || unsafe {
        let p = ptr::handle(prot, "prot")?;
        Out::new(words, "words")?.write(p.0.layout().words());
        Ok(())
    })
}

/// The number of elements of one code (IoM hashes or BioHash bits): the
/// bytes per code of `btp_protector_unpack`.
///
/// # Safety
/// `prot` must be a live handle or NULL; `len` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_protector_code_len(
    prot: *const btp_protector,
    len: *mut usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_protector_code_len", || unsafe {
        let p = ptr::handle(prot, "prot")?;
        Out::new(len, "len")?.write(p.0.layout().len());
        Ok(())
    })
}

/// The fingerprint of the protector's key into `(buf, len)`, `len >=
/// BTP_FINGERPRINT_LEN`: the one its templates carry.
///
/// # Safety
/// `prot` must be a live handle or NULL; `buf` NULL or `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn btp_protector_fingerprint(
    prot: *const btp_protector,
    buf: *mut u8,
    len: usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_protector_fingerprint", || unsafe {
        let p = ptr::handle(prot, "prot")?;
        write_fingerprint(&p.0.fingerprint().0, buf, len)
    })
}

/// Protects one feature vector of `len` (= the dimension) finite floats.
///
/// # Safety
/// `prot` must be a live handle or NULL; `features` NULL or `len` readable
/// floats; `out` NULL or writable: it receives a handle to free with
/// `btp_template_free`.
#[no_mangle]
pub unsafe extern "C" fn btp_protector_protect(
    prot: *const btp_protector,
    features: *const f32,
    len: usize,
    out: *mut *mut btp_template,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_protector_protect", || unsafe {
        let out = OutHandle::new(out, "out")?;
        let p = ptr::handle(prot, "prot")?;
        let x = ptr::slice(features, len, "features")?;
        let t = p.0.protect(x).map_err(FfiError::about("features"))?;
        out.set(btp_template(t));
        Ok(())
    })
}

/// Protects a row-major batch of `rows_len / dim` feature vectors (on
/// several threads for large batches): all or nothing. On success `out[i]`
/// receives the template of row `i` (free each with `btp_template_free`)
/// and `*count` the number of rows. Every slot of `out` is set to NULL
/// first, so after a failure `out` holds NULL only. `rows_len` not a
/// multiple of the dimension is `BTP_RESULT_WRONG_DIMENSION`. If `out_len`
/// is smaller than the number of rows, `BTP_RESULT_BUFFER_TOO_SMALL` is
/// returned with that number in `*count`. A bad row gives its error; the
/// message names the row.
///
/// # Safety
/// `prot` must be a live handle or NULL; `rows` NULL or `rows_len` readable
/// floats; `out` NULL or `out_len` writable pointers; `count` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn btp_protector_protect_batch(
    prot: *const btp_protector,
    rows: *const f32,
    rows_len: usize,
    out: *mut *mut btp_template,
    out_len: usize,
    count: *mut usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_protector_protect_batch", || unsafe {
        let dst = ptr::out_handles(out, out_len, "out")?;
        let p = ptr::handle(prot, "prot")?;
        let rows = ptr::slice(rows, rows_len, "rows")?;
        let count = Out::new(count, "count")?;
        let templates = p.0.protect_batch(rows).map_err(FfiError::about("rows"))?;
        count.write(templates.len());
        ptr::fits(dst.len(), templates.len(), "templates")?;
        for (slot, t) in dst.iter_mut().zip(templates) {
            *slot = Box::into_raw(Box::new(btp_template(t)));
        }
        Ok(())
    })
}

/// Similarity in [0, 1] of two templates of this protector (else
/// `BTP_RESULT_KEY_MISMATCH` or `BTP_RESULT_SCHEME_MISMATCH`).
///
/// # Safety
/// `prot`, `a`, `b` must be live handles or NULL; `score` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_protector_compare(
    prot: *const btp_protector,
    a: *const btp_template,
    b: *const btp_template,
    score: *mut f64,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_protector_compare", || unsafe {
        let p = ptr::handle(prot, "prot")?;
        let a = ptr::handle(a, "a")?;
        let b = ptr::handle(b, "b")?;
        let score = Out::new(score, "score")?;
        score.write(p.0.compare(&a.0, &b.0)?);
        Ok(())
    })
}

/// 1:1 decision of `probe` against `reference` at `threshold` in [0, 1].
///
/// # Safety
/// `prot`, `reference`, `probe` must be live handles or NULL; `out` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn btp_protector_verify(
    prot: *const btp_protector,
    reference: *const btp_template,
    probe: *const btp_template,
    threshold: f64,
    out: *mut btp_decision,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_protector_verify", || unsafe {
        let p = ptr::handle(prot, "prot")?;
        let r = ptr::handle(reference, "reference")?;
        let q = ptr::handle(probe, "probe")?;
        let out = Out::new(out, "out")?;
        out.write(p.0.verify(&r.0, &q.0, threshold)?.into());
        Ok(())
    })
}

/// Frees a protector, wiping its transform. NULL does nothing. Set your
/// pointer to NULL afterwards: freeing the same handle twice is undefined
/// behaviour.
///
/// # Safety
/// `prot` must be NULL or a handle from this library not yet freed, and no
/// other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn btp_protector_free(prot: *mut btp_protector) {
    // SAFETY: the caller passes NULL or a live handle it no longer uses (see `# Safety`).
    ffi_free(|| unsafe { ptr::free(prot) });
}
