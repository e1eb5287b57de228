//! Errors of the command line and the exit code of each class.
//!
//! Every failure ends as one line on stderr (`btp: error: ...`) and an exit
//! code chosen by its class. The class of a core error comes from an
//! exhaustive match on [`btp::ErrorKind`], so a new kind in the core stops
//! this crate from compiling until it has a code.

use std::fmt;

/// Exit codes: the contract with scripts and cron. Keep `EXIT_CODES_HELP`
/// and the README's table in step (a test compares them).
pub mod code {
    /// Success (for `verify`: a match; for `identify`: candidates found).
    pub const OK: u8 = 0;
    /// A negative answer: `verify` found no match, `identify` no candidate.
    pub const NEGATIVE: u8 = 1;
    /// Usage: unknown command or option, missing or conflicting argument.
    pub const USAGE: u8 = 2;
    /// Bad input: missing or malformed input file, wrong dimension, NaN,
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
    /// I/O or system: disk, permissions, busy database, memory, existing
    /// output file.
    pub const IO: u8 = 8;
    /// A panic: a bug (Rust's own exit code for a panicking `main`).
    #[allow(dead_code)]
    pub const BUG: u8 = 101;
}

/// The exit codes as shown by `btp --help`: the same lines as the README's
/// table (`| 3 | bad input: ... |`).
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    success (verify: match; identify: at least one candidate)
  1    negative answer (verify: no match; identify: no candidate)
  2    usage error: unknown command or option, missing or conflicting argument, .npy input without subject ids
  3    bad input: missing, empty or malformed input file (.npy, CSV, TOML, ids, probe or score file), a folder given as a file, wrong dimension, NaN, invalid parameter, expiry in the past
  4    key problem: no key, missing or malformed key file, unsafe key file permissions, wrong key
  5    integrity: corrupted store, altered record or purpose, broken audit chain, not a btp store (an empty file or a folder too)
  6    not found: unknown purpose, subject not enrolled, no such record, hold, event or store
  7    refused by policy: legal hold, expired record, retention longer than the purpose allows
  8    I/O or system: disk full, file-size limit, permissions, database busy, out of memory, output file exists or its folder is missing, stdout not writable
  101  internal error (a bug: please report it)";

/// The class of a failure; each has one exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// [`code::USAGE`]
    Usage,
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
            Class::Usage => code::USAGE,
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

    /// A usage error (what clap would report, found later).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Class::Usage, message)
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

/// Looks like an option or command name (`--subjects`, `rotate-key`): safe
/// to repeat in a message. Anything else may be free text typed without
/// quotes (a reason, a case note) and is not echoed.
fn is_name(word: &str) -> bool {
    !word.is_empty()
        && word.len() <= 40
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// One line for a usage error found by clap in `args` (exit 2): what is
/// wrong, a suggestion if clap has one, and which `--help` to read.
pub fn usage_line(e: &clap::Error, args: &[String]) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let text = e.render().to_string();
    let first = text.split("\n\n").next().unwrap_or_default();
    let first = first.trim().strip_prefix("error:").unwrap_or(first);
    let mut line = first.split_whitespace().collect::<Vec<_>>().join(" ");
    let named = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.as_str()),
        _ => None,
    };
    match e.kind() {
        ErrorKind::UnknownArgument => {
            let arg = named(ContextKind::InvalidArg).unwrap_or_default();
            let name = arg.split_once('=').map_or(arg, |(n, _)| n);
            line = if name.starts_with('-') && is_name(name) {
                format!("unknown option `{name}`")
            } else {
                "unexpected value (a value with spaces needs quotes)".to_owned()
            };
        }
        ErrorKind::InvalidSubcommand => {
            let cmd = named(ContextKind::InvalidSubcommand).unwrap_or_default();
            line = if is_name(cmd) {
                format!("unknown command `{cmd}`")
            } else {
                "unknown command".to_owned()
            };
        }
        ErrorKind::MissingSubcommand | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            line = "a command is needed".to_owned();
        }
        _ => {}
    }
    for kind in [ContextKind::SuggestedArg, ContextKind::SuggestedSubcommand] {
        let names: Vec<&str> = match e.get(kind) {
            Some(ContextValue::String(s)) => vec![s.as_str()],
            Some(ContextValue::Strings(v)) => v.iter().map(String::as_str).collect(),
            _ => continue,
        };
        if !names.is_empty() {
            line.push_str(&format!("; did you mean `{}`?", names.join("` or `")));
        }
    }
    format!("{line} (see `{} --help`)", command_path(args))
}

/// `btp audit export`: the (sub)commands named at the start of `args`
/// (options before them skipped), for the `--help` to point to.
fn command_path(args: &[String]) -> String {
    use clap::CommandFactory;
    let mut cmd = crate::args::Cli::command();
    let mut path = vec!["btp".to_owned()];
    for arg in args.iter().skip(1) {
        if arg.starts_with('-') {
            continue;
        }
        match cmd.find_subcommand(arg) {
            Some(sub) => {
                path.push(sub.get_name().to_owned());
                cmd = sub.clone();
            }
            None => break,
        }
    }
    path.join(" ")
}

/// The one line the panic hook prints: a bug, never a backtrace.
pub fn panic_line(info: &std::panic::PanicHookInfo<'_>) -> String {
    let msg = info
        .payload()
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    let at = info
        .location()
        .map(|l| format!(" at {}:{}", l.file(), l.line()))
        .unwrap_or_default();
    format!(
        "btp: internal error: {}{at} (a bug: please report it)",
        msg.replace(['\n', '\r'], " ")
    )
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
        assert_eq!(Class::of(btp::ErrorKind::OutOfMemory).code(), code::IO);
    }

    #[test]
    fn a_panic_is_one_line_naming_the_bug() {
        use std::sync::Mutex;
        static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(|info| {
            SEEN.lock().unwrap().push(panic_line(info));
        }));
        let caught = std::panic::catch_unwind(|| panic!("two\nlines"));
        let caught_string = std::panic::catch_unwind(|| {
            std::panic::panic_any(String::from("owned"));
        });
        std::panic::set_hook(previous);
        assert!(caught.is_err() && caught_string.is_err());
        let seen = SEEN.lock().unwrap();
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert!(
            seen[0].starts_with("btp: internal error: two lines at cli/src/error.rs:"),
            "{}",
            seen[0]
        );
        assert!(seen[0].ends_with("(a bug: please report it)"));
        assert!(!seen[0].contains('\n'));
        assert!(seen[1].starts_with("btp: internal error: owned at "));
    }

    #[test]
    fn usage_errors_are_one_line_and_do_not_echo_free_text() {
        use clap::Parser;
        let line = |args: &[&str]| {
            let e = crate::args::Cli::try_parse_from(args).unwrap_err();
            assert!(e.use_stderr(), "{args:?}");
            let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            let l = usage_line(&e, &args);
            assert!(!l.contains('\n'), "{l}");
            l
        };
        let l = line(&["btp", "sweep", "--actor", "a", "--store", "s", "--key", "x"]);
        assert!(l.starts_with("unknown option `--key`"), "{l}");
        assert!(l.ends_with("(see `btp sweep --help`)"), "{l}");
        let l = line(&[
            "btp",
            "erase",
            "--subject",
            "s",
            "--reason",
            "case",
            "114",
            "of",
            "X",
        ]);
        assert!(!l.contains("114"), "{l}");
        let l = line(&["btp", "erse"]);
        assert!(
            l.contains("unknown command `erse`") && l.contains("`erase`"),
            "{l}"
        );
        let l = line(&["btp"]);
        assert!(l.starts_with("a command is needed"), "{l}");
        let l = line(&["btp", "verify", "--purpose", "p"]);
        assert!(l.contains("--subject") && l.contains("--input"), "{l}");
        assert!(l.ends_with("(see `btp verify --help`)"), "{l}");
        let l = line(&["btp", "audit", "export", "--store", "s", "--out"]);
        assert!(l.ends_with("(see `btp audit export --help`)"), "{l}");
    }
}
