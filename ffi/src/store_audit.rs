//! The store's audit log (verify, head, export, prune) and its
//! transparency statistics.

use std::collections::BTreeMap;
use std::ffi::c_char;

use btp_core::store::{Action, AuditHead, EventFilter};

use crate::bytes::OutBytes;
use crate::error::{btp_result, FfiError};
use crate::guard::{ffi_call, ffi_free};
use crate::ptr::{self, Out, OutHandle};
use crate::store::{btp_store, context};

/// Length in bytes of an audit event's MAC.
pub const BTP_AUDIT_MAC_LEN: usize = 32;

/// The newest audit event's sequence number and MAC: keep a copy outside
/// the store (printed, sent to another system) to detect later truncation
/// or rollback with `btp_store_check_audit_head`. `seq` 0 means an empty
/// log.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct btp_audit_head {
    /// Sequence number of the event (from 1).
    pub seq: u64,
    /// Its HMAC-SHA256.
    pub mac: [u8; BTP_AUDIT_MAC_LEN],
}

impl From<Option<AuditHead>> for btp_audit_head {
    fn from(h: Option<AuditHead>) -> Self {
        h.map_or(
            Self {
                seq: 0,
                mac: [0; BTP_AUDIT_MAC_LEN],
            },
            |h| Self {
                seq: h.seq,
                mac: h.mac,
            },
        )
    }
}

/// The result of a successful audit chain verification. Sequence numbers
/// start at 1: 0 stands for "none".
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct btp_audit_report {
    /// Events verified.
    pub events: u64,
    /// Sequence number of the first one (0 if none).
    pub first_seq: u64,
    /// The last one (`seq` 0 if none).
    pub head: btp_audit_head,
    /// The last pruned sequence number (0 if the log was never pruned).
    pub pruned_through: u64,
}

/// What an audit pruning did.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct btp_prune_report {
    /// Events deleted now.
    pub pruned: u64,
    /// Every event up to this sequence number is gone (0 if none ever was).
    pub pruned_through: u64,
}

/// Verifies the whole audit chain: `BTP_RESULT_AUDIT_BROKEN` naming the
/// first sequence number proven wrong if an event was changed, deleted,
/// inserted, reordered or replayed.
///
/// # Safety
/// `store` a live handle or NULL; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_store_verify_audit(
    store: *const btp_store,
    out: *mut btp_audit_report,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_store_verify_audit", || unsafe {
        let s = ptr::handle(store, "store")?;
        let out = Out::new(out, "out")?;
        let r = s.0.verify_audit()?;
        out.write(btp_audit_report {
            events: r.events,
            first_seq: r.first_seq.unwrap_or(0),
            head: r.head.into(),
            pruned_through: r.pruned_through.unwrap_or(0),
        });
        Ok(())
    })
}

/// The newest audit event's (sequence number, MAC); `seq` 0 for an empty
/// log. Does not verify the chain.
///
/// # Safety
/// `store` a live handle or NULL; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_store_audit_head(
    store: *const btp_store,
    out: *mut btp_audit_head,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_store_audit_head", || unsafe {
        let s = ptr::handle(store, "store")?;
        let out = Out::new(out, "out")?;
        out.write(s.0.audit_head()?.into());
        Ok(())
    })
}

/// Checks that the log still holds `head` (kept from an earlier
/// `btp_store_audit_head`) unchanged and that the chain verifies:
/// `BTP_RESULT_AUDIT_BROKEN` if the log was truncated, rolled back or
/// rewritten; `BTP_RESULT_INVALID_PARAMETER` for `seq` 0.
///
/// # Safety
/// `store` a live handle or NULL; `head` NULL or readable (a misaligned
/// pointer is `BTP_RESULT_INVALID_PARAMETER`).
#[no_mangle]
pub unsafe extern "C" fn btp_store_check_audit_head(
    store: *const btp_store,
    head: *const btp_audit_head,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_store_check_audit_head", || unsafe {
        let s = ptr::handle(store, "store")?;
        let h = ptr::value(head, "head")?;
        s.0.check_audit_head(&AuditHead {
            seq: h.seq,
            mac: h.mac,
        })?;
        Ok(())
    })
}

/// Exports audit events as JSON lines (one object per event, each line
/// ending in `\n`; no NUL terminator) into a library buffer: `*out`
/// receives the bytes and `*out_len` their number (NULL and 0 when no event
/// matches); release them with `btp_bytes_free(*out, *out_len)`. Events
/// with `seq > after_seq` (0 for all), at most `limit` of them (0: no
/// limit), in sequence order: page through a long log by passing the last
/// exported `seq` as `after_seq`. `*events` receives the number exported.
/// The events hold no biometric data (keyed subject hashes, record ids,
/// scores).
///
/// # Safety
/// `store` a live handle or NULL; `out`, `out_len`, `events` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn btp_store_export_audit(
    store: *const btp_store,
    after_seq: u64,
    limit: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
    events: *mut u64,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_store_export_audit", || unsafe {
        let out = OutBytes::new(out, out_len)?;
        let s = ptr::handle(store, "store")?;
        let events = Out::new(events, "events")?;
        let filter = EventFilter {
            after_seq: (after_seq > 0).then_some(after_seq),
            limit: (limit > 0).then_some(limit),
            ..EventFilter::default()
        };
        let mut buf = Vec::new();
        let n = s.0.export_audit(&filter, &mut buf)?;
        events.write(n);
        out.set(buf);
        Ok(())
    })
}

/// Deletes the audit events older than `before` (Unix seconds): the log's
/// own retention. The rest stays verifiable (the last pruned MAC anchors
/// it). Audited.
///
/// # Safety
/// `store` a live handle or NULL; `actor`, `reason` NULL or
/// NUL-terminated; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_store_prune_audit(
    store: *const btp_store,
    before: i64,
    actor: *const c_char,
    reason: *const c_char,
    out: *mut btp_prune_report,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_store_prune_audit", || unsafe {
        let s = ptr::handle(store, "store")?;
        let ctx = context(actor, reason)?;
        let out = Out::new(out, "out")?;
        let r = s.0.prune_audit(before, &ctx)?;
        out.write(btp_prune_report {
            pruned: r.pruned,
            pruned_through: r.pruned_through.unwrap_or(0),
        });
        Ok(())
    })
}

/// One purpose's row of the statistics (`btp_stats_get`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct btp_purpose_stats {
    /// The purpose's name, NUL-terminated, owned by the statistics: valid
    /// until `btp_stats_free`. `""` for store-level events (store creation,
    /// holds, sweeps of no purpose).
    pub purpose: *const c_char,
    /// Records deleted by retention sweeps in the period.
    pub swept_records: u64,
    /// Records erased on request in the period.
    pub erased_records: u64,
    /// Live (unexpired) templates now.
    pub live_templates: u64,
}

struct StatsRow {
    /// NUL-terminated.
    purpose: Vec<u8>,
    counts: BTreeMap<&'static str, u64>,
    swept: u64,
    erased: u64,
    live: u64,
}

/// Transparency statistics of a store over a period: one row per purpose
/// (by name), with the number of events of each action in the period, the
/// records swept and erased in it, and the live templates now. Read with
/// `btp_stats_len`, `btp_stats_get` and `btp_stats_count`; free with
/// `btp_stats_free`. Holds no personal data.
///
/// Thread safety: immutable; any number of threads may read one at once.
pub struct btp_stats(Vec<StatsRow>);

/// Transparency statistics: activity per purpose in `[from, to)` (Unix
/// seconds) from the audit log, and live templates per purpose now.
///
/// # Safety
/// `store` a live handle or NULL; `out` NULL or writable: it receives a
/// handle to free with `btp_stats_free`.
#[no_mangle]
pub unsafe extern "C" fn btp_store_stats(
    store: *const btp_store,
    from: i64,
    to: i64,
    out: *mut *mut btp_stats,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_store_stats", || unsafe {
        let out = OutHandle::new(out, "out")?;
        let s = ptr::handle(store, "store")?;
        let stats = s.0.stats(from, to)?;
        let mut rows: BTreeMap<String, StatsRow> = BTreeMap::new();
        for a in stats.activity {
            let r = row(&mut rows, &a.purpose);
            r.counts = a.counts;
            r.swept = a.swept_records;
            r.erased = a.erased_records;
        }
        for (p, n) in stats.live {
            row(&mut rows, &p).live = n;
        }
        out.set(btp_stats(rows.into_values().collect()));
        Ok(())
    })
}

/// The row of `name`, made empty if absent.
fn row<'a>(rows: &'a mut BTreeMap<String, StatsRow>, name: &str) -> &'a mut StatsRow {
    rows.entry(name.to_owned()).or_insert_with(|| {
        let mut purpose = name.as_bytes().to_vec();
        purpose.push(0);
        StatsRow {
            purpose,
            counts: BTreeMap::new(),
            swept: 0,
            erased: 0,
            live: 0,
        }
    })
}

fn stats_row(s: &btp_stats, index: usize) -> Result<&StatsRow, FfiError> {
    s.0.get(index).ok_or_else(|| {
        FfiError::invalid(
            "index",
            &format!("{index} is past the {} purposes", s.0.len()),
        )
    })
}

/// The number of purpose rows.
///
/// # Safety
/// `stats` a live handle or NULL; `len` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_stats_len(stats: *const btp_stats, len: *mut usize) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_stats_len", || unsafe {
        let s = ptr::handle(stats, "stats")?;
        Out::new(len, "len")?.write(s.0.len());
        Ok(())
    })
}

/// Row `index` (0-based, by purpose name). `out->purpose` points into
/// `stats`: valid until it is freed. `BTP_RESULT_INVALID_PARAMETER` for an
/// index past the end.
///
/// # Safety
/// `stats` a live handle or NULL; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_stats_get(
    stats: *const btp_stats,
    index: usize,
    out: *mut btp_purpose_stats,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_stats_get", || unsafe {
        let s = ptr::handle(stats, "stats")?;
        let out = Out::new(out, "out")?;
        let r = stats_row(s, index)?;
        out.write(btp_purpose_stats {
            purpose: r.purpose.as_ptr().cast(),
            swept_records: r.swept,
            erased_records: r.erased,
            live_templates: r.live,
        });
        Ok(())
    })
}

/// The number of events of `action` in row `index` during the period (0
/// when none). `action` is an audit action name: `store-created`,
/// `purpose-added`, `enroll`, `retain-probe`, `verify`, `identify`,
/// `review`, `erase`, `hold`, `release`, `sweep`, `rotate-key-start`,
/// `rotate-key-finish`, `audit-prune` (as in the exported JSON lines);
/// another name gives `BTP_RESULT_INVALID_PARAMETER`.
///
/// # Safety
/// `stats` a live handle or NULL; `action` NULL or NUL-terminated; `count`
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_stats_count(
    stats: *const btp_stats,
    index: usize,
    action: *const c_char,
    count: *mut u64,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_stats_count", || unsafe {
        let s = ptr::handle(stats, "stats")?;
        let name = ptr::str(action, "action")?;
        let count = Out::new(count, "count")?;
        let r = stats_row(s, index)?;
        let action = Action::parse(name)
            .ok_or_else(|| FfiError::invalid("action", "not an audit action name"))?;
        count.write(r.counts.get(action.as_str()).copied().unwrap_or(0));
        Ok(())
    })
}

/// Frees statistics. NULL does nothing. Set your pointer to NULL
/// afterwards: freeing the same handle twice is undefined behaviour.
///
/// # Safety
/// `stats` must be NULL or a handle from this library not yet freed, and
/// no other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn btp_stats_free(stats: *mut btp_stats) {
    // SAFETY: the caller passes NULL or a live handle it no longer uses (see `# Safety`).
    ffi_free(|| unsafe { ptr::free(stats) });
}

#[cfg(test)]
#[test]
fn the_header_documents_every_action_name() {
    let header = include_str!("../../include/btp.h");
    let doc = header
        .split("btp_result btp_stats_count(")
        .next()
        .and_then(|before| before.rsplit("/**").next())
        .expect("btp_stats_count is documented");
    for a in Action::ALL {
        assert!(
            doc.contains(&format!("`{}`", a.as_str())),
            "{a} is not listed"
        );
    }
}
