//! Enrolment: one template, a batch of templates, or a retained probe,
//! each record sealed and written with its audit event in one immediate
//! transaction. Every input is checked before the first write.

use std::collections::HashMap;

use rusqlite::Transaction;
use zeroize::Zeroizing;

use super::audit::{self, Action, NewEvent};
use super::records::{self, RecordKind};
use super::{
    check_time, immediate, Context, RecordId, Retention, Sample, Samples, Served, Store, Timestamp,
};
use crate::error::{Error, Result};

impl Store {
    /// Enrols a subject for a purpose; returns the new record's id.
    pub fn enroll(
        &self,
        purpose: &str,
        subject: &str,
        sample: Sample<'_>,
        retention: Retention,
        ctx: &Context<'_>,
    ) -> Result<RecordId> {
        self.store_sample(
            purpose,
            subject,
            sample,
            retention,
            RecordKind::Template,
            ctx,
        )
    }

    /// Retains a probe as evidence under a case reference, encrypted like a
    /// template, with its own expiry. Retained probes are never matched.
    pub fn retain_probe(
        &self,
        purpose: &str,
        case: &str,
        sample: Sample<'_>,
        retention: Retention,
        ctx: &Context<'_>,
    ) -> Result<RecordId> {
        self.store_sample(purpose, case, sample, retention, RecordKind::Probe, ctx)
    }

    /// Writes one record of `kind` (a template or a retained probe) under
    /// `subject` (a subject id or a case reference) with its audit event.
    fn store_sample(
        &self,
        purpose: &str,
        subject: &str,
        sample: Sample<'_>,
        retention: Retention,
        kind: RecordKind,
        ctx: &Context<'_>,
    ) -> Result<RecordId> {
        ctx.check()?;
        let served = self.served(purpose)?;
        let hash = self.subject_hash(subject)?;
        let template = Zeroizing::new(served.template_of(sample)?.to_bytes());
        let now = self.now()?;
        let expires_at = expiry(served, retention, now)?;
        let mut conn = self.lock();
        let tx = immediate(&mut conn)?;
        let batch = Batch {
            purpose,
            kind,
            expires_at,
            now,
        };
        let id = self.write_record(&tx, ctx, &batch, subject, hash, &template)?;
        tx.commit()?;
        Ok(id)
    }

    /// Writes one sealed record of `batch` with its audit event, in the
    /// caller's transaction; returns its id.
    fn write_record(
        &self,
        tx: &Transaction<'_>,
        ctx: &Context<'_>,
        batch: &Batch<'_>,
        subject: &str,
        hash: [u8; 32],
        template: &[u8],
    ) -> Result<RecordId> {
        let Batch {
            purpose,
            kind,
            expires_at,
            now,
        } = *batch;
        let id = records::next_id(tx)?;
        let row = self.seal(tx, id, purpose, kind, subject, hash, expires_at, template)?;
        records::insert(tx, &row, now)?;
        let action = match kind {
            RecordKind::Template => Action::Enroll,
            RecordKind::Probe => Action::RetainProbe,
        };
        let mut ev = NewEvent::new(ctx.actor, action, ctx.reason);
        ev.purpose = Some(purpose);
        ev.records = vec![id];
        ev.subjects = vec![hash];
        ev.detail.insert("expires_at".into(), expires_at.into());
        audit::append(tx, &self.audit_key, now, &ev)?;
        Ok(id)
    }

    /// Enrols many subjects for a purpose in one transaction: record `i` is
    /// `subjects[i]` with sample `i`. Returns the new records' ids in input
    /// order. All or nothing: every subject id (its rules, and no id twice
    /// in the batch), every sample (dimension, NaN, zero length, the
    /// purpose's key), the retention and the storage key's budget are
    /// checked before the first write, and a failure while writing (a full
    /// disk) rolls the whole batch back. Each record gets its own audit
    /// event, as [`Store::enroll`] gives, in the same transaction.
    ///
    /// # Errors
    /// As [`Store::enroll`]; a bad row is [`Error::Row`] naming the first
    /// bad row (its source says what: a repeated subject is
    /// [`Error::InvalidParameter`] naming the row it repeats).
    pub fn enroll_batch(
        &self,
        purpose: &str,
        subjects: &[&str],
        samples: Samples<'_>,
        retention: Retention,
        ctx: &Context<'_>,
    ) -> Result<Vec<RecordId>> {
        ctx.check()?;
        let served = self.served(purpose)?;
        let n = subjects.len();
        let templates = batch_templates(served, n, samples)?;
        let mut hashes = crate::alloc::with_capacity::<[u8; 32]>(n, "the subject hashes")?;
        let mut first_row = HashMap::with_capacity(n);
        for (i, subject) in subjects.iter().enumerate() {
            let hash = self.subject_hash(subject).map_err(|e| Error::row(i, e))?;
            if let Some(j) = first_row.insert(hash, i) {
                return Err(Error::row(
                    i,
                    Error::param(
                        "subjects",
                        format!(
                            "repeats the subject of row {j}: one sample per subject in a batch"
                        ),
                    ),
                ));
            }
            hashes.push(hash);
        }
        let now = self.now()?;
        let expires_at = expiry(served, retention, now)?;
        let mut conn = self.lock();
        let tx = immediate(&mut conn)?;
        super::keyring::check_budget(&tx, purpose, n, self.options.max_encryptions_per_key)?;
        let mut ids = crate::alloc::with_capacity(n, "the record ids")?;
        let batch = Batch {
            purpose,
            kind: RecordKind::Template,
            expires_at,
            now,
        };
        for ((subject, hash), template) in subjects.iter().zip(&hashes).zip(&templates) {
            let id = self.write_record(&tx, ctx, &batch, subject, *hash, template)?;
            ids.push(id);
        }
        tx.commit()?;
        Ok(ids)
    }
}

/// What the records written in one transaction share.
#[derive(Clone, Copy)]
struct Batch<'a> {
    purpose: &'a str,
    kind: RecordKind,
    expires_at: Timestamp,
    now: Timestamp,
}

/// The encoded templates of a batch of `n` samples, each checked (or
/// protected, for features) under the purpose; a bad row is [`Error::Row`].
fn batch_templates(
    served: &Served,
    n: usize,
    samples: Samples<'_>,
) -> Result<Vec<Zeroizing<Vec<u8>>>> {
    match samples {
        Samples::Features(rows) => {
            let dim = served.protector.dim();
            if !rows.len().is_multiple_of(dim) {
                return Err(Error::row(
                    rows.len() / dim,
                    Error::WrongDimension {
                        expected: dim,
                        got: rows.len() % dim,
                    },
                ));
            }
            if rows.len() != crate::alloc::product(n, dim, 4, "the batch of samples")? {
                return Err(Error::param(
                    "samples",
                    format!(
                        "{} values for {n} subjects of dimension {dim}: one row of {dim} per subject",
                        rows.len()
                    ),
                ));
            }
            Ok(served
                .protector
                .protect_batch(rows)?
                .iter()
                .map(|t| Zeroizing::new(t.to_bytes()))
                .collect())
        }
        Samples::Templates(ts) => {
            if ts.len() != n {
                return Err(Error::param(
                    "samples",
                    format!("{} templates for {n} subjects", ts.len()),
                ));
            }
            ts.iter()
                .enumerate()
                .map(|(i, t)| {
                    served
                        .protector
                        .check(t)
                        .map_err(|e| Error::row(i, e))
                        .map(|()| Zeroizing::new(t.to_bytes()))
                })
                .collect()
        }
    }
}

/// The expiry of a record written at `now`: refused (before anything is
/// written) when it is not after `now` ([`Error::ExpiryInPast`], in
/// dates), longer than the purpose allows ([`Error::RetentionTooLong`]),
/// or past 9999-12-31.
fn expiry(served: &Served, retention: Retention, now: Timestamp) -> Result<Timestamp> {
    let max = served.purpose.max_retention_secs();
    let requested = match retention {
        Retention::Maximum => max,
        Retention::For(d) if d.as_secs() == 0 => {
            return Err(Error::param("retention", "must be at least one second"))
        }
        Retention::For(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Retention::Until(t) => {
            check_time(t, "expires_at")?;
            if t <= now {
                return Err(Error::ExpiryInPast { expires_at: t, now });
            }
            t - now
        }
    };
    if requested > max {
        return Err(Error::RetentionTooLong { requested, max });
    }
    // `now` and `max` are bounded (time::RANGE, Purpose::MAX_RETENTION).
    let expires_at = now + requested;
    if expires_at > crate::time::MAX {
        return Err(Error::param("retention", "would end after 9999-12-31 UTC"));
    }
    Ok(expires_at)
}
