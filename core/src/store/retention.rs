//! Retention: erasure of a subject's records, legal holds that block it,
//! and the sweep that deletes expired records. Deleted bytes leave the
//! files at the closing WAL checkpoint.

use std::collections::BTreeMap;

use serde_json::json;

use super::audit::{self, Action, NewEvent};
use super::holds;
use super::records;
use super::{
    changes, check_time, checkpoint_after_commit, immediate, Context, HoldTarget, RecordId, Store,
    Timestamp,
};
use crate::error::{Error, Result};

/// What an erasure deleted.
#[derive(Clone, Debug, PartialEq)]
pub struct ErasureReport {
    /// Record ids erased, by purpose.
    pub erased: BTreeMap<String, Vec<RecordId>>,
    /// Sequence number of the audit event.
    pub event: u64,
    /// Whether the WAL checkpoint that removes the erased bytes from the
    /// files completed. False when another handle held it past the busy
    /// timeout, or when it failed (a full disk while it copies the WAL into
    /// the main file): the records are erased all the same, and the next
    /// checkpoint (a later sweep or erasure, or `Store::checkpoint`) removes
    /// the bytes.
    pub checkpointed: bool,
}

/// What a sweep deleted.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepReport {
    /// The time expiry was judged against.
    pub now: Timestamp,
    /// Record ids deleted, by purpose (including those of an interrupted
    /// earlier sweep, completed now).
    pub deleted: BTreeMap<String, Vec<RecordId>>,
    /// Expired records kept because of a legal hold.
    pub held: u64,
    /// Sequence number of the audit event.
    pub event: u64,
    /// Whether the closing WAL checkpoint completed (see
    /// [`ErasureReport::checkpointed`]).
    pub checkpointed: bool,
}

impl SweepReport {
    /// Number of records deleted.
    pub fn total(&self) -> usize {
        self.deleted.values().map(Vec::len).sum()
    }
}

impl Store {
    /// Erases a subject's records, in one purpose or all. Fails, erasing
    /// nothing, when a legal hold covers the subject or one of the records
    /// (the refusal is audited too).
    pub fn erase(
        &self,
        subject: &str,
        purpose: Option<&str>,
        ctx: &Context<'_>,
    ) -> Result<ErasureReport> {
        ctx.check()?;
        if let Some(p) = purpose {
            self.served(p)?;
        }
        let hash = self.subject_hash(subject)?;
        let now = self.now()?;
        let mut conn = self.lock();
        let tx = immediate(&mut conn)?;
        let mut ev = NewEvent::new(ctx.actor, Action::Erase, ctx.reason);
        ev.purpose = purpose;
        ev.subjects = vec![hash];
        let found = records::subject_ids(&tx, &hash, purpose, None)?;
        if found.is_empty() {
            // "Nothing to erase" only if no row of this subject is damaged.
            self.confirm_absent(&tx, &hash)?;
        }
        let ids: Vec<RecordId> = found.iter().map(|(id, _)| *id).collect();
        if let Some((hold, reason, target)) = holds::first_active(&tx, &hash, &ids)? {
            ev.outcome = "refused: held";
            ev.detail.insert("hold".into(), json!(hold));
            audit::append(&tx, &self.audit_key, now, &ev)?;
            tx.commit()?;
            return Err(Error::Held {
                hold,
                target,
                reason,
            });
        }
        let mut erased: BTreeMap<String, Vec<RecordId>> = BTreeMap::new();
        for (id, p) in &found {
            records::delete(&tx, *id, p)?;
            erased.entry(p.clone()).or_default().push(*id);
        }
        ev.records = ids;
        ev.outcome = if found.is_empty() {
            "nothing-to-erase"
        } else {
            "erased"
        };
        ev.detail.insert(
            "per_purpose".into(),
            json!(erased
                .iter()
                .map(|(p, v)| (p.clone(), v.len()))
                .collect::<BTreeMap<_, _>>()),
        );
        let event = audit::append(&tx, &self.audit_key, now, &ev)?;
        tx.commit()?;
        self.forget(&erased);
        let checkpointed = checkpoint_after_commit(&conn, self.options.busy_timeout);
        Ok(ErasureReport {
            erased,
            event,
            checkpointed,
        })
    }

    /// Places a legal hold; returns its id. A held record survives sweeps
    /// and blocks erasure until the hold is released.
    pub fn hold(&self, target: HoldTarget<'_>, ctx: &Context<'_>) -> Result<i64> {
        ctx.check()?;
        let now = self.now()?;
        let mut conn = self.lock();
        let tx = immediate(&mut conn)?;
        let mut ev = NewEvent::new(ctx.actor, Action::Hold, ctx.reason);
        let hold = match target {
            HoldTarget::Subject(s) => {
                let hash = self.subject_hash(s)?;
                ev.subjects = vec![hash];
                holds::place(
                    &tx,
                    holds::Target::Subject(&hash),
                    ctx.reason,
                    ctx.actor,
                    now,
                )?
            }
            HoldTarget::Record(id) => {
                let purpose = records::purpose_of(&tx, id)?
                    .ok_or_else(|| Error::Missing(format!("record {id}")))?;
                ev.records = vec![id];
                ev.detail.insert("purpose".into(), json!(purpose));
                holds::place(&tx, holds::Target::Record(id), ctx.reason, ctx.actor, now)?
            }
        };
        ev.detail.insert("hold".into(), json!(hold));
        audit::append(&tx, &self.audit_key, now, &ev)?;
        tx.commit()?;
        Ok(hold)
    }

    /// Releases a hold.
    pub fn release(&self, hold: i64, ctx: &Context<'_>) -> Result<()> {
        ctx.check()?;
        let now = self.now()?;
        let mut conn = self.lock();
        let tx = immediate(&mut conn)?;
        if !holds::release(&tx, hold, now)? {
            return Err(Error::Missing(format!("active hold {hold}")));
        }
        let mut ev = NewEvent::new(ctx.actor, Action::Release, ctx.reason);
        ev.detail.insert("hold".into(), json!(hold));
        audit::append(&tx, &self.audit_key, now, &ev)?;
        tx.commit()?;
        Ok(())
    }

    /// Deletes every expired record not under hold, in batches of
    /// `batch_size` per transaction, then writes one audit event and
    /// checkpoints the WAL. Idempotent. Each batch journals the ids it
    /// deleted; a sweep interrupted by a crash is completed (and audited) by
    /// the next one.
    pub fn sweep(&self, now: Option<Timestamp>, ctx: &Context<'_>) -> Result<SweepReport> {
        ctx.check()?;
        let clock = self.now()?;
        let now = match now {
            Some(t) => check_time(t, "now")?,
            None => clock,
        };
        let mut conn = self.lock();
        loop {
            let tx = immediate(&mut conn)?;
            let expired = records::expired_unheld(&tx, now, self.options.batch_size)?;
            // Only a record whose expiry is authentic is deleted: a damaged
            // expiry is an integrity failure, not a retention decision.
            self.authenticate_all(&expired)?;
            if expired.is_empty() {
                drop(tx);
                break;
            }
            for r in &expired {
                records::delete(&tx, r.id, &r.purpose)?;
                changes::journal_swept(&tx, r.id, &r.purpose)?;
            }
            tx.commit()?;
        }
        let tx = immediate(&mut conn)?;
        let deleted = changes::drain_swept(&tx)?;
        let held = records::expired_held(&tx, now)?;
        // Keep the gallery change log bounded; handles behind the floor reload.
        changes::prune(&tx)?;
        let mut ev = NewEvent::new(ctx.actor, Action::Sweep, ctx.reason);
        ev.records = deleted.values().flatten().copied().collect();
        ev.detail.insert("now".into(), json!(now));
        ev.detail.insert("deleted".into(), json!(ev.records.len()));
        ev.detail.insert("held".into(), json!(held));
        ev.detail.insert(
            "per_purpose".into(),
            json!(deleted
                .iter()
                .map(|(p, v)| (p.clone(), v.len()))
                .collect::<BTreeMap<_, _>>()),
        );
        let event = audit::append(&tx, &self.audit_key, self.now()?, &ev)?;
        tx.commit()?;
        self.forget(&deleted);
        let checkpointed = checkpoint_after_commit(&conn, self.options.busy_timeout);
        Ok(SweepReport {
            now,
            deleted,
            held,
            event,
            checkpointed,
        })
    }
}
