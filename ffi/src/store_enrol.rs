//! Store enrolment: enrol a subject or retain a probe (case evidence) from
//! a feature vector or a template, and read a retained probe back.
//!
//! Each operation that takes a biometric sample comes in two forms: from a
//! feature vector (`(const float *, size_t)`, protected at once and never
//! stored) and, with the `_template` suffix, from a template made by a
//! protector of the purpose (same params, master key, application and
//! transform version; else `BTP_RESULT_KEY_MISMATCH` or
//! `BTP_RESULT_SCHEME_MISMATCH`).

use std::ffi::c_char;
use std::time::Duration;

use btp_core::store::{Retention, Sample};

use crate::error::{btp_result, FfiError, FfiResult};
use crate::guard::ffi_call;
use crate::ptr::{self, Out, OutHandle};
use crate::store::{btp_store, context, features_sample, template_sample};
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
