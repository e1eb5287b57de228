//! What the operations take besides a purpose: who acts and why
//! ([`Context`]), the biometric sample ([`Sample`], [`Samples`]), how long
//! to keep a record ([`Retention`]), what a hold applies to
//! ([`HoldTarget`]), and the rules of a subject id.

use std::time::Duration;

use super::audit;
use super::{RecordId, Timestamp};
use crate::error::{Error, Result};
use crate::template::ProtectedTemplate;

/// Who acts and why: every operation records it in the audit log.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// The actor (operator, officer, service) id.
    pub actor: &'a str,
    /// The reason (case number, legal basis, request id).
    pub reason: &'a str,
}

impl<'a> Context<'a> {
    /// A context; both fields must be non-empty when used.
    pub fn new(actor: &'a str, reason: &'a str) -> Self {
        Self { actor, reason }
    }

    /// Both fields non-blank and short enough for the audit log, checked
    /// before an operation touches anything.
    pub(super) fn check(&self) -> Result<()> {
        if self.actor.trim().is_empty() {
            return Err(Error::param("actor", "must not be empty"));
        }
        if self.reason.trim().is_empty() {
            return Err(Error::param("reason", "must not be empty"));
        }
        audit::check_text("actor", self.actor)?;
        audit::check_text("reason", self.reason)
    }
}

/// A biometric sample given to the store: a feature vector (protected at
/// once and never stored) or an already protected template.
#[derive(Clone, Copy)]
pub enum Sample<'a> {
    /// Raw features of the purpose's dimension.
    Features(&'a [f32]),
    /// A template made under the purpose's scheme and key.
    Template(&'a ProtectedTemplate),
}

/// Never the feature values (a logged sample would leak the biometric):
/// their count only (found by `tests/secrets.rs`).
impl std::fmt::Debug for Sample<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Features(x) => write!(f, "Features([redacted; {} values])", x.len()),
            Self::Template(t) => f.debug_tuple("Template").field(t).finish(),
        }
    }
}

/// The samples of a batch enrolment ([`Store::enroll_batch`]), one per
/// subject.
#[derive(Clone, Copy)]
pub enum Samples<'a> {
    /// Row-major feature vectors, one row of the purpose's dimension per
    /// subject: protected at once (by the batch kernel) and never stored.
    Features(&'a [f32]),
    /// Templates made under the purpose's scheme and key.
    Templates(&'a [ProtectedTemplate]),
}

/// Never the feature values: their count only.
impl std::fmt::Debug for Samples<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Features(x) => write!(f, "Features([redacted; {} values])", x.len()),
            Self::Templates(t) => write!(f, "Templates([{} templates])", t.len()),
        }
    }
}

/// How long a record is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retention {
    /// The purpose's maximum.
    Maximum,
    /// This long from now (at most the purpose's maximum).
    For(Duration),
    /// Until this time (at most the purpose's maximum from now).
    Until(Timestamp),
}

/// What a legal hold applies to.
#[derive(Clone, Copy, Debug)]
pub enum HoldTarget<'a> {
    /// Every record of a subject, in every purpose, present and future.
    Subject(&'a str),
    /// One record.
    Record(RecordId),
}

/// Longest subject id (or case reference) in bytes.
pub const MAX_SUBJECT_BYTES: usize = 256;

/// Checks a subject id or case reference: 1 to [`MAX_SUBJECT_BYTES`]
/// bytes, no control characters, no leading or trailing white space (so
/// that `P-1` and `P-1 ` are never two people). The message never repeats
/// the id.
pub fn check_subject(subject: &str) -> Result<()> {
    if subject.is_empty() || subject.len() > MAX_SUBJECT_BYTES {
        return Err(Error::param(
            "subject",
            format!(
                "must be 1 to {MAX_SUBJECT_BYTES} bytes, got {}",
                subject.len()
            ),
        ));
    }
    if subject.chars().any(char::is_control) {
        return Err(Error::param(
            "subject",
            "must not contain control characters",
        ));
    }
    if subject.starts_with(char::is_whitespace) || subject.ends_with(char::is_whitespace) {
        return Err(Error::param(
            "subject",
            "must not begin or end with white space",
        ));
    }
    Ok(())
}
