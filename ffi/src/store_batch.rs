//! Batch enrolment: many subjects in one call and one transaction.

use std::ffi::c_char;

use btp_core::store::Samples;

use crate::error::{btp_result, FfiError, FfiResult};
use crate::guard::ffi_call;
use crate::ptr;
use crate::store::{btp_store, context};
use crate::store_enrol::{btp_retention, to_retention};

/// The `n` subject strings of `subjects`, each named `subjects[i]` in
/// errors (NULL refused).
///
/// # Safety
/// `subjects` NULL (then `n` must be 0) or `n` readable pointers, each NULL
/// or NUL-terminated.
unsafe fn subject_list<'a>(subjects: *const *const c_char, n: usize) -> FfiResult<Vec<&'a str>> {
    // SAFETY: per the caller's contract.
    let ptrs = unsafe { ptr::slice(subjects, n, "subjects") }?;
    let mut out = btp_core::alloc::with_capacity(n, "the subject list")?;
    for (i, &p) in ptrs.iter().enumerate() {
        // SAFETY: NULL or NUL-terminated per the contract.
        out.push(unsafe { ptr::str(p, &format!("subjects[{i}]")) }?);
    }
    Ok(out)
}

/// Enrols `n` subjects for `purpose` at once: `subjects[i]` (the rules of
/// `btp_store_enroll`) from row `i` of `features`, `len` floats holding `n`
/// rows of the purpose's dimension, all kept for `retention`;
/// `records[i]` receives the new record id of `subjects[i]`
/// (`records_len` must be at least `n`).
///
/// All or nothing, in one transaction: every subject, every row (a
/// length that is not `n` rows is `BTP_RESULT_WRONG_DIMENSION` or
/// `BTP_RESULT_INVALID_PARAMETER`), no subject twice in the batch, the
/// retention and the storage key's budget are checked before anything is
/// written, and a failure while writing writes nothing. A bad row's error
/// names it (`row 7: ...`). One audit event per record.
///
/// # Safety
/// `store` a live handle or NULL; `purpose`, `actor`, `reason` NULL or
/// NUL-terminated; `subjects` NULL or `n` readable pointers, each NULL or
/// NUL-terminated; `features` NULL or `len` readable floats; `records` NULL
/// or `records_len` writable `int64_t`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn btp_store_enroll_batch(
    store: *const btp_store,
    purpose: *const c_char,
    subjects: *const *const c_char,
    n: usize,
    features: *const f32,
    len: usize,
    retention: btp_retention,
    actor: *const c_char,
    reason: *const c_char,
    records: *mut i64,
    records_len: usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_store_enroll_batch", || unsafe {
        let s = ptr::handle(store, "store")?;
        let purpose = ptr::str(purpose, "purpose")?;
        let ctx = context(actor, reason)?;
        let subjects = subject_list(subjects, n)?;
        let rows = ptr::slice(features, len, "features")?;
        let out = ptr::slice_mut(records, records_len, "records")?;
        if records_len < n {
            return Err(FfiError::new(
                btp_result::BufferTooSmall,
                format!("`records` holds {records_len} ids: {n} needed"),
            ));
        }
        let r = to_retention(retention)?;
        let ids =
            s.0.enroll_batch(purpose, &subjects, Samples::Features(rows), r, &ctx)
                .map_err(FfiError::translate(Some("features"), &[("samples", "len")]))?;
        out[..n].copy_from_slice(&ids);
        Ok(())
    })
}
