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
mod crypto;
mod export;
mod negative;
mod ops;
mod reopen;
pub mod schema;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rand::rngs::OsRng;
use rand::TryRngCore;
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

pub use audit::{Action, AuditEvent, AuditHead, AuditReport, EventFilter, PurposeActivity};
pub use crypto::NONCE_LIMIT;
pub use ops::{
    ErasureReport, Identification, ReviewOutcome, RotationReport, StoreCandidate, StoreStats,
    SweepReport, Verification,
};

use crate::error::{Error, Result};
use crate::keys::{DerivedKey, KeyUsage, MasterKey};
use crate::protector::Protector;
use crate::schemes::SchemeParams;
use crate::template::ProtectedTemplate;
use crate::time;

/// A record's id in its store.
pub type RecordId = i64;

/// Unix time in seconds.
pub type Timestamp = i64;

/// A programme the store serves, and its rules.
#[derive(Clone, Debug, PartialEq)]
pub struct Purpose {
    /// Name, e.g. `border-entry`.
    pub name: String,
    /// Scheme and parameters of its templates.
    pub params: SchemeParams,
    /// Application id of its transform keys.
    pub application: String,
    /// Transform key version (bump to renew every template).
    pub transform_version: u32,
    /// Match threshold of verification and default of identification.
    pub threshold: f64,
    /// Longest retention a record of this purpose may have.
    pub max_retention: Duration,
}

impl Purpose {
    /// A purpose with transform key version 1.
    pub fn new(
        name: &str,
        params: SchemeParams,
        application: &str,
        threshold: f64,
        max_retention: Duration,
    ) -> Result<Self> {
        let p = Self {
            name: name.to_owned(),
            params,
            application: application.to_owned(),
            transform_version: 1,
            threshold,
            max_retention,
        };
        p.validate()?;
        Ok(p)
    }

    fn validate(&self) -> Result<()> {
        if self.name.is_empty() || self.name.len() > 128 {
            return Err(Error::param("purpose", "name must be 1 to 128 bytes"));
        }
        if self.application.is_empty() {
            return Err(Error::param("application", "must not be empty"));
        }
        if !(0.0..=1.0).contains(&self.threshold) {
            return Err(Error::param("threshold", "must be a number in [0, 1]"));
        }
        if self.max_retention_secs() <= 0 {
            return Err(Error::param("max_retention", "must be at least one second"));
        }
        if self.max_retention > Self::MAX_RETENTION {
            return Err(Error::param(
                "max_retention",
                "must be at most 1000 years (365,000 days)",
            ));
        }
        Ok(())
    }

    /// The longest `max_retention` a purpose may have: 1000 years of 365
    /// days, so that every expiry stays a date the store can show (see
    /// [`crate::time::RANGE`]).
    pub const MAX_RETENTION: Duration = Duration::from_secs(1000 * 365 * 86_400);

    fn max_retention_secs(&self) -> i64 {
        i64::try_from(self.max_retention.as_secs()).unwrap_or(i64::MAX)
    }
}

/// Who acts and why: every operation records it in the audit log.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// The actor (operator, officer, service) id.
    pub actor: &'a str,
    /// The reason (case number, legal basis, request id).
    pub reason: &'a str,
}

impl<'a> Context<'a> {
    /// A context; both fields must be non-empty when used.
    pub fn new(actor: &'a str, reason: &'a str) -> Self {
        Self { actor, reason }
    }

    /// Both fields non-blank and short enough for the audit log, checked
    /// before an operation touches anything.
    fn check(&self) -> Result<()> {
        if self.actor.trim().is_empty() {
            return Err(Error::param("actor", "must not be empty"));
        }
        if self.reason.trim().is_empty() {
            return Err(Error::param("reason", "must not be empty"));
        }
        audit::check_text("actor", self.actor)?;
        audit::check_text("reason", self.reason)
    }
}

/// A biometric sample given to the store: a feature vector (protected at
/// once and never stored) or an already protected template.
#[derive(Clone, Copy)]
pub enum Sample<'a> {
    /// Raw features of the purpose's dimension.
    Features(&'a [f32]),
    /// A template made under the purpose's scheme and key.
    Template(&'a ProtectedTemplate),
}

/// Never the feature values (a logged sample would leak the biometric):
/// their count only (found by `tests/secrets.rs`).
impl std::fmt::Debug for Sample<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Features(x) => write!(f, "Features([redacted; {} values])", x.len()),
            Self::Template(t) => f.debug_tuple("Template").field(t).finish(),
        }
    }
}

/// The samples of a batch enrolment ([`Store::enroll_batch`]), one per
/// subject.
#[derive(Clone, Copy)]
pub enum Samples<'a> {
    /// Row-major feature vectors, one row of the purpose's dimension per
    /// subject: protected at once (by the batch kernel) and never stored.
    Features(&'a [f32]),
    /// Templates made under the purpose's scheme and key.
    Templates(&'a [ProtectedTemplate]),
}

/// Never the feature values: their count only.
impl std::fmt::Debug for Samples<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Features(x) => write!(f, "Features([redacted; {} values])", x.len()),
            Self::Templates(t) => write!(f, "Templates([{} templates])", t.len()),
        }
    }
}

/// How long a record is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retention {
    /// The purpose's maximum.
    Maximum,
    /// This long from now (at most the purpose's maximum).
    For(Duration),
    /// Until this time (at most the purpose's maximum from now).
    Until(Timestamp),
}

/// What a legal hold applies to.
#[derive(Clone, Copy, Debug)]
pub enum HoldTarget<'a> {
    /// Every record of a subject, in every purpose, present and future.
    Subject(&'a str),
    /// One record.
    Record(RecordId),
}

/// Settings of a store handle.
#[derive(Clone)]
pub struct StoreOptions {
    /// How long to wait for another handle's lock.
    pub busy_timeout: Duration,
    /// Records per transaction in sweeps and rotations.
    pub batch_size: usize,
    /// Encryptions allowed per storage key (at most [`NONCE_LIMIT`]).
    pub max_encryptions_per_key: u64,
    /// The clock (Unix seconds); the system clock when `None`.
    pub clock: Option<Arc<dyn Fn() -> Timestamp + Send + Sync>>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            busy_timeout: Duration::from_secs(10),
            batch_size: 500,
            max_encryptions_per_key: NONCE_LIMIT,
            clock: None,
        }
    }
}

impl std::fmt::Debug for StoreOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreOptions")
            .field("busy_timeout", &self.busy_timeout)
            .field("batch_size", &self.batch_size)
            .field("max_encryptions_per_key", &self.max_encryptions_per_key)
            .field("clock", &self.clock.as_ref().map(|_| "custom"))
            .finish()
    }
}

/// A purpose with its protector.
struct Served {
    purpose: Purpose,
    protector: Protector,
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

const KEY_CHECK_LABEL: &[u8] = b"btp/store/key-check";

/// How [`Store::open_at`] treats the path.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A new file: the path must not exist.
    Create,
    /// An existing, non-empty btp store: never created.
    Open,
}

/// Longest busy timeout SQLite takes (`i32::MAX` milliseconds).
const MAX_BUSY_TIMEOUT: Duration = Duration::from_millis(i32::MAX as u64);

impl StoreOptions {
    /// Checks every option (before any file is touched).
    fn validate(&self) -> Result<()> {
        if self.busy_timeout > MAX_BUSY_TIMEOUT {
            return Err(Error::param(
                "busy_timeout",
                format!("must be at most {} s", MAX_BUSY_TIMEOUT.as_secs()),
            ));
        }
        if self.batch_size == 0 {
            return Err(Error::param("batch_size", "must be at least 1"));
        }
        if self.max_encryptions_per_key == 0 || self.max_encryptions_per_key > NONCE_LIMIT {
            return Err(Error::param(
                "max_encryptions_per_key",
                "must be in 1..=2^32",
            ));
        }
        Ok(())
    }
}

impl Store {
    /// Creates a new store at `path` with default options. See
    /// [`Store::create_with`].
    pub fn create(
        path: impl AsRef<Path>,
        master: &MasterKey,
        purposes: &[Purpose],
    ) -> Result<Self> {
        Self::create_with(path, master, purposes, StoreOptions::default())
    }

    /// Creates a new store at `path`: a new file (mode 0600 on Unix) with a
    /// random store id, a key check and the purposes, and its creation in
    /// the audit log.
    ///
    /// Never opens what is already there: an existing path (a store, an
    /// empty file, anything) is [`Error::Io`] and is left untouched, so a
    /// mistyped path cannot reinitialise a store. A creation that fails
    /// removes the file it made.
    pub fn create_with(
        path: impl AsRef<Path>,
        master: &MasterKey,
        purposes: &[Purpose],
        options: StoreOptions,
    ) -> Result<Self> {
        Self::open_at(path.as_ref(), master, purposes, options, Mode::Create)
    }

    /// Opens the existing store at `path` with default options. See
    /// [`Store::open_with`].
    pub fn open(path: impl AsRef<Path>, master: &MasterKey, purposes: &[Purpose]) -> Result<Self> {
        Self::open_with(path, master, purposes, StoreOptions::default())
    }

    /// Opens the existing store at `path`, serving `purposes`.
    ///
    /// Never creates a file: a missing path is [`Error::Missing`], an empty
    /// file, a directory or another kind of file [`Error::NotAStore`] (see
    /// [`Store::create`] for a new store). The file must be a btp store of a
    /// schema this build reads (older ones are migrated), made with this
    /// master key. Each configured purpose must agree with the stored one on
    /// scheme, parameters, application and transform version (threshold and
    /// maximum retention may change: the change is audited); a purpose the
    /// file does not have yet is added. Purposes in the file but not
    /// configured stay untouched and unusable through this handle
    /// ([`Store::open_existing`] serves every stored purpose).
    pub fn open_with(
        path: impl AsRef<Path>,
        master: &MasterKey,
        purposes: &[Purpose],
        options: StoreOptions,
    ) -> Result<Self> {
        Self::open_at(path.as_ref(), master, purposes, options, Mode::Open)
    }

    fn open_at(
        path: &Path,
        master: &MasterKey,
        purposes: &[Purpose],
        options: StoreOptions,
        mode: Mode,
    ) -> Result<Self> {
        options.validate()?;
        let mut names = std::collections::HashSet::new();
        for p in purposes {
            p.validate()?;
            if !names.insert(p.name.as_str()) {
                return Err(Error::param(
                    "purposes",
                    format!("purpose `{}` is given twice", p.name),
                ));
            }
        }
        match mode {
            Mode::Open => schema::check_existing(path)?,
            Mode::Create => schema::create_file(path)?,
        }
        let opened = Self::open_file(path, master, purposes, options, mode);
        if opened.is_err() && mode == Mode::Create {
            schema::remove_files(path);
        }
        opened
    }

    fn open_file(
        path: &Path,
        master: &MasterKey,
        purposes: &[Purpose],
        options: StoreOptions,
        mode: Mode,
    ) -> Result<Self> {
        let mut conn = schema::connect(path)?;
        schema::configure(&conn, options.busy_timeout)?;
        let found = schema::prepare(&mut conn, mode == Mode::Create)?;
        let master = MasterKey::from_bytes(master.expose_secret())?;
        let clock = options.clock.clone();
        let now = move || -> Result<Timestamp> {
            checked_time(clock.as_ref().map_or_else(system_now, |c| c()))
        };

        let store_id = match found {
            schema::Found::Created => {
                let mut id = [0u8; 16];
                OsRng.try_fill_bytes(&mut id).map_err(|_| Error::Rng)?;
                let now = now()?;
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let audit_key = master.derive(&KeyUsage::Audit { store_id: &id });
                let check = audit_key.mac(&[KEY_CHECK_LABEL]);
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES ('store_id', ?1)",
                    [&id[..]],
                )?;
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES ('key_check', ?1)",
                    [&check[..]],
                )?;
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES ('created_at', ?1)",
                    [now.to_string().into_bytes()],
                )?;
                let mut ev = audit::NewEvent::new("btp", Action::StoreCreated, "store created");
                ev.detail
                    .insert("schema_version".into(), schema::SCHEMA_VERSION.into());
                audit::append(&tx, &audit_key, now, &ev)?;
                tx.commit()?;
                read_store_id(&conn)?
            }
            schema::Found::Existing => read_store_id(&conn)?,
        };
        let audit_key = master.derive(&KeyUsage::Audit {
            store_id: &store_id,
        });
        let subject_key = master.derive(&KeyUsage::SubjectIndex {
            store_id: &store_id,
        });
        let check = schema::meta(&conn, "key_check")?
            .ok_or_else(|| Error::NotAStore("no key check".into()))?;
        if check != audit_key.mac(&[KEY_CHECK_LABEL]) {
            return Err(Error::WrongKey);
        }

        let mut served = BTreeMap::new();
        if !purposes.is_empty() {
            let now = now()?;
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for p in purposes {
                register_purpose(&tx, &audit_key, now, p)?;
            }
            tx.commit()?;
        }
        for p in purposes {
            let protector = Protector::new(
                p.params.clone(),
                &master,
                &p.application,
                p.transform_version,
                None,
            )?;
            served.insert(
                p.name.clone(),
                Served {
                    purpose: p.clone(),
                    protector,
                },
            );
        }
        Ok(Self {
            conn: Mutex::new(conn),
            store_id,
            master,
            audit_key,
            subject_key,
            purposes: served,
            caches: Mutex::new(HashMap::new()),
            options,
        })
    }

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

    /// Checks the whole database file's structure (SQLite's
    /// `integrity_check`: every page, b-tree and index): `Ok` when sound,
    /// [`Error::Corrupt`] naming the first problems otherwise; then
    /// authenticates every record ([`Error::Integrity`] naming the first
    /// that fails). Reads authenticate what they use anyway; this finds
    /// damage that reads may not reach, for example an index page whose
    /// garbled keys make a subject's records invisible to lookups, or a
    /// record of a purpose nobody reads. Reads the whole file and decrypts
    /// every record: run it from maintenance jobs, not per request.
    pub fn check_integrity(&self) -> Result<()> {
        let conn = self.lock();
        let mut stmt = conn.prepare("PRAGMA integrity_check(20)")?;
        let problems = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        if problems.len() != 1 || problems[0] != "ok" {
            return Err(Error::Corrupt(problems.join("; ")));
        }
        // SQLite's check sees structure, not content: every record must
        // also authenticate (a changed ciphertext or expiry is sound
        // SQLite).
        self.authenticate_records(&conn)?;
        Ok(())
    }

    /// Checkpoints the WAL into the database file and truncates it, so that
    /// deleted bytes are gone from both files. Retries while other handles
    /// read or checkpoint, up to the busy timeout; [`Error::Busy`] if it
    /// still cannot complete.
    pub fn checkpoint(&self) -> Result<()> {
        let conn = self.lock();
        if checkpoint(&conn, self.options.busy_timeout)? {
            Ok(())
        } else {
            Err(Error::Busy(
                "the WAL checkpoint could not complete: another handle holds a read snapshot or is checkpointing".into(),
            ))
        }
    }
}

/// Truncating WAL checkpoint, retried with backoff for up to `timeout`.
/// Returns whether it completed. Operations that delete data call it after
/// committing: a checkpoint that cannot complete yet does not undo them, so
/// they report it (`checkpointed: false`) instead of failing; the next
/// checkpoint (a later sweep, erasure or [`Store::checkpoint`]) finishes it.
fn checkpoint(conn: &Connection, timeout: Duration) -> Result<bool> {
    let start = std::time::Instant::now();
    let mut pause = Duration::from_millis(5);
    loop {
        let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
        if busy == 0 {
            return Ok(true);
        }
        if start.elapsed() + pause > timeout {
            return Ok(false);
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}

/// [`checkpoint`] after an operation committed: whether it completed. A
/// checkpoint that fails (busy past the timeout, or an I/O error such as a
/// full disk while it copies the WAL into the main file) does not undo the
/// committed operation, so it is reported as `false` and never as the
/// operation's error: an error would tell the caller that an erasure,
/// sweep or rotation that did happen had not (found by
/// `tests/store_faults.rs`). The committed data is safe in the WAL; the
/// next checkpoint moves it.
fn checkpoint_after_commit(conn: &Connection, timeout: Duration) -> bool {
    checkpoint(conn, timeout).unwrap_or(false)
}

/// Longest subject id (or case reference) in bytes.
pub const MAX_SUBJECT_BYTES: usize = 256;

/// Checks a subject id or case reference: 1 to [`MAX_SUBJECT_BYTES`]
/// bytes, no control characters, no leading or trailing white space (so
/// that `P-1` and `P-1 ` are never two people). The message never repeats
/// the id.
pub fn check_subject(subject: &str) -> Result<()> {
    if subject.is_empty() || subject.len() > MAX_SUBJECT_BYTES {
        return Err(Error::param(
            "subject",
            format!(
                "must be 1 to {MAX_SUBJECT_BYTES} bytes, got {}",
                subject.len()
            ),
        ));
    }
    if subject.chars().any(char::is_control) {
        return Err(Error::param(
            "subject",
            "must not contain control characters",
        ));
    }
    if subject.starts_with(char::is_whitespace) || subject.ends_with(char::is_whitespace) {
        return Err(Error::param(
            "subject",
            "must not begin or end with white space",
        ));
    }
    Ok(())
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

fn read_store_id(conn: &Connection) -> Result<[u8; 16]> {
    let v =
        schema::meta(conn, "store_id")?.ok_or_else(|| Error::NotAStore("no store id".into()))?;
    v.as_slice()
        .try_into()
        .map_err(|_| Error::NotAStore("malformed store id".into()))
}

/// Inserts a new purpose (with storage key version 1) or checks an existing one.
fn register_purpose(
    tx: &Transaction<'_>,
    audit_key: &DerivedKey,
    now: Timestamp,
    p: &Purpose,
) -> Result<()> {
    let stored: Option<(Vec<u8>, String, i64, f64, i64)> = tx
        .query_row(
            "SELECT params, application, transform_version, threshold, max_retention FROM purposes NOT INDEXED WHERE name = ?1",
            [&p.name],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    let mut ev = audit::NewEvent::new(
        "btp",
        Action::PurposeAdded,
        "store opened with this purpose",
    );
    ev.purpose = Some(&p.name);
    ev.detail.insert("threshold".into(), p.threshold.into());
    ev.detail
        .insert("max_retention".into(), p.max_retention_secs().into());
    match stored {
        None => {
            tx.execute(
                "INSERT INTO purposes (name, params, application, transform_version, threshold, max_retention, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    p.name,
                    p.params.to_bytes(),
                    p.application,
                    i64::from(p.transform_version),
                    p.threshold,
                    p.max_retention_secs(),
                    now
                ],
            )?;
            tx.execute(
                "INSERT INTO storage_keys (purpose, version, state, created_at) VALUES (?1, 1, 'active', ?2)",
                params![p.name, now],
            )?;
            ev.detail
                .insert("scheme".into(), p.params.scheme_id().name().into());
            audit::append(tx, audit_key, now, &ev)?;
        }
        Some((params, application, version, threshold, max_retention)) => {
            if params != p.params.to_bytes()
                || application != p.application
                || version != i64::from(p.transform_version)
            {
                return Err(Error::param(
                    "purposes",
                    format!(
                        "purpose `{}` differs from the store's in scheme, parameters, application or transform version",
                        p.name
                    ),
                ));
            }
            if threshold != p.threshold || max_retention != p.max_retention_secs() {
                tx.execute(
                    "UPDATE purposes SET threshold = ?2, max_retention = ?3 WHERE name = ?1",
                    params![p.name, p.threshold, p.max_retention_secs()],
                )?;
                ev.reason = "purpose policy changed";
                ev.outcome = "updated";
                ev.detail
                    .insert("previous_threshold".into(), threshold.into());
                ev.detail
                    .insert("previous_max_retention".into(), max_retention.into());
                audit::append(tx, audit_key, now, &ev)?;
            }
        }
    }
    Ok(())
}
