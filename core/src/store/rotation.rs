//! Storage key rotation: a new key version for a purpose, every record
//! re-encrypted under it in batches, crash-safe and resumable (see
//! `keyring` for the version states).

use serde_json::json;

use super::audit::{self, Action, NewEvent};
use super::keyring;
use super::records;
use super::{checkpoint_after_commit, immediate, Context, RecordId, Store};
use crate::error::Result;

/// What a key rotation did to one purpose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rotation {
    /// The purpose.
    pub purpose: String,
    /// The storage key version retired.
    pub from: u32,
    /// The storage key version now active.
    pub to: u32,
    /// Records re-encrypted from `from` to `to` by this call (a resumed
    /// rotation counts only what it did).
    pub reencrypted: u64,
}

/// What [`Store::rotate_key`] did, per purpose.
#[derive(Clone, Debug, PartialEq)]
pub struct RotationReport {
    /// One entry per purpose rotated, in name order.
    pub rotated: Vec<Rotation>,
}

impl Store {
    /// Rotates the storage key of a purpose (or of every served purpose):
    /// a new key version becomes the only one used for writing, and every
    /// record is re-encrypted under it in batches. Crash-safe and
    /// resumable: calling it again after an interruption finishes the
    /// started rotation instead of starting another.
    pub fn rotate_key(&self, purpose: Option<&str>, ctx: &Context<'_>) -> Result<RotationReport> {
        ctx.check()?;
        let names: Vec<String> = match purpose {
            Some(p) => vec![self.served(p)?.purpose.name.clone()],
            None => self.purposes.keys().cloned().collect(),
        };
        let mut rotated = Vec::new();
        for name in names {
            rotated.push(self.rotate_one(&name, ctx)?);
        }
        Ok(RotationReport { rotated })
    }

    fn rotate_one(&self, purpose: &str, ctx: &Context<'_>) -> Result<Rotation> {
        let mut conn = self.lock();
        let keyring::Rotation { from, to, .. } = {
            let tx = immediate(&mut conn)?;
            let rotation = keyring::begin_rotation(&tx, purpose, self.now()?)?;
            if rotation.started {
                let mut ev = NewEvent::new(ctx.actor, Action::RotateKeyStart, ctx.reason);
                ev.purpose = Some(purpose);
                ev.detail.insert("from".into(), json!(rotation.from));
                ev.detail.insert("to".into(), json!(rotation.to));
                audit::append(&tx, &self.audit_key, self.now()?, &ev)?;
            }
            tx.commit()?;
            rotation
        };
        let mut reencrypted = 0u64;
        // Walk the table once in id order; records at the new version are
        // skipped, so a resumed rotation picks up where the interrupted one
        // stopped.
        let mut after: RecordId = 0;
        loop {
            let tx = immediate(&mut conn)?;
            let batch = records::not_at_version(&tx, purpose, to, after, self.options.batch_size)?;
            let Some(last) = batch.last() else {
                break;
            };
            after = last.id;
            for mut r in batch {
                let (subject, bytes) = self.unseal(&r)?;
                self.reseal(&tx, &mut r, &subject, &bytes)?;
                records::reseal(&tx, &r)?;
                reencrypted += 1;
            }
            tx.commit()?;
        }
        let tx = immediate(&mut conn)?;
        keyring::finish_rotation(&tx, purpose)?;
        let mut ev = NewEvent::new(ctx.actor, Action::RotateKeyFinish, ctx.reason);
        ev.purpose = Some(purpose);
        ev.detail.insert("from".into(), json!(from));
        ev.detail.insert("to".into(), json!(to));
        ev.detail.insert("reencrypted".into(), json!(reencrypted));
        audit::append(&tx, &self.audit_key, self.now()?, &ev)?;
        tx.commit()?;
        // Old bytes leave the files at this or the next checkpoint.
        checkpoint_after_commit(&conn, self.options.busy_timeout);
        Ok(Rotation {
            purpose: purpose.to_owned(),
            from,
            to,
            reencrypted,
        })
    }
}
