//! Negative answers only from authentic rows.
//!
//! "Not enrolled", "expired" and "nothing to erase" are answers a gate or
//! an operator acts on. A damaged row can produce each of them without
//! failing a query: a flipped byte of a record's purpose or kind moves it
//! out of the lookup, one of its expiry makes it look expired. So before
//! such an answer every row of the subject is authenticated (its AEAD
//! binds purpose, subject hash, kind, expiry and key version), which costs
//! a few decryptions on the negative path only; a row that fails is
//! [`Error::Integrity`], never a negative answer. The sweep authenticates
//! what it is about to delete, and [`Store::check_integrity`] every record.

use rusqlite::Connection;

use super::records::{self, Row};
use super::Store;
use crate::error::Result;

impl Store {
    /// Fails with [`crate::Error::Integrity`] unless `row`'s ciphertext
    /// authenticates with its columns.
    pub(super) fn authenticate(&self, row: &Row) -> Result<()> {
        self.unseal(row).map(|_| ())
    }

    /// [`Store::authenticate`] of each row.
    pub(super) fn authenticate_all(&self, rows: &[Row]) -> Result<()> {
        rows.iter().try_for_each(|r| self.authenticate(r))
    }

    /// Before answering that the subject has no (matching) record: every
    /// row of the subject, of any purpose and kind, read through both
    /// subject indexes, is authentic.
    pub(super) fn confirm_absent(&self, conn: &Connection, hash: &[u8; 32]) -> Result<()> {
        self.authenticate_all(&records::subject_rows(conn, hash, None, None)?)
    }

    /// Before a full load of `purpose`'s 1:N gallery: rows that the load
    /// leaves out because of a value no writer puts there (a purpose the
    /// store does not have, an unknown kind)
    /// or because they look expired or like retained probes (which are
    /// few: kept explicitly, with an expiry) must be authentic, else
    /// [`crate::Error::Integrity`]. A table scan, like the load itself.
    pub(super) fn check_left_out(&self, conn: &Connection, purpose: &str, now: i64) -> Result<()> {
        self.authenticate_all(&records::left_out(conn, purpose, now)?)
    }

    /// Authenticates every record of the store; returns how many.
    pub(super) fn authenticate_records(&self, conn: &Connection) -> Result<u64> {
        let mut n = 0u64;
        let mut after = 0i64;
        loop {
            let batch = records::page(conn, after, 1000)?;
            let Some(last) = batch.last() else {
                return Ok(n);
            };
            after = last.id;
            self.authenticate_all(&batch)?;
            n += batch.len() as u64;
        }
    }
}
