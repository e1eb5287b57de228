//! The MAC'd encoding of an event (`m_n` in the module documentation) and
//! its chain MAC.

use super::{Action, AuditEvent};
use crate::keys::DerivedKey;

/// Domain separation: the first bytes of every `m_n`.
const EVENT_LABEL: &[u8] = b"btp/v1/audit-event";

/// The MAC'd content of an event, borrowed from a `NewEvent` or an `AuditEvent`.
pub(super) struct Fields<'e> {
    pub(super) seq: u64,
    pub(super) time: i64,
    pub(super) actor: &'e str,
    pub(super) action: Action,
    pub(super) purpose: Option<&'e str>,
    pub(super) reason: &'e str,
    pub(super) records: &'e [i64],
    pub(super) subjects: &'e [[u8; 32]],
    pub(super) outcome: &'e str,
    /// Canonical (JCS) text.
    pub(super) detail: &'e str,
}

impl<'e> Fields<'e> {
    pub(super) fn of(event: &'e AuditEvent, detail: &'e str) -> Self {
        Self {
            seq: event.seq,
            time: event.time,
            actor: &event.actor,
            action: event.action,
            purpose: event.purpose.as_deref(),
            reason: &event.reason,
            records: &event.records,
            subjects: &event.subjects,
            outcome: &event.outcome,
            detail,
        }
    }

    /// `HMAC(key, m_n)`; `None` when a field is over 4 GiB (unencodable).
    pub(super) fn mac(&self, key: &DerivedKey, prev: &[u8; 32]) -> Option<[u8; 32]> {
        fn count(out: &mut Vec<u8>, n: usize) -> Option<()> {
            out.extend_from_slice(&u32::try_from(n).ok()?.to_be_bytes());
            Some(())
        }
        fn text(out: &mut Vec<u8>, s: &str) -> Option<()> {
            count(out, s.len())?;
            out.extend_from_slice(s.as_bytes());
            Some(())
        }
        let mut m = Vec::with_capacity(
            160 + self.actor.len()
                + self.reason.len()
                + self.detail.len()
                + 8 * self.records.len()
                + 32 * self.subjects.len(),
        );
        m.extend_from_slice(EVENT_LABEL);
        m.push(0);
        m.extend_from_slice(&self.seq.to_be_bytes());
        m.extend_from_slice(&self.time.to_be_bytes());
        text(&mut m, self.actor)?;
        text(&mut m, self.action.as_str())?;
        match self.purpose {
            None => m.push(0),
            Some(p) => {
                m.push(1);
                text(&mut m, p)?;
            }
        }
        text(&mut m, self.reason)?;
        count(&mut m, self.records.len())?;
        for r in self.records {
            m.extend_from_slice(&r.to_be_bytes());
        }
        count(&mut m, self.subjects.len())?;
        for s in self.subjects {
            m.extend_from_slice(s);
        }
        text(&mut m, self.outcome)?;
        text(&mut m, self.detail)?;
        m.extend_from_slice(prev);
        Some(key.mac(&[&m]))
    }
}

/// Constant-time equality of two MACs.
pub(super) fn ct_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
