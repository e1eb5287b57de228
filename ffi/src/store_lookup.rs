//! Store lookups: 1:1 verification, 1:N identification (a candidate list
//! read through `btp_identification_*`) and the human review of an
//! identification. Samples come as feature vectors or, with the
//! `_template` suffix, as templates of a protector of the purpose (see
//! `store_enrol`).

use std::ffi::c_char;

use btp_core::store::{Identification, ReviewOutcome, Sample};
use zeroize::Zeroizing;

use crate::error::{btp_result, FfiError, FfiResult};
use crate::guard::{ffi_call, ffi_free};
use crate::protector::btp_decision;
use crate::ptr::{self, Out, OutHandle};
use crate::store::{btp_store, context, features_sample, template_sample};
use crate::template::btp_template;

/// A human reviewer's conclusion (`btp_store_review`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum btp_review_outcome {
    /// The reviewer confirms the candidate record `record`.
    Confirmed = 0,
    /// No candidate is the person.
    Rejected = 1,
    /// The reviewer cannot decide.
    Inconclusive = 2,
}

/// The outcome of a 1:1 verification against the store.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct btp_store_verification {
    /// Best score over the subject's live records, the purpose's threshold
    /// and the decision.
    pub decision: btp_decision,
    /// The record that gave the score.
    pub record: i64,
    /// Sequence number of the audit event.
    pub event: u64,
}

/// One candidate of an identification (`btp_identification_get`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct btp_store_candidate {
    /// The subject id, NUL-terminated, owned by the identification: valid
    /// until `btp_identification_free`.
    pub subject: *const c_char,
    /// Its length in bytes, without the NUL.
    pub subject_len: usize,
    /// The record matched.
    pub record: i64,
    /// Similarity in [0, 1].
    pub score: f64,
}

/// The outcome of a 1:N identification against the store: a candidate list
/// for human review, never an identity. Read it with the
/// `btp_identification_*` functions; free it with
/// `btp_identification_free`, which wipes the subject ids.
///
/// Thread safety: immutable; any number of threads may read one at once.
pub struct btp_identification {
    /// The subject ids, NUL-terminated, in candidate order.
    subjects: Vec<Zeroizing<Vec<u8>>>,
    inner: Identification,
}

impl From<Identification> for btp_identification {
    fn from(i: Identification) -> Self {
        let subjects = i
            .candidates
            .iter()
            .map(|c| {
                let mut s = Zeroizing::new(Vec::with_capacity(c.subject.len() + 1));
                s.extend_from_slice(c.subject.as_bytes());
                s.push(0);
                s
            })
            .collect();
        Self { subjects, inner: i }
    }
}

impl Drop for btp_identification {
    fn drop(&mut self) {
        for c in &mut self.inner.candidates {
            zeroize::Zeroize::zeroize(&mut c.subject);
        }
    }
}

unsafe fn verify_sample(
    store: *const btp_store,
    purpose: *const c_char,
    subject: *const c_char,
    sample: impl FnOnce() -> FfiResult<Sample<'static>>,
    actor: *const c_char,
    reason: *const c_char,
    out: *mut btp_store_verification,
) -> FfiResult {
    // SAFETY (all): per the entry points' contracts.
    let s = unsafe { ptr::handle(store, "store") }?;
    let purpose = unsafe { ptr::str(purpose, "purpose") }?;
    let subject = unsafe { ptr::str(subject, "subject") }?;
    let ctx = unsafe { context(actor, reason) }?;
    let out = Out::new(out, "out")?;
    let v =
        s.0.verify(purpose, subject, sample()?, &ctx)
            .map_err(FfiError::about("features"))?;
    // SAFETY: checked writable.
    unsafe {
        out.write(btp_store_verification {
            decision: v.decision.into(),
            record: v.record,
            event: v.event,
        })
    };
    Ok(())
}

/// 1:1: compares a feature vector with `subject`'s live records of
/// `purpose` and decides against the purpose's threshold (best record).
/// `BTP_RESULT_NOT_FOUND` if the subject has no record there,
/// `BTP_RESULT_EXPIRED` if all have expired. Audited.
///
/// # Safety
/// `store` a live handle or NULL; `purpose`, `subject`, `actor`, `reason`
/// NULL or NUL-terminated; `features` NULL or `len` readable floats; `out`
/// NULL or writable.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn btp_store_verify(
    store: *const btp_store,
    purpose: *const c_char,
    subject: *const c_char,
    features: *const f32,
    len: usize,
    actor: *const c_char,
    reason: *const c_char,
    out: *mut btp_store_verification,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_store_verify", || unsafe {
        verify_sample(
            store,
            purpose,
            subject,
            || features_sample(features, len),
            actor,
            reason,
            out,
        )
    })
}

/// `btp_store_verify` with a template of the purpose's protector.
///
/// # Safety
/// As `btp_store_verify`; `tmpl` a live handle or NULL.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn btp_store_verify_template(
    store: *const btp_store,
    purpose: *const c_char,
    subject: *const c_char,
    tmpl: *const btp_template,
    actor: *const c_char,
    reason: *const c_char,
    out: *mut btp_store_verification,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_store_verify_template", || unsafe {
        verify_sample(
            store,
            purpose,
            subject,
            || template_sample(tmpl),
            actor,
            reason,
            out,
        )
    })
}

#[allow(clippy::too_many_arguments)]
unsafe fn identify_sample(
    store: *const btp_store,
    purpose: *const c_char,
    sample: impl FnOnce() -> FfiResult<Sample<'static>>,
    k: usize,
    threshold: f64,
    actor: *const c_char,
    reason: *const c_char,
    out: *mut *mut btp_identification,
) -> FfiResult {
    // SAFETY (all): per the entry points' contracts.
    let out = unsafe { OutHandle::new(out, "out") }?;
    let s = unsafe { ptr::handle(store, "store") }?;
    let purpose = unsafe { ptr::str(purpose, "purpose") }?;
    let ctx = unsafe { context(actor, reason) }?;
    let threshold = (!threshold.is_nan()).then_some(threshold);
    let i =
        s.0.identify(purpose, sample()?, k, threshold, &ctx)
            .map_err(FfiError::about("features"))?;
    // SAFETY: checked writable.
    unsafe { out.set(i.into()) };
    Ok(())
}

/// 1:N over `purpose`'s live records: up to `k` candidates scoring at
/// least `threshold` (in [0, 1]; NaN for the purpose's threshold), by score
/// descending. The result is a list for human review
/// (`btp_store_review`), read with `btp_identification_*`. Audited.
///
/// # Safety
/// `store` a live handle or NULL; `purpose`, `actor`, `reason` NULL or
/// NUL-terminated; `features` NULL or `len` readable floats; `out` NULL or
/// writable: it receives a handle to free with `btp_identification_free`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn btp_store_identify(
    store: *const btp_store,
    purpose: *const c_char,
    features: *const f32,
    len: usize,
    k: usize,
    threshold: f64,
    actor: *const c_char,
    reason: *const c_char,
    out: *mut *mut btp_identification,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_store_identify", || unsafe {
        identify_sample(
            store,
            purpose,
            || features_sample(features, len),
            k,
            threshold,
            actor,
            reason,
            out,
        )
    })
}

/// `btp_store_identify` with a template of the purpose's protector.
///
/// # Safety
/// As `btp_store_identify`; `tmpl` a live handle or NULL.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn btp_store_identify_template(
    store: *const btp_store,
    purpose: *const c_char,
    tmpl: *const btp_template,
    k: usize,
    threshold: f64,
    actor: *const c_char,
    reason: *const c_char,
    out: *mut *mut btp_identification,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_store_identify_template", || unsafe {
        identify_sample(
            store,
            purpose,
            || template_sample(tmpl),
            k,
            threshold,
            actor,
            reason,
            out,
        )
    })
}

/// The number of candidates of an identification.
///
/// # Safety
/// `ident` a live handle or NULL; `len` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_identification_len(
    ident: *const btp_identification,
    len: *mut usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_identification_len", || unsafe {
        let i = ptr::handle(ident, "ident")?;
        Out::new(len, "len")?.write(i.inner.candidates.len());
        Ok(())
    })
}

/// Candidate `index` (0-based, by score descending; ties by record id).
/// `out->subject` points into `ident`: valid until it is freed.
/// `BTP_RESULT_INVALID_PARAMETER` for an index past the end.
///
/// # Safety
/// `ident` a live handle or NULL; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_identification_get(
    ident: *const btp_identification,
    index: usize,
    out: *mut btp_store_candidate,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_identification_get", || unsafe {
        let i = ptr::handle(ident, "ident")?;
        let out = Out::new(out, "out")?;
        let n = i.inner.candidates.len();
        let (c, s) = i
            .inner
            .candidates
            .get(index)
            .zip(i.subjects.get(index))
            .ok_or_else(|| {
                FfiError::invalid("index", &format!("{index} is past the {n} candidates"))
            })?;
        out.write(btp_store_candidate {
            subject: s.as_ptr().cast(),
            subject_len: s.len() - 1,
            record: c.record,
            score: c.score,
        });
        Ok(())
    })
}

/// The threshold the identification applied.
///
/// # Safety
/// `ident` a live handle or NULL; `threshold` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_identification_threshold(
    ident: *const btp_identification,
    threshold: *mut f64,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_identification_threshold", || unsafe {
        let i = ptr::handle(ident, "ident")?;
        Out::new(threshold, "threshold")?.write(i.inner.threshold);
        Ok(())
    })
}

/// The sequence number of the identification's audit event: what
/// `btp_store_review` refers to.
///
/// # Safety
/// `ident` a live handle or NULL; `event` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_identification_event(
    ident: *const btp_identification,
    event: *mut u64,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_identification_event", || unsafe {
        let i = ptr::handle(ident, "ident")?;
        Out::new(event, "event")?.write(i.inner.event);
        Ok(())
    })
}

/// Frees an identification, wiping its subject ids. NULL does nothing. Set
/// your pointer to NULL afterwards: freeing the same handle twice is
/// undefined behaviour.
///
/// # Safety
/// `ident` must be NULL or a handle from this library not yet freed, and
/// no other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn btp_identification_free(ident: *mut btp_identification) {
    // SAFETY: the caller passes NULL or a live handle it no longer uses (see `# Safety`).
    ffi_free(|| unsafe { ptr::free(ident) });
}

/// Records a human review of the identification whose audit event is
/// `identification` (`btp_identification_event`): `outcome` is one of
/// `BTP_REVIEW_OUTCOME_*`; `record` is the confirmed candidate's record for
/// `CONFIRMED` (it must have been a candidate, else
/// `BTP_RESULT_INVALID_PARAMETER`) and ignored otherwise. `reviewer` names
/// the person. `*event` receives the review's audit event.
/// `BTP_RESULT_NOT_FOUND` if `identification` is not an identification
/// event.
///
/// # Safety
/// `store` a live handle or NULL; `reviewer`, `actor`, `reason` NULL or
/// NUL-terminated; `event` NULL or writable.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn btp_store_review(
    store: *const btp_store,
    identification: u64,
    reviewer: *const c_char,
    outcome: u32,
    record: i64,
    actor: *const c_char,
    reason: *const c_char,
    event: *mut u64,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_store_review", || unsafe {
        let s = ptr::handle(store, "store")?;
        let reviewer = ptr::str(reviewer, "reviewer")?;
        let ctx = context(actor, reason)?;
        let event = Out::new(event, "event")?;
        const CONFIRMED: u32 = btp_review_outcome::Confirmed as u32;
        const REJECTED: u32 = btp_review_outcome::Rejected as u32;
        const INCONCLUSIVE: u32 = btp_review_outcome::Inconclusive as u32;
        let outcome = match outcome {
            CONFIRMED => ReviewOutcome::Confirmed(record),
            REJECTED => ReviewOutcome::Rejected,
            INCONCLUSIVE => ReviewOutcome::Inconclusive,
            o => {
                return Err(FfiError::invalid(
                    "outcome",
                    &format!("{o} is not a BTP_REVIEW_OUTCOME_* value"),
                ))
            }
        };
        event.write(s.0.review(identification, reviewer, outcome, &ctx)?);
        Ok(())
    })
}
