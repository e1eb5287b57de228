//! The two logs that let work outlive a transaction or a process: the
//! gallery change log (`gallery_changes`, append-only: every template
//! added to or removed from a purpose's 1:N gallery, read by every handle
//! to keep its in-memory gallery in step; pruned behind a floor), and the
//! sweep journal (`sweep_journal`: ids a sweep deleted, audited and
//! cleared when the sweep completes, by the next sweep after a crash).

use rusqlite::{params, Connection};

use super::RecordId;
use crate::error::Result;

/// Gallery change log entries kept behind the newest before pruning.
const CHANGES_KEPT: i64 = 100_000;

/// Logs that record `id` joined (`added`) or left `purpose`'s gallery.
pub(super) fn log(conn: &Connection, purpose: &str, id: RecordId, added: bool) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO gallery_changes (purpose, record_id, added) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![purpose, id, i64::from(added)])?;
    Ok(())
}

/// The newest change's sequence number (0 when none).
pub(super) fn newest(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT coalesce(max(seq), 0) FROM gallery_changes",
        [],
        |r| r.get(0),
    )?)
}

/// The sequence number below which changes were pruned: a handle that
/// synced before it must reload.
pub(super) fn floor(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'changes_floor'), 0)",
        [],
        |r| r.get(0),
    )?)
}

/// `purpose`'s changes in `(after, upto]`, in order: (record, added).
pub(super) fn since(
    conn: &Connection,
    purpose: &str,
    after: i64,
    upto: i64,
) -> Result<Vec<(RecordId, bool)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT record_id, added FROM gallery_changes WHERE purpose = ?1 AND seq > ?2 AND seq <= ?3 ORDER BY seq",
    )?;
    let changes = stmt
        .query_map(params![purpose, after, upto], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(changes)
}

/// Keeps the change log bounded: drops all but the newest
/// `CHANGES_KEPT` entries and raises the floor (handles behind it reload).
pub(super) fn prune(conn: &Connection) -> Result<()> {
    let floor = newest(conn)? - CHANGES_KEPT;
    if floor > 0 && conn.execute("DELETE FROM gallery_changes WHERE seq <= ?1", [floor])? > 0 {
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('changes_floor', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [floor.to_string().into_bytes()],
        )?;
    }
    Ok(())
}

/// Journals a record a sweep deleted.
pub(super) fn journal_swept(conn: &Connection, id: RecordId, purpose: &str) -> Result<()> {
    conn.prepare_cached("INSERT INTO sweep_journal (record_id, purpose) VALUES (?1, ?2)")?
        .execute(params![id, purpose])?;
    Ok(())
}

/// Empties the sweep journal; returns what it held, by purpose, ids
/// ascending.
pub(super) fn drain_swept(
    conn: &Connection,
) -> Result<std::collections::BTreeMap<String, Vec<RecordId>>> {
    let mut deleted: std::collections::BTreeMap<String, Vec<RecordId>> = Default::default();
    {
        let mut stmt =
            conn.prepare("SELECT record_id, purpose FROM sweep_journal ORDER BY record_id")?;
        for r in stmt.query_map([], |r| {
            Ok((r.get::<_, RecordId>(0)?, r.get::<_, String>(1)?))
        })? {
            let (id, p) = r?;
            deleted.entry(p).or_default().push(id);
        }
    }
    conn.execute("DELETE FROM sweep_journal", [])?;
    Ok(deleted)
}
