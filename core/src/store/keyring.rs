//! The storage key versions of each purpose (`storage_keys`): which
//! version writes (`active`), which still reads during a rotation
//! (`retiring`), which reads nothing any more (`retired`), and how many
//! encryptions each has made (random nonces are safe up to a limit, see
//! `crypto::NONCE_LIMIT`). The keys themselves are never stored: they are
//! derived from the master key per (purpose, version).

use rusqlite::{params, Connection, OptionalExtension};

use super::Timestamp;
use crate::error::{Error, Result};

/// Whether records sealed under `version` of `purpose` may be read: the
/// version is `active` or `retiring`.
pub(super) fn readable(conn: &Connection, purpose: &str, version: u32) -> Result<bool> {
    let state: Option<String> = conn
        .prepare_cached("SELECT state FROM storage_keys WHERE purpose = ?1 AND version = ?2")?
        .query_row(params![purpose, i64::from(version)], |r| r.get(0))
        .optional()?;
    Ok(matches!(state.as_deref(), Some("active" | "retiring")))
}

/// The active version of a purpose and the encryptions it has made.
fn active(conn: &Connection, purpose: &str) -> Result<(u32, u64)> {
    let (version, count): (i64, i64) = conn
        .prepare_cached(
            "SELECT version, encryptions FROM storage_keys WHERE purpose = ?1 AND state = 'active'",
        )?
        .query_row([purpose], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok((version as u32, count as u64))
}

/// The active storage key version of a purpose, after checking that one
/// more encryption stays within `limit` (and counting it).
pub(super) fn take_encryption(conn: &Connection, purpose: &str, limit: u64) -> Result<u32> {
    let (version, count) = active(conn, purpose)?;
    if count >= limit {
        return Err(Error::KeyExhausted {
            purpose: purpose.to_owned(),
            version,
        });
    }
    conn.prepare_cached(
        "UPDATE storage_keys SET encryptions = encryptions + 1 WHERE purpose = ?1 AND version = ?2",
    )?
    .execute(params![purpose, i64::from(version)])?;
    Ok(version)
}

/// Fails with [`Error::KeyExhausted`] unless the purpose's active storage
/// key may make `n` more encryptions within `limit` (checked before a
/// batch writes anything; each write still counts its own).
pub(super) fn check_budget(conn: &Connection, purpose: &str, n: usize, limit: u64) -> Result<()> {
    let (version, count) = active(conn, purpose)?;
    if count.saturating_add(n as u64) > limit {
        return Err(Error::KeyExhausted {
            purpose: purpose.to_owned(),
            version,
        });
    }
    Ok(())
}

/// The rotation of a purpose's key under way, as (old, new) version: the
/// unfinished one if an earlier rotation was interrupted (`started` is
/// false), else a new one (the active version retires, a new version
/// becomes active, `started` is true).
pub(super) struct Rotation {
    pub(super) from: u32,
    pub(super) to: u32,
    pub(super) started: bool,
}

/// Resumes the purpose's unfinished rotation, or starts one at `now`.
pub(super) fn begin_rotation(conn: &Connection, purpose: &str, now: Timestamp) -> Result<Rotation> {
    let (active, _) = active(conn, purpose)?;
    let retiring: Option<i64> = conn
        .query_row(
            "SELECT max(version) FROM storage_keys WHERE purpose = ?1 AND state = 'retiring'",
            [purpose],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    if let Some(old) = retiring {
        return Ok(Rotation {
            from: old as u32,
            to: active,
            started: false,
        });
    }
    let new = active
        .checked_add(1)
        .ok_or_else(|| Error::Corrupt("the storage key versions are exhausted".into()))?;
    conn.execute(
        "UPDATE storage_keys SET state = 'retiring' WHERE purpose = ?1 AND version = ?2",
        params![purpose, i64::from(active)],
    )?;
    conn.execute(
        "INSERT INTO storage_keys (purpose, version, state, created_at) VALUES (?1, ?2, 'active', ?3)",
        params![purpose, i64::from(new), now],
    )?;
    Ok(Rotation {
        from: active,
        to: new,
        started: true,
    })
}

/// Retires the purpose's retiring version: records sealed under it read
/// as integrity failures from now on.
pub(super) fn finish_rotation(conn: &Connection, purpose: &str) -> Result<()> {
    conn.execute(
        "UPDATE storage_keys SET state = 'retired' WHERE purpose = ?1 AND state = 'retiring'",
        [purpose],
    )?;
    Ok(())
}
