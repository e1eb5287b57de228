//! The one error type of btp.
//!
//! Every fallible function returns [`Result<T>`]. Messages name the problem
//! (which argument, which dimension, which byte offset) and never contain key
//! material or feature values: they are safe to log and to show to a user.

use std::fmt;

/// Result alias used across btp.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What was wrong with bytes handed to a decoder.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// Fewer bytes than the format needs.
    Truncated {
        /// Bytes the format needs.
        needed: usize,
        /// Bytes given.
        got: usize,
    },
    /// The bytes do not start with the expected magic: not a btp object.
    BadMagic,
    /// A format version this build does not read.
    UnsupportedVersion(u8),
    /// A scheme identifier this build does not know.
    UnknownScheme(u8),
    /// The checksum does not match the content: the bytes were altered.
    ChecksumMismatch,
    /// Bytes left over after a complete object.
    TrailingBytes(usize),
    /// A field has a value the format does not allow.
    Invalid(&'static str),
}

impl std::error::Error for DecodeError {}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { needed, got } => {
                write!(f, "truncated: needs {needed} bytes, got {got}")
            }
            Self::BadMagic => f.write_str("bad magic: not a btp object"),
            Self::UnsupportedVersion(v) => write!(f, "unsupported format version {v}"),
            Self::UnknownScheme(s) => write!(f, "unknown scheme id {s}"),
            Self::ChecksumMismatch => f.write_str("checksum mismatch: the bytes were altered"),
            Self::TrailingBytes(n) => write!(f, "{n} trailing bytes after the object"),
            Self::Invalid(why) => write!(f, "invalid field: {why}"),
        }
    }
}

/// Every error btp reports.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Key bytes of the wrong length.
    #[error("invalid key length: expected {expected} bytes, got {got}")]
    InvalidKeyLength {
        /// The required length.
        expected: usize,
        /// The length given.
        got: usize,
    },

    /// The operating system's random number generator failed.
    #[error("the operating system random number generator failed")]
    Rng,

    /// A feature vector (or a batch row) of the wrong length.
    #[error("wrong dimension: expected {expected}, got {got}")]
    WrongDimension {
        /// The scheme's dimension.
        expected: usize,
        /// The length given.
        got: usize,
    },

    /// A feature vector holds NaN or an infinity. Only the position is named.
    #[error("feature vector holds a non-finite value ({kind}) at index {index}")]
    NonFinite {
        /// Position of the first bad value in its vector.
        index: usize,
        /// `"NaN"` or `"infinity"`.
        kind: &'static str,
    },

    /// A row of a batch is bad; `source` says how.
    #[error("row {row}: {source}")]
    Row {
        /// Index of the first bad row.
        row: usize,
        /// What is wrong with it.
        source: Box<Error>,
    },

    /// After centring, the vector has zero (or subnormal) length and cannot
    /// be L2-normalised or projected meaningfully.
    #[error("feature vector has zero length after preprocessing")]
    ZeroNorm,

    /// A scheme, gallery or evaluation parameter out of its range.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter's name.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },

    /// Two templates were made under different transform keys.
    #[error("key mismatch: the templates were made under different keys")]
    KeyMismatch,

    /// Two templates (or a template and a protector) use different schemes
    /// or scheme parameters.
    #[error("scheme mismatch: {0}")]
    SchemeMismatch(&'static str),

    /// Bytes that do not decode.
    #[error("cannot decode {what}: {source}")]
    Decode {
        /// What was being decoded.
        what: &'static str,
        /// Why it failed.
        source: DecodeError,
    },

    /// A gallery id that is already present.
    #[error("id {0} is already in the gallery")]
    DuplicateId(u64),

    /// A string label of a gallery (see [`crate::labels`]) that is already
    /// present, or given twice in one batch: its position in the batch
    /// (the label itself may be a person's id and is not repeated).
    #[error("ids[{0}] is already in the gallery")]
    DuplicateLabel(usize),

    /// A gallery id that is not present.
    #[error("id {0} is not in the gallery")]
    NotFound(u64),

    /// A stored record failed authentication: it was edited, moved to
    /// another purpose or row, or corrupted.
    #[error("integrity failure in record {record}: the record was altered, moved or corrupted")]
    Integrity {
        /// The record's id.
        record: i64,
    },

    /// A purpose the store is not configured with.
    #[error("unknown purpose `{0}`")]
    UnknownPurpose(String),

    /// A retention longer than the purpose allows (or not positive).
    #[error("retention of {requested} s is outside the purpose's limit of {max} s")]
    RetentionTooLong {
        /// Requested retention in seconds.
        requested: i64,
        /// The purpose's maximum in seconds.
        max: i64,
    },

    /// The record exists but its retention period has ended.
    #[error("record {record} has expired")]
    Expired {
        /// The record's id.
        record: i64,
    },

    /// A legal hold blocks the deletion. The message names the hold, not
    /// its reason: a reason is free text typed by a user and may name
    /// people or cases, so it stays in the field (and the store) only.
    #[error("blocked by legal hold {hold} on {target}")]
    Held {
        /// The hold's id.
        hold: i64,
        /// What is held: `subject` or `record N`.
        target: String,
        /// The reason recorded with the hold.
        reason: String,
    },

    /// An expiry date that is not after the present: a record cannot be
    /// kept until a time that has passed. Shown in dates (RFC 3339, UTC).
    #[error("expiry {} is not after the present ({})", crate::time::format_utc(*.expires_at), crate::time::format_utc(*.now))]
    ExpiryInPast {
        /// The expiry asked for, Unix seconds.
        expires_at: i64,
        /// The store's present, Unix seconds.
        now: i64,
    },

    /// Memory for a result whose size comes from the caller could not be
    /// allocated (or its size does not fit in the address space). Nothing
    /// was changed.
    #[error("cannot allocate {bytes} bytes for {what}: not enough memory")]
    OutOfMemory {
        /// What was to be allocated, naming the arguments that size it.
        what: &'static str,
        /// Bytes needed.
        bytes: u128,
    },

    /// No such record, hold, subject or event.
    #[error("not found: {0}")]
    Missing(String),

    /// The master key is not the one this store was created with.
    #[error("wrong master key for this store")]
    WrongKey,

    /// The file is not a btp store.
    #[error("not a btp store: {0}")]
    NotAStore(String),

    /// The store was written by a newer btp.
    #[error("store schema version {found} is newer than this build reads ({supported})")]
    UnsupportedSchema {
        /// Version found in the file.
        found: i64,
        /// Newest version this build reads.
        supported: i64,
    },

    /// A storage key reached its safe number of encryptions with random
    /// nonces: rotate the purpose's key.
    #[error(
        "storage key {version} of purpose `{purpose}` reached its encryption limit: rotate the key"
    )]
    KeyExhausted {
        /// The purpose.
        purpose: String,
        /// The storage key version.
        version: u32,
    },

    /// The audit chain does not verify.
    #[error("audit log broken at sequence {seq}: {reason}")]
    AuditBroken {
        /// First sequence number that fails.
        seq: u64,
        /// What failed.
        reason: String,
    },

    /// The database file is damaged.
    #[error("database corrupted: {0}")]
    Corrupt(String),

    /// Another connection holds the database lock past the busy timeout.
    #[error("database busy: {0}")]
    Busy(String),

    /// Reading or writing the file failed (disk full, I/O error, permissions).
    #[error("I/O error: {message}")]
    Io {
        /// What failed, with the path where there is one.
        message: String,
        /// The operating system's or SQLite's error, when there is one.
        #[source]
        cause: Option<Cause>,
    },

    /// Any other database failure.
    #[error("database error: {message}")]
    Database {
        /// What failed.
        message: String,
        /// SQLite's error, when there is one.
        #[source]
        cause: Option<Cause>,
    },

    /// Score arrays that cannot be evaluated (empty, NaN, out of range).
    #[error("invalid scores: {0}")]
    InvalidScores(String),
}

/// The class of an [`Error`], for bindings and callers that branch on the
/// kind of failure rather than its details: the C ABI maps each kind to one
/// result code and the Python package to one exception class.
///
/// Unlike [`Error`], this enum is exhaustive: a binding that matches it
/// without a wildcard stops compiling when a kind is added, so no failure
/// can silently map to "other".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// [`Error::InvalidKeyLength`].
    InvalidKeyLength,
    /// [`Error::Rng`].
    Rng,
    /// [`Error::WrongDimension`].
    WrongDimension,
    /// [`Error::NonFinite`].
    NonFinite,
    /// [`Error::ZeroNorm`].
    ZeroNorm,
    /// [`Error::InvalidParameter`].
    InvalidParameter,
    /// [`Error::KeyMismatch`].
    KeyMismatch,
    /// [`Error::SchemeMismatch`].
    SchemeMismatch,
    /// [`Error::Decode`].
    Decode,
    /// [`Error::DuplicateId`] and [`Error::DuplicateLabel`].
    DuplicateId,
    /// [`Error::NotFound`] and [`Error::Missing`]: an id, record, hold,
    /// subject or event that is not present.
    NotFound,
    /// [`Error::Integrity`].
    Integrity,
    /// [`Error::UnknownPurpose`].
    UnknownPurpose,
    /// [`Error::RetentionTooLong`].
    RetentionTooLong,
    /// [`Error::Expired`].
    Expired,
    /// [`Error::Held`].
    Held,
    /// [`Error::WrongKey`].
    WrongKey,
    /// [`Error::NotAStore`].
    NotAStore,
    /// [`Error::UnsupportedSchema`].
    UnsupportedSchema,
    /// [`Error::KeyExhausted`].
    KeyExhausted,
    /// [`Error::AuditBroken`].
    AuditBroken,
    /// [`Error::Corrupt`].
    Corrupt,
    /// [`Error::Busy`].
    Busy,
    /// [`Error::Io`].
    Io,
    /// [`Error::Database`].
    Database,
    /// [`Error::InvalidScores`].
    InvalidScores,
    /// [`Error::ExpiryInPast`].
    ExpiryInPast,
    /// [`Error::OutOfMemory`].
    OutOfMemory,
}

impl ErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: [ErrorKind; 28] = [
        Self::InvalidKeyLength,
        Self::Rng,
        Self::WrongDimension,
        Self::NonFinite,
        Self::ZeroNorm,
        Self::InvalidParameter,
        Self::KeyMismatch,
        Self::SchemeMismatch,
        Self::Decode,
        Self::DuplicateId,
        Self::NotFound,
        Self::Integrity,
        Self::UnknownPurpose,
        Self::RetentionTooLong,
        Self::Expired,
        Self::Held,
        Self::WrongKey,
        Self::NotAStore,
        Self::UnsupportedSchema,
        Self::KeyExhausted,
        Self::AuditBroken,
        Self::Corrupt,
        Self::Busy,
        Self::Io,
        Self::Database,
        Self::InvalidScores,
        Self::ExpiryInPast,
        Self::OutOfMemory,
    ];
}

impl Error {
    /// The error's kind. A batch's [`Error::Row`] has the kind of the error
    /// in its row.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidKeyLength { .. } => ErrorKind::InvalidKeyLength,
            Self::Rng => ErrorKind::Rng,
            Self::WrongDimension { .. } => ErrorKind::WrongDimension,
            Self::NonFinite { .. } => ErrorKind::NonFinite,
            Self::Row { source, .. } => source.kind(),
            Self::ZeroNorm => ErrorKind::ZeroNorm,
            Self::InvalidParameter { .. } => ErrorKind::InvalidParameter,
            Self::KeyMismatch => ErrorKind::KeyMismatch,
            Self::SchemeMismatch(_) => ErrorKind::SchemeMismatch,
            Self::Decode { .. } => ErrorKind::Decode,
            Self::DuplicateId(_) | Self::DuplicateLabel(_) => ErrorKind::DuplicateId,
            Self::NotFound(_) | Self::Missing(_) => ErrorKind::NotFound,
            Self::Integrity { .. } => ErrorKind::Integrity,
            Self::UnknownPurpose(_) => ErrorKind::UnknownPurpose,
            Self::RetentionTooLong { .. } => ErrorKind::RetentionTooLong,
            Self::Expired { .. } => ErrorKind::Expired,
            Self::Held { .. } => ErrorKind::Held,
            Self::WrongKey => ErrorKind::WrongKey,
            Self::NotAStore(_) => ErrorKind::NotAStore,
            Self::UnsupportedSchema { .. } => ErrorKind::UnsupportedSchema,
            Self::KeyExhausted { .. } => ErrorKind::KeyExhausted,
            Self::AuditBroken { .. } => ErrorKind::AuditBroken,
            Self::Corrupt(_) => ErrorKind::Corrupt,
            Self::Busy(_) => ErrorKind::Busy,
            Self::Io { .. } => ErrorKind::Io,
            Self::Database { .. } => ErrorKind::Database,
            Self::InvalidScores(_) => ErrorKind::InvalidScores,
            Self::ExpiryInPast { .. } => ErrorKind::ExpiryInPast,
            Self::OutOfMemory { .. } => ErrorKind::OutOfMemory,
        }
    }

    pub(crate) fn param(name: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidParameter {
            name,
            reason: reason.into(),
        }
    }

    pub(crate) fn row(row: usize, source: Error) -> Self {
        Self::Row {
            row,
            source: Box::new(source),
        }
    }

    pub(crate) fn decode(what: &'static str, source: DecodeError) -> Self {
        Self::Decode { what, source }
    }

    /// [`Error::Io`] with `message` caused by `cause`.
    pub(crate) fn io_from(
        message: impl Into<String>,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Io {
            message: message.into(),
            cause: Some(Cause::new(cause)),
        }
    }

    /// [`Error::Database`] with `message` and no underlying error.
    pub(crate) fn database(message: impl Into<String>) -> Self {
        Self::Database {
            message: message.into(),
            cause: None,
        }
    }
}

/// The underlying error of an [`Error::Io`] or [`Error::Database`]
/// (`std::io::Error`, `rusqlite::Error`), kept for
/// [`std::error::Error::source`] and shared so that [`Error`] stays
/// `Clone`. Two causes are equal when their messages are.
#[derive(Clone)]
pub struct Cause(std::sync::Arc<dyn std::error::Error + Send + Sync>);

impl Cause {
    fn new(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(std::sync::Arc::new(e))
    }

    /// The underlying error, to downcast (`std::io::Error`,
    /// `rusqlite::Error`).
    pub fn get(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.0
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl PartialEq for Cause {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0) || self.0.to_string() == other.0.to_string()
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ffi::ErrorCode;
        match &e {
            rusqlite::Error::SqliteFailure(f, _) => match f.code {
                ErrorCode::NotADatabase => {
                    Self::NotAStore("the file is not an SQLite database".into())
                }
                ErrorCode::DatabaseCorrupt => Self::Corrupt(e.to_string()),
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => Self::Busy(e.to_string()),
                ErrorCode::DiskFull
                | ErrorCode::SystemIoFailure
                | ErrorCode::CannotOpen
                | ErrorCode::PermissionDenied
                | ErrorCode::ReadOnly => Self::io_from(e.to_string(), e),
                _ => Self::Database {
                    message: e.to_string(),
                    cause: Some(Cause::new(e)),
                },
            },
            // btp writes only valid text and STRICT-typed values: a value
            // that does not convert was changed in the file.
            rusqlite::Error::Utf8Error(..)
            | rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::InvalidColumnType(..)
            | rusqlite::Error::IntegralValueOutOfRange(..) => {
                Self::Corrupt(format!("a value in the store file is damaged: {e}"))
            }
            _ => Self::Database {
                message: e.to_string(),
                cause: Some(Cause::new(e)),
            },
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Self::io_from(e.to_string(), e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_listed_once_and_rows_take_their_source_kind() {
        let set: std::collections::HashSet<_> = ErrorKind::ALL.iter().collect();
        assert_eq!(set.len(), ErrorKind::ALL.len());
        let e = Error::row(3, Error::ZeroNorm);
        assert_eq!(e.kind(), ErrorKind::ZeroNorm);
        assert_eq!(Error::Missing("x".into()).kind(), ErrorKind::NotFound);
    }

    #[test]
    fn io_and_database_errors_keep_their_source() {
        use std::error::Error as _;
        let e = Error::from(std::io::Error::new(std::io::ErrorKind::StorageFull, "full"));
        assert_eq!(e.kind(), ErrorKind::Io);
        let source = e.source().expect("an I/O error keeps its source");
        let cause = source.downcast_ref::<Cause>().expect("a Cause");
        let io = cause
            .get()
            .downcast_ref::<std::io::Error>()
            .expect("the io::Error");
        assert_eq!(io.kind(), std::io::ErrorKind::StorageFull);
        assert_eq!(e.to_string(), "I/O error: full");

        let sql = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
            Some("no such table: x".into()),
        );
        let e = Error::from(sql);
        assert_eq!(e.kind(), ErrorKind::Database);
        let cause = e
            .source()
            .and_then(|s| s.downcast_ref::<Cause>())
            .expect("a Cause");
        assert!(cause.get().downcast_ref::<rusqlite::Error>().is_some());
        assert_eq!(e, e.clone());
        assert_eq!(Error::database("x").source().map(|_| ()), None);
    }
}
