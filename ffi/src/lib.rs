//! # btp-ffi — the C ABI of btp
//!
//! Converts types and errors between C and the `btp` crate; holds no domain
//! logic. `include/btp.h` is generated from this crate by cbindgen.
//!
//! Conventions (every entry point):
//! - returns a [`btp_result`] code (`BTP_RESULT_OK` = 0) and writes outputs
//!   through out-pointers; on failure every handle out-pointer holds NULL
//!   (it is set to NULL before any other argument is checked:
//!   [`ptr::OutHandle`], [`ptr::out_handles`], [`bytes::OutBytes`]) and the
//!   thread's last-error message
//!   ([`btp_last_error_message`](error::btp_last_error_message)) says why,
//!   naming the argument and never echoing free text (subject ids, case
//!   references, actors, reasons);
//! - refuses a NULL pointer with a non-zero length (`BTP_RESULT_NULL_ARGUMENT`),
//!   inputs, outputs and size queries alike, a misaligned pointer and an
//!   enum value it does not know (`BTP_RESULT_INVALID_PARAMETER`);
//! - never lets a panic cross the boundary (`BTP_RESULT_PANIC`);
//! - takes no ownership of the handles it is given: only `*_free` releases a
//!   handle, so every handle has exactly one owner.
//!
//! Modules, each with one job:
//! - [`error`]: result codes, their strings, the thread-local last error.
//! - [`guard`]: the panic-catching wrapper of every entry point.
//! - [`ptr`]: checked conversion of C pointers, slices, strings and handles.
//! - [`bytes`]: library-allocated output buffers and `btp_bytes_free`;
//!   [`arrays`]: library-allocated arrays of numbers and their
//!   `btp_array_*_free`.
//! - [`version`], [`keys`], [`params`], [`protector`], [`template`],
//!   [`gallery`]: the entry points, one object each; [`codes`]: packed
//!   codes in and out of protectors and galleries, score matrices.
//! - [`eval`] (verification metrics, unlinkability), [`eval_identification`]
//!   (CMC, FNIR/FPIR), [`eval_labels`] (score splitting by labels, mate
//!   columns, linkage scores), [`eval_reports`] (the unlinkability
//!   histogram, differentials, the auditor's protocol): evaluation.
//! - [`store`] (purposes, options, opening, maintenance and key rotation),
//!   [`store_enrol`] (enrol, retain a probe), [`store_batch`] (batch
//!   enrolment), [`store_lookup`] (verify, identify, review),
//!   [`store_retention`] (erase, hold, release, sweep) and [`store_audit`]
//!   (audit log and statistics): the encrypted store.
//!
//! # Where each result code comes from, and where it is tested
//!
//! | code | produced by | reached in |
//! |---|---|---|
//! | `NULL_ARGUMENT`, `BUFFER_TOO_SMALL` | argument checks here ([`ptr`], [`bytes`], [`arrays`]) | C: `test_abi` (every pointer and length pair), `test_errors`, `test_eval`, `test_codes`, `test_store` |
//! | `INVALID_PARAMETER` | argument checks here and the core | C: every test |
//! | `INVALID_KEY_LENGTH`, `WRONG_DIMENSION`, `NON_FINITE`, `ZERO_NORM`, `KEY_MISMATCH`, `SCHEME_MISMATCH`, `DECODE`, `DUPLICATE_ID` | keys, protector, templates, galleries | C: `test_errors`, `test_abi` (also `test_store`; `DECODE` of packed codes in `test_codes`) |
//! | `NOT_FOUND` | galleries and the store | C: `test_errors`, `test_store` |
//! | `UNKNOWN_PURPOSE`, `RETENTION_TOO_LONG`, `EXPIRED`, `HELD`, `WRONG_KEY`, `NOT_A_STORE`, `UNSUPPORTED_SCHEMA`, `KEY_EXHAUSTED`, `IO` | the store | C: `test_store` |
//! | `INTEGRITY`, `CORRUPT`, `AUDIT_BROKEN` | the store, on a damaged or edited file | C: `test_store` edits the file's bytes; Rust: `tests/codes.rs` |
//! | `INVALID_SCORES` | evaluation | C: `test_eval`, `test_codes` |
//! | `BUSY`, `DATABASE` | the store (SQLite: a lock held past the busy timeout, a damaged schema) | Rust: `tests/codes.rs`, through the entry points |
//! | `RNG` | the operating system's random number generator failing | Rust: `tests/codes.rs`, from the core error |
//! | `OUT_OF_MEMORY` | the core, for a result whose size the caller chose and the allocator refuses | Rust: `tests/codes.rs`, from the core error (a C program cannot provoke it on every machine) |
//! | `EXPIRY_IN_PAST` | the store, for an expiry date that has passed | Rust: `tests/codes.rs`, from the core error |
//! | `PANIC` | a bug, caught by [`guard::ffi_call`] | Rust: `guard` tests |
//!
//! `tests/codes.rs` also maps every core error to its code and checks the
//! message; `tests/abi.rs` checks the sources for the order of argument
//! checks and the messages' translation.
#![allow(non_camel_case_types)]
#![warn(missing_docs)]

pub mod arrays;
pub mod bytes;
pub mod codes;
pub mod error;
pub mod eval;
pub mod eval_identification;
pub mod eval_labels;
pub mod eval_reports;
pub mod gallery;
pub mod guard;
pub mod keys;
pub mod params;
pub mod protector;
pub mod ptr;
pub mod store;
pub mod store_audit;
pub mod store_batch;
pub mod store_enrol;
pub mod store_lookup;
pub mod store_retention;
pub mod template;
pub mod version;

pub use error::btp_result;
