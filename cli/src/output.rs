//! What a command reports: human text, or one JSON object with `--json`.

use std::io::Write;

use serde_json::Value;

use crate::error::{code, Result};
use crate::files;

/// The result of a command that succeeded (possibly with a negative answer).
#[derive(Debug)]
pub struct Report {
    /// Lines for a person; may be empty (quiet commands).
    pub human: String,
    /// The same facts for a program.
    pub json: Value,
    /// Exit code: [`code::OK`] or [`code::NEGATIVE`].
    pub code: u8,
    /// Printed on stderr: stdout carries the command's output (`--det -`).
    pub on_stderr: bool,
}

impl Report {
    /// A report with exit code 0.
    pub fn ok(human: impl Into<String>, json: Value) -> Self {
        Self {
            human: human.into(),
            json,
            code: code::OK,
            on_stderr: false,
        }
    }

    /// Sets the exit code to [`code::NEGATIVE`] when `negative`.
    pub fn negative_if(mut self, negative: bool) -> Self {
        if negative {
            self.code = code::NEGATIVE;
        }
        self
    }

    /// Sends the report to stderr (stdout carries other output).
    pub fn on_stderr(mut self) -> Self {
        self.on_stderr = true;
        self
    }

    /// Prints to stdout: JSON when asked, else the human text (if any). A
    /// reader that went away is not an error; a failed write is (exit 8).
    pub fn print(&self, json: bool) -> Result<()> {
        let mut text = if json {
            self.json.to_string()
        } else {
            self.human.clone()
        };
        if text.is_empty() {
            return Ok(());
        }
        if !text.ends_with('\n') {
            text.push('\n');
        }
        if self.on_stderr {
            let _ = std::io::stderr().write_all(text.as_bytes());
            return Ok(());
        }
        files::print(&text)
    }
}
