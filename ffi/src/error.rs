//! Result codes, their static strings, and the thread-local last-error message.

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};

use btp_core::{Error, ErrorKind};

/// The result of every btp function: `BTP_RESULT_OK` (0) or the reason it
/// failed. The values are fixed: new codes may be added, existing ones never
/// change meaning. Codes 20..=33 come from the encrypted store (`btp_store_*`)
/// and 40 from evaluation (`btp_eval_*`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum btp_result {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL (or NULL with a non-zero length).
    NullArgument = 1,
    /// An argument or scheme parameter out of its range (also: a string
    /// that is not UTF-8, a misaligned array).
    InvalidParameter = 2,
    /// Key bytes of the wrong length (a master key is 32 bytes).
    InvalidKeyLength = 3,
    /// A feature vector (or batch) of the wrong length for the scheme.
    WrongDimension = 4,
    /// A feature vector holds NaN or an infinity.
    NonFinite = 5,
    /// A feature vector of zero length after centring: cannot be protected.
    ZeroNorm = 6,
    /// The caller's buffer is too small; the needed size was written out.
    BufferTooSmall = 7,
    /// Two templates (or a template and a protector or gallery) were made
    /// under different keys: a different master key, application, version
    /// or subject. Never a low score.
    KeyMismatch = 10,
    /// Different schemes or scheme parameters.
    SchemeMismatch = 11,
    /// Bytes that do not decode (truncated, altered, not a btp object).
    Decode = 12,
    /// A gallery id that is already present.
    DuplicateId = 13,
    /// A gallery id, record, hold, subject or event that is not present.
    NotFound = 14,
    /// The operating system's random number generator failed.
    Rng = 15,
    /// Memory for a result sized by the caller (rows, `k`, bins, a header's
    /// shape) could not be allocated; nothing was changed.
    OutOfMemory = 16,
    /// Store: a record failed authentication (altered, moved or corrupted).
    Integrity = 20,
    /// Store: a purpose the store is not configured with.
    UnknownPurpose = 21,
    /// Store: a retention longer than the purpose allows.
    RetentionTooLong = 22,
    /// Store: the record's retention period has ended.
    Expired = 23,
    /// Store: a legal hold blocks the deletion.
    Held = 24,
    /// Store: the master key is not the one the store was created with.
    WrongKey = 25,
    /// Store: the file is not a btp store.
    NotAStore = 26,
    /// Store: written by a newer btp.
    UnsupportedSchema = 27,
    /// Store: a storage key reached its encryption limit; rotate it.
    KeyExhausted = 28,
    /// Store: the audit chain does not verify.
    AuditBroken = 29,
    /// Store: the database file is damaged.
    Corrupt = 30,
    /// Store: another connection holds the lock past the busy timeout.
    Busy = 31,
    /// Reading or writing a file failed (disk full, I/O error, permissions).
    Io = 32,
    /// Any other database failure.
    Database = 33,
    /// Store: an expiry date that is not after the present.
    ExpiryInPast = 34,
    /// Evaluation: score arrays that cannot be evaluated.
    InvalidScores = 40,
    /// A bug: the library panicked. The panic was caught; the objects the
    /// call was given may be in an unspecified (but memory-safe) state.
    Panic = 99,
}

/// Every code, in value order.
const ALL: [btp_result; 32] = [
    btp_result::Ok,
    btp_result::NullArgument,
    btp_result::InvalidParameter,
    btp_result::InvalidKeyLength,
    btp_result::WrongDimension,
    btp_result::NonFinite,
    btp_result::ZeroNorm,
    btp_result::BufferTooSmall,
    btp_result::KeyMismatch,
    btp_result::SchemeMismatch,
    btp_result::Decode,
    btp_result::DuplicateId,
    btp_result::NotFound,
    btp_result::Rng,
    btp_result::OutOfMemory,
    btp_result::Integrity,
    btp_result::UnknownPurpose,
    btp_result::RetentionTooLong,
    btp_result::Expired,
    btp_result::Held,
    btp_result::WrongKey,
    btp_result::NotAStore,
    btp_result::UnsupportedSchema,
    btp_result::KeyExhausted,
    btp_result::AuditBroken,
    btp_result::Corrupt,
    btp_result::Busy,
    btp_result::Io,
    btp_result::Database,
    btp_result::ExpiryInPast,
    btp_result::InvalidScores,
    btp_result::Panic,
];

impl btp_result {
    /// The code's fixed description, NUL-terminated.
    pub fn as_cstr(self) -> &'static CStr {
        match self {
            Self::Ok => c"ok",
            Self::NullArgument => c"a required pointer argument is NULL",
            Self::InvalidParameter => c"invalid argument or parameter",
            Self::InvalidKeyLength => c"invalid key length",
            Self::WrongDimension => c"wrong feature vector dimension",
            Self::NonFinite => c"feature vector holds NaN or infinity",
            Self::ZeroNorm => c"feature vector has zero length after preprocessing",
            Self::BufferTooSmall => c"buffer too small",
            Self::KeyMismatch => c"key mismatch: made under different keys",
            Self::SchemeMismatch => c"scheme mismatch: different scheme or parameters",
            Self::Decode => c"cannot decode bytes",
            Self::DuplicateId => c"id already present",
            Self::NotFound => c"not found",
            Self::Rng => c"the operating system random number generator failed",
            Self::OutOfMemory => c"not enough memory for a result of the size asked",
            Self::Integrity => c"integrity failure: record altered, moved or corrupted",
            Self::UnknownPurpose => c"unknown purpose",
            Self::RetentionTooLong => c"retention outside the purpose's limit",
            Self::Expired => c"record expired",
            Self::Held => c"blocked by a legal hold",
            Self::WrongKey => c"wrong master key for this store",
            Self::NotAStore => c"not a btp store",
            Self::UnsupportedSchema => c"store schema newer than this build",
            Self::KeyExhausted => c"storage key exhausted: rotate the key",
            Self::AuditBroken => c"audit log broken",
            Self::Corrupt => c"database corrupted",
            Self::Busy => c"database busy",
            Self::Io => c"I/O error",
            Self::Database => c"database error",
            Self::ExpiryInPast => c"expiry date not after the present",
            Self::InvalidScores => c"invalid scores",
            Self::Panic => c"internal error: the library panicked",
        }
    }

    /// The code of a raw value, if it is one.
    pub fn from_u32(code: u32) -> Option<Self> {
        ALL.into_iter().find(|c| *c as u32 == code)
    }
}

impl From<ErrorKind> for btp_result {
    /// Exhaustive on purpose: a new kind in the core stops this crate from
    /// compiling until it has a code.
    fn from(k: ErrorKind) -> Self {
        match k {
            ErrorKind::InvalidKeyLength => Self::InvalidKeyLength,
            ErrorKind::Rng => Self::Rng,
            ErrorKind::WrongDimension => Self::WrongDimension,
            ErrorKind::NonFinite => Self::NonFinite,
            ErrorKind::ZeroNorm => Self::ZeroNorm,
            ErrorKind::InvalidParameter => Self::InvalidParameter,
            ErrorKind::KeyMismatch => Self::KeyMismatch,
            ErrorKind::SchemeMismatch => Self::SchemeMismatch,
            ErrorKind::Decode => Self::Decode,
            ErrorKind::DuplicateId => Self::DuplicateId,
            ErrorKind::NotFound => Self::NotFound,
            ErrorKind::Integrity => Self::Integrity,
            ErrorKind::UnknownPurpose => Self::UnknownPurpose,
            ErrorKind::RetentionTooLong => Self::RetentionTooLong,
            ErrorKind::Expired => Self::Expired,
            ErrorKind::Held => Self::Held,
            ErrorKind::WrongKey => Self::WrongKey,
            ErrorKind::NotAStore => Self::NotAStore,
            ErrorKind::UnsupportedSchema => Self::UnsupportedSchema,
            ErrorKind::KeyExhausted => Self::KeyExhausted,
            ErrorKind::AuditBroken => Self::AuditBroken,
            ErrorKind::Corrupt => Self::Corrupt,
            ErrorKind::Busy => Self::Busy,
            ErrorKind::Io => Self::Io,
            ErrorKind::Database => Self::Database,
            ErrorKind::InvalidScores => Self::InvalidScores,
            ErrorKind::ExpiryInPast => Self::ExpiryInPast,
            ErrorKind::OutOfMemory => Self::OutOfMemory,
        }
    }
}

impl From<&Error> for btp_result {
    fn from(e: &Error) -> Self {
        e.kind().into()
    }
}

/// A failure on its way to C: the code and the message for the last error.
#[derive(Debug)]
pub struct FfiError {
    /// The code returned to C.
    pub code: btp_result,
    /// The message stored as the thread's last error.
    pub message: String,
}

impl FfiError {
    /// A failure with a code and a message.
    pub fn new(code: btp_result, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// `name` is NULL (or NULL with a non-zero length).
    pub fn null(name: &str) -> Self {
        Self::new(
            btp_result::NullArgument,
            format!("argument `{name}` is NULL"),
        )
    }

    /// `name` is out of range.
    pub fn invalid(name: &str, reason: &str) -> Self {
        Self::new(
            btp_result::InvalidParameter,
            format!("invalid argument `{name}`: {reason}"),
        )
    }

    /// The translation of a core error caused by the data in the C
    /// argument `arg` (a feature vector or batch, key bytes, encoded
    /// bytes): a wrong dimension, non-finite value, zero norm, bad key
    /// length or undecodable bytes names `arg`; other errors pass as they
    /// are. Use as `.map_err(FfiError::about("features"))`.
    pub fn about(arg: &str) -> impl FnOnce(Error) -> Self + '_ {
        Self::translate(Some(arg), &[])
    }

    /// The translation of a core error whose [`Error::InvalidParameter`]
    /// names a parameter by its core name: `names` holds `(core, c)`
    /// pairs, and a parameter found there is named by its C argument
    /// (`purpose` is `name` in `btp_purpose_new`). Other errors pass as
    /// they are.
    pub fn renaming<'a>(names: &'a [(&'a str, &'a str)]) -> impl FnOnce(Error) -> Self + 'a {
        Self::translate(None, names)
    }

    /// [`FfiError::about`] `data` (if any) and [`FfiError::renaming`]
    /// `names` at once.
    pub fn translate<'a>(
        data: Option<&'a str>,
        names: &'a [(&'a str, &'a str)],
    ) -> impl FnOnce(Error) -> Self + 'a {
        move |e| match (e, data) {
            (Error::InvalidParameter { name, reason }, _) => {
                match names.iter().find(|(core, _)| *core == name) {
                    Some((_, c)) => Self::invalid(c, &reason),
                    None => Error::InvalidParameter { name, reason }.into(),
                }
            }
            (e, Some(arg))
                if matches!(
                    e.kind(),
                    ErrorKind::WrongDimension
                        | ErrorKind::NonFinite
                        | ErrorKind::ZeroNorm
                        | ErrorKind::InvalidKeyLength
                        | ErrorKind::Decode
                ) =>
            {
                Self::new(btp_result::from(&e), format!("argument `{arg}`: {e}"))
            }
            (e, _) => e.into(),
        }
    }
}

impl From<Error> for FfiError {
    fn from(e: Error) -> Self {
        Self::new(btp_result::from(&e), e.to_string())
    }
}

/// What entry points return inside the guard.
pub type FfiResult<T = ()> = Result<T, FfiError>;

thread_local! {
    /// `None` until a call fails on this thread, and after a call succeeds.
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

/// Replaces the thread's last-error message (interior NULs become spaces).
pub(crate) fn set_last_error(message: &str) {
    let bytes: Vec<u8> = message
        .bytes()
        .map(|b| if b == 0 { b' ' } else { b })
        .collect();
    let c = CString::new(bytes).unwrap_or_default();
    LAST_ERROR.with(|m| *m.borrow_mut() = Some(c));
}

/// Empties the thread's last-error message (done on entry to every call).
pub(crate) fn clear_last_error() {
    LAST_ERROR.with(|m| m.borrow_mut().take());
}

/// The static description of a result code: never NULL, never freed.
/// Unknown values give `"unknown result code"`.
///
/// # Safety
/// Always safe to call; any value is accepted.
#[no_mangle]
pub unsafe extern "C" fn btp_result_str(code: u32) -> *const c_char {
    match btp_result::from_u32(code) {
        Some(c) => c.as_cstr().as_ptr(),
        None => c"unknown result code".as_ptr(),
    }
}

/// The message of the most recent btp call on this thread if it failed, or
/// an empty string if it succeeded. Never NULL. Messages name the problem
/// (argument, dimension, offset) and never contain key material or feature
/// values.
///
/// The pointer is valid until the next btp call on the same thread (other
/// than `btp_last_error_message`, `btp_last_error`, `btp_result_str` and
/// `btp_version`); copy the text to keep it. Do not free it.
///
/// # Safety
/// Always safe to call.
#[no_mangle]
pub unsafe extern "C" fn btp_last_error_message() -> *const c_char {
    LAST_ERROR.with(|m| m.borrow().as_deref().unwrap_or(c"").as_ptr())
}

/// Copies the thread's last-error message (see `btp_last_error_message`)
/// into `buf` with its terminating NUL. `*needed` receives the size in bytes
/// the copy needs, NUL included. If `len` is smaller, nothing is copied and
/// `BTP_RESULT_BUFFER_TOO_SMALL` is returned; `buf` may be NULL when `len`
/// is 0 (a size query), and NULL with a non-zero `len` is
/// `BTP_RESULT_NULL_ARGUMENT`. Does not change the last-error message.
///
/// # Safety
/// `buf` must be NULL or point to `len` writable bytes; `needed` must be
/// NULL or point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn btp_last_error(
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> btp_result {
    if needed.is_null() {
        return btp_result::NullArgument;
    }
    if !needed.is_aligned() {
        return btp_result::InvalidParameter;
    }
    LAST_ERROR.with(|m| {
        let m = m.borrow();
        let bytes = m.as_deref().unwrap_or(c"").to_bytes_with_nul();
        // SAFETY: `needed` is non-NULL and writable by the caller's contract.
        unsafe { needed.write(bytes.len()) };
        if buf.is_null() && len > 0 {
            return btp_result::NullArgument;
        }
        if len < bytes.len() {
            return btp_result::BufferTooSmall;
        }
        // SAFETY: `buf` holds `len >= bytes.len()` writable bytes.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf.cast::<u8>(), bytes.len()) };
        btp_result::Ok
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_described() {
        let mut seen = std::collections::HashSet::new();
        for c in &ALL {
            assert!(seen.insert(*c as u32), "{c:?} listed twice");
            assert!(!c.as_cstr().to_bytes().is_empty());
            assert_eq!(btp_result::from_u32(*c as u32), Some(*c));
        }
        assert_eq!(btp_result::from_u32(1000), None);
    }

    #[test]
    fn every_core_error_kind_has_its_own_code() {
        let mut seen = std::collections::HashSet::new();
        for k in ErrorKind::ALL {
            let c = btp_result::from(k);
            assert!(!matches!(c, btp_result::Ok | btp_result::Panic));
            assert!(seen.insert(c as u32), "{k:?} shares code {c:?}");
        }
    }
}
