//! The encrypted template store: purpose-bound AES-GCM records in an
//! embedded SQLite file, retention sweeps, erasure, legal holds, key
//! rotation, and a keyed hash-chained audit log.
//!
//! A [`Store`] is opened on a file with a [`MasterKey`] and the
//! [`Purpose`]s it serves. A record is one protected template of one
//! subject for one purpose, with its expiry; it is encrypted under the
//! purpose's storage key (see `crypto`) and found through a keyed hash of
//! the subject id, which itself is stored only inside the ciphertext.
//! Feature vectors and probes are never written: only protected templates,
//! and a probe only when a caller retains it explicitly, with an expiry.
//!
//! Every operation takes a [`Context`] (who and why) and writes an audit
//! event in the same transaction as its effect.
//!
//! Identification searches an in-memory gallery per purpose, loaded on
//! first use and kept in step with every change, including changes made by
//! other handles or processes, through the append-only `gallery_changes`
//! table. Expired records are never returned or matched, even before a
//! sweep deletes them.
//!
//! A `Store` is `Send + Sync`: one handle may serve many threads (its
//! connection is behind a mutex), and several handles, in threads or
//! processes, may share one file (WAL mode, busy timeout, immediate
//! transactions for writes).

pub mod audit;
mod cache;
mod changes;
mod crypto;
mod enrol;
mod export;
mod holds;
mod inputs;
mod keyring;
mod lookup;
mod maintenance;
mod negative;
mod open;
mod options;
mod purpose;
mod records;
mod reopen;
mod reports;
mod retention;
mod rotation;
pub mod schema;
mod sealing;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, Transaction, TransactionBehavior};

pub use audit::{Action, AuditEvent, AuditHead, AuditReport, EventFilter, PurposeActivity};
pub use crypto::NONCE_LIMIT;
pub use inputs::{
    check_subject, Context, HoldTarget, Retention, Sample, Samples, MAX_SUBJECT_BYTES,
};
pub use lookup::{Identification, ReviewOutcome, StoreCandidate, Verification};
pub use options::StoreOptions;
pub use purpose::Purpose;
pub use reports::StoreStats;
pub use retention::{ErasureReport, SweepReport};
pub use rotation::{Rotation, RotationReport};

use maintenance::checkpoint_after_commit;
use purpose::Served;

use crate::error::{Error, Result};
use crate::keys::{DerivedKey, MasterKey};
use crate::protector::Protector;
use crate::time;

/// A record's id in its store.
pub type RecordId = i64;

/// Unix time in seconds.
pub type Timestamp = i64;

/// Begins an immediate (write-locking) transaction: every operation that
/// writes runs in one, with its audit event.
fn immediate(conn: &mut Connection) -> Result<Transaction<'_>> {
    Ok(conn.transaction_with_behavior(TransactionBehavior::Immediate)?)
}

/// An open store. See the module documentation.
pub struct Store {
    conn: Mutex<Connection>,
    store_id: [u8; 16],
    master: MasterKey,
    audit_key: DerivedKey,
    subject_key: DerivedKey,
    purposes: BTreeMap<String, Served>,
    caches: Mutex<HashMap<String, cache::GalleryCache>>,
    options: StoreOptions,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("purposes", &self.purposes.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Store {
    /// The store's random id (not secret).
    pub fn store_id(&self) -> [u8; 16] {
        self.store_id
    }

    /// The purposes this handle serves.
    pub fn purposes(&self) -> impl Iterator<Item = &Purpose> {
        self.purposes.values().map(|s| &s.purpose)
    }

    /// The protector of a purpose: what enrolment and probes go through.
    pub fn protector(&self, purpose: &str) -> Result<&Protector> {
        Ok(&self.served(purpose)?.protector)
    }

    /// The current time by the store's clock. A clock (see
    /// [`StoreOptions::clock`]) that gives a time outside [`time::RANGE`]
    /// (1970 to 9999) is [`Error::InvalidParameter`] naming `clock`: the
    /// store never writes or reports a time it cannot show as a date.
    pub fn now(&self) -> Result<Timestamp> {
        checked_time(self.options.clock.as_ref().map_or_else(system_now, |c| c()))
    }

    fn served(&self, purpose: &str) -> Result<&Served> {
        self.purposes
            .get(purpose)
            .ok_or_else(|| Error::UnknownPurpose(purpose.to_owned()))
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves the connection usable:
        // SQLite rolls back the unfinished transaction when it is dropped.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn subject_hash(&self, subject: &str) -> Result<[u8; 32]> {
        check_subject(subject)?;
        Ok(self
            .subject_key
            .mac(&[b"btp/subject/v1", subject.as_bytes()]))
    }
}

/// `t` if it is in [`time::RANGE`], else the clock's error.
fn checked_time(t: Timestamp) -> Result<Timestamp> {
    if time::RANGE.contains(&t) {
        Ok(t)
    } else {
        Err(Error::param(
            "clock",
            "gave a time outside 1970-01-01..9999-12-31 UTC",
        ))
    }
}

/// `t`, an argument named `name`, if it is in [`time::RANGE`].
pub(crate) fn check_time(t: Timestamp, name: &'static str) -> Result<Timestamp> {
    if time::RANGE.contains(&t) {
        Ok(t)
    } else {
        Err(Error::param(
            name,
            "must be a time between 1970-01-01 and 9999-12-31 UTC",
        ))
    }
}

fn system_now() -> Timestamp {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
