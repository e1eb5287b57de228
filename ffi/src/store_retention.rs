//! Store retention: erasure of a subject's records, legal holds and their
//! release, and the sweep of expired records.

use std::ffi::c_char;

use btp_core::store::{Context, HoldTarget};

use crate::error::{btp_result, FfiResult};
use crate::guard::ffi_call;
use crate::ptr::{self, Out};
use crate::store::{btp_store, context};

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
