//! Lookups: 1:1 verification against a subject's records, 1:N
//! identification over a purpose's gallery (a candidate list, never an
//! identity), the human review of an identification, and reading a
//! retained probe back. Each match writes its audit event.

use serde_json::json;

use super::audit::{self, Action, EventFilter, NewEvent};
use super::cache::GalleryCache;
use super::records::{self, RecordKind, Row};
use super::{immediate, Context, RecordId, Sample, Store};
use crate::decision::Decision;
use crate::error::{Error, Result};
use crate::template::ProtectedTemplate;

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

impl Store {
    /// The retained probe `record` (decrypted), if it is live.
    pub fn retained_probe(&self, record: RecordId) -> Result<(String, ProtectedTemplate)> {
        let conn = self.lock();
        let row = records::by_id(&conn, record, RecordKind::Probe)?
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
        let probe = served.template_of(sample)?;
        let now = self.now()?;
        let mut conn = self.lock();
        let found = records::subject_rows(&conn, &hash, Some(purpose), Some(RecordKind::Template))?;
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
        let probe = served.template_of(sample)?;
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
}
