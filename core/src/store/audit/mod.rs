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
//!
//! # Layout
//!
//! | file | job |
//! |---|---|
//! | `mod.rs` | the event model: actions, events, heads, reports, filters, limits |
//! | `event.rs` | canonical field texts, checks on new events, the one reader of stored events |
//! | `mac.rs` | the MAC'd encoding `m_n` |
//! | `chain.rs` | chain walking, verification, held heads, pruning and the anchor |
//! | `table.rs` | the SQLite tables: schema, append, reads, statistics, row decoding |
//! | `jsonl.rs` | the JSON-lines export and its strict parser |
//! | `jcs.rs` | RFC 8785 canonical JSON |

mod chain;
mod event;
mod jcs;
mod jsonl;
mod mac;
mod table;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

use crate::error::{Error, Result};

pub use chain::verify_events;
pub use jsonl::parse_jsonl_line;

pub(crate) use chain::{check_head, prune, verify};
pub(crate) use event::check_text;
pub(crate) use jsonl::export_jsonl;
pub(crate) use table::{append, events, head, stats, SCHEMA};

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
        jsonl::jsonl_line(self)
            .map_err(|why| Error::param("detail", format!("no canonical form: {why}")))
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

/// The error of a log proven wrong at `seq`.
fn broken(seq: u64, reason: impl Into<String>) -> Error {
    Error::AuditBroken {
        seq,
        reason: reason.into(),
    }
}
