//! `btp keygen`.

use std::path::Path;

use serde_json::json;

use crate::error::Result;
use crate::keyfile;
use crate::output::Report;

/// Writes a new key file.
pub fn run(out: &Path) -> Result<Report> {
    keyfile::generate(out)?;
    Ok(Report::ok(
        format!(
            "wrote a new 256-bit master key to {} (hex, mode 0600).\n\
             Keep a copy in a safe place: without it the store cannot be read.\n",
            out.display()
        ),
        json!({ "key_file": out, "format": "hex", "mode": "0600" }),
    ))
}
