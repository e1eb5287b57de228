//! The store's operations. Each runs in immediate transactions and writes
//! its audit event in the same transaction as its effect.

use std::collections::BTreeMap;

use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use serde_json::json;
use zeroize::Zeroizing;

use super::audit::{
    self, Action, AuditEvent, AuditHead, AuditReport, EventFilter, NewEvent, PurposeActivity,
};
use super::cache::{Entry, GalleryCache};
use super::crypto::{Binding, RecordCipher};
use super::{
    check_time, checkpoint_after_commit, Context, HoldTarget, RecordId, Retention, Sample, Samples,
    Served, Store, Timestamp,
};
use crate::error::{Error, Result};
use crate::matching::Decision;
use crate::template::ProtectedTemplate;

pub(super) const KIND_TEMPLATE: u8 = 0;
const KIND_PROBE: u8 = 1;
/// Gallery change log entries kept behind the newest before pruning.
const CHANGES_KEPT: i64 = 100_000;

/// Outcome of [`Store::verify`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Verification {
    /// Best score over the subject's live records, the purpose's threshold,
    /// and the decision.
    pub decision: Decision,
    /// The record that gave the score.
    pub record: RecordId,
    /// Sequence number of the audit event.
    pub event: u64,
}

/// One candidate of an identification.
#[derive(Clone, Debug, PartialEq)]
pub struct StoreCandidate {
    /// The subject id (decrypted).
    pub subject: String,
    /// The record matched.
    pub record: RecordId,
    /// Similarity in [0, 1].
    pub score: f64,
}

/// Outcome of [`Store::identify`]: a candidate list for human review, never
/// an identity.
#[derive(Clone, Debug, PartialEq)]
pub struct Identification {
    /// Candidates by score descending (ties by record id).
    pub candidates: Vec<StoreCandidate>,
    /// The threshold applied.
    pub threshold: f64,
    /// Sequence number of the audit event; a review refers to it.
    pub event: u64,
}

/// A human reviewer's conclusion about an identification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReviewOutcome {
    /// The reviewer confirms this candidate record.
    Confirmed(RecordId),
    /// No candidate is the person.
    Rejected,
    /// The reviewer cannot decide.
    Inconclusive,
}

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

/// What a key rotation did, per purpose.
#[derive(Clone, Debug, PartialEq)]
pub struct RotationReport {
    /// (purpose, old version, new version, records re-encrypted).
    pub rotated: Vec<(String, u32, u32, u64)>,
}

/// Transparency figures for a period.
#[derive(Clone, Debug, PartialEq)]
pub struct StoreStats {
    /// Operations per purpose in the period, from the audit log.
    pub activity: Vec<PurposeActivity>,
    /// Live (unexpired) templates per purpose now.
    pub live: BTreeMap<String, u64>,
}

/// A records row.
pub(super) struct Row {
    pub(super) id: RecordId,
    pub(super) purpose: String,
    pub(super) subject_hash: [u8; 32],
    pub(super) kind: u8,
    pub(super) expires_at: Timestamp,
    pub(super) key_version: u32,
    pub(super) nonce: Vec<u8>,
    pub(super) ciphertext: Vec<u8>,
}

pub(super) const ROW_COLUMNS: &str =
    "id, purpose, subject_hash, kind, expires_at, key_version, nonce, ciphertext";

/// Reads one records row. A value outside its column's range (a purpose
/// that is not UTF-8, a subject hash that is not 32 bytes, a kind beyond a
/// byte, a key version beyond `u32`) is an integrity failure of that
/// record: never truncated into a valid-looking value (a flipped high bit
/// of `key_version` once read as the original version).
fn row(r: &rusqlite::Row<'_>) -> Result<Row> {
    let id: RecordId = r.get(0)?;
    let integrity = || Error::Integrity { record: id };
    let purpose = match r.get_ref(1)? {
        ValueRef::Text(b) => std::str::from_utf8(b).map_err(|_| integrity())?.to_owned(),
        _ => return Err(integrity()),
    };
    let subject_hash = match r.get_ref(2)? {
        ValueRef::Blob(b) => <[u8; 32]>::try_from(b).map_err(|_| integrity())?,
        _ => return Err(integrity()),
    };
    Ok(Row {
        id,
        purpose,
        subject_hash,
        kind: u8::try_from(r.get::<_, i64>(3)?).map_err(|_| integrity())?,
        expires_at: r.get(4)?,
        key_version: u32::try_from(r.get::<_, i64>(5)?).map_err(|_| integrity())?,
        nonce: r.get(6)?,
        ciphertext: r.get(7)?,
    })
}

/// Reads rows (see [`row`]), and refuses a row whose storage key version
/// is neither `active` nor `retiring` for its purpose: after a rotation
/// the retired key reads nothing, so a row restored from a backup taken
/// before the rotation is an integrity failure, not a record.
pub(super) fn rows(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<Row>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut raw = stmt.query(params)?;
    let mut readable: Vec<(String, u32, bool)> = Vec::new();
    let mut out = Vec::new();
    while let Some(r) = raw.next()? {
        let row = row(r)?;
        let known = readable
            .iter()
            .find(|(p, v, _)| *p == row.purpose && *v == row.key_version)
            .map(|e| e.2);
        let ok = match known {
            Some(ok) => ok,
            None => {
                let state: Option<String> = conn
                    .prepare_cached(
                        "SELECT state FROM storage_keys WHERE purpose = ?1 AND version = ?2",
                    )?
                    .query_row(params![row.purpose, i64::from(row.key_version)], |r| {
                        r.get(0)
                    })
                    .optional()?;
                let ok = matches!(state.as_deref(), Some("active" | "retiring"));
                readable.push((row.purpose.clone(), row.key_version, ok));
                ok
            }
        };
        if !ok {
            return Err(Error::Integrity { record: row.id });
        }
        out.push(row);
    }
    Ok(out)
}

fn immediate(conn: &mut Connection) -> Result<Transaction<'_>> {
    Ok(conn.transaction_with_behavior(TransactionBehavior::Immediate)?)
}

/// Which rows of a subject a lookup wants: all, or one purpose's, or one
/// purpose's of one kind.
const SUBJECT_FILTER: &str =
    "subject_hash = ?1 AND (?2 IS NULL OR purpose = ?2) AND (?3 IS NULL OR kind = ?3)";

/// The ids of a subject's records (see [`SUBJECT_FILTER`]) through the
/// subject index `records_subject`, cross-checked against the independent
/// index `records_subject_check`: the two must list the same records.
///
/// Garbled keys in an index page hide rows from a lookup without SQLite
/// noticing on the way, which would turn an enrolled person into "not
/// enrolled" at a gate, or make an erasure erase nothing. Single-page
/// damage reaches one index at most, so a disagreement is
/// [`Error::Corrupt`] on the path (one more index seek per lookup).
fn subject_ids(
    conn: &Connection,
    hash: &[u8; 32],
    purpose: Option<&str>,
    kind: Option<u8>,
) -> Result<Vec<(RecordId, String)>> {
    let args = params![&hash[..], purpose, kind.map(i64::from)];
    let found: Vec<(RecordId, String)> = conn
        .prepare_cached(&format!(
            "SELECT id, purpose FROM records INDEXED BY records_subject WHERE {SUBJECT_FILTER} ORDER BY id"
        ))?
        .query_map(args, |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let ids: Vec<RecordId> = found.iter().map(|(id, _)| *id).collect();
    check_subject_index(conn, hash, purpose, kind, &ids)?;
    Ok(found)
}

/// A subject's whole rows (see [`SUBJECT_FILTER`]) through
/// `records_subject`, cross-checked like [`subject_ids`].
pub(super) fn subject_rows(
    conn: &Connection,
    hash: &[u8; 32],
    purpose: Option<&str>,
    kind: Option<u8>,
) -> Result<Vec<Row>> {
    let found = rows(
        conn,
        &format!(
            "SELECT {ROW_COLUMNS} FROM records INDEXED BY records_subject
             WHERE {SUBJECT_FILTER} ORDER BY id"
        ),
        params![&hash[..], purpose, kind.map(i64::from)],
    )?;
    let ids: Vec<RecordId> = found.iter().map(|r| r.id).collect();
    check_subject_index(conn, hash, purpose, kind, &ids)?;
    Ok(found)
}

/// Fails with [`Error::Corrupt`] unless the second subject index lists
/// exactly `ids` (ascending) for the same lookup.
fn check_subject_index(
    conn: &Connection,
    hash: &[u8; 32],
    purpose: Option<&str>,
    kind: Option<u8>,
    ids: &[RecordId],
) -> Result<()> {
    let witness: Vec<RecordId> = conn
        .prepare_cached(&format!(
            "SELECT id FROM records INDEXED BY records_subject_check WHERE {SUBJECT_FILTER} ORDER BY id"
        ))?
        .query_map(params![&hash[..], purpose, kind.map(i64::from)], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if witness != ids {
        return Err(Error::Corrupt(
            "the two indexes of records by subject disagree: an index page is damaged (run check_integrity and restore the store from a backup)".into(),
        ));
    }
    Ok(())
}

impl Store {
    pub(super) fn cipher(&self, purpose: &str, version: u32) -> RecordCipher {
        RecordCipher::new(&self.master, purpose, version)
    }

    pub(super) fn binding<'a>(&'a self, row: &'a Row) -> Binding<'a> {
        Binding {
            store_id: &self.store_id,
            record: row.id,
            purpose: &row.purpose,
            subject_hash: &row.subject_hash,
            key_version: row.key_version,
            expires_at: row.expires_at,
            kind: row.kind,
        }
    }

    /// Decrypts a row and decodes its template, checked against the purpose.
    fn open_row(
        &self,
        served: &Served,
        row: &Row,
    ) -> Result<(Zeroizing<String>, ProtectedTemplate)> {
        let (subject, bytes) = self.cipher(&row.purpose, row.key_version).open(
            &self.binding(row),
            &row.nonce,
            &row.ciphertext,
        )?;
        let template = ProtectedTemplate::from_bytes(&bytes)
            .map_err(|_| Error::Integrity { record: row.id })?;
        served
            .protector
            .check(&template)
            .map_err(|_| Error::Integrity { record: row.id })?;
        Ok((subject, template))
    }

    /// The template of a sample under a purpose: features are protected
    /// (and dropped), templates are checked to be of the purpose's key.
    fn template_of(&self, served: &Served, sample: Sample<'_>) -> Result<ProtectedTemplate> {
        match sample {
            Sample::Features(x) => served.protector.protect(x),
            Sample::Template(t) => {
                served.protector.check(t)?;
                Ok(t.clone())
            }
        }
    }

    /// The expiry of a record written at `now`: refused (before anything is
    /// written) when it is not after `now` ([`Error::ExpiryInPast`], in
    /// dates), longer than the purpose allows ([`Error::RetentionTooLong`]),
    /// or past 9999-12-31.
    fn expiry(&self, served: &Served, retention: Retention, now: Timestamp) -> Result<Timestamp> {
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

    /// The active storage key version of a purpose, after checking that one
    /// more encryption stays within the limit (and counting it).
    fn take_encryption(&self, tx: &Transaction<'_>, purpose: &str) -> Result<u32> {
        let (version, count): (i64, i64) = tx.query_row(
            "SELECT version, encryptions FROM storage_keys WHERE purpose = ?1 AND state = 'active'",
            [purpose],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if count as u64 >= self.options.max_encryptions_per_key {
            return Err(Error::KeyExhausted {
                purpose: purpose.to_owned(),
                version: version as u32,
            });
        }
        tx.execute(
            "UPDATE storage_keys SET encryptions = encryptions + 1 WHERE purpose = ?1 AND version = ?2",
            params![purpose, version],
        )?;
        Ok(version as u32)
    }

    /// Fails with [`Error::KeyExhausted`] unless the purpose's active
    /// storage key may make `n` more encryptions (checked before a batch
    /// writes anything; each write still counts its own).
    fn check_encryption_budget(&self, tx: &Transaction<'_>, purpose: &str, n: usize) -> Result<()> {
        let (version, count): (i64, i64) = tx.query_row(
            "SELECT version, encryptions FROM storage_keys WHERE purpose = ?1 AND state = 'active'",
            [purpose],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if (count as u64).saturating_add(n as u64) > self.options.max_encryptions_per_key {
            return Err(Error::KeyExhausted {
                purpose: purpose.to_owned(),
                version: version as u32,
            });
        }
        Ok(())
    }

    /// Encrypts and writes `row` (its id must exist) with a fresh nonce.
    fn seal_into(
        &self,
        tx: &Transaction<'_>,
        row: &mut Row,
        subject: &str,
        template: &[u8],
    ) -> Result<()> {
        row.key_version = self.take_encryption(tx, &row.purpose)?;
        let (nonce, ct) = self.cipher(&row.purpose, row.key_version).seal(
            &self.binding(row),
            subject,
            template,
        )?;
        tx.execute(
            "UPDATE records SET key_version = ?2, nonce = ?3, ciphertext = ?4 WHERE id = ?1",
            params![row.id, i64::from(row.key_version), &nonce[..], ct],
        )?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn insert(
        &self,
        tx: &Transaction<'_>,
        purpose: &str,
        subject: &str,
        hash: [u8; 32],
        kind: u8,
        now: Timestamp,
        expires_at: Timestamp,
        template: &[u8],
    ) -> Result<RecordId> {
        tx.execute(
            "INSERT INTO records (purpose, subject_hash, kind, created_at, expires_at, key_version, nonce, ciphertext)
             VALUES (?1, ?2, ?3, ?4, ?5, 0, x'', x'')",
            params![purpose, &hash[..], i64::from(kind), now, expires_at],
        )?;
        let mut row = Row {
            id: tx.last_insert_rowid(),
            purpose: purpose.to_owned(),
            subject_hash: hash,
            kind,
            expires_at,
            key_version: 0,
            nonce: Vec::new(),
            ciphertext: Vec::new(),
        };
        self.seal_into(tx, &mut row, subject, template)?;
        if kind == KIND_TEMPLATE {
            tx.execute(
                "INSERT INTO gallery_changes (purpose, record_id, added) VALUES (?1, ?2, 1)",
                params![purpose, row.id],
            )?;
        }
        Ok(row.id)
    }

    /// Enrols a subject for a purpose; returns the new record's id.
    pub fn enroll(
        &self,
        purpose: &str,
        subject: &str,
        sample: Sample<'_>,
        retention: Retention,
        ctx: &Context<'_>,
    ) -> Result<RecordId> {
        self.store_sample(purpose, subject, sample, retention, KIND_TEMPLATE, ctx)
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
        self.store_sample(purpose, case, sample, retention, KIND_PROBE, ctx)
    }

    /// Writes one record of `kind` (a template or a retained probe) under
    /// `subject` (a subject id or a case reference) with its audit event.
    fn store_sample(
        &self,
        purpose: &str,
        subject: &str,
        sample: Sample<'_>,
        retention: Retention,
        kind: u8,
        ctx: &Context<'_>,
    ) -> Result<RecordId> {
        ctx.check()?;
        let served = self.served(purpose)?;
        let hash = self.subject_hash(subject)?;
        let template = self.template_of(served, sample)?;
        let now = self.now()?;
        let expires_at = self.expiry(served, retention, now)?;
        let mut conn = self.lock();
        let tx = immediate(&mut conn)?;
        let id = self.insert(
            &tx,
            purpose,
            subject,
            hash,
            kind,
            now,
            expires_at,
            &Zeroizing::new(template.to_bytes()),
        )?;
        let action = if kind == KIND_PROBE {
            Action::RetainProbe
        } else {
            Action::Enroll
        };
        let mut ev = NewEvent::new(ctx.actor, action, ctx.reason);
        ev.purpose = Some(purpose);
        ev.records = vec![id];
        ev.subjects = vec![hash];
        ev.detail.insert("expires_at".into(), expires_at.into());
        audit::append(&tx, &self.audit_key, now, &ev)?;
        tx.commit()?;
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
        let templates: Vec<Zeroizing<Vec<u8>>> = match samples {
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
                served
                    .protector
                    .protect_batch(rows)?
                    .iter()
                    .map(|t| Zeroizing::new(t.to_bytes()))
                    .collect()
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
                    .collect::<Result<_>>()?
            }
        };
        let mut hashes = crate::alloc::with_capacity::<[u8; 32]>(n, "the subject hashes")?;
        let mut first_row = std::collections::HashMap::with_capacity(n);
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
        let expires_at = self.expiry(served, retention, now)?;
        let mut conn = self.lock();
        let tx = immediate(&mut conn)?;
        self.check_encryption_budget(&tx, purpose, n)?;
        let mut ids = crate::alloc::with_capacity(n, "the record ids")?;
        for ((subject, hash), template) in subjects.iter().zip(&hashes).zip(&templates) {
            let id = self.insert(
                &tx,
                purpose,
                subject,
                *hash,
                KIND_TEMPLATE,
                now,
                expires_at,
                template,
            )?;
            let mut ev = NewEvent::new(ctx.actor, Action::Enroll, ctx.reason);
            ev.purpose = Some(purpose);
            ev.records = vec![id];
            ev.subjects = vec![*hash];
            ev.detail.insert("expires_at".into(), expires_at.into());
            audit::append(&tx, &self.audit_key, now, &ev)?;
            ids.push(id);
        }
        tx.commit()?;
        Ok(ids)
    }

    /// The retained probe `record` (decrypted), if it is live.
    pub fn retained_probe(&self, record: RecordId) -> Result<(String, ProtectedTemplate)> {
        let conn = self.lock();
        let row = rows(
            &conn,
            &format!("SELECT {ROW_COLUMNS} FROM records WHERE id = ?1 AND kind = 1"),
            [record],
        )?
        .pop()
        .ok_or_else(|| Error::Missing(format!("retained probe {record}")))?;
        if row.expires_at <= self.now()? {
            self.authenticate(&row)?;
            return Err(Error::Expired { record });
        }
        let served = self.served(&row.purpose)?;
        let (case, t) = self.open_row(served, &row)?;
        Ok((case.to_string(), t))
    }

    /// 1:1: compares the sample with the subject's live records of the
    /// purpose and decides against the purpose's threshold (best record).
    pub fn verify(
        &self,
        purpose: &str,
        subject: &str,
        sample: Sample<'_>,
        ctx: &Context<'_>,
    ) -> Result<Verification> {
        ctx.check()?;
        let served = self.served(purpose)?;
        let hash = self.subject_hash(subject)?;
        let probe = self.template_of(served, sample)?;
        let now = self.now()?;
        let mut conn = self.lock();
        let found = subject_rows(&conn, &hash, Some(purpose), Some(KIND_TEMPLATE))?;
        let live: Vec<&Row> = found.iter().filter(|r| r.expires_at > now).collect();
        if live.is_empty() {
            // A negative answer only from authentic rows (see `negative`).
            return Err(match found.last() {
                Some(r) => {
                    self.authenticate_all(&found)?;
                    Error::Expired { record: r.id }
                }
                None => {
                    self.confirm_absent(&conn, &hash)?;
                    Error::Missing(format!("no record of this subject for purpose `{purpose}`"))
                }
            });
        }
        let threshold = served.purpose.threshold;
        let mut best: Option<(f64, RecordId)> = None;
        for r in live {
            let (_, t) = self.open_row(served, r)?;
            let s = t.similarity(&probe)?;
            if best.is_none_or(|(b, _)| s > b) {
                best = Some((s, r.id));
            }
        }
        let (score, record) = best.expect("at least one live record");
        let decision = Decision {
            score,
            threshold,
            matched: score >= threshold,
        };
        let tx = immediate(&mut conn)?;
        let mut ev = NewEvent::new(ctx.actor, Action::Verify, ctx.reason);
        ev.purpose = Some(purpose);
        ev.records = vec![record];
        ev.subjects = vec![hash];
        ev.outcome = if decision.matched {
            "match"
        } else {
            "no-match"
        };
        ev.detail.insert("score".into(), json!(score));
        ev.detail.insert("threshold".into(), json!(threshold));
        let event = audit::append(&tx, &self.audit_key, now, &ev)?;
        tx.commit()?;
        Ok(Verification {
            decision,
            record,
            event,
        })
    }

    /// 1:N over the purpose's live records: up to `k` candidates scoring at
    /// least `threshold` (the purpose's threshold when `None`). The result
    /// is a list for human review (see [`Store::review`]).
    pub fn identify(
        &self,
        purpose: &str,
        sample: Sample<'_>,
        k: usize,
        threshold: Option<f64>,
        ctx: &Context<'_>,
    ) -> Result<Identification> {
        ctx.check()?;
        if k == 0 || k as u64 > audit::MAX_DETAIL_INTEGER {
            return Err(Error::param("k", "must be in 1..=2^53"));
        }
        let served = self.served(purpose)?;
        let probe = self.template_of(served, sample)?;
        let threshold = threshold.unwrap_or(served.purpose.threshold);
        let now = self.now()?;
        let mut conn = self.lock();
        let candidates = {
            let mut caches = self.caches.lock().unwrap_or_else(|p| p.into_inner());
            let cache = caches
                .entry(purpose.to_owned())
                .or_insert_with(|| GalleryCache::new(&served.protector));
            self.sync(&mut conn, served, cache, now)?;
            cache.drop_expired(now);
            cache
                .gallery
                .search(&probe, k, Some(threshold))?
                .into_iter()
                .map(|c| {
                    let id = c.id as RecordId;
                    StoreCandidate {
                        subject: cache.entries[&id].subject.to_string(),
                        record: id,
                        score: c.score,
                    }
                })
                .collect::<Vec<_>>()
        };
        let tx = immediate(&mut conn)?;
        let mut ev = NewEvent::new(ctx.actor, Action::Identify, ctx.reason);
        ev.purpose = Some(purpose);
        ev.records = candidates.iter().map(|c| c.record).collect();
        ev.subjects = candidates
            .iter()
            .map(|c| self.subject_hash(&c.subject))
            .collect::<Result<_>>()?;
        ev.outcome = if candidates.is_empty() {
            "no-candidates"
        } else {
            "candidates"
        };
        ev.detail.insert("k".into(), json!(k));
        ev.detail.insert("threshold".into(), json!(threshold));
        // The audit log refuses long numeric arrays (a guard against logging
        // feature vectors): record the best scores, and the count of the rest.
        let logged = candidates.len().min(audit::MAX_ARRAY_NUMBERS);
        ev.detail.insert(
            "scores".into(),
            json!(candidates[..logged]
                .iter()
                .map(|c| c.score)
                .collect::<Vec<_>>()),
        );
        ev.detail
            .insert("candidates".into(), json!(candidates.len()));
        let event = audit::append(&tx, &self.audit_key, now, &ev)?;
        tx.commit()?;
        Ok(Identification {
            candidates,
            threshold,
            event,
        })
    }

    /// Brings a purpose's gallery in step with the file: a full load the
    /// first time (or after the change log was pruned past it), then only
    /// the changes since the last sync, whoever made them.
    fn sync(
        &self,
        conn: &mut Connection,
        served: &Served,
        cache: &mut GalleryCache,
        now: Timestamp,
    ) -> Result<()> {
        let purpose = served.purpose.name.as_str();
        // One read transaction: a consistent snapshot of records and log.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        let newest: i64 = tx.query_row(
            "SELECT coalesce(max(seq), 0) FROM gallery_changes",
            [],
            |r| r.get(0),
        )?;
        let floor: i64 = tx.query_row(
            "SELECT coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'changes_floor'), 0)",
            [],
            |r| r.get(0),
        )?;
        match cache.last_change {
            Some(last) if last >= floor => {
                let mut stmt = tx.prepare_cached(
                    "SELECT record_id, added FROM gallery_changes WHERE purpose = ?1 AND seq > ?2 AND seq <= ?3 ORDER BY seq",
                )?;
                let changes: Vec<(RecordId, bool)> = stmt
                    .query_map(params![purpose, last, newest], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })?
                    .collect::<rusqlite::Result<_>>()?;
                drop(stmt);
                for (id, added) in changes {
                    if !added {
                        cache.remove(id);
                        continue;
                    }
                    if cache.entries.contains_key(&id) {
                        continue;
                    }
                    let found = rows(
                        &tx,
                        &format!("SELECT {ROW_COLUMNS} FROM records WHERE id = ?1 AND kind = 0"),
                        [id],
                    )?;
                    for r in found.iter().filter(|r| r.expires_at > now) {
                        self.add_to_cache(served, cache, r)?;
                    }
                }
            }
            _ => {
                cache.clear();
                // A table scan, not the purpose index: damaged index keys
                // must not leave records out of the 1:N gallery unnoticed;
                // nor may damaged rows (see `negative`).
                self.check_left_out(&tx, purpose, now)?;
                let all = rows(
                    &tx,
                    &format!("SELECT {ROW_COLUMNS} FROM records NOT INDEXED WHERE purpose = ?1 AND kind = 0 AND expires_at > ?2"),
                    params![purpose, now],
                )?;
                for r in &all {
                    self.add_to_cache(served, cache, r)?;
                }
            }
        }
        cache.last_change = Some(newest);
        tx.commit()?;
        Ok(())
    }

    fn add_to_cache(&self, served: &Served, cache: &mut GalleryCache, row: &Row) -> Result<()> {
        if row.purpose != served.purpose.name {
            return Err(Error::Integrity { record: row.id });
        }
        let (subject, template) = self.open_row(served, row)?;
        cache.gallery.add(row.id as u64, &template)?;
        cache.entries.insert(
            row.id,
            Entry {
                subject,
                expires_at: row.expires_at,
            },
        );
        Ok(())
    }

    /// Records a human review of identification event `identification`.
    pub fn review(
        &self,
        identification: u64,
        reviewer: &str,
        outcome: ReviewOutcome,
        ctx: &Context<'_>,
    ) -> Result<u64> {
        ctx.check()?;
        if reviewer.trim().is_empty() {
            return Err(Error::param("reviewer", "must not be empty"));
        }
        let now = self.now()?;
        let mut conn = self.lock();
        let tx = immediate(&mut conn)?;
        let filter = EventFilter {
            after_seq: identification.checked_sub(1),
            limit: Some(1),
            ..EventFilter::default()
        };
        let ident = audit::events(&tx, &filter)?
            .into_iter()
            .find(|e| e.seq == identification && e.action == Action::Identify)
            .ok_or_else(|| Error::Missing(format!("identification event {identification}")))?;
        let mut ev = NewEvent::new(ctx.actor, Action::Review, ctx.reason);
        ev.purpose = ident.purpose.as_deref();
        ev.detail
            .insert("identification".into(), json!(identification));
        ev.detail.insert("reviewer".into(), json!(reviewer));
        ev.outcome = match outcome {
            ReviewOutcome::Confirmed(record) => {
                let pos = ident
                    .records
                    .iter()
                    .position(|&r| r == record)
                    .ok_or_else(|| {
                        Error::param("outcome", "the confirmed record was not a candidate")
                    })?;
                ev.records = vec![record];
                ev.subjects = ident.subjects.get(pos).copied().into_iter().collect();
                "confirmed"
            }
            ReviewOutcome::Rejected => "rejected",
            ReviewOutcome::Inconclusive => "inconclusive",
        };
        let seq = audit::append(&tx, &self.audit_key, now, &ev)?;
        tx.commit()?;
        Ok(seq)
    }

    /// The first active hold on the subject `hash` or on one of `records`.
    /// The holds table is read whole, without its indexes (it is small):
    /// a damaged index page must not hide a hold and let an erasure
    /// through.
    fn active_hold(
        tx: &Transaction<'_>,
        hash: &[u8; 32],
        records: &[RecordId],
    ) -> Result<Option<(i64, String, String)>> {
        let mut stmt = tx.prepare_cached(
            "SELECT id, reason, subject_hash, record_id FROM holds NOT INDEXED
             WHERE released_at IS NULL ORDER BY id",
        )?;
        let mut holds = stmt.query([])?;
        while let Some(h) = holds.next()? {
            let subject: Option<Vec<u8>> = h.get(2)?;
            let record: Option<RecordId> = h.get(3)?;
            let target = match (subject, record) {
                (Some(s), _) if s == hash[..] => "subject".to_owned(),
                (_, Some(r)) if records.contains(&r) => format!("record {r}"),
                _ => continue,
            };
            return Ok(Some((h.get(0)?, h.get(1)?, target)));
        }
        Ok(None)
    }

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
        let found = subject_ids(&tx, &hash, purpose, None)?;
        if found.is_empty() {
            // "Nothing to erase" only if no row of this subject is damaged.
            self.confirm_absent(&tx, &hash)?;
        }
        let ids: Vec<RecordId> = found.iter().map(|(id, _)| *id).collect();
        if let Some((hold, reason, target)) = Self::active_hold(&tx, &hash, &ids)? {
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
            tx.execute("DELETE FROM records WHERE id = ?1", [id])?;
            tx.execute(
                "INSERT INTO gallery_changes (purpose, record_id, added) VALUES (?1, ?2, 0)",
                params![p, id],
            )?;
            erased.entry(p.clone()).or_default().push(*id);
        }
        ev.records = found.iter().map(|(id, _)| *id).collect();
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

    /// Drops deleted records from this handle's galleries at once.
    fn forget(&self, deleted: &BTreeMap<String, Vec<RecordId>>) {
        let mut caches = self.caches.lock().unwrap_or_else(|p| p.into_inner());
        for (purpose, ids) in deleted {
            if let Some(c) = caches.get_mut(purpose) {
                ids.iter().for_each(|&id| c.remove(id));
            }
        }
    }

    /// Places a legal hold; returns its id. A held record survives sweeps
    /// and blocks erasure until the hold is released.
    pub fn hold(&self, target: HoldTarget<'_>, ctx: &Context<'_>) -> Result<i64> {
        ctx.check()?;
        let now = self.now()?;
        let mut conn = self.lock();
        let tx = immediate(&mut conn)?;
        let mut ev = NewEvent::new(ctx.actor, Action::Hold, ctx.reason);
        match target {
            HoldTarget::Subject(s) => {
                let hash = self.subject_hash(s)?;
                tx.execute(
                    "INSERT INTO holds (subject_hash, reason, actor, created_at) VALUES (?1, ?2, ?3, ?4)",
                    params![&hash[..], ctx.reason, ctx.actor, now],
                )?;
                ev.subjects = vec![hash];
            }
            HoldTarget::Record(id) => {
                let purpose: Option<String> = tx
                    .query_row("SELECT purpose FROM records WHERE id = ?1", [id], |r| {
                        r.get(0)
                    })
                    .optional()?;
                let purpose = purpose.ok_or_else(|| Error::Missing(format!("record {id}")))?;
                tx.execute(
                    "INSERT INTO holds (record_id, reason, actor, created_at) VALUES (?1, ?2, ?3, ?4)",
                    params![id, ctx.reason, ctx.actor, now],
                )?;
                ev.records = vec![id];
                ev.detail.insert("purpose".into(), json!(purpose));
            }
        }
        let hold = tx.last_insert_rowid();
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
        let n = tx.execute(
            "UPDATE holds SET released_at = ?2 WHERE id = ?1 AND released_at IS NULL",
            params![hold, now],
        )?;
        if n == 0 {
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
        let batch = self.options.batch_size as i64;
        let mut conn = self.lock();
        loop {
            let tx = immediate(&mut conn)?;
            let expired = rows(
                &tx,
                &format!(
                    "SELECT {ROW_COLUMNS} FROM records r
                     WHERE r.expires_at <= ?1 AND NOT EXISTS (
                         SELECT 1 FROM holds AS h NOT INDEXED WHERE h.released_at IS NULL
                           AND (h.record_id = r.id OR h.subject_hash = r.subject_hash))
                     ORDER BY r.expires_at, r.id LIMIT ?2"
                ),
                params![now, batch],
            )?;
            // Only a record whose expiry is authentic is deleted: a damaged
            // expiry is an integrity failure, not a retention decision.
            self.authenticate_all(&expired)?;
            let ids: Vec<(RecordId, String)> =
                expired.into_iter().map(|r| (r.id, r.purpose)).collect();
            if ids.is_empty() {
                drop(tx);
                break;
            }
            for (id, purpose) in &ids {
                tx.execute("DELETE FROM records WHERE id = ?1", [id])?;
                tx.execute(
                    "INSERT INTO sweep_journal (record_id, purpose) VALUES (?1, ?2)",
                    params![id, purpose],
                )?;
                tx.execute(
                    "INSERT INTO gallery_changes (purpose, record_id, added) VALUES (?1, ?2, 0)",
                    params![purpose, id],
                )?;
            }
            tx.commit()?;
        }
        let tx = immediate(&mut conn)?;
        let mut deleted: BTreeMap<String, Vec<RecordId>> = BTreeMap::new();
        {
            let mut stmt =
                tx.prepare("SELECT record_id, purpose FROM sweep_journal ORDER BY record_id")?;
            for r in stmt.query_map([], |r| {
                Ok((r.get::<_, RecordId>(0)?, r.get::<_, String>(1)?))
            })? {
                let (id, p) = r?;
                deleted.entry(p).or_default().push(id);
            }
        }
        tx.execute("DELETE FROM sweep_journal", [])?;
        let held: i64 = tx.query_row(
            "SELECT count(*) FROM records r WHERE r.expires_at <= ?1 AND EXISTS (
                 SELECT 1 FROM holds AS h NOT INDEXED WHERE h.released_at IS NULL
                   AND (h.record_id = r.id OR h.subject_hash = r.subject_hash))",
            [now],
            |r| r.get(0),
        )?;
        // Keep the gallery change log bounded; handles behind the floor reload.
        let newest: i64 = tx.query_row(
            "SELECT coalesce(max(seq), 0) FROM gallery_changes",
            [],
            |r| r.get(0),
        )?;
        let floor = newest - CHANGES_KEPT;
        if floor > 0 && tx.execute("DELETE FROM gallery_changes WHERE seq <= ?1", [floor])? > 0 {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('changes_floor', ?1)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [floor.to_string().into_bytes()],
            )?;
        }
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
            held: held as u64,
            event,
            checkpointed,
        })
    }

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

    fn rotate_one(&self, purpose: &str, ctx: &Context<'_>) -> Result<(String, u32, u32, u64)> {
        let mut conn = self.lock();
        let (from, to) = {
            let tx = immediate(&mut conn)?;
            let active: i64 = tx.query_row(
                "SELECT version FROM storage_keys WHERE purpose = ?1 AND state = 'active'",
                [purpose],
                |r| r.get(0),
            )?;
            let retiring: Option<i64> = tx
                .query_row(
                    "SELECT max(version) FROM storage_keys WHERE purpose = ?1 AND state = 'retiring'",
                    [purpose],
                    |r| r.get(0),
                )
                .optional()?
                .flatten();
            let pair = match retiring {
                Some(old) => (old, active),
                None => {
                    let new = active + 1;
                    tx.execute(
                        "UPDATE storage_keys SET state = 'retiring' WHERE purpose = ?1 AND version = ?2",
                        params![purpose, active],
                    )?;
                    tx.execute(
                        "INSERT INTO storage_keys (purpose, version, state, created_at) VALUES (?1, ?2, 'active', ?3)",
                        params![purpose, new, self.now()?],
                    )?;
                    let mut ev = NewEvent::new(ctx.actor, Action::RotateKeyStart, ctx.reason);
                    ev.purpose = Some(purpose);
                    ev.detail.insert("from".into(), json!(active));
                    ev.detail.insert("to".into(), json!(new));
                    audit::append(&tx, &self.audit_key, self.now()?, &ev)?;
                    (active, new)
                }
            };
            tx.commit()?;
            pair
        };
        let mut reencrypted = 0u64;
        // Walk the table once in id order (rowid range scans, no sort);
        // records at the new version are skipped, so a resumed rotation
        // picks up where the interrupted one stopped.
        let mut after: RecordId = 0;
        loop {
            let tx = immediate(&mut conn)?;
            let batch = rows(
                &tx,
                &format!(
                    "SELECT {ROW_COLUMNS} FROM records
                     WHERE id > ?4 AND +purpose = ?1 AND key_version <> ?2 ORDER BY id LIMIT ?3"
                ),
                params![purpose, to, self.options.batch_size as i64, after],
            )?;
            let Some(last) = batch.last() else {
                break;
            };
            after = last.id;
            for mut r in batch {
                let (subject, bytes) = self.cipher(purpose, r.key_version).open(
                    &self.binding(&r),
                    &r.nonce,
                    &r.ciphertext,
                )?;
                self.seal_into(&tx, &mut r, &subject, &bytes)?;
                reencrypted += 1;
            }
            tx.commit()?;
        }
        let tx = immediate(&mut conn)?;
        tx.execute(
            "UPDATE storage_keys SET state = 'retired' WHERE purpose = ?1 AND state = 'retiring'",
            [purpose],
        )?;
        let mut ev = NewEvent::new(ctx.actor, Action::RotateKeyFinish, ctx.reason);
        ev.purpose = Some(purpose);
        ev.detail.insert("from".into(), json!(from));
        ev.detail.insert("to".into(), json!(to));
        ev.detail.insert("reencrypted".into(), json!(reencrypted));
        audit::append(&tx, &self.audit_key, self.now()?, &ev)?;
        tx.commit()?;
        // Old bytes leave the files at this or the next checkpoint.
        checkpoint_after_commit(&conn, self.options.busy_timeout);
        Ok((purpose.to_owned(), from as u32, to as u32, reencrypted))
    }

    /// Transparency figures: activity per purpose in `[from, to)` from the
    /// audit log, and live gallery sizes now.
    pub fn stats(&self, from: Timestamp, to: Timestamp) -> Result<StoreStats> {
        let now = self.now()?;
        let conn = self.lock();
        let activity = audit::stats(&conn, from, to)?;
        let mut stmt = conn.prepare("SELECT purpose, count(*) FROM records WHERE kind = 0 AND expires_at > ?1 GROUP BY purpose")?;
        let live = stmt
            .query_map([now], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(StoreStats { activity, live })
    }

    /// Number of records (live or expired, not yet swept) per purpose.
    pub fn record_counts(&self) -> Result<BTreeMap<String, u64>> {
        let conn = self.lock();
        let mut stmt = conn.prepare("SELECT purpose, count(*) FROM records GROUP BY purpose")?;
        let counts = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(counts)
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
