//! What the store tells about itself: transparency figures, record
//! counts, and the audit log (verify, head, events, export, prune).

use std::collections::BTreeMap;

use super::audit::{self, AuditEvent, AuditHead, AuditReport, EventFilter, PurposeActivity};
use super::records;
use super::{check_time, checkpoint_after_commit, immediate, Context, Store, Timestamp};
use crate::error::Result;

/// Transparency figures for a period.
#[derive(Clone, Debug, PartialEq)]
pub struct StoreStats {
    /// Operations per purpose in the period, from the audit log.
    pub activity: Vec<PurposeActivity>,
    /// Live (unexpired) templates per purpose now.
    pub live: BTreeMap<String, u64>,
}

impl Store {
    /// Transparency figures: activity per purpose in `[from, to)` from the
    /// audit log, and live gallery sizes now.
    pub fn stats(&self, from: Timestamp, to: Timestamp) -> Result<StoreStats> {
        let now = self.now()?;
        let conn = self.lock();
        let activity = audit::stats(&conn, from, to)?;
        let live = records::live_counts(&conn, now)?;
        Ok(StoreStats { activity, live })
    }

    /// Number of records (live or expired, not yet swept) per purpose.
    pub fn record_counts(&self) -> Result<BTreeMap<String, u64>> {
        records::counts(&self.lock())
    }

    /// Verifies the whole audit chain.
    pub fn verify_audit(&self) -> Result<AuditReport> {
        audit::verify(&self.lock(), &self.audit_key)
    }

    /// The newest audit event's (sequence, MAC): keep it elsewhere to prove
    /// later that the log was not truncated or rewritten.
    pub fn audit_head(&self) -> Result<Option<AuditHead>> {
        audit::head(&self.lock())
    }

    /// Checks that the log still holds `head` unchanged.
    pub fn check_audit_head(&self, head: &AuditHead) -> Result<()> {
        audit::check_head(&self.lock(), &self.audit_key, head)
    }

    /// Audit events matching `filter`.
    pub fn audit_events(&self, filter: &EventFilter) -> Result<Vec<AuditEvent>> {
        audit::events(&self.lock(), filter)
    }

    /// Writes audit events as JSON lines; returns the number written.
    pub fn export_audit(&self, filter: &EventFilter, out: &mut dyn std::io::Write) -> Result<u64> {
        audit::export_jsonl(&self.lock(), filter, out)
    }

    /// Deletes audit events older than `before` (the log's own retention),
    /// leaving the rest verifiable.
    pub fn prune_audit(&self, before: Timestamp, ctx: &Context<'_>) -> Result<audit::PruneReport> {
        ctx.check()?;
        check_time(before, "before")?;
        let now = self.now()?;
        let mut conn = self.lock();
        let tx = immediate(&mut conn)?;
        let report = audit::prune(&tx, &self.audit_key, now, before, ctx.actor, ctx.reason)?;
        tx.commit()?;
        // Old bytes leave the files at this or the next checkpoint.
        checkpoint_after_commit(&conn, self.options.busy_timeout);
        Ok(report)
    }
}
