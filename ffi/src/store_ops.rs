//! Store operations on records: enrolment, retained probes, 1:1 and 1:N,
//! review, erasure, legal holds, sweeps and key rotation.
//!
//! Each comes in two forms where it takes a biometric sample: from a
//! feature vector (`(const float *, size_t)`, protected at once and never
//! stored) and, with the `_template` suffix, from a template made by a
//! protector of the purpose (same params, master key, application and
//! transform version; else `BTP_RESULT_KEY_MISMATCH` or
//! `BTP_RESULT_SCHEME_MISMATCH`).

use std::ffi::c_char;
use std::time::Duration;

use btp_core::store::{Context, HoldTarget, Identification, Retention, ReviewOutcome, Sample};
use zeroize::Zeroizing;

use crate::error::{btp_result, FfiError, FfiResult};
use crate::guard::{ffi_call, ffi_free};
use crate::protector::btp_decision;
use crate::ptr::{self, Out, OutHandle};
use crate::store::{btp_store, context};
use crate::template::btp_template;

/// How long a record is kept: the `kind` field of `btp_retention`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum btp_retention_kind {
    /// The purpose's maximum retention (`value` ignored).
    Maximum = 0,
    /// `value` seconds from now (1 to the purpose's maximum).
    ForSeconds = 1,
    /// Until the Unix time `value` (at most the purpose's maximum from now).
    Until = 2,
}

/// A retention: `kind` is one of `BTP_RETENTION_KIND_*`, `value` its
/// argument. Outside the purpose's limit (or not in the future):
/// `BTP_RESULT_RETENTION_TOO_LONG`; an unknown kind or a negative
/// `BTP_RETENTION_KIND_FOR_SECONDS`: `BTP_RESULT_INVALID_PARAMETER`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct btp_retention {
    /// One of `BTP_RETENTION_KIND_*` (a `uint32_t`, so that any value is
    /// defined behaviour: unknown values are refused).
    pub kind: u32,
    /// Seconds (`FOR_SECONDS`) or a Unix time (`UNTIL`); ignored for
    /// `MAXIMUM`.
    pub value: i64,
}

pub(crate) fn to_retention(r: btp_retention) -> FfiResult<Retention> {
    const MAX: u32 = btp_retention_kind::Maximum as u32;
    const FOR: u32 = btp_retention_kind::ForSeconds as u32;
    const UNTIL: u32 = btp_retention_kind::Until as u32;
    match r.kind {
        MAX => Ok(Retention::Maximum),
        FOR => u64::try_from(r.value)
            .map(|s| Retention::For(Duration::from_secs(s)))
            .map_err(|_| FfiError::invalid("retention.value", "seconds must not be negative")),
        UNTIL => Ok(Retention::Until(r.value)),
        k => Err(FfiError::invalid(
            "retention.kind",
            &format!("{k} is not a BTP_RETENTION_KIND_* value"),
        )),
    }
}

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

/// What an erasure deleted.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct btp_erasure_report {
    /// Records erased (0 when the subject had none: not an error).
    pub erased: u64,
    /// Sequence number of the audit event.
    pub event: u64,
    /// Whether the checkpoint that removes the erased bytes from the files
    /// completed (false when another handle held it past the busy timeout:
    /// the records are erased all the same; the next checkpoint removes the
    /// bytes).
    pub checkpointed: bool,
}

/// What a sweep deleted.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct btp_sweep_report {
    /// The time expiry was judged against (Unix seconds).
    pub now: i64,
    /// Records deleted (including those of an interrupted earlier sweep,
    /// completed now).
    pub deleted: u64,
    /// Expired records kept because of a legal hold.
    pub held: u64,
    /// Sequence number of the audit event.
    pub event: u64,
    /// Whether the closing checkpoint completed (see
    /// `btp_erasure_report.checkpointed`).
    pub checkpointed: bool,
}

/// What a key rotation did.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct btp_rotation_report {
    /// Purposes whose storage key was rotated.
    pub purposes: u64,
    /// Records re-encrypted under the new keys.
    pub reencrypted: u64,
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

/// A feature vector as a sample.
unsafe fn features_sample<'a>(x: *const f32, len: usize) -> FfiResult<Sample<'a>> {
    // SAFETY: per the caller's contract.
    Ok(Sample::Features(unsafe { ptr::slice(x, len, "features") }?))
}

/// A template handle as a sample.
unsafe fn template_sample<'a>(t: *const btp_template) -> FfiResult<Sample<'a>> {
    // SAFETY: per the caller's contract.
    Ok(Sample::Template(&unsafe { ptr::handle(t, "template") }?.0))
}

/// Enrols or retains: the shared body of the four entry points.
#[allow(clippy::too_many_arguments)]
unsafe fn store_sample(
    store: *const btp_store,
    purpose: *const c_char,
    subject: *const c_char,
    sample: impl FnOnce() -> FfiResult<Sample<'static>>,
    retention: btp_retention,
    actor: *const c_char,
    reason: *const c_char,
    record: *mut i64,
    probe: bool,
) -> FfiResult {
    // SAFETY (all): per the entry points' contracts.
    let s = unsafe { ptr::handle(store, "store") }?;
    let purpose = unsafe { ptr::str(purpose, "purpose") }?;
    let subject = unsafe { ptr::str(subject, if probe { "case_ref" } else { "subject" }) }?;
    let ctx = unsafe { context(actor, reason) }?;
    let record = Out::new(record, "record")?;
    let sample = sample()?;
    let r = to_retention(retention)?;
    // Data errors can only come from a feature vector; a case reference
    // is a `subject` to the core.
    let id = if probe {
        s.0.retain_probe(purpose, subject, sample, r, &ctx)
            .map_err(FfiError::translate(
                Some("features"),
                &[("subject", "case_ref")],
            ))?
    } else {
        s.0.enroll(purpose, subject, sample, r, &ctx)
            .map_err(FfiError::about("features"))?
    };
    // SAFETY: checked writable.
    unsafe { record.write(id) };
    Ok(())
}

/// Enrols `subject` (1 to 256 bytes of UTF-8, no control characters, no
/// leading or trailing white space) for `purpose` from a
/// feature vector of the purpose's dimension, kept for `retention`;
/// `*record` receives the new record's id. Audited.
///
/// # Safety
/// `store` a live handle or NULL; `purpose`, `subject`, `actor`, `reason`
/// NULL or NUL-terminated; `features` NULL or `len` readable floats;
/// `record` NULL or writable.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn btp_store_enroll(
    store: *const btp_store,
    purpose: *const c_char,
    subject: *const c_char,
    features: *const f32,
    len: usize,
    retention: btp_retention,
    actor: *const c_char,
    reason: *const c_char,
    record: *mut i64,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_store_enroll", || unsafe {
        store_sample(
            store,
            purpose,
            subject,
            || features_sample(features, len),
            retention,
            actor,
            reason,
            record,
            false,
        )
    })
}

/// `btp_store_enroll` from a template of the purpose's protector.
///
/// # Safety
/// As `btp_store_enroll`; `tmpl` a live handle or NULL.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn btp_store_enroll_template(
    store: *const btp_store,
    purpose: *const c_char,
    subject: *const c_char,
    tmpl: *const btp_template,
    retention: btp_retention,
    actor: *const c_char,
    reason: *const c_char,
    record: *mut i64,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_store_enroll_template", || unsafe {
        store_sample(
            store,
            purpose,
            subject,
            || template_sample(tmpl),
            retention,
            actor,
            reason,
            record,
            false,
        )
    })
}

/// Retains a probe as evidence under a case reference (1 to 65535 bytes of
/// UTF-8), encrypted like a template, with its own retention; retained
/// probes are never matched. `*record` receives its id. Audited.
///
/// # Safety
/// As `btp_store_enroll`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn btp_store_retain_probe(
    store: *const btp_store,
    purpose: *const c_char,
    case_ref: *const c_char,
    features: *const f32,
    len: usize,
    retention: btp_retention,
    actor: *const c_char,
    reason: *const c_char,
    record: *mut i64,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_store_retain_probe", || unsafe {
        store_sample(
            store,
            purpose,
            case_ref,
            || features_sample(features, len),
            retention,
            actor,
            reason,
            record,
            true,
        )
    })
}

/// `btp_store_retain_probe` from a template of the purpose's protector.
///
/// # Safety
/// As `btp_store_enroll_template`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn btp_store_retain_probe_template(
    store: *const btp_store,
    purpose: *const c_char,
    case_ref: *const c_char,
    tmpl: *const btp_template,
    retention: btp_retention,
    actor: *const c_char,
    reason: *const c_char,
    record: *mut i64,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_store_retain_probe_template", || unsafe {
        store_sample(
            store,
            purpose,
            case_ref,
            || template_sample(tmpl),
            retention,
            actor,
            reason,
            record,
            true,
        )
    })
}

/// The retained probe `record` (decrypted) as a template: `BTP_RESULT_NOT_FOUND`
/// if there is no such probe, `BTP_RESULT_EXPIRED` if its retention ended.
///
/// # Safety
/// `store` a live handle or NULL; `out` NULL or writable: it receives a
/// handle to free with `btp_template_free`.
#[no_mangle]
pub unsafe extern "C" fn btp_store_retained_probe(
    store: *const btp_store,
    record: i64,
    out: *mut *mut btp_template,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_store_retained_probe", || unsafe {
        let out = OutHandle::new(out, "out")?;
        let s = ptr::handle(store, "store")?;
        let (mut case, t) = s.0.retained_probe(record)?;
        zeroize::Zeroize::zeroize(&mut case);
        out.set(btp_template(t));
        Ok(())
    })
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

/// Erases `subject`'s records in `purpose`, or in every purpose when
/// `purpose` is NULL. Erases nothing and gives `BTP_RESULT_HELD` when a
/// legal hold covers the subject or one of its records (the refusal is
/// audited too). A subject without records is not an error (`erased` 0).
///
/// # Safety
/// `store` a live handle or NULL; `subject`, `actor`, `reason` NULL or
/// NUL-terminated; `purpose` NULL or NUL-terminated; `out` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn btp_store_erase(
    store: *const btp_store,
    subject: *const c_char,
    purpose: *const c_char,
    actor: *const c_char,
    reason: *const c_char,
    out: *mut btp_erasure_report,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_store_erase", || unsafe {
        let s = ptr::handle(store, "store")?;
        let subject = ptr::str(subject, "subject")?;
        let purpose = ptr::opt_str(purpose, "purpose")?;
        let ctx = context(actor, reason)?;
        let out = Out::new(out, "out")?;
        let r = s.0.erase(subject, purpose, &ctx)?;
        out.write(btp_erasure_report {
            erased: r.erased.values().map(|v| v.len() as u64).sum(),
            event: r.event,
            checkpointed: r.checkpointed,
        });
        Ok(())
    })
}

fn place_hold(
    s: &btp_store,
    target: HoldTarget<'_>,
    ctx: &Context<'_>,
    hold: Out<i64>,
) -> FfiResult {
    let id = s.0.hold(target, ctx)?;
    // SAFETY: checked writable by the caller.
    unsafe { hold.write(id) };
    Ok(())
}

/// Places a legal hold on every record of `subject`, in every purpose,
/// present and future: they survive sweeps and block erasure until
/// released. `*hold` receives the hold's id. Audited (the reason is the
/// hold's).
///
/// # Safety
/// `store` a live handle or NULL; `subject`, `actor`, `reason` NULL or
/// NUL-terminated; `hold` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_store_hold_subject(
    store: *const btp_store,
    subject: *const c_char,
    actor: *const c_char,
    reason: *const c_char,
    hold: *mut i64,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_store_hold_subject", || unsafe {
        let s = ptr::handle(store, "store")?;
        let subject = ptr::str(subject, "subject")?;
        let ctx = context(actor, reason)?;
        place_hold(
            s,
            HoldTarget::Subject(subject),
            &ctx,
            Out::new(hold, "hold")?,
        )
    })
}

/// Places a legal hold on one record (`BTP_RESULT_NOT_FOUND` if absent).
/// `*hold` receives the hold's id. Audited.
///
/// # Safety
/// `store` a live handle or NULL; `actor`, `reason` NULL or
/// NUL-terminated; `hold` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_store_hold_record(
    store: *const btp_store,
    record: i64,
    actor: *const c_char,
    reason: *const c_char,
    hold: *mut i64,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_store_hold_record", || unsafe {
        let s = ptr::handle(store, "store")?;
        let ctx = context(actor, reason)?;
        place_hold(s, HoldTarget::Record(record), &ctx, Out::new(hold, "hold")?)
    })
}

/// Releases an active hold (`BTP_RESULT_NOT_FOUND` if there is none with
/// that id). Audited.
///
/// # Safety
/// `store` a live handle or NULL; `actor`, `reason` NULL or
/// NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn btp_store_release(
    store: *const btp_store,
    hold: i64,
    actor: *const c_char,
    reason: *const c_char,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_store_release", || unsafe {
        let s = ptr::handle(store, "store")?;
        let ctx = context(actor, reason)?;
        s.0.release(hold, &ctx)?;
        Ok(())
    })
}

/// Deletes every record expired at `*now` (Unix seconds; NULL for the
/// store's clock) and not under a hold, in batches, then writes one audit
/// event and checkpoints. Idempotent; completes an interrupted earlier
/// sweep.
///
/// # Safety
/// `store` a live handle or NULL; `now` NULL or readable (a misaligned
/// pointer is `BTP_RESULT_INVALID_PARAMETER`); `actor`,
/// `reason` NULL or NUL-terminated; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_store_sweep(
    store: *const btp_store,
    now: *const i64,
    actor: *const c_char,
    reason: *const c_char,
    out: *mut btp_sweep_report,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_store_sweep", || unsafe {
        let s = ptr::handle(store, "store")?;
        let now = ptr::opt_value(now, "now")?;
        let ctx = context(actor, reason)?;
        let out = Out::new(out, "out")?;
        let r = s.0.sweep(now, &ctx)?;
        out.write(btp_sweep_report {
            now: r.now,
            deleted: r.total() as u64,
            held: r.held,
            event: r.event,
            checkpointed: r.checkpointed,
        });
        Ok(())
    })
}

/// Rotates the storage key of `purpose` (NULL: of every purpose this
/// handle serves): a new key version encrypts from now on and every record
/// is re-encrypted under it, in batches. Crash-safe: calling it again after
/// an interruption finishes the started rotation. Audited.
///
/// # Safety
/// `store` a live handle or NULL; `purpose` NULL or NUL-terminated;
/// `actor`, `reason` NULL or NUL-terminated; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_store_rotate_key(
    store: *const btp_store,
    purpose: *const c_char,
    actor: *const c_char,
    reason: *const c_char,
    out: *mut btp_rotation_report,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_store_rotate_key", || unsafe {
        let s = ptr::handle(store, "store")?;
        let purpose = ptr::opt_str(purpose, "purpose")?;
        let ctx = context(actor, reason)?;
        let out = Out::new(out, "out")?;
        let r = s.0.rotate_key(purpose, &ctx)?;
        out.write(btp_rotation_report {
            purposes: r.rotated.len() as u64,
            reencrypted: r.rotated.iter().map(|rot| rot.reencrypted).sum(),
        });
        Ok(())
    })
}
