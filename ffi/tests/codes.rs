//! The result codes a C program cannot provoke on purpose, reached through
//! the entry points in real scenarios (`BTP_RESULT_BUSY`, `_DATABASE`,
//! also `_INTEGRITY`), or from the core error they stand for (`_RNG`,
//! `_CORRUPT`, `_IO`, ...): each gives its code and the core's message as
//! the thread's last error. `BTP_RESULT_PANIC` is tested in `guard`.
//! `tests/c/test_store.c` provokes every other store code from C.

use std::ffi::{CStr, CString};
use std::path::PathBuf;

use btp::error::{btp_last_error_message, btp_result, btp_result_str, FfiError};
use btp::guard::ffi_call;
use btp::keys::{btp_master_key, btp_master_key_free, btp_master_key_from_bytes};
use btp::params::{btp_params, btp_params_free, btp_params_iom_grp};
use btp::store::{
    btp_purpose, btp_purpose_free, btp_purpose_new, btp_store, btp_store_create, btp_store_free,
    btp_store_options, btp_store_options_free, btp_store_options_new,
    btp_store_options_set_busy_timeout_ms,
};
use btp::store_enrol::{btp_retention, btp_retention_kind, btp_store_enroll};
use btp::store_lookup::{btp_store_verification, btp_store_verify};
use btp::store_retention::btp_store_hold_subject;
use btp_core::Error;

const DIM: usize = 16;

fn last_error() -> String {
    // SAFETY: valid until the next call on this thread.
    unsafe { CStr::from_ptr(btp_last_error_message()) }
        .to_string_lossy()
        .into_owned()
}

fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

/// A fresh directory under the system's temporary directory.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!("btp-ffi-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A store with one purpose `p` and one enrolled subject `s`, made through
/// the C ABI; every handle is freed on drop.
struct Fixture {
    key: *mut btp_master_key,
    params: *mut btp_params,
    purpose: *mut btp_purpose,
    options: *mut btp_store_options,
    store: *mut btp_store,
    path: CString,
    _dir: TempDir,
}

impl Fixture {
    fn new(name: &str, busy_ms: u64) -> Self {
        let dir = TempDir::new(name);
        let path = c(dir.0.join("store.db").to_str().unwrap());
        let mut f = Self {
            key: std::ptr::null_mut(),
            params: std::ptr::null_mut(),
            purpose: std::ptr::null_mut(),
            options: std::ptr::null_mut(),
            store: std::ptr::null_mut(),
            path,
            _dir: dir,
        };
        // SAFETY: valid arguments and out-pointers throughout.
        unsafe {
            assert_eq!(
                btp_master_key_from_bytes([4u8; 32].as_ptr(), 32, &mut f.key),
                btp_result::Ok
            );
            assert_eq!(
                btp_params_iom_grp(DIM as u32, 64, 16, &mut f.params),
                btp_result::Ok
            );
            assert_eq!(
                btp_purpose_new(
                    c("p").as_ptr(),
                    f.params,
                    c("app").as_ptr(),
                    1,
                    0.3,
                    86_400,
                    &mut f.purpose
                ),
                btp_result::Ok
            );
            assert_eq!(btp_store_options_new(&mut f.options), btp_result::Ok);
            assert_eq!(
                btp_store_options_set_busy_timeout_ms(f.options, busy_ms),
                btp_result::Ok
            );
            let purposes = [f.purpose.cast_const()];
            assert_eq!(
                btp_store_create(
                    f.path.as_ptr(),
                    f.key,
                    purposes.as_ptr(),
                    1,
                    f.options,
                    &mut f.store
                ),
                btp_result::Ok
            );
        }
        assert_eq!(f.enroll("s"), btp_result::Ok);
        f
    }

    fn features() -> Vec<f32> {
        (0..DIM).map(|i| (i as f32 * 0.7).sin()).collect()
    }

    fn ctx() -> (CString, CString) {
        (c("tester"), c("test"))
    }

    fn enroll(&self, subject: &str) -> btp_result {
        let x = Self::features();
        let (actor, reason) = Self::ctx();
        let (purpose, subject) = (c("p"), c(subject));
        let mut record = 0i64;
        let keep = btp_retention {
            kind: btp_retention_kind::Maximum as u32,
            value: 0,
        };
        // SAFETY: valid arguments.
        unsafe {
            btp_store_enroll(
                self.store,
                purpose.as_ptr(),
                subject.as_ptr(),
                x.as_ptr(),
                x.len(),
                keep,
                actor.as_ptr(),
                reason.as_ptr(),
                &mut record,
            )
        }
    }

    fn sql(&self, sql: &str) {
        let conn = rusqlite::Connection::open(self.path.to_str().unwrap()).unwrap();
        conn.execute_batch(sql).unwrap();
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        // SAFETY: handles from this library, each freed once.
        unsafe {
            btp_store_free(self.store);
            btp_store_options_free(self.options);
            btp_purpose_free(self.purpose);
            btp_params_free(self.params);
            btp_master_key_free(self.key);
        }
    }
}

#[test]
fn a_lock_held_past_the_busy_timeout_is_busy() {
    let f = Fixture::new("busy", 50);
    let conn = rusqlite::Connection::open(f.path.to_str().unwrap()).unwrap();
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    assert_eq!(f.enroll("t"), btp_result::Busy);
    assert!(
        last_error().starts_with("btp_store_enroll: database busy"),
        "{}",
        last_error()
    );
    conn.execute_batch("ROLLBACK").unwrap();
    assert_eq!(f.enroll("t"), btp_result::Ok);
}

#[test]
fn a_missing_table_is_a_database_error() {
    let f = Fixture::new("database", 1000);
    f.sql("DROP TABLE holds");
    let (actor, reason) = Fixture::ctx();
    let subject = c("s");
    let mut hold = 0i64;
    // SAFETY: valid arguments.
    let rc = unsafe {
        btp_store_hold_subject(
            f.store,
            subject.as_ptr(),
            actor.as_ptr(),
            reason.as_ptr(),
            &mut hold,
        )
    };
    assert_eq!(rc, btp_result::Database);
    assert!(last_error().contains("no such table"), "{}", last_error());
}

#[test]
fn an_edited_record_is_an_integrity_failure() {
    let f = Fixture::new("integrity", 1000);
    f.sql("UPDATE records SET ciphertext = CAST(zeroblob(length(ciphertext)) AS BLOB)");
    let x = Fixture::features();
    let (actor, reason) = Fixture::ctx();
    let (purpose, subject) = (c("p"), c("s"));
    // SAFETY: an all-zero plain struct is a valid value.
    let mut v: btp_store_verification = unsafe { std::mem::zeroed() };
    // SAFETY: valid arguments.
    let rc = unsafe {
        btp_store_verify(
            f.store,
            purpose.as_ptr(),
            subject.as_ptr(),
            x.as_ptr(),
            x.len(),
            actor.as_ptr(),
            reason.as_ptr(),
            &mut v,
        )
    };
    assert_eq!(rc, btp_result::Integrity);
    assert!(
        last_error().contains("integrity failure in record"),
        "{}",
        last_error()
    );
}

/// Each core error becomes its code, and its message (after the entry
/// point's name) becomes the thread's last error.
#[test]
fn every_core_error_gives_its_code_and_message() {
    let cases: Vec<(Error, btp_result)> = vec![
        (Error::Rng, btp_result::Rng),
        (Error::Corrupt("malformed page".into()), btp_result::Corrupt),
        (Error::Busy("locked".into()), btp_result::Busy),
        (
            Error::Io {
                message: "disk full".into(),
                cause: None,
            },
            btp_result::Io,
        ),
        (
            Error::Database {
                message: "no such table".into(),
                cause: None,
            },
            btp_result::Database,
        ),
        (
            Error::KeyExhausted {
                purpose: "p".into(),
                version: 3,
            },
            btp_result::KeyExhausted,
        ),
        (
            Error::AuditBroken {
                seq: 7,
                reason: "mac".into(),
            },
            btp_result::AuditBroken,
        ),
        (Error::Integrity { record: 5 }, btp_result::Integrity),
        (Error::NotAStore("junk".into()), btp_result::NotAStore),
        (
            Error::UnsupportedSchema {
                found: 9,
                supported: 1,
            },
            btp_result::UnsupportedSchema,
        ),
        (Error::WrongKey, btp_result::WrongKey),
        (Error::Expired { record: 2 }, btp_result::Expired),
        (
            Error::Held {
                hold: 1,
                target: "subject".into(),
                reason: "court".into(),
            },
            btp_result::Held,
        ),
        (
            Error::UnknownPurpose("x".into()),
            btp_result::UnknownPurpose,
        ),
        (
            Error::RetentionTooLong {
                requested: 10,
                max: 5,
            },
            btp_result::RetentionTooLong,
        ),
        (Error::Missing("hold 4".into()), btp_result::NotFound),
        (Error::NotFound(4), btp_result::NotFound),
        (
            Error::InvalidScores("empty".into()),
            btp_result::InvalidScores,
        ),
        (Error::DuplicateId(1), btp_result::DuplicateId),
        (Error::KeyMismatch, btp_result::KeyMismatch),
        (Error::ZeroNorm, btp_result::ZeroNorm),
        (
            Error::InvalidKeyLength {
                expected: 32,
                got: 3,
            },
            btp_result::InvalidKeyLength,
        ),
        (
            Error::OutOfMemory {
                what: "the search results (`probes_len` x `k`)",
                bytes: 1 << 70,
            },
            btp_result::OutOfMemory,
        ),
        (
            Error::ExpiryInPast {
                expires_at: 0,
                now: 1_800_000_000,
            },
            btp_result::ExpiryInPast,
        ),
    ];
    for (e, code) in cases {
        let message = e.to_string();
        let got = ffi_call("btp_x", || Err(FfiError::from(e.clone())));
        assert_eq!(got, code, "{e:?}");
        assert_eq!(last_error(), format!("btp_x: {message}"));
        // SAFETY: a static string.
        let s = unsafe { CStr::from_ptr(btp_result_str(code as u32)) };
        assert_ne!(s.to_str().unwrap(), "unknown result code");
    }
}

#[test]
fn an_expiry_in_the_past_is_told_in_dates_and_memory_by_what_it_was_for() {
    let e = Error::ExpiryInPast {
        expires_at: 0,
        now: 1_800_000_000,
    };
    assert_eq!(
        ffi_call("btp_x", || Err(FfiError::from(e))),
        btp_result::ExpiryInPast
    );
    assert!(last_error().contains("1970-01-01"), "{}", last_error());
    assert!(!last_error().contains("1800000000"), "{}", last_error());
    let e = Error::OutOfMemory {
        what: "the histogram (`bins`)",
        bytes: 1 << 43,
    };
    assert_eq!(
        ffi_call("btp_x", || Err(FfiError::from(e))),
        btp_result::OutOfMemory
    );
    assert!(last_error().contains("`bins`"), "{}", last_error());
}

#[test]
fn last_error_is_per_thread() {
    let r = ffi_call("btp_here", || Err(FfiError::from(Error::WrongKey)));
    assert_eq!(r, btp_result::WrongKey);
    std::thread::spawn(|| {
        assert_eq!(last_error(), "");
        ffi_call("btp_there", || Err(FfiError::from(Error::ZeroNorm)));
        assert!(last_error().starts_with("btp_there"));
    })
    .join()
    .unwrap();
    assert!(last_error().starts_with("btp_here"));
}
