//! Legal holds (`holds`): placed on a subject (every record, present and
//! future, in every purpose) or on one record; released, never deleted.

use rusqlite::{params, Connection};

use super::{RecordId, Timestamp};
use crate::error::Result;

/// What a hold is placed on, as stored.
pub(super) enum Target<'a> {
    Subject(&'a [u8; 32]),
    Record(RecordId),
}

/// Places a hold; returns its id.
pub(super) fn place(
    conn: &Connection,
    target: Target<'_>,
    reason: &str,
    actor: &str,
    now: Timestamp,
) -> Result<i64> {
    match target {
        Target::Subject(hash) => conn.execute(
            "INSERT INTO holds (subject_hash, reason, actor, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![&hash[..], reason, actor, now],
        )?,
        Target::Record(id) => conn.execute(
            "INSERT INTO holds (record_id, reason, actor, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![id, reason, actor, now],
        )?,
    };
    Ok(conn.last_insert_rowid())
}

/// Releases an active hold at `now`; false if there is no such hold.
pub(super) fn release(conn: &Connection, hold: i64, now: Timestamp) -> Result<bool> {
    let n = conn.execute(
        "UPDATE holds SET released_at = ?2 WHERE id = ?1 AND released_at IS NULL",
        params![hold, now],
    )?;
    Ok(n > 0)
}

/// An active hold found on a subject or record: (id, reason, what it is
/// on: `subject` or `record N`).
pub(super) type Found = (i64, String, String);

/// The first active hold on the subject `hash` or on one of `records`.
/// The holds table is read whole, without its indexes (it is small): a
/// damaged index page must not hide a hold and let an erasure through.
pub(super) fn first_active(
    conn: &Connection,
    hash: &[u8; 32],
    records: &[RecordId],
) -> Result<Option<Found>> {
    let mut stmt = conn.prepare_cached(
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
