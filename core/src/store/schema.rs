//! The store's SQLite schema, its version, and how a file is recognised.
//!
//! A btp store sets `PRAGMA application_id` to [`APPLICATION_ID`] ("BTP1")
//! and `PRAGMA user_version` to its schema version. Opening a file whose
//! application id differs (and that holds tables) is [`Error::NotAStore`];
//! a schema version above [`SCHEMA_VERSION`] is [`Error::UnsupportedSchema`];
//! older versions are migrated in order by [`MIGRATIONS`].
//!
//! | table | one row per |
//! |---|---|
//! | `meta` | store property: `store_id` (16 random bytes), `key_check` (HMAC proving the master key), `created_at` |
//! | `purposes` | configured purpose: scheme parameters, application, transform version, threshold, maximum retention |
//! | `storage_keys` | (purpose, storage key version): encryptions made, state `active` / `retiring` / `retired` |
//! | `records` | encrypted template or retained probe: purpose, subject hash, kind, created/expires, key version, nonce, ciphertext; two independent indexes by subject hash (`records_subject`, and `records_subject_check` since version 2) that every lookup by subject cross-checks |
//! | `holds` | legal hold on a subject hash or a record, with reason; released holds keep their row |
//! | `gallery_changes` | append-only log of additions/removals, so every handle keeps its in-memory galleries in step |
//! | `sweep_journal` | ids deleted by a sweep whose audit event is not yet written (crash recovery) |
//! | `audit`, `audit_anchor` | the keyed hash-chained audit log (see `audit`) |

use std::path::Path;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::audit;
use crate::error::{Error, Result};

/// "BTP1": identifies a btp store file.
pub const APPLICATION_ID: i32 = 0x4254_5031;
/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = 2;

/// Version 1: every table.
const V1: &str = "
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;
CREATE TABLE purposes (
    name              TEXT PRIMARY KEY,
    params            BLOB NOT NULL,
    application       TEXT NOT NULL,
    transform_version INTEGER NOT NULL,
    threshold         REAL NOT NULL,
    max_retention     INTEGER NOT NULL,
    created_at        INTEGER NOT NULL
) STRICT;
CREATE TABLE storage_keys (
    purpose     TEXT NOT NULL REFERENCES purposes(name),
    version     INTEGER NOT NULL,
    encryptions INTEGER NOT NULL DEFAULT 0,
    state       TEXT NOT NULL CHECK (state IN ('active', 'retiring', 'retired')),
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (purpose, version)
) STRICT;
CREATE TABLE records (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    purpose      TEXT NOT NULL,
    subject_hash BLOB NOT NULL,
    kind         INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    key_version  INTEGER NOT NULL,
    nonce        BLOB NOT NULL,
    ciphertext   BLOB NOT NULL
) STRICT;
CREATE INDEX records_subject ON records(subject_hash);
CREATE INDEX records_purpose ON records(purpose, kind);
CREATE INDEX records_expiry ON records(expires_at);
CREATE TABLE holds (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    subject_hash BLOB,
    record_id    INTEGER,
    reason       TEXT NOT NULL,
    actor        TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    released_at  INTEGER,
    CHECK ((subject_hash IS NULL) <> (record_id IS NULL))
) STRICT;
CREATE INDEX holds_subject ON holds(subject_hash) WHERE released_at IS NULL;
CREATE INDEX holds_record ON holds(record_id) WHERE released_at IS NULL;
CREATE TABLE gallery_changes (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    purpose   TEXT NOT NULL,
    record_id INTEGER NOT NULL,
    added     INTEGER NOT NULL
) STRICT;
CREATE INDEX gallery_changes_purpose ON gallery_changes(purpose, seq);
CREATE TABLE sweep_journal (
    record_id INTEGER PRIMARY KEY,
    purpose   TEXT NOT NULL
) STRICT;
";

/// Version 2: a second, independent index of records by subject hash.
/// Lookups by subject go through `records_subject` and are cross-checked
/// against this one: damage to either index page (garbled keys that hide a
/// subject's rows from a lookup, which SQLite cannot notice on the way) is
/// then `Error::Corrupt` on the path, never a silent "not enrolled" or an
/// erasure that erases nothing.
const V2: &str = "
CREATE INDEX records_subject_check ON records(subject_hash, id);
";

/// Migrations from version `i` to `i + 1` are `MIGRATIONS[i - 1]`; the
/// creation script is version 1, and a new file runs every migration.
pub const MIGRATIONS: &[&str] = &[V2];

/// Sets the per-connection pragmas every handle needs.
pub(crate) fn configure(conn: &Connection, busy_timeout: std::time::Duration) -> Result<()> {
    conn.busy_timeout(busy_timeout)?;
    // Deleted content is overwritten with zeros, in the file and the WAL.
    conn.pragma_update(None, "secure_delete", "ON")?;
    // Check each b-tree cell's size as it is read: damaged pages become
    // SQLITE_CORRUPT (`Error::Corrupt`) more often instead of wrong answers.
    conn.pragma_update(None, "cell_size_check", "ON")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::database(format!(
            "cannot use WAL journal mode (got {mode})"
        )));
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(())
}

/// Checks that `path` is an existing, non-empty regular file before it is
/// opened as a store: a missing path is [`Error::Missing`]; an empty file,
/// a directory or a device [`Error::NotAStore`]. (SQLite would otherwise
/// create a missing file, and take an empty one for a new database.)
pub(crate) fn check_existing(path: &Path) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() && m.len() > 0 => Ok(()),
        Ok(m) if m.is_file() => Err(Error::NotAStore(
            "the file is empty (a store creation interrupted before its first commit leaves such a file: delete it and create the store again)".into(),
        )),
        Ok(_) => Err(Error::NotAStore("not a regular file".into())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(Error::Missing(format!("no store at {}", path.display())))
        }
        Err(e) => Err(Error::io_from(format!("{}: {e}", path.display()), e)),
    }
}

/// Creates the file of a new store, failing if anything exists at `path`
/// (atomically: of two processes creating one path, one fails). Mode 0600
/// on Unix: the file holds ciphertexts, subject hashes and the audit log.
pub(crate) fn create_file(path: &Path) -> Result<()> {
    create_private(
        path,
        "a new store is created only at a free path (open an existing store instead)",
    )
    .map(drop)
}

/// Creates a new file at `path`, mode 0600 on Unix, failing if anything
/// exists there (atomically); an existing path is [`Error::Io`] saying
/// so, followed by `why`.
pub(crate) fn create_private(path: &Path, why: &str) -> Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::io_from(format!("{} already exists: {why}", path.display()), e)
        } else {
            Error::io_from(format!("{}: {e}", path.display()), e)
        }
    })
}

/// Removes the files of a store whose creation failed (best effort).
pub(crate) fn remove_files(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}

/// Opens the database file, which must exist: SQLite never creates it, and
/// a path is a path (no `file:` URIs).
pub(crate) fn connect(path: &Path) -> Result<Connection> {
    Ok(Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?)
}

/// What [`prepare`] found.
pub(crate) enum Found {
    /// A new, empty file: the schema was created.
    Created,
    /// An existing btp store (migrated if it was older).
    Existing,
}

/// Recognises, creates (only when `create`: a new file) or migrates the
/// schema, in one immediate transaction. An empty database where a store
/// was expected is [`Error::NotAStore`], never initialised.
pub(crate) fn prepare(conn: &mut Connection, create: bool) -> Result<Found> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let app_id: i32 = tx.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let tables: i64 = tx.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
    let found = if app_id == 0 && version == 0 && tables == 0 {
        if !create {
            return Err(Error::NotAStore(
                "an empty database (no btp schema): create a store instead".into(),
            ));
        }
        tx.execute_batch(V1)?;
        tx.execute_batch(audit::SCHEMA)?;
        for m in MIGRATIONS {
            tx.execute_batch(m)?;
        }
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        Found::Created
    } else if app_id != APPLICATION_ID {
        return Err(Error::NotAStore(
            "an SQLite database of another application".into(),
        ));
    } else if version > SCHEMA_VERSION {
        return Err(Error::UnsupportedSchema {
            found: version,
            supported: SCHEMA_VERSION,
        });
    } else if version < 1 {
        return Err(Error::NotAStore(format!(
            "invalid schema version {version}"
        )));
    } else {
        for (i, m) in MIGRATIONS.iter().enumerate().skip(version as usize - 1) {
            tx.execute_batch(m)?;
            tx.pragma_update(None, "user_version", i as i64 + 2)?;
        }
        Found::Existing
    };
    tx.commit()?;
    Ok(found)
}

/// Reads a `meta` value.
pub(crate) fn meta(conn: &Connection, key: &str) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}
