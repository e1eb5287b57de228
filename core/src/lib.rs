//! # btp — biometric template protection
//!
//! Cancellable (revocable, unlinkable, irreversible) biometric templates in
//! the style of ISO/IEC 24745, threshold matching in the protected domain,
//! and the evaluation metrics to show that it works.
//!
//! Modules, each with one job, from the bottom up (`ARCHITECTURE.md` has
//! the layers and the files inside the folders):
//! - [`error`]: the one error type ([`Error`]) and its stable kinds
//!   ([`ErrorKind`], what the C codes and Python classes map from).
//! - [`alloc`]: allocations sized by callers or file headers, refused as
//!   [`Error::OutOfMemory`] instead of aborting.
//! - [`time`]: the store's timestamps as calendar dates.
//! - [`labels`]: string labels for gallery ids.
//! - [`keys`]: the master key and HKDF derivation of every other key.
//! - [`features`]: validation and preprocessing of feature vectors.
//! - [`codes`]: the packed memory layout of protected codes and their comparison.
//! - [`schemes`]: the cancellable transforms (IoM-GRP, IoM-URP, BioHashing),
//!   their parameters and encoding, and the batch kernel.
//! - [`template`]: the versioned wire format of a protected template.
//! - [`decision`]: 1:1 decisions (a similarity against a threshold).
//! - [`protector`]: a scheme bound to a key: protect, compare, verify.
//! - [`scoring`]: score matrices and paired scores of packed code batches.
//! - [`matching`]: 1:N galleries and their search results.
//! - [`synthetic`]: seeded synthetic identities for tests, demos and benchmarks.
//! - [`eval`]: FMR/FNMR/EER/DET, identification, differentials,
//!   unlinkability, labelled score splits, threshold calibration.
//! - [`store`]: the encrypted template store: purposes, retention, erasure,
//!   legal holds, key rotation and the audit log.
// Exceptions, each allowed where it stands with its SAFETY argument: the
// calls of the AVX2 builds of the 1:N scan (`matching/scan.rs`) and of the batch
// projection kernel (`schemes/kernel.rs`, `dispatch`) after checking the
// CPU, and the kernel's AVX2 + FMA tile (`tile_avx2`: intrinsics, pointer
// loads and stores inside asserted extents).
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod alloc;
pub mod codes;
pub mod decision;
pub mod error;
pub mod eval;
pub mod features;
pub mod keys;
pub mod labels;
pub mod matching;
pub mod protector;
pub mod schemes;
pub mod scoring;
pub mod store;
pub mod synthetic;
pub mod template;
mod threads;
pub mod time;

/// The README's example is compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctest;

pub use decision::Decision;
pub use error::{Cause, DecodeError, Error, ErrorKind, Result};
pub use features::fit_centre;
pub use keys::{KeyFingerprint, MasterKey, TransformKey};
pub use matching::{Candidate, Gallery};
pub use protector::Protector;
pub use schemes::{SchemeId, SchemeParams, SchemeSpec};
pub use template::{Origin, ProtectedTemplate};
