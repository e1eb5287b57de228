//! What a command reports: human text, or one JSON object with `--json`.

use serde_json::Value;

use crate::error::code;

/// The result of a command that succeeded (possibly with a negative answer).
#[derive(Debug)]
pub struct Report {
    /// Lines for a person; may be empty (quiet commands).
    pub human: String,
    /// The same facts for a program.
    pub json: Value,
    /// Exit code: [`code::OK`] or [`code::NEGATIVE`].
    pub code: u8,
}

impl Report {
    /// A report with exit code 0.
    pub fn ok(human: impl Into<String>, json: Value) -> Self {
        Self {
            human: human.into(),
            json,
            code: code::OK,
        }
    }

    /// Sets the exit code to [`code::NEGATIVE`] when `negative`.
    pub fn negative_if(mut self, negative: bool) -> Self {
        if negative {
            self.code = code::NEGATIVE;
        }
        self
    }

    /// Prints to stdout: JSON when asked, else the human text (if any).
    pub fn print(&self, json: bool) {
        if json {
            println!("{}", self.json);
        } else if !self.human.is_empty() {
            print!("{}", self.human);
            if !self.human.ends_with('\n') {
                println!();
            }
        }
    }
}
