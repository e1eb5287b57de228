//! # btp-ffi — the C ABI of btp
//!
//! Converts types and errors between C and the `btp` crate; holds no domain
//! logic. `include/btp.h` is generated from this crate by cbindgen.
//!
//! Conventions (every entry point):
//! - returns a [`btp_result`] code (`BTP_RESULT_OK` = 0) and writes outputs
//!   through out-pointers; on failure a handle out-pointer is set to NULL
//!   and the thread's last-error message ([`btp_last_error_message`]) says why;
//! - never lets a panic cross the boundary (`BTP_RESULT_PANIC`);
//! - takes no ownership of the handles it is given: only `*_free` releases a
//!   handle, so every handle has exactly one owner.
//!
//! Modules, each with one job:
//! - [`error`]: result codes, their strings, the thread-local last error.
//! - [`guard`]: the panic-catching wrapper of every entry point.
//! - [`ptr`]: checked conversion of C pointers, slices, strings and handles.
//! - [`bytes`]: library-allocated output buffers and `btp_bytes_free`.
//! - [`version`], [`keys`], [`params`], [`protector`], [`template`],
//!   [`gallery`], [`eval`]: the entry points, one object each.
//! - [`store`] (purposes, options, opening, maintenance), [`store_ops`]
//!   (records: enrol, verify, identify, review, erase, hold, sweep,
//!   rotate) and [`store_audit`] (audit log and statistics): the encrypted
//!   store.
#![allow(non_camel_case_types)]
#![warn(missing_docs)]

pub mod bytes;
pub mod error;
pub mod eval;
pub mod gallery;
pub mod guard;
pub mod keys;
pub mod params;
pub mod protector;
pub mod ptr;
pub mod store;
pub mod store_audit;
pub mod store_ops;
pub mod template;
pub mod version;

pub use error::btp_result;
