//! The record repository: the `records` table's row codec and every
//! statement the operations run on it. A record is written once, sealed
//! (one INSERT with its nonce and ciphertext), re-sealed only by a key
//! rotation, and deleted by erasure or sweep; each write that changes a
//! purpose's 1:N gallery appends to the gallery change log in the same
//! transaction (see `changes`).
//!
//! Every function takes a `&Connection` (a transaction derefs to one): the
//! caller decides the transaction; nothing here commits.

use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, OptionalExtension};

use super::changes;
use super::{RecordId, Timestamp};
use crate::error::{Error, Result};

/// What a record holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum RecordKind {
    /// An enrolled template: matched by verify and identify.
    Template,
    /// A retained probe (evidence under a case reference): never matched.
    Probe,
}

impl RecordKind {
    /// The value stored in the `kind` column and bound into the record's
    /// associated data.
    pub(super) const fn code(self) -> u8 {
        match self {
            Self::Template => 0,
            Self::Probe => 1,
        }
    }

    fn from_code(code: i64) -> Option<Self> {
        match code {
            0 => Some(Self::Template),
            1 => Some(Self::Probe),
            _ => None,
        }
    }
}

/// A records row.
pub(super) struct Row {
    pub(super) id: RecordId,
    pub(super) purpose: String,
    pub(super) subject_hash: [u8; 32],
    pub(super) kind: RecordKind,
    pub(super) expires_at: Timestamp,
    pub(super) key_version: u32,
    pub(super) nonce: Vec<u8>,
    pub(super) ciphertext: Vec<u8>,
}

/// The `kind` column's values, as SQL parameters.
const TEMPLATE: i64 = RecordKind::Template.code() as i64;
const PROBE: i64 = RecordKind::Probe.code() as i64;

const ROW_COLUMNS: &str =
    "id, purpose, subject_hash, kind, expires_at, key_version, nonce, ciphertext";

/// Reads one records row. A value outside its column's range (a purpose
/// that is not UTF-8, a subject hash that is not 32 bytes, a kind no writer
/// puts there, a key version beyond `u32`) is an integrity failure of that
/// record: never truncated into a valid-looking value (a flipped high bit
/// of `key_version` once read as the original version).
fn decode(r: &rusqlite::Row<'_>) -> Result<Row> {
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
        kind: RecordKind::from_code(r.get(3)?).ok_or_else(integrity)?,
        expires_at: r.get(4)?,
        key_version: u32::try_from(r.get::<_, i64>(5)?).map_err(|_| integrity())?,
        nonce: r.get(6)?,
        ciphertext: r.get(7)?,
    })
}

/// Reads rows of `SELECT {ROW_COLUMNS} FROM records {rest}` (see
/// [`decode`]), and refuses a row whose storage key version is neither
/// `active` nor `retiring` for its purpose: after a rotation the retired
/// key reads nothing, so a row restored from a backup taken before the
/// rotation is an integrity failure, not a record.
fn select(conn: &Connection, rest: &str, params: impl rusqlite::Params) -> Result<Vec<Row>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {ROW_COLUMNS} FROM records {rest}"))?;
    let mut raw = stmt.query(params)?;
    let mut readable: Vec<(String, u32, bool)> = Vec::new();
    let mut out = Vec::new();
    while let Some(r) = raw.next()? {
        let row = decode(r)?;
        let known = readable
            .iter()
            .find(|(p, v, _)| *p == row.purpose && *v == row.key_version)
            .map(|e| e.2);
        let ok = match known {
            Some(ok) => ok,
            None => {
                let ok = super::keyring::readable(conn, &row.purpose, row.key_version)?;
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

/// A row limit as SQL takes it (a `usize` beyond `i64` means no limit).
fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// The id the next inserted record gets: as `AUTOINCREMENT` would give it
/// (one more than the larger of `sqlite_sequence`'s count, read as an
/// integer as SQLite reads it, and the largest id: never an id used
/// before, even by an erased record), known before the INSERT because the
/// record's associated data binds it. Callers hold the write lock (an
/// immediate transaction) from here to the INSERT. No id left is
/// [`Error::Io`], as SQLite's own `SQLITE_FULL` was.
pub(super) fn next_id(conn: &Connection) -> Result<RecordId> {
    let last: RecordId = conn.query_row(
        "SELECT max(coalesce((SELECT CAST(seq AS INTEGER) FROM sqlite_sequence WHERE name = 'records'), 0),
                    coalesce((SELECT max(id) FROM records), 0))",
        [],
        |r| r.get(0),
    )?;
    last.checked_add(1).ok_or_else(|| Error::Io {
        message: "database or disk is full: no record id is left".into(),
        cause: None,
    })
}

/// Writes a sealed record (`row.id` from [`next_id`]) in one INSERT, and
/// logs a template's arrival in its purpose's gallery.
pub(super) fn insert(conn: &Connection, row: &Row, created_at: Timestamp) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO records (id, purpose, subject_hash, kind, created_at, expires_at, key_version, nonce, ciphertext)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        row.id,
        row.purpose,
        &row.subject_hash[..],
        i64::from(row.kind.code()),
        created_at,
        row.expires_at,
        i64::from(row.key_version),
        row.nonce,
        row.ciphertext
    ])?;
    if row.kind == RecordKind::Template {
        changes::log(conn, &row.purpose, row.id, true)?;
    }
    Ok(())
}

/// Replaces a record's sealing (a key rotation re-encrypts under the new
/// key version).
pub(super) fn reseal(conn: &Connection, row: &Row) -> Result<()> {
    conn.prepare_cached(
        "UPDATE records SET key_version = ?2, nonce = ?3, ciphertext = ?4 WHERE id = ?1",
    )?
    .execute(params![
        row.id,
        i64::from(row.key_version),
        row.nonce,
        row.ciphertext
    ])?;
    Ok(())
}

/// Deletes a record and logs its departure from its purpose's gallery.
pub(super) fn delete(conn: &Connection, id: RecordId, purpose: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM records WHERE id = ?1")?
        .execute([id])?;
    changes::log(conn, purpose, id, false)
}

/// The record `id` if it is of `kind`.
pub(super) fn by_id(conn: &Connection, id: RecordId, kind: RecordKind) -> Result<Option<Row>> {
    Ok(select(
        conn,
        "WHERE id = ?1 AND kind = ?2",
        params![id, i64::from(kind.code())],
    )?
    .pop())
}

/// The purpose of record `id`, whatever its kind.
pub(super) fn purpose_of(conn: &Connection, id: RecordId) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT purpose FROM records WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?)
}

/// Which rows of a subject a lookup wants: all, or one purpose's, or one
/// purpose's of one kind.
const SUBJECT_FILTER: &str =
    "subject_hash = ?1 AND (?2 IS NULL OR purpose = ?2) AND (?3 IS NULL OR kind = ?3)";

/// The ids and purposes of a subject's records (see [`SUBJECT_FILTER`])
/// through the subject index `records_subject`, cross-checked against the
/// independent index `records_subject_check`: the two must list the same
/// records.
///
/// Garbled keys in an index page hide rows from a lookup without SQLite
/// noticing on the way, which would turn an enrolled person into "not
/// enrolled" at a gate, or make an erasure erase nothing. Single-page
/// damage reaches one index at most, so a disagreement is
/// [`Error::Corrupt`] on the path (one more index seek per lookup).
pub(super) fn subject_ids(
    conn: &Connection,
    hash: &[u8; 32],
    purpose: Option<&str>,
    kind: Option<RecordKind>,
) -> Result<Vec<(RecordId, String)>> {
    let kind = kind.map(|k| i64::from(k.code()));
    let found: Vec<(RecordId, String)> = conn
        .prepare_cached(&format!(
            "SELECT id, purpose FROM records INDEXED BY records_subject WHERE {SUBJECT_FILTER} ORDER BY id"
        ))?
        .query_map(params![&hash[..], purpose, kind], |r| Ok((r.get(0)?, r.get(1)?)))?
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
    kind: Option<RecordKind>,
) -> Result<Vec<Row>> {
    let kind = kind.map(|k| i64::from(k.code()));
    let found = select(
        conn,
        &format!("INDEXED BY records_subject WHERE {SUBJECT_FILTER} ORDER BY id"),
        params![&hash[..], purpose, kind],
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
    kind: Option<i64>,
    ids: &[RecordId],
) -> Result<()> {
    let witness: Vec<RecordId> = conn
        .prepare_cached(&format!(
            "SELECT id FROM records INDEXED BY records_subject_check WHERE {SUBJECT_FILTER} ORDER BY id"
        ))?
        .query_map(params![&hash[..], purpose, kind], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if witness != ids {
        return Err(Error::Corrupt(
            "the two indexes of records by subject disagree: an index page is damaged (run check_integrity and restore the store from a backup)".into(),
        ));
    }
    Ok(())
}

/// A purpose's live templates, by a table scan, not the purpose index:
/// damaged index keys must not leave records out of the 1:N gallery
/// unnoticed (nor may damaged rows: see [`left_out`]).
pub(super) fn live_templates(conn: &Connection, purpose: &str, now: Timestamp) -> Result<Vec<Row>> {
    select(
        conn,
        "NOT INDEXED WHERE purpose = ?1 AND kind = ?3 AND expires_at > ?2",
        params![purpose, now, TEMPLATE],
    )
}

/// The rows a full load of `purpose`'s gallery ([`live_templates`]) leaves
/// out for a reason other than belonging to another purpose: a purpose the
/// store does not have, an unknown kind, an expiry passed, a retained
/// probe. A table scan, like the load.
pub(super) fn left_out(conn: &Connection, purpose: &str, now: Timestamp) -> Result<Vec<Row>> {
    select(
        conn,
        "NOT INDEXED
         WHERE kind NOT IN (?3, ?4)
            OR purpose NOT IN (SELECT name FROM purposes NOT INDEXED)
            OR (purpose = ?1 AND (kind = ?4 OR expires_at <= ?2))",
        params![purpose, now, TEMPLATE, PROBE],
    )
}

/// Up to `limit` records expired at `now` and under no active hold, oldest
/// expiry first.
pub(super) fn expired_unheld(conn: &Connection, now: Timestamp, limit: usize) -> Result<Vec<Row>> {
    select(
        conn,
        "AS r WHERE r.expires_at <= ?1 AND NOT EXISTS (
             SELECT 1 FROM holds AS h NOT INDEXED WHERE h.released_at IS NULL
               AND (h.record_id = r.id OR h.subject_hash = r.subject_hash))
         ORDER BY r.expires_at, r.id LIMIT ?2",
        params![now, sql_limit(limit)],
    )
}

/// How many records expired at `now` an active hold keeps.
pub(super) fn expired_held(conn: &Connection, now: Timestamp) -> Result<u64> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM records r WHERE r.expires_at <= ?1 AND EXISTS (
             SELECT 1 FROM holds AS h NOT INDEXED WHERE h.released_at IS NULL
               AND (h.record_id = r.id OR h.subject_hash = r.subject_hash))",
        [now],
        |r| r.get(0),
    )?;
    Ok(n as u64)
}

/// Up to `limit` records of `purpose` after id `after`, in id order, not
/// sealed under key `version` (what a rotation still has to re-encrypt).
/// Rowid range scans, no sort.
pub(super) fn not_at_version(
    conn: &Connection,
    purpose: &str,
    version: u32,
    after: RecordId,
    limit: usize,
) -> Result<Vec<Row>> {
    select(
        conn,
        "WHERE id > ?4 AND +purpose = ?1 AND key_version <> ?2 ORDER BY id LIMIT ?3",
        params![purpose, i64::from(version), sql_limit(limit), after],
    )
}

/// Up to `limit` records after id `after`, in id order (a walk of the
/// whole table).
pub(super) fn page(conn: &Connection, after: RecordId, limit: usize) -> Result<Vec<Row>> {
    select(
        conn,
        "WHERE id > ?1 ORDER BY id LIMIT ?2",
        params![after, sql_limit(limit)],
    )
}

/// Number of records (live or expired, not yet swept) per purpose.
pub(super) fn counts(conn: &Connection) -> Result<std::collections::BTreeMap<String, u64>> {
    count_by_purpose(
        conn,
        "SELECT purpose, count(*) FROM records GROUP BY purpose",
        [],
    )
}

/// Number of live templates per purpose at `now`.
pub(super) fn live_counts(
    conn: &Connection,
    now: Timestamp,
) -> Result<std::collections::BTreeMap<String, u64>> {
    count_by_purpose(
        conn,
        "SELECT purpose, count(*) FROM records WHERE kind = ?2 AND expires_at > ?1 GROUP BY purpose",
        params![now, TEMPLATE],
    )
}

fn count_by_purpose(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<std::collections::BTreeMap<String, u64>> {
    let mut stmt = conn.prepare(sql)?;
    let counts = stmt
        .query_map(params, |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(counts)
}
