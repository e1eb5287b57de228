//! Errors of the command line and the exit code of each class.
//!
//! Every failure ends as one line on stderr (`btp: error: ...`) and an exit
//! code chosen by its class. The class of a core error comes from an
//! exhaustive match on [`btp::ErrorKind`], so a new kind in the core stops
//! this crate from compiling until it has a code.

use std::fmt;

/// Exit codes: the contract with scripts and cron. Keep `EXIT_CODES_HELP`,
/// the README and this list in step.
pub mod code {
    /// Success (for `verify`: a match; for `identify`: candidates found).
    pub const OK: u8 = 0;
    /// A negative answer: `verify` found no match, `identify` no candidate.
    pub const NEGATIVE: u8 = 1;
    /// Usage: unknown command or option, missing argument (clap exits with
    /// it itself; kept here so that the list is complete).
    #[allow(dead_code)]
    pub const USAGE: u8 = 2;
    /// Bad input: unreadable or malformed file, wrong dimension, NaN,
    /// invalid parameter or configuration.
    pub const INPUT: u8 = 3;
    /// Key problem: no key given, unreadable or unsafe key file, wrong key.
    pub const KEY: u8 = 4;
    /// Integrity: corrupted store, altered record, broken audit chain, not a
    /// btp store.
    pub const INTEGRITY: u8 = 5;
    /// Not found: unknown purpose, subject not enrolled, no such record,
    /// hold, event or store.
    pub const NOT_FOUND: u8 = 6;
    /// Refused by policy: legal hold, expired record, retention too long.
    pub const POLICY: u8 = 7;
    /// I/O or system: disk, permissions, busy database, existing output file.
    pub const IO: u8 = 8;
}

/// The exit codes as shown by `btp --help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success (verify: match; identify: at least one candidate)
  1  negative answer (verify: no match; identify: no candidate)
  2  usage error (unknown command or option, missing argument)
  3  bad input (malformed .npy/CSV/TOML/score file, wrong dimension, NaN, invalid parameter)
  4  key problem (no key, unsafe key file permissions, malformed key, wrong key)
  5  integrity (corrupted store, altered record, broken audit chain, not a btp store)
  6  not found (unknown purpose, subject not enrolled, no such record, hold, event or store)
  7  refused by policy (legal hold, expired record, retention too long)
  8  I/O or system (disk, permissions, database busy, output file exists)
  101 internal error (a bug: please report it)";

/// The class of a failure; each has one exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// [`code::INPUT`]
    Input,
    /// [`code::KEY`]
    Key,
    /// [`code::INTEGRITY`]
    Integrity,
    /// [`code::NOT_FOUND`]
    NotFound,
    /// [`code::POLICY`]
    Policy,
    /// [`code::IO`]
    Io,
}

impl Class {
    /// The process exit code of this class.
    pub fn code(self) -> u8 {
        match self {
            Class::Input => code::INPUT,
            Class::Key => code::KEY,
            Class::Integrity => code::INTEGRITY,
            Class::NotFound => code::NOT_FOUND,
            Class::Policy => code::POLICY,
            Class::Io => code::IO,
        }
    }

    /// The class of a core error kind.
    pub fn of(kind: btp::ErrorKind) -> Self {
        use btp::ErrorKind as K;
        match kind {
            K::WrongDimension
            | K::NonFinite
            | K::ZeroNorm
            | K::InvalidParameter
            | K::KeyMismatch
            | K::SchemeMismatch
            | K::Decode
            | K::DuplicateId
            | K::InvalidScores
            | K::ExpiryInPast => Class::Input,
            K::InvalidKeyLength | K::WrongKey | K::KeyExhausted => Class::Key,
            K::Integrity | K::Corrupt | K::AuditBroken | K::NotAStore | K::UnsupportedSchema => {
                Class::Integrity
            }
            K::NotFound | K::UnknownPurpose => Class::NotFound,
            K::Expired | K::Held | K::RetentionTooLong => Class::Policy,
            K::Rng | K::Busy | K::Io | K::Database | K::OutOfMemory => Class::Io,
        }
    }
}

/// A failure of a command: its class and a one-line message that holds no
/// key material and no feature values.
#[derive(Debug)]
pub struct CliError {
    /// What kind of failure.
    pub class: Class,
    /// The message.
    pub message: String,
}

impl CliError {
    /// A failure of `class`.
    pub fn new(class: Class, message: impl Into<String>) -> Self {
        Self {
            class,
            message: message.into(),
        }
    }

    /// Bad input.
    pub fn input(message: impl Into<String>) -> Self {
        Self::new(Class::Input, message)
    }

    /// A key problem.
    pub fn key(message: impl Into<String>) -> Self {
        Self::new(Class::Key, message)
    }

    /// An I/O failure.
    pub fn io(message: impl Into<String>) -> Self {
        Self::new(Class::Io, message)
    }

    /// Prefixes the message with where it happened.
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, whatever the source said.
        f.write_str(&self.message.replace(['\n', '\r'], " "))
    }
}

impl From<btp::Error> for CliError {
    fn from(e: btp::Error) -> Self {
        Self::new(Class::of(e.kind()), e.to_string())
    }
}

/// `Result` of the command line.
pub type Result<T, E = CliError> = std::result::Result<T, E>;

/// Maps an I/O error on `path` to a one-line error of the right class.
pub fn io_error(path: &std::path::Path, e: &std::io::Error) -> CliError {
    use std::io::ErrorKind as K;
    let class = match e.kind() {
        K::NotFound => Class::NotFound,
        K::InvalidData | K::UnexpectedEof => Class::Input,
        _ => Class::Io,
    };
    CliError::new(class, format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_kind_has_a_distinct_non_success_code() {
        for kind in btp::ErrorKind::ALL {
            let c = Class::of(kind).code();
            assert!((code::INPUT..=code::IO).contains(&c), "{kind:?}");
        }
        assert_eq!(Class::of(btp::ErrorKind::WrongKey).code(), code::KEY);
        assert_eq!(Class::of(btp::ErrorKind::Held).code(), code::POLICY);
    }
}
