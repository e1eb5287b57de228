//! The store's tamper-evident audit log: a keyed hash chain.
//!
//! Every operation on biometric data (collection, change, consultation,
//! disclosure, combination, erasure) appends one [`AuditEvent`] saying who
//! ([`actor`](AuditEvent::actor)), when ([`time`](AuditEvent::time)), why
//! ([`reason`](AuditEvent::reason), [`purpose`](AuditEvent::purpose)), what
//! ([`action`](AuditEvent::action), the record ids and keyed subject hashes
//! concerned) and with what result ([`outcome`](AuditEvent::outcome), scores
//! and thresholds in [`detail`](AuditEvent::detail)). It never holds feature
//! data, templates or subject ids.
//!
//! # The chain
//!
//! Event `n` carries `mac_n = HMAC-SHA256(K, m_n)` where `K` is the store's
//! audit key (`MasterKey::derive(&KeyUsage::Audit { store_id })`) and
//!
//! ```text
//! m_n = "btp/v1/audit-event" || 0x00
//!     || u64be(seq) || i64be(time)
//!     || str(actor) || str(action)
//!     || (0x00 | 0x01 || str(purpose))
//!     || str(reason)
//!     || u32be(#records) || i64be(record)*
//!     || u32be(#subjects) || subject(32 bytes)*
//!     || str(outcome)
//!     || str(JCS(detail))
//!     || mac_{n-1}
//! str(x) = u32be(byte length of x) || UTF-8 bytes of x
//! ```
//!
//! `mac_0` is [`GENESIS`] (32 zero bytes) or, once the log has been pruned,
//! the MAC of the last pruned event (the *anchor*). Every field is either of
//! fixed size or length-prefixed, so distinct events have distinct `m_n`.
//! `JCS` is the RFC 8785 canonical JSON text, defined independently of the
//! JSON library's formatting (see `jcs.rs`): the MAC does not depend on how
//! the map was built nor on a serde_json upgrade. Because `seq` and
//! `mac_{n-1}` are MAC'd, a changed field, a deleted, inserted, replayed or
//! reordered event, and a changed MAC each make verification fail with
//! [`Error::AuditBroken`] naming the first sequence number proven wrong (for
//! a deleted event, its own number). Chaining also catches a genuine event
//! spliced in from another history of the same store (a restored backup),
//! and makes a head cover every event before it. Without the key nobody can
//! append or repair an event; with a copy of the latest [`AuditHead`] kept
//! elsewhere (`head`, `check_head`) truncation and rollback of the file are
//! detected too.
//!
//! # Table layout (created by `SCHEMA`)
//!
//! | column | type | content |
//! |---|---|---|
//! | `seq` | INTEGER PRIMARY KEY | 1, 2, 3, … assigned by `append`; no gaps |
//! | `time` | INTEGER | unix seconds, from the caller's clock |
//! | `actor`, `action`, `reason`, `outcome` | TEXT | `action` as its kebab-case string |
//! | `purpose` | TEXT NULL | |
//! | `records` | TEXT | canonical JSON array of integers: `[3,17]` |
//! | `subjects` | TEXT | canonical JSON array of lowercase hex subject hashes |
//! | `detail` | TEXT | JCS text of the detail object |
//! | `mac` | BLOB(32) | |
//!
//! Indexes on `time` and `(purpose, time)` serve range reads and statistics.
//! The MAC is over the encodings above; `verify` recomputes them from the
//! stored columns and also requires each stored text to be exactly its
//! canonical form, so no byte of a row can change unnoticed, not even
//! whitespace. Triggers make the table append-only for honest code: `UPDATE`
//! is refused and `DELETE` only reaches events at or before the prune anchor.
//! They are a guard against bugs; an attacker with the file drops them, and
//! the MACs still catch the change.
//!
//! # Retention and the prune anchor
//!
//! The log has its own retention: `prune` deletes the oldest events. It
//! stores the `(seq, mac)` of the last deleted event in the one-row table
//! `audit_anchor`, which is where the chain of the remaining events starts,
//! and appends an [`Action::AuditPrune`] event whose MAC'd detail states the
//! same anchor (`pruned_through`, `anchor_mac`) with `count` and `before`.
//! `verify` requires the anchor to agree with the latest audit-prune event
//! and the first event to follow the anchor. So deleting old events by hand
//! (no anchor: the log no longer starts at 1), forging an anchor for them
//! (no audit-prune event states it) and editing the anchor (the first event
//! no longer chains from it) are all detected. Pruning removes a prefix of
//! the chain: the events before the first one with `time >= before` (if the
//! caller's clock went backwards, a later-numbered old event waits until the
//! events before it expire). `prune` verifies the whole log first and
//! refuses to prune a broken one, so pruning cannot launder tampering.
//!
//! # Concurrency
//!
//! `append` reads the previous MAC and inserts inside the caller's
//! transaction (the store uses `BEGIN IMMEDIATE`), so two writers cannot
//! fork the chain; `seq` being the primary key makes a fork impossible even
//! for a careless caller.
//!
//! # What detail may hold
//!
//! Scores, thresholds, `k`, counts: small facts. As a guard against logging
//! a feature vector or a template by mistake, `append` refuses a detail
//! with an array of more than [`MAX_ARRAY_NUMBERS`] numbers, more than
//! [`MAX_DETAIL_NUMBERS`] numbers in all, a string (or member name) longer
//! than [`MAX_DETAIL_STRING`] bytes (a hex or base64 encoded vector), more
//! than [`MAX_DETAIL_DEPTH`] levels of nesting, or a
//! canonical text over [`MAX_DETAIL_LEN`] bytes. Free text belongs in
//! `reason`. It is a guard against accidents, not against a determined
//! caller. Numbers are JSON numbers, that is doubles: `5.0` is stored and
//! read back as `5`, and integers beyond ±2^53 (which a double may round)
//! are refused, as I-JSON (RFC 7493) advises.
//!
//! # Export
//!
//! `export_jsonl` writes one canonical JSON object per event;
//! [`parse_jsonl_line`] accepts exactly that text (any other spelling of the
//! same data is refused, so two readers cannot see different events in one
//! line) and [`verify_events`] verifies the result offline with the key.
//! A complete export of a pruned log verifies by itself: its latest
//! audit-prune event states the anchor the first event chains from.

// Until the store's code (not on this branch) calls the crate-private API.

mod jcs;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;

use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row, Transaction};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::keys::DerivedKey;

/// Length of an event MAC and of a subject hash.
pub const MAC_LEN: usize = 32;
/// The MAC that precedes event 1.
pub const GENESIS: [u8; MAC_LEN] = [0; MAC_LEN];
/// Longest `actor`, `purpose`, `reason` or `outcome`, in bytes.
pub const MAX_TEXT_LEN: usize = 4096;
/// Most numbers one array in `detail` may hold.
pub const MAX_ARRAY_NUMBERS: usize = 64;
/// Most numbers `detail` may hold in all.
pub const MAX_DETAIL_NUMBERS: usize = 96;
/// Longest string or member name in `detail`, in bytes.
pub const MAX_DETAIL_STRING: usize = 256;
/// Longest canonical text of `detail`, in bytes.
pub const MAX_DETAIL_LEN: usize = 8192;
/// Deepest nesting of arrays and objects in `detail`.
pub const MAX_DETAIL_DEPTH: usize = jcs::MAX_DEPTH;
/// Largest magnitude of an integer in `detail` (2^53): every integer up to
/// it is exactly a double.
pub const MAX_DETAIL_INTEGER: u64 = 1 << 53;

const EVENT_LABEL: &[u8] = b"btp/v1/audit-event";

/// The audit tables, indexes and append-only triggers. Idempotent; run
/// inside the store's schema-creation transaction.
pub(crate) const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS audit (
    seq      INTEGER PRIMARY KEY CHECK (seq > 0),
    time     INTEGER NOT NULL,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    purpose  TEXT,
    reason   TEXT NOT NULL,
    records  TEXT NOT NULL,
    subjects TEXT NOT NULL,
    outcome  TEXT NOT NULL,
    detail   TEXT NOT NULL,
    mac      BLOB NOT NULL CHECK (length(mac) = 32)
) STRICT;
CREATE INDEX IF NOT EXISTS audit_time ON audit (time);
CREATE INDEX IF NOT EXISTS audit_purpose_time ON audit (purpose, time);
CREATE TABLE IF NOT EXISTS audit_anchor (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL CHECK (seq > 0),
    mac BLOB NOT NULL CHECK (length(mac) = 32)
) STRICT;
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit events cannot be changed');
END;
CREATE TRIGGER IF NOT EXISTS audit_prune_only BEFORE DELETE ON audit
WHEN OLD.seq > COALESCE((SELECT seq FROM audit_anchor WHERE id = 1), 0)
BEGIN
    SELECT RAISE(ABORT, 'audit events are deleted only by pruning');
END;
CREATE TRIGGER IF NOT EXISTS audit_anchor_forward BEFORE UPDATE ON audit_anchor
WHEN NEW.id IS NOT OLD.id OR NEW.seq <= OLD.seq
BEGIN
    SELECT RAISE(ABORT, 'the prune anchor only moves forward');
END;
CREATE TRIGGER IF NOT EXISTS audit_anchor_kept BEFORE DELETE ON audit_anchor
BEGIN
    SELECT RAISE(ABORT, 'the prune anchor cannot be deleted');
END;
"#;

const COLUMNS: &str =
    "seq, time, actor, action, purpose, reason, records, subjects, outcome, detail, mac";

// ---------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------

/// What happened.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// The store was created (`store-created`).
    StoreCreated,
    /// A purpose was configured (`purpose-added`).
    PurposeAdded,
    /// A template was enrolled: collection (`enroll`).
    Enroll,
    /// A probe was retained (`retain-probe`).
    RetainProbe,
    /// A 1:1 comparison: consultation (`verify`).
    Verify,
    /// A 1:N search: consultation (`identify`).
    Identify,
    /// A human reviewed a result (`review`).
    Review,
    /// Records were erased on request (`erase`).
    Erase,
    /// A legal hold was placed (`hold`).
    Hold,
    /// A legal hold was released (`release`).
    Release,
    /// Expired records were deleted by retention (`sweep`).
    Sweep,
    /// A storage key rotation began (`rotate-key-start`).
    RotateKeyStart,
    /// A storage key rotation finished (`rotate-key-finish`).
    RotateKeyFinish,
    /// Old audit events were pruned; written by `prune` only (`audit-prune`).
    AuditPrune,
}

impl Action {
    /// Every action, in declaration order.
    pub const ALL: [Action; 14] = [
        Action::StoreCreated,
        Action::PurposeAdded,
        Action::Enroll,
        Action::RetainProbe,
        Action::Verify,
        Action::Identify,
        Action::Review,
        Action::Erase,
        Action::Hold,
        Action::Release,
        Action::Sweep,
        Action::RotateKeyStart,
        Action::RotateKeyFinish,
        Action::AuditPrune,
    ];

    /// The kebab-case name, as stored and exported.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::StoreCreated => "store-created",
            Action::PurposeAdded => "purpose-added",
            Action::Enroll => "enroll",
            Action::RetainProbe => "retain-probe",
            Action::Verify => "verify",
            Action::Identify => "identify",
            Action::Review => "review",
            Action::Erase => "erase",
            Action::Hold => "hold",
            Action::Release => "release",
            Action::Sweep => "sweep",
            Action::RotateKeyStart => "rotate-key-start",
            Action::RotateKeyFinish => "rotate-key-finish",
            Action::AuditPrune => "audit-prune",
        }
    }

    /// The action named `s` (exactly, case-sensitive).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event to append; the log assigns `seq`, `time` and the MAC.
///
/// ```
/// use btp::store::audit::{Action, NewEvent};
/// let ev = NewEvent::new("gate-7", Action::Verify, "border crossing")
///     .purpose("border-entry")
///     .records([42])
///     .outcome("match")
///     .detail("score", 0.83)
///     .detail("threshold", 0.71);
/// assert_eq!(ev.detail["score"], 0.83);
/// ```
#[derive(Clone, Debug)]
pub struct NewEvent<'a> {
    /// Who: the operator, service or process acting. Not empty.
    pub actor: &'a str,
    /// What happened.
    pub action: Action,
    /// The purpose concerned, if any. Not empty when present.
    pub purpose: Option<&'a str>,
    /// Why: the legal basis, case or request. Not empty.
    pub reason: &'a str,
    /// Record ids concerned.
    pub records: Vec<i64>,
    /// Keyed subject hashes concerned; never subject ids.
    pub subjects: Vec<[u8; 32]>,
    /// The result: `ok`, `match`, `no-match`, `candidates`, `confirmed`,
    /// `rejected`, `refused: held`, … Not empty; `ok` by default.
    pub outcome: &'a str,
    /// Scores, thresholds, `k`, counts; never feature data (see the module
    /// documentation for the limits).
    pub detail: Map<String, Value>,
}

impl<'a> NewEvent<'a> {
    /// An event with no purpose, records, subjects or detail and outcome `ok`.
    pub fn new(actor: &'a str, action: Action, reason: &'a str) -> Self {
        Self {
            actor,
            action,
            purpose: None,
            reason,
            records: Vec::new(),
            subjects: Vec::new(),
            outcome: "ok",
            detail: Map::new(),
        }
    }

    /// Sets the purpose.
    pub fn purpose(mut self, purpose: &'a str) -> Self {
        self.purpose = Some(purpose);
        self
    }

    /// Sets the record ids.
    pub fn records(mut self, records: impl IntoIterator<Item = i64>) -> Self {
        self.records = records.into_iter().collect();
        self
    }

    /// Sets the subject hashes.
    pub fn subjects(mut self, subjects: impl IntoIterator<Item = [u8; 32]>) -> Self {
        self.subjects = subjects.into_iter().collect();
        self
    }

    /// Sets the outcome.
    pub fn outcome(mut self, outcome: &'a str) -> Self {
        self.outcome = outcome;
        self
    }

    /// Adds (or replaces) one detail member.
    pub fn detail(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.detail.insert(name.to_owned(), value.into());
        self
    }
}

/// A stored event.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditEvent {
    /// Position in the chain, from 1, without gaps.
    pub seq: u64,
    /// Unix seconds.
    pub time: i64,
    /// Who.
    pub actor: String,
    /// What happened.
    pub action: Action,
    /// The purpose concerned, if any.
    pub purpose: Option<String>,
    /// Why.
    pub reason: String,
    /// Record ids concerned.
    pub records: Vec<i64>,
    /// Keyed subject hashes concerned.
    pub subjects: Vec<[u8; 32]>,
    /// The result.
    pub outcome: String,
    /// Scores, thresholds, counts (numbers in canonical form: `5.0` reads back as `5`).
    pub detail: Map<String, Value>,
    /// The chain MAC of this event.
    pub mac: [u8; 32],
}

impl AuditEvent {
    /// The event as one export line (without the newline), exactly as
    /// `Store::export_audit` writes it; [`parse_jsonl_line`] reads it back.
    /// [`Error::InvalidParameter`] when the detail has no canonical form
    /// (events written by a store always have one).
    pub fn to_jsonl_line(&self) -> Result<String> {
        jsonl_line(self).map_err(|why| Error::param("detail", format!("no canonical form: {why}")))
    }

    /// The head of a log that ends with this event.
    pub fn head(&self) -> AuditHead {
        AuditHead {
            seq: self.seq,
            mac: self.mac,
        }
    }
}

/// The last event of a log: keep a copy outside the store (printed, sent to
/// another system) to detect later truncation or rollback with `check_head`.
/// Also the form of a prune anchor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuditHead {
    /// Sequence number of the event.
    pub seq: u64,
    /// Its MAC.
    pub mac: [u8; 32],
}

/// The result of a successful verification.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditReport {
    /// Events verified.
    pub events: u64,
    /// Sequence number of the first one.
    pub first_seq: Option<u64>,
    /// The last one.
    pub head: Option<AuditHead>,
    /// The last pruned sequence number, as stated by the latest audit-prune
    /// event verified (for a whole log: its prune anchor).
    pub pruned_through: Option<u64>,
}

/// Which events to read. Every condition is optional; they combine with AND.
#[derive(Clone, Debug, Default)]
pub struct EventFilter {
    /// Events with `time >= from`.
    pub from: Option<i64>,
    /// Events with `time < to`.
    pub to: Option<i64>,
    /// Events of this purpose.
    pub purpose: Option<String>,
    /// Events of this action.
    pub action: Option<Action>,
    /// Events with `seq > after_seq` (paging).
    pub after_seq: Option<u64>,
    /// At most this many events (the first by `seq`).
    pub limit: Option<usize>,
    /// Events concerning this record id.
    pub record: Option<i64>,
    /// Events concerning this subject hash (a data subject's access request).
    pub subject: Option<[u8; 32]>,
}

/// What `prune` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PruneReport {
    /// Events deleted now.
    pub pruned: u64,
    /// The prune anchor after the call: all events up to it are gone.
    pub pruned_through: Option<u64>,
}

/// Transparency statistics of one purpose over a period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PurposeActivity {
    /// The purpose; `""` for store-level events that have none.
    pub purpose: String,
    /// Number of events of each action that occurred (absent = none).
    pub counts: BTreeMap<&'static str, u64>,
    /// Records deleted by retention: from `detail["per_purpose"]` of
    /// `sweep` events when present (`{purpose: count}`), else the sum of
    /// `detail["deleted"]` of the purpose's sweep events.
    pub swept_records: u64,
    /// Records erased on request: from `detail["per_purpose"]` of `erase`
    /// events when present, else the record counts of the purpose's events.
    pub erased_records: u64,
}

// ---------------------------------------------------------------------------
// Encoding and MAC
// ---------------------------------------------------------------------------

/// The MAC'd content of an event, borrowed from a `NewEvent` or an `AuditEvent`.
struct Fields<'e> {
    seq: u64,
    time: i64,
    actor: &'e str,
    action: Action,
    purpose: Option<&'e str>,
    reason: &'e str,
    records: &'e [i64],
    subjects: &'e [[u8; 32]],
    outcome: &'e str,
    /// Canonical (JCS) text.
    detail: &'e str,
}

impl<'e> Fields<'e> {
    fn of(event: &'e AuditEvent, detail: &'e str) -> Self {
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
    fn mac(&self, key: &DerivedKey, prev: &[u8; 32]) -> Option<[u8; 32]> {
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

fn ct_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(2 * bytes.len());
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// 64 lowercase hex digits to 32 bytes; anything else is `None`.
fn unhex32(s: &str) -> Option<[u8; 32]> {
    fn digit(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    let s = s.as_bytes();
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in s.chunks_exact(2).enumerate() {
        out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

fn records_text(records: &[i64]) -> String {
    let mut s = String::with_capacity(2 + 8 * records.len());
    s.push('[');
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&r.to_string());
    }
    s.push(']');
    s
}

fn subjects_text(subjects: &[[u8; 32]]) -> String {
    let mut s = String::with_capacity(2 + 67 * subjects.len());
    s.push('[');
    for (i, h) in subjects.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push('"');
        s.push_str(&hex(h));
        s.push('"');
    }
    s.push(']');
    s
}

fn detail_text(detail: &Map<String, Value>) -> std::result::Result<String, jcs::Why> {
    jcs::canonical_object(detail)
}

/// The one export line of an event (without the newline).
fn jsonl_line(event: &AuditEvent) -> std::result::Result<String, jcs::Why> {
    let detail = detail_text(&event.detail)?;
    let mut s = String::with_capacity(256 + detail.len());
    s.push_str("{\"seq\":");
    s.push_str(&event.seq.to_string());
    s.push_str(",\"time\":");
    s.push_str(&event.time.to_string());
    s.push_str(",\"actor\":");
    jcs::write_string(&event.actor, &mut s);
    s.push_str(",\"action\":");
    jcs::write_string(event.action.as_str(), &mut s);
    s.push_str(",\"purpose\":");
    match &event.purpose {
        None => s.push_str("null"),
        Some(p) => jcs::write_string(p, &mut s),
    }
    s.push_str(",\"reason\":");
    jcs::write_string(&event.reason, &mut s);
    s.push_str(",\"records\":");
    s.push_str(&records_text(&event.records));
    s.push_str(",\"subjects\":");
    s.push_str(&subjects_text(&event.subjects));
    s.push_str(",\"outcome\":");
    jcs::write_string(&event.outcome, &mut s);
    s.push_str(",\"detail\":");
    s.push_str(&detail);
    s.push_str(",\"mac\":\"");
    s.push_str(&hex(&event.mac));
    s.push_str("\"}");
    Ok(s)
}

// ---------------------------------------------------------------------------
// Validation of new events
// ---------------------------------------------------------------------------

/// An audit text field (`actor`, `reason`, ...): non-empty, at most
/// [`MAX_TEXT_LEN`] bytes.
pub(crate) fn check_text(name: &'static str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::param(name, "must not be empty"));
    }
    if value.len() > MAX_TEXT_LEN {
        return Err(Error::param(
            name,
            format!("is {} bytes; at most {MAX_TEXT_LEN}", value.len()),
        ));
    }
    Ok(())
}

/// The feature-data guard; returns the canonical text.
fn check_detail(detail: &Map<String, Value>) -> Result<String> {
    fn walk(value: &Value, depth: usize, numbers: &mut usize) -> Result<()> {
        if depth > MAX_DETAIL_DEPTH {
            return Err(Error::param(
                "detail",
                format!("nested deeper than {MAX_DETAIL_DEPTH} levels"),
            ));
        }
        match value {
            Value::Number(n) => {
                *numbers += 1;
                let magnitude = n.as_u64().or_else(|| n.as_i64().map(i64::unsigned_abs));
                if magnitude.is_some_and(|m| m > MAX_DETAIL_INTEGER) {
                    return Err(Error::param(
                        "detail",
                        "an integer beyond ±2^53, which a JSON number cannot hold exactly",
                    ));
                }
            }
            Value::String(s) => check_string(s)?,
            Value::Array(items) => {
                let in_array = items.iter().filter(|v| v.is_number()).count();
                if in_array > MAX_ARRAY_NUMBERS {
                    return Err(Error::param(
                        "detail",
                        format!(
                            "an array of {in_array} numbers (at most {MAX_ARRAY_NUMBERS}): \
                             feature vectors must never be logged"
                        ),
                    ));
                }
                for item in items {
                    walk(item, depth + 1, numbers)?;
                }
            }
            Value::Object(map) => {
                for (name, item) in map {
                    check_string(name)?;
                    walk(item, depth + 1, numbers)?;
                }
            }
            Value::Null | Value::Bool(_) => {}
        }
        Ok(())
    }
    fn check_string(s: &str) -> Result<()> {
        if s.len() > MAX_DETAIL_STRING {
            return Err(Error::param(
                "detail",
                format!(
                    "a string of {} bytes (at most {MAX_DETAIL_STRING}): free text belongs in \
                     `reason`, and encoded feature data or templates must never be logged",
                    s.len()
                ),
            ));
        }
        Ok(())
    }
    let mut numbers = 0;
    for (name, value) in detail {
        check_string(name)?;
        walk(value, 1, &mut numbers)?;
    }
    if numbers > MAX_DETAIL_NUMBERS {
        return Err(Error::param(
            "detail",
            format!(
                "{numbers} numbers (at most {MAX_DETAIL_NUMBERS}): feature vectors must never \
                 be logged"
            ),
        ));
    }
    let text = detail_text(detail).map_err(|why| Error::param("detail", why))?;
    if text.len() > MAX_DETAIL_LEN {
        return Err(Error::param(
            "detail",
            format!(
                "{} bytes of canonical JSON; at most {MAX_DETAIL_LEN}",
                text.len()
            ),
        ));
    }
    Ok(text)
}

// ---------------------------------------------------------------------------
// Reading rows
// ---------------------------------------------------------------------------

fn broken(seq: u64, reason: impl Into<String>) -> Error {
    Error::AuditBroken {
        seq,
        reason: reason.into(),
    }
}

fn u64_seq(seq: i64) -> u64 {
    // Rows with seq <= 0 cannot be written by `append`; they are reported at 1.
    u64::try_from(seq).ok().filter(|s| *s > 0).unwrap_or(1)
}

/// Decodes one stored row strictly: right types, valid UTF-8 and JSON, and
/// every JSON column exactly in its canonical form.
fn decode_row(row: &Row<'_>) -> Result<AuditEvent> {
    decode_row_detail(row).map(|(event, _)| event)
}

/// [`decode_row`], also returning the (canonical) detail text.
fn decode_row_detail(row: &Row<'_>) -> Result<(AuditEvent, String)> {
    let raw_seq = match row.get_ref(0)? {
        ValueRef::Integer(i) => i,
        _ => return Err(broken(1, "a row has a non-integer seq")),
    };
    if raw_seq <= 0 {
        return Err(broken(
            1,
            format!("a row has seq {raw_seq}; the log starts at 1"),
        ));
    }
    let seq = u64_seq(raw_seq);
    let bad = |column: &str, what: &str| broken(seq, format!("column `{column}` {what}"));
    let text = |i: usize, column: &str| -> Result<&str> {
        match row.get_ref(i)? {
            ValueRef::Text(b) => std::str::from_utf8(b).map_err(|_| bad(column, "is not UTF-8")),
            _ => Err(bad(column, "is not text")),
        }
    };
    let time = match row.get_ref(1)? {
        ValueRef::Integer(t) => t,
        _ => return Err(bad("time", "is not an integer")),
    };
    let actor = text(2, "actor")?.to_owned();
    let action = Action::parse(text(3, "action")?).ok_or_else(|| bad("action", "is unknown"))?;
    let purpose = match row.get_ref(4)? {
        ValueRef::Null => None,
        ValueRef::Text(b) => Some(
            std::str::from_utf8(b)
                .map_err(|_| bad("purpose", "is not UTF-8"))?
                .to_owned(),
        ),
        _ => return Err(bad("purpose", "is neither text nor NULL")),
    };
    let reason = text(5, "reason")?.to_owned();

    let records_raw = text(6, "records")?;
    let records = match serde_json::from_str::<Value>(records_raw) {
        Ok(Value::Array(items)) => items
            .iter()
            .map(Value::as_i64)
            .collect::<Option<Vec<i64>>>()
            .ok_or_else(|| bad("records", "holds a non-integer"))?,
        _ => return Err(bad("records", "is not a JSON array")),
    };
    if records_text(&records) != records_raw {
        return Err(bad("records", "is not in canonical form"));
    }

    let subjects_raw = text(7, "subjects")?;
    let subjects = match serde_json::from_str::<Value>(subjects_raw) {
        Ok(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().and_then(unhex32))
            .collect::<Option<Vec<[u8; 32]>>>()
            .ok_or_else(|| {
                bad(
                    "subjects",
                    "holds something other than 64 lowercase hex digits",
                )
            })?,
        _ => return Err(bad("subjects", "is not a JSON array")),
    };
    if subjects_text(&subjects) != subjects_raw {
        return Err(bad("subjects", "is not in canonical form"));
    }

    let outcome = text(8, "outcome")?.to_owned();

    let detail_raw = text(9, "detail")?;
    let detail = match serde_json::from_str::<Value>(detail_raw) {
        Ok(Value::Object(map)) => map,
        _ => return Err(bad("detail", "is not a JSON object")),
    };
    match detail_text(&detail) {
        Ok(canonical) if canonical == detail_raw => {}
        _ => return Err(bad("detail", "is not in canonical (RFC 8785) form")),
    }

    let mac = match row.get_ref(10)? {
        ValueRef::Blob(b) => <[u8; 32]>::try_from(b).map_err(|_| bad("mac", "is not 32 bytes"))?,
        _ => return Err(bad("mac", "is not a blob")),
    };

    let event = AuditEvent {
        seq,
        time,
        actor,
        action,
        purpose,
        reason,
        records,
        subjects,
        outcome,
        detail,
        mac,
    };
    Ok((event, detail_raw.to_owned()))
}

/// The prune anchor, if the log was ever pruned.
fn read_anchor(conn: &Connection) -> Result<Option<AuditHead>> {
    let mut stmt = conn.prepare_cached("SELECT id, seq, mac FROM audit_anchor")?;
    let mut rows = stmt.query([])?;
    let Some(row) = rows.next()? else {
        return Ok(None);
    };
    let malformed = || broken(1, "the prune anchor row is malformed");
    let (ValueRef::Integer(1), ValueRef::Integer(seq), ValueRef::Blob(mac)) =
        (row.get_ref(0)?, row.get_ref(1)?, row.get_ref(2)?)
    else {
        return Err(malformed());
    };
    let anchor = AuditHead {
        seq: u64::try_from(seq)
            .ok()
            .filter(|s| *s > 0)
            .ok_or_else(malformed)?,
        mac: <[u8; 32]>::try_from(mac).map_err(|_| malformed())?,
    };
    if rows.next()?.is_some() {
        return Err(broken(1, "more than one prune anchor"));
    }
    Ok(Some(anchor))
}

/// The event a new one chains from: the last event, else the anchor, else genesis.
fn tail(conn: &Connection) -> Result<AuditHead> {
    if let Some(head) = head(conn)? {
        return Ok(head);
    }
    Ok(read_anchor(conn)?.unwrap_or(AuditHead {
        seq: 0,
        mac: GENESIS,
    }))
}

// ---------------------------------------------------------------------------
// Chain verification
// ---------------------------------------------------------------------------

/// The anchor an audit-prune event states: `None` = nothing pruned yet.
fn stated_anchor(event: &AuditEvent) -> Result<Option<AuditHead>> {
    let bad = || {
        broken(
            event.seq,
            "audit-prune event does not state its anchor (pruned_through, anchor_mac)",
        )
    };
    match (
        event.detail.get("pruned_through"),
        event.detail.get("anchor_mac"),
    ) {
        (Some(Value::Null), Some(Value::Null)) => Ok(None),
        (Some(through), Some(Value::String(mac))) => Ok(Some(AuditHead {
            seq: through.as_u64().filter(|s| *s > 0).ok_or_else(bad)?,
            mac: unhex32(mac).ok_or_else(bad)?,
        })),
        _ => Err(bad()),
    }
}

/// Walks events in order, checking numbering, MACs and audit-prune events.
struct Chain<'k> {
    key: &'k DerivedKey,
    next_seq: u64,
    prev: [u8; 32],
    events: u64,
    first_seq: Option<u64>,
    last: Option<AuditHead>,
    /// What the latest audit-prune event seen states: `None` = none seen.
    stated: Option<Option<AuditHead>>,
}

impl<'k> Chain<'k> {
    fn new(key: &'k DerivedKey, start: Option<AuditHead>) -> Self {
        let start = start.unwrap_or(AuditHead {
            seq: 0,
            mac: GENESIS,
        });
        Self {
            key,
            next_seq: start.seq.saturating_add(1),
            prev: start.mac,
            events: 0,
            first_seq: None,
            last: None,
            stated: None,
        }
    }

    fn push(&mut self, event: &AuditEvent) -> Result<()> {
        let detail = detail_text(&event.detail)
            .map_err(|why| broken(event.seq, format!("detail has no canonical form: {why}")))?;
        self.push_with_detail(event, &detail)
    }

    /// [`Chain::push`] with the canonical text of `event.detail` at hand.
    fn push_with_detail(&mut self, event: &AuditEvent, detail: &str) -> Result<()> {
        if event.seq > self.next_seq {
            return Err(broken(
                self.next_seq,
                format!(
                    "event {} is missing (the log continues at {})",
                    self.next_seq, event.seq
                ),
            ));
        }
        if event.seq < self.next_seq {
            return Err(broken(
                event.seq,
                format!(
                    "event {} appears where {} was expected (replayed, reordered or \
                     before the prune anchor)",
                    event.seq, self.next_seq
                ),
            ));
        }
        let mac = Fields::of(event, detail)
            .mac(self.key, &self.prev)
            .ok_or_else(|| broken(event.seq, "a field is too long to encode"))?;
        if !ct_eq(&mac, &event.mac) {
            return Err(broken(
                event.seq,
                "MAC mismatch: the event was altered, inserted or reordered, or does not \
                 follow its predecessor (or the prune anchor)",
            ));
        }
        if event.action == Action::AuditPrune {
            let stated = stated_anchor(event)?;
            let through = stated.map_or(0, |a| a.seq);
            let earlier = self.stated.flatten().map_or(0, |a| a.seq);
            if through >= event.seq || through < earlier {
                return Err(broken(
                    event.seq,
                    format!("audit-prune event states an impossible anchor {through}"),
                ));
            }
            self.stated = Some(stated);
        }
        self.events += 1;
        self.first_seq.get_or_insert(event.seq);
        self.last = Some(event.head());
        self.prev = event.mac;
        self.next_seq = event.seq.saturating_add(1);
        Ok(())
    }

    /// Finishes a whole log whose chain started at `anchor`: the latest
    /// audit-prune event must state exactly that anchor.
    fn finish_whole(self, anchor: Option<AuditHead>) -> Result<AuditReport> {
        match self.stated {
            None => {
                if let Some(a) = anchor {
                    return Err(broken(
                        1,
                        format!(
                            "events 1..={} are missing and no audit-prune event records \
                             their pruning",
                            a.seq
                        ),
                    ));
                }
            }
            Some(stated) if stated == anchor => {}
            Some(stated) => {
                let s = stated.map_or(0, |a| a.seq);
                let a = anchor.map_or(0, |a| a.seq);
                return Err(broken(
                    s.min(a).saturating_add(1),
                    format!(
                        "the log starts after event {a} but its latest audit-prune event \
                         states it was pruned through {s}"
                    ),
                ));
            }
        }
        Ok(self.report())
    }

    fn report(self) -> AuditReport {
        AuditReport {
            events: self.events,
            first_seq: self.first_seq,
            head: self.last,
            pruned_through: self.stated.flatten().map(|a| a.seq),
        }
    }
}

// ---------------------------------------------------------------------------
// The interface used by the store
// ---------------------------------------------------------------------------

/// Appends `event` at time `now` and returns its `seq`. Must run inside the
/// caller's (immediate) transaction, with the other writes it records.
///
/// Refuses ([`Error::InvalidParameter`]) empty or over-long text fields,
/// detail beyond the feature-data guard, and [`Action::AuditPrune`] (written
/// by [`prune`] only).
pub(crate) fn append(
    tx: &Transaction<'_>,
    key: &DerivedKey,
    now: i64,
    event: &NewEvent<'_>,
) -> Result<u64> {
    if event.action == Action::AuditPrune {
        return Err(Error::param(
            "action",
            "audit-prune events are written by prune() only",
        ));
    }
    append_event(tx, key, now, event)
}

fn append_event(
    conn: &Connection,
    key: &DerivedKey,
    now: i64,
    event: &NewEvent<'_>,
) -> Result<u64> {
    check_text("actor", event.actor)?;
    check_text("reason", event.reason)?;
    check_text("outcome", event.outcome)?;
    if let Some(p) = event.purpose {
        check_text("purpose", p)?;
    }
    let detail = check_detail(&event.detail)?;
    let prev = tail(conn)?;
    let seq = prev.seq + 1;
    let seq_sql =
        i64::try_from(seq).map_err(|_| Error::Database("audit sequence exhausted".into()))?;
    let fields = Fields {
        seq,
        time: now,
        actor: event.actor,
        action: event.action,
        purpose: event.purpose,
        reason: event.reason,
        records: &event.records,
        subjects: &event.subjects,
        outcome: event.outcome,
        detail: &detail,
    };
    let mac = fields
        .mac(key, &prev.mac)
        .ok_or_else(|| Error::param("event", "a field is over 4 GiB"))?;
    conn.prepare_cached(&format!(
        "INSERT INTO audit ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
    ))?
    .execute(params![
        seq_sql,
        now,
        event.actor,
        event.action.as_str(),
        event.purpose,
        event.reason,
        records_text(&event.records),
        subjects_text(&event.subjects),
        event.outcome,
        detail,
        &mac[..],
    ])?;
    Ok(seq)
}

/// Verifies the whole log: numbering, every MAC, the prune anchor. Returns
/// [`Error::AuditBroken`] naming the first sequence number proven wrong.
pub(crate) fn verify(conn: &Connection, key: &DerivedKey) -> Result<AuditReport> {
    let anchor = read_anchor(conn)?;
    let mut chain = Chain::new(key, anchor);
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM audit ORDER BY seq"))?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let (event, detail) = decode_row_detail(row)?;
        chain.push_with_detail(&event, &detail)?;
    }
    chain.finish_whole(anchor)
}

/// The last event's `(seq, mac)`; `None` for an empty log.
pub(crate) fn head(conn: &Connection) -> Result<Option<AuditHead>> {
    let row: Option<(i64, Vec<u8>)> = conn
        .prepare_cached("SELECT seq, mac FROM audit ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .map_err(|e| match e {
            rusqlite::Error::InvalidColumnType(..) => broken(1, "the last row is malformed"),
            e => e.into(),
        })?;
    row.map(|(seq, mac)| {
        let seq = u64_seq(seq);
        Ok(AuditHead {
            seq,
            mac: <[u8; 32]>::try_from(mac.as_slice())
                .map_err(|_| broken(seq, "column `mac` is not 32 bytes"))?,
        })
    })
    .transpose()
}

/// Checks that the log verifies and still holds `held` unchanged (a head
/// kept outside the store earlier): proves the log was neither truncated,
/// rolled back nor rewritten since. A head at or before the prune anchor
/// was legitimately pruned (the anchor is confirmed by a MAC'd audit-prune
/// event); it is accepted if it equals the anchor or precedes it.
pub(crate) fn check_head(conn: &Connection, key: &DerivedKey, held: &AuditHead) -> Result<()> {
    if held.seq == 0 {
        return Err(Error::param("head", "seq 0 is not an event"));
    }
    let report = verify(conn, key)?;
    let seq_sql = i64::try_from(held.seq).unwrap_or(i64::MAX);
    let stored: Option<Vec<u8>> = conn
        .prepare_cached("SELECT mac FROM audit WHERE seq = ?1")?
        .query_row([seq_sql], |r| r.get(0))
        .optional()?;
    if let Some(mac) = stored {
        // verify() has checked it is 32 bytes.
        return if mac.as_slice() == held.mac {
            Ok(())
        } else {
            Err(broken(
                held.seq,
                "differs from the held head: the log was rewritten",
            ))
        };
    }
    let end = report.head.map_or(0, |h| h.seq);
    if held.seq > end {
        return Err(broken(
            end.saturating_add(1),
            format!(
                "the log ends at {end} but held head {} was recorded: events were removed \
                 from the end or the file was rolled back",
                held.seq
            ),
        ));
    }
    match read_anchor(conn)? {
        Some(anchor) if anchor.seq == held.seq && anchor.mac != held.mac => Err(broken(
            held.seq,
            "differs from the held head: the log was rewritten",
        )),
        Some(anchor) if anchor.seq >= held.seq => Ok(()),
        // verify() guarantees every seq after the anchor up to the end exists.
        _ => Err(broken(held.seq, "event is missing")),
    }
}

/// Deletes the oldest events, those before the first with `time >= before`,
/// records the anchor and appends an audit-prune event (actor, reason,
/// detail `pruned_through`, `anchor_mac`, `count`, `before`). Verifies the
/// log first and refuses to prune a broken one. Must run inside the
/// caller's transaction.
pub(crate) fn prune(
    tx: &Transaction<'_>,
    key: &DerivedKey,
    now: i64,
    before: i64,
    actor: &str,
    reason: &str,
) -> Result<PruneReport> {
    if before > now {
        return Err(Error::param(
            "before",
            "is later than now: events from the future cannot be pruned",
        ));
    }
    check_text("actor", actor)?;
    check_text("reason", reason)?;
    verify(tx, key)?;
    let anchor = read_anchor(tx)?;
    let first_kept: Option<i64> = tx.query_row(
        "SELECT MIN(seq) FROM audit WHERE time >= ?1",
        [before],
        |r| r.get(0),
    )?;
    let through = match first_kept {
        Some(kept) => u64_seq(kept) - 1,
        None => head(tx)?.map_or(0, |h| h.seq),
    };
    let mut pruned = 0;
    let mut new_anchor = anchor;
    if through > anchor.map_or(0, |a| a.seq) {
        let through_sql =
            i64::try_from(through).map_err(|_| broken(through, "seq out of range"))?;
        let mac: Vec<u8> =
            tx.query_row("SELECT mac FROM audit WHERE seq = ?1", [through_sql], |r| {
                r.get(0)
            })?;
        let mac = <[u8; 32]>::try_from(mac.as_slice())
            .map_err(|_| broken(through, "column `mac` is not 32 bytes"))?;
        // The anchor first: the delete trigger allows only events up to it.
        tx.execute(
            "INSERT INTO audit_anchor (id, seq, mac) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, mac = excluded.mac",
            params![through_sql, &mac[..]],
        )?;
        pruned = tx.execute("DELETE FROM audit WHERE seq <= ?1", [through_sql])? as u64;
        new_anchor = Some(AuditHead { seq: through, mac });
    }
    let mut event = NewEvent::new(actor, Action::AuditPrune, reason)
        .detail("count", pruned)
        .detail("before", before);
    event.detail.insert(
        "pruned_through".into(),
        new_anchor.map_or(Value::Null, |a| a.seq.into()),
    );
    event.detail.insert(
        "anchor_mac".into(),
        new_anchor.map_or(Value::Null, |a| hex(&a.mac).into()),
    );
    append_event(tx, key, now, &event)?;
    Ok(PruneReport {
        pruned,
        pruned_through: new_anchor.map(|a| a.seq),
    })
}

/// The WHERE ... ORDER BY ... LIMIT clause of a filter and its parameters.
fn filter_sql(filter: &EventFilter) -> (String, Vec<SqlValue>) {
    let mut conds: Vec<String> = Vec::new();
    let mut args: Vec<SqlValue> = Vec::new();
    let mut add = |template: &str, arg: SqlValue| {
        args.push(arg);
        conds.push(template.replace('?', &format!("?{}", args.len())));
    };
    if let Some(from) = filter.from {
        add("time >= ?", from.into());
    }
    if let Some(to) = filter.to {
        add("time < ?", to.into());
    }
    if let Some(purpose) = &filter.purpose {
        add("purpose = ?", purpose.clone().into());
    }
    if let Some(action) = filter.action {
        add("action = ?", action.as_str().to_owned().into());
    }
    if let Some(after) = filter.after_seq {
        add("seq > ?", i64::try_from(after).unwrap_or(i64::MAX).into());
    }
    if let Some(record) = filter.record {
        add(
            "EXISTS (SELECT 1 FROM json_each(audit.records) WHERE json_each.value = ?)",
            record.into(),
        );
    }
    if let Some(subject) = filter.subject {
        add(
            "EXISTS (SELECT 1 FROM json_each(audit.subjects) WHERE json_each.value = ?)",
            hex(&subject).into(),
        );
    }
    if let Some(limit) = filter.limit {
        args.push(i64::try_from(limit).unwrap_or(i64::MAX).into());
    }
    let mut sql = String::new();
    if !conds.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conds.join(" AND "));
    }
    sql.push_str(" ORDER BY seq");
    if filter.limit.is_some() {
        sql.push_str(&format!(" LIMIT ?{}", args.len()));
    }
    (sql, args)
}

/// Calls `each` on the events matching `filter`, in `seq` order.
fn for_each_event(
    conn: &Connection,
    filter: &EventFilter,
    mut each: impl FnMut(AuditEvent) -> Result<()>,
) -> Result<()> {
    let (clause, args) = filter_sql(filter);
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM audit{clause}"))?;
    let mut rows = stmt.query(params_from_iter(args))?;
    while let Some(row) = rows.next()? {
        each(decode_row(row)?)?;
    }
    Ok(())
}

/// The events matching `filter`, in `seq` order. Does not verify the chain;
/// a row that does not decode is reported as [`Error::AuditBroken`].
pub(crate) fn events(conn: &Connection, filter: &EventFilter) -> Result<Vec<AuditEvent>> {
    let mut out = Vec::new();
    for_each_event(conn, filter, |e| {
        out.push(e);
        Ok(())
    })?;
    Ok(out)
}

/// Writes the events matching `filter` as JSON lines (see [`parse_jsonl_line`]
/// for the format), in `seq` order; returns the number of lines.
pub(crate) fn export_jsonl(
    conn: &Connection,
    filter: &EventFilter,
    out: &mut dyn std::io::Write,
) -> Result<u64> {
    let mut lines = 0u64;
    for_each_event(conn, filter, |event| {
        let line = jsonl_line(&event)
            .map_err(|why| broken(event.seq, format!("detail has no canonical form: {why}")))?;
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
        lines += 1;
        Ok(())
    })?;
    out.flush()?;
    Ok(lines)
}

const LINE_FIELDS: [&str; 11] = [
    "seq", "time", "actor", "action", "purpose", "reason", "records", "subjects", "outcome",
    "detail", "mac",
];

/// Parses one exported line (an optional trailing `\n` or `\r\n` allowed).
///
/// The line must be exactly what `export_jsonl` writes: an object with the
/// fields of [`AuditEvent`] in order, `action` as its name, `subjects` and
/// `mac` as lowercase hex, `detail` in RFC 8785 form, no whitespace. Anything
/// else, including another spelling of the same data or a duplicated key,
/// is an [`Error::InvalidParameter`] naming the problem (never the content).
/// Does not check the MAC: see [`verify_events`].
pub fn parse_jsonl_line(line: &str) -> Result<AuditEvent> {
    let bad = |reason: String| Error::param("line", reason);
    let body = match line.strip_suffix('\n') {
        Some(l) => l.strip_suffix('\r').unwrap_or(l),
        None => line,
    };
    let value: Value =
        serde_json::from_str(body).map_err(|e| bad(format!("not valid JSON: {e}")))?;
    let Value::Object(mut obj) = value else {
        return Err(bad("not a JSON object".into()));
    };
    if obj.keys().any(|k| !LINE_FIELDS.contains(&k.as_str())) {
        return Err(bad("has an unknown field".into()));
    }
    let mut take = |name: &'static str| {
        obj.remove(name)
            .ok_or_else(|| bad(format!("missing field `{name}`")))
    };
    let wrong = |name: &str, what: &str| bad(format!("field `{name}` is not {what}"));
    let string = |name: &str, v: Value| match v {
        Value::String(s) => Ok(s),
        _ => Err(wrong(name, "a string")),
    };
    let hash = |name: &str, v: &Value| {
        v.as_str()
            .and_then(unhex32)
            .ok_or_else(|| wrong(name, "64 lowercase hex digits"))
    };

    let seq = take("seq")?
        .as_u64()
        .filter(|s| *s > 0)
        .ok_or_else(|| wrong("seq", "a positive integer"))?;
    let time_v = take("time")?;
    let time = time_v
        .as_i64()
        .filter(|_| !time_v.is_f64())
        .ok_or_else(|| wrong("time", "an integer"))?;
    let actor = string("actor", take("actor")?)?;
    let action = Action::parse(&string("action", take("action")?)?)
        .ok_or_else(|| wrong("action", "a known action"))?;
    let purpose = match take("purpose")? {
        Value::Null => None,
        Value::String(s) => Some(s),
        _ => return Err(wrong("purpose", "a string or null")),
    };
    let reason = string("reason", take("reason")?)?;
    let records = match take("records")? {
        Value::Array(items) => items
            .iter()
            .map(Value::as_i64)
            .collect::<Option<Vec<i64>>>()
            .ok_or_else(|| wrong("records", "an array of integers"))?,
        _ => return Err(wrong("records", "an array of integers")),
    };
    let subjects = match take("subjects")? {
        Value::Array(items) => items
            .iter()
            .map(|v| hash("subjects", v))
            .collect::<Result<Vec<_>>>()?,
        _ => return Err(wrong("subjects", "an array")),
    };
    let outcome = string("outcome", take("outcome")?)?;
    let detail = match take("detail")? {
        Value::Object(map) => map,
        _ => return Err(wrong("detail", "an object")),
    };
    let mac = hash("mac", &take("mac")?)?;

    let event = AuditEvent {
        seq,
        time,
        actor,
        action,
        purpose,
        reason,
        records,
        subjects,
        outcome,
        detail,
        mac,
    };
    let canonical =
        jsonl_line(&event).map_err(|why| bad(format!("detail has no canonical form: {why}")))?;
    if canonical != body {
        return Err(bad(
            "is not in the canonical export form (field order, spacing, escapes, number \
             format or a duplicated key differ)"
                .into(),
        ));
    }
    Ok(event)
}

/// Verifies a contiguous run of events (e.g. parsed from an export) as
/// `verify` verifies the table.
///
/// `anchor` is the `(seq, mac)` of the event before the first one, e.g. a
/// head kept from an earlier export. With `None` the events must be a whole
/// log: they start at 1 from [`GENESIS`], or, for a pruned log, at the anchor
/// its latest audit-prune event states (authenticated by that event's MAC
/// once the chain verifies), and that event must account for exactly the
/// missing prefix, as in `verify`.
pub fn verify_events(
    events: &[AuditEvent],
    key: &DerivedKey,
    anchor: Option<&AuditHead>,
) -> Result<AuditReport> {
    if let Some(anchor) = anchor {
        let mut chain = Chain::new(key, Some(*anchor));
        for event in events {
            chain.push(event)?;
        }
        if let Some(Some(stated)) = chain.stated {
            if stated.seq == anchor.seq && stated.mac != anchor.mac {
                return Err(broken(
                    anchor.seq.saturating_add(1),
                    "the given anchor differs from the one the audit-prune event states",
                ));
            }
        }
        return Ok(chain.report());
    }
    let start = match events.first() {
        Some(first) if first.seq > 1 => {
            let latest_prune = events.iter().rev().find(|e| e.action == Action::AuditPrune);
            match latest_prune.map(stated_anchor).transpose()?.flatten() {
                Some(stated) if stated.seq == first.seq - 1 => Some(stated),
                _ => {
                    return Err(broken(
                        1,
                        format!(
                            "events 1..={} are missing and no audit-prune event records \
                             their pruning",
                            first.seq - 1
                        ),
                    ))
                }
            }
        }
        _ => None,
    };
    let mut chain = Chain::new(key, start);
    for event in events {
        chain.push(event)?;
    }
    chain.finish_whole(start)
}

/// Transparency statistics of `[from, to)`: per purpose (`""` for events
/// without one), the count of each action, the records swept by retention
/// and the records erased on request. Reads the table as it is; run
/// [`verify`] to know it is intact.
pub(crate) fn stats(conn: &Connection, from: i64, to: i64) -> Result<Vec<PurposeActivity>> {
    if from > to {
        return Err(Error::param("from", "is after `to`"));
    }
    let mut stmt = conn.prepare(
        "SELECT COALESCE(purpose, ''), action, COUNT(*),
                SUM(CASE WHEN action = 'sweep'
                          AND json_type(detail, '$.per_purpose') IS NULL
                          AND json_type(detail, '$.deleted') = 'integer'
                          AND json_extract(detail, '$.deleted') > 0
                         THEN json_extract(detail, '$.deleted') ELSE 0 END),
                SUM(CASE WHEN action = 'erase' AND json_type(detail, '$.per_purpose') IS NULL
                         THEN json_array_length(records) ELSE 0 END)
         FROM audit WHERE time >= ?1 AND time < ?2
         GROUP BY 1, 2 ORDER BY 1, 2",
    )?;
    let mut rows = stmt.query([from, to])?;
    let mut out: Vec<PurposeActivity> = Vec::new();
    while let Some(row) = rows.next()? {
        let purpose: String = row.get(0)?;
        let action_name: String = row.get(1)?;
        let action = Action::parse(&action_name)
            .ok_or_else(|| Error::Database("the audit table holds an unknown action".into()))?;
        let count = u64::try_from(row.get::<_, i64>(2)?).unwrap_or(0);
        let swept = u64::try_from(row.get::<_, i64>(3)?).unwrap_or(0);
        let erased = u64::try_from(row.get::<_, i64>(4)?).unwrap_or(0);
        if out.last().is_none_or(|p| p.purpose != purpose) {
            out.push(PurposeActivity {
                purpose,
                counts: BTreeMap::new(),
                swept_records: 0,
                erased_records: 0,
            });
        }
        let activity = out.last_mut().expect("pushed above");
        activity.counts.insert(action.as_str(), count);
        activity.swept_records += swept;
        activity.erased_records += erased;
    }
    drop(rows);
    // Sweeps and erasures across purposes split their counts in
    // `detail.per_purpose` ({purpose: records}).
    let mut stmt = conn.prepare(
        "SELECT p.key, a.action, SUM(p.value)
         FROM audit a, json_each(a.detail, '$.per_purpose') p
         WHERE a.action IN ('sweep', 'erase') AND a.time >= ?1 AND a.time < ?2
           AND json_type(a.detail, '$.per_purpose') = 'object' AND p.type = 'integer' AND p.value > 0
         GROUP BY 1, 2",
    )?;
    let split: Vec<(String, String, i64)> = stmt
        .query_map([from, to], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (purpose, action, n) in split {
        let i = match out.binary_search_by(|p| p.purpose.as_str().cmp(&purpose)) {
            Ok(i) => i,
            Err(i) => {
                out.insert(
                    i,
                    PurposeActivity {
                        purpose,
                        counts: BTreeMap::new(),
                        swept_records: 0,
                        erased_records: 0,
                    },
                );
                i
            }
        };
        let n = u64::try_from(n).unwrap_or(0);
        if action == "sweep" {
            out[i].swept_records += n;
        } else {
            out[i].erased_records += n;
        }
    }
    Ok(out)
}
