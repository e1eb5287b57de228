//! The audit log exported to a new file.

use std::io::Write;
use std::path::Path;

use super::{EventFilter, Store};
use crate::error::{Error, Result};

impl Store {
    /// Writes the events matching `filter` as JSON lines (the format of
    /// [`Store::export_audit`]) to a new file at `path`; returns the number
    /// of lines. The file is created, never overwritten (an existing path,
    /// the store's own file included, is [`Error::Io`] and stays as it
    /// was), with mode 0600 on Unix (the log names actors and purposes),
    /// and synced to disk; on any failure the partial file is removed.
    pub fn export_audit_file(&self, filter: &EventFilter, path: &Path) -> Result<u64> {
        let file =
            super::schema::create_private(path, "the audit log is exported only to a new file")?;
        let written = (|| {
            let mut out = std::io::BufWriter::new(file);
            let n = self.export_audit(filter, &mut out)?;
            out.flush()?;
            let file = out
                .into_inner()
                .map_err(std::io::IntoInnerError::into_error)?;
            file.sync_all()?;
            Ok(n)
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(path);
        }
        written.map_err(|e| match e {
            Error::Io { message, cause } => Error::Io {
                message: format!("{}: {message}", path.display()),
                cause,
            },
            other => other,
        })
    }
}
