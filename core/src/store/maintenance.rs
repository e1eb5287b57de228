//! Maintenance of the file: the integrity check (SQLite's structure and
//! every record's authentication) and WAL checkpoints, which move
//! committed data into the main file and remove deleted bytes from both.

use std::time::Duration;

use rusqlite::Connection;

use super::Store;
use crate::error::{Error, Result};

impl Store {
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
pub(super) fn checkpoint(conn: &Connection, timeout: Duration) -> Result<bool> {
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
pub(super) fn checkpoint_after_commit(conn: &Connection, timeout: Duration) -> bool {
    checkpoint(conn, timeout).unwrap_or(false)
}
