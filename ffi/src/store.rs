//! The encrypted template store: purposes, options, opening, maintenance.
//!
//! A store is one SQLite file holding AES-256-GCM encrypted templates per
//! purpose, with expiry, legal holds, erasure, key rotation and a keyed
//! hash-chained audit log (see `docs/store.md`). Every operation that reads
//! or changes biometric data takes an `actor` and a `reason` (non-empty
//! UTF-8 strings) that go into its audit event. The operations on records
//! are in `store_enrol` (enrolment, retained probes), `store_batch` (batch
//! enrolment), `store_lookup` (verify, identify, review) and
//! `store_retention` (erasure, holds, sweeps); the audit log and
//! statistics in `store_audit`. Key rotation is here with the other
//! maintenance.

use std::ffi::{c_char, c_void};
use std::sync::Arc;
use std::time::Duration;

use btp_core::store::{Context, Purpose, Sample, Store, StoreOptions, Timestamp};

use crate::error::{btp_result, FfiError, FfiResult};
use crate::guard::{ffi_call, ffi_free};
use crate::keys::btp_master_key;
use crate::params::btp_params;
use crate::ptr::{self, Out, OutHandle};
use crate::template::btp_template;

/// A purpose a store serves and its rules: name, scheme parameters,
/// application and transform version of its keys, match threshold and
/// longest retention. Made by `btp_purpose_new`, given to `btp_store_open`.
///
/// Thread safety: immutable; one purpose may be used by any number of
/// threads at once.
pub struct btp_purpose(pub(crate) Purpose);

/// Settings of a store handle, made by `btp_store_options_new` with the
/// defaults (busy timeout 10 s, batch size 500, 2^32 encryptions per
/// storage key, the system clock) and changed by `btp_store_options_set_*`.
///
/// Thread safety: the setters and `_free` need exclusive access;
/// `btp_store_open` only reads it (any number of threads at once while no
/// setter runs). A store keeps its own copy: the options may be freed after
/// `btp_store_open`.
pub struct btp_store_options(pub(crate) StoreOptions);

/// An open store.
///
/// Thread safety: fully synchronised (`Send + Sync`): any number of threads
/// may call any store function on one handle at once (calls are serialised
/// on its database connection where they must be). Several handles, in
/// threads or processes, may share one file. Only `btp_store_free` needs
/// exclusive access: free it once, after every call has returned.
pub struct btp_store(pub(crate) Store);

/// A clock for a store: returns the current time in Unix seconds. `ctx` is
/// the pointer given to `btp_store_options_set_clock`. It is called from
/// whichever thread calls the store, possibly several at once and while
/// the store holds its lock, so it must be thread-safe, must not call btp
/// functions on that store (a deadlock), and must not unwind (no C++
/// exception may leave it).
pub type btp_clock_fn = Option<unsafe extern "C" fn(ctx: *mut c_void) -> i64>;

/// A caller's clock and its context pointer.
struct CClock {
    f: unsafe extern "C" fn(*mut c_void) -> i64,
    ctx: *mut c_void,
}

// SAFETY: the caller of `btp_store_options_set_clock` promises that the
// function is thread-safe and `ctx` valid for as long as the store lives.
unsafe impl Send for CClock {}
// SAFETY: as above.
unsafe impl Sync for CClock {}

impl CClock {
    fn now(&self) -> Timestamp {
        // SAFETY: a thread-safe C function with its context, per the
        // contract of `btp_store_options_set_clock`.
        unsafe { (self.f)(self.ctx) }
    }
}

/// The audit context of a call: who acts and why.
///
/// # Safety
/// `actor`, `reason` must be NULL or NUL-terminated strings valid for `'a`.
pub(crate) unsafe fn context<'a>(
    actor: *const c_char,
    reason: *const c_char,
) -> FfiResult<Context<'a>> {
    // SAFETY: per the contract.
    let actor = unsafe { ptr::str(actor, "actor") }?;
    // SAFETY: per the contract.
    let reason = unsafe { ptr::str(reason, "reason") }?;
    Ok(Context::new(actor, reason))
}

/// A feature vector as a sample.
pub(crate) unsafe fn features_sample<'a>(x: *const f32, len: usize) -> FfiResult<Sample<'a>> {
    // SAFETY: per the caller's contract.
    Ok(Sample::Features(unsafe { ptr::slice(x, len, "features") }?))
}

/// A template handle as a sample.
pub(crate) unsafe fn template_sample<'a>(t: *const btp_template) -> FfiResult<Sample<'a>> {
    // SAFETY: per the caller's contract.
    Ok(Sample::Template(&unsafe { ptr::handle(t, "template") }?.0))
}

/// A purpose: `name` (1 to 128 bytes of UTF-8), the scheme `params` of its
/// templates, the `application` (non-empty) and `transform_version` of its
/// transform keys, the match `threshold` in [0, 1] of verification (and
/// the default of identification), and the longest retention in seconds
/// (at least 1). `BTP_RESULT_INVALID_PARAMETER` names the field otherwise.
/// `params` is not kept. Templates given to the store as templates must
/// come from a protector made with the same params, master key,
/// application and version (`btp_protector_new`).
///
/// # Safety
/// `name`, `application` NULL or NUL-terminated; `params` a live handle or
/// NULL; `out` NULL or writable: it receives a handle to free with
/// `btp_purpose_free`.
#[no_mangle]
pub unsafe extern "C" fn btp_purpose_new(
    name: *const c_char,
    params: *const btp_params,
    application: *const c_char,
    transform_version: u32,
    threshold: f64,
    max_retention_seconds: u64,
    out: *mut *mut btp_purpose,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_purpose_new", || unsafe {
        let out = OutHandle::new(out, "out")?;
        let name = ptr::str(name, "name")?;
        let params = ptr::handle(params, "params")?;
        let application = ptr::str(application, "application")?;
        let mut p = Purpose::new(
            name,
            params.0.clone(),
            application,
            threshold,
            Duration::from_secs(max_retention_seconds),
        )
        .map_err(FfiError::renaming(&[
            ("purpose", "name"),
            ("max_retention", "max_retention_seconds"),
        ]))?;
        p.transform_version = transform_version;
        out.set(btp_purpose(p));
        Ok(())
    })
}

/// Frees a purpose. NULL does nothing. Set your pointer to NULL afterwards:
/// freeing the same handle twice is undefined behaviour.
///
/// # Safety
/// `purpose` must be NULL or a handle from this library not yet freed, and
/// no other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn btp_purpose_free(purpose: *mut btp_purpose) {
    // SAFETY: the caller passes NULL or a live handle it no longer uses (see `# Safety`).
    ffi_free(|| unsafe { ptr::free(purpose) });
}

/// Store options with the defaults.
///
/// # Safety
/// `out` NULL or writable: it receives a handle to free with
/// `btp_store_options_free`.
#[no_mangle]
pub unsafe extern "C" fn btp_store_options_new(out: *mut *mut btp_store_options) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_store_options_new", || unsafe {
        OutHandle::new(out, "out")?.set(btp_store_options(StoreOptions::default()));
        Ok(())
    })
}

/// How long a call waits for another handle's lock before
/// `BTP_RESULT_BUSY` (default 10 000 ms; 0 fails at once).
///
/// # Safety
/// `options` a live handle or NULL; exclusive access to it.
#[no_mangle]
pub unsafe extern "C" fn btp_store_options_set_busy_timeout_ms(
    options: *mut btp_store_options,
    ms: u64,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_store_options_set_busy_timeout_ms", || unsafe {
        ptr::handle_mut(options, "options")?.0.busy_timeout = Duration::from_millis(ms);
        Ok(())
    })
}

/// Records per transaction in sweeps and key rotations (default 500; at
/// least 1, checked by `btp_store_open`).
///
/// # Safety
/// `options` a live handle or NULL; exclusive access to it.
#[no_mangle]
pub unsafe extern "C" fn btp_store_options_set_batch_size(
    options: *mut btp_store_options,
    batch_size: usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_store_options_set_batch_size", || unsafe {
        ptr::handle_mut(options, "options")?.0.batch_size = batch_size;
        Ok(())
    })
}

/// Encryptions allowed per storage key before `BTP_RESULT_KEY_EXHAUSTED`
/// asks for a key rotation (default and maximum 2^32, the NIST SP 800-38D
/// bound for random 96-bit nonces; at least 1; checked by
/// `btp_store_open`). Lower it only to test rotation.
///
/// # Safety
/// `options` a live handle or NULL; exclusive access to it.
#[no_mangle]
pub unsafe extern "C" fn btp_store_options_set_max_encryptions_per_key(
    options: *mut btp_store_options,
    max: u64,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_store_options_set_max_encryptions_per_key", || unsafe {
        ptr::handle_mut(options, "options")?
            .0
            .max_encryptions_per_key = max;
        Ok(())
    })
}

/// The store's clock: `clock(ctx)` gives the current Unix time in seconds
/// for expiry, sweeps and audit times. NULL restores the system clock.
/// Meant for tests and for deployments with a trusted time source.
///
/// # Safety
/// `options` a live handle or NULL; exclusive access to it. `clock` must
/// be thread-safe and must not unwind, and `ctx` must stay valid for as
/// long as any store opened with these options is open.
#[no_mangle]
pub unsafe extern "C" fn btp_store_options_set_clock(
    options: *mut btp_store_options,
    clock: btp_clock_fn,
    ctx: *mut c_void,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_store_options_set_clock", || unsafe {
        let o = ptr::handle_mut(options, "options")?;
        o.0.clock = clock.map(|f| {
            let c = CClock { f, ctx };
            Arc::new(move || c.now()) as Arc<dyn Fn() -> Timestamp + Send + Sync>
        });
        Ok(())
    })
}

/// Frees store options. NULL does nothing. Set your pointer to NULL
/// afterwards: freeing the same handle twice is undefined behaviour.
///
/// # Safety
/// `options` must be NULL or a handle from this library not yet freed, and
/// no other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn btp_store_options_free(options: *mut btp_store_options) {
    // SAFETY: the caller passes NULL or a live handle it no longer uses (see `# Safety`).
    ffi_free(|| unsafe { ptr::free(options) });
}

/// Creates a new store at `path` with master `key`, serving the
/// `purposes_len` purposes of `purposes`, with `options` (NULL for the
/// defaults): a new file (mode 0600) with a random store id, the purposes
/// and the first audit event.
///
/// Never opens what is there: an existing path (a store, an empty file,
/// anything) is `BTP_RESULT_IO` and is left untouched, so a mistyped path
/// cannot reinitialise a store (`btp_store_open` opens an existing one). A
/// creation that fails removes the file it made. `key`, `purposes` and
/// `options` are not kept.
///
/// # Safety
/// As `btp_store_open`.
#[no_mangle]
pub unsafe extern "C" fn btp_store_create(
    path: *const c_char,
    key: *const btp_master_key,
    purposes: *const *const btp_purpose,
    purposes_len: usize,
    options: *const btp_store_options,
    out: *mut *mut btp_store,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_store_create", || unsafe {
        open_store(
            path,
            key,
            purposes,
            purposes_len,
            options,
            out,
            |p, k, ps, o| Store::create_with(p, k, ps, o),
        )
    })
}

/// Opens the existing store at `path` with master `key`, serving the
/// `purposes_len` purposes of `purposes`, with `options` (NULL for the
/// defaults).
///
/// Never creates a file: a missing path is `BTP_RESULT_NOT_FOUND`; an
/// empty file, a directory or another kind of file `BTP_RESULT_NOT_A_STORE`
/// (`btp_store_create` makes a new store). The file must be a btp store
/// (`BTP_RESULT_NOT_A_STORE`) of a schema this build reads
/// (`BTP_RESULT_UNSUPPORTED_SCHEMA`), made with this master key
/// (`BTP_RESULT_WRONG_KEY`); each purpose must agree with the stored one on
/// scheme, parameters, application and transform version
/// (`BTP_RESULT_INVALID_PARAMETER`); threshold and maximum retention may
/// change (the change is audited), and a purpose the file lacks is added.
/// A file that cannot be read gives `BTP_RESULT_IO`. `key`, `purposes` and
/// `options` are not kept.
///
/// # Safety
/// `path` NULL or NUL-terminated; `key` a live handle or NULL; `purposes`
/// NULL or `purposes_len` readable pointers to live purposes; `options` a
/// live handle or NULL; `out` NULL or writable: it receives a handle to
/// free with `btp_store_free`.
#[no_mangle]
pub unsafe extern "C" fn btp_store_open(
    path: *const c_char,
    key: *const btp_master_key,
    purposes: *const *const btp_purpose,
    purposes_len: usize,
    options: *const btp_store_options,
    out: *mut *mut btp_store,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_store_open", || unsafe {
        open_store(
            path,
            key,
            purposes,
            purposes_len,
            options,
            out,
            |p, k, ps, o| Store::open_with(p, k, ps, o),
        )
    })
}

/// The shared body of `btp_store_create` and `btp_store_open`.
///
/// # Safety
/// As `btp_store_open`.
unsafe fn open_store(
    path: *const c_char,
    key: *const btp_master_key,
    purposes: *const *const btp_purpose,
    purposes_len: usize,
    options: *const btp_store_options,
    out: *mut *mut btp_store,
    open: fn(
        &std::path::Path,
        &btp_core::MasterKey,
        &[Purpose],
        StoreOptions,
    ) -> btp_core::Result<Store>,
) -> FfiResult {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    unsafe {
        let out = OutHandle::new(out, "out")?;
        let path = ptr::path(path, "path")?;
        let key = ptr::handle(key, "key")?;
        let purposes: Vec<Purpose> = ptr::handles(purposes, purposes_len, "purposes")?
            .into_iter()
            .map(|p| p.0.clone())
            .collect();
        let options = match options.as_ref() {
            Some(o) => o.0.clone(),
            None => StoreOptions::default(),
        };
        let store = open(path, &key.0, &purposes, options).map_err(FfiError::renaming(&[
            ("batch_size", "options.batch_size"),
            ("max_encryptions_per_key", "options.max_encryptions_per_key"),
            ("busy_timeout", "options.busy_timeout_ms"),
        ]))?;
        out.set(btp_store(store));
        Ok(())
    }
}

/// Closes a store. NULL does nothing. Set your pointer to NULL afterwards:
/// freeing the same handle twice is undefined behaviour.
///
/// # Safety
/// `store` must be NULL or a handle from this library not yet freed, and
/// no other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn btp_store_free(store: *mut btp_store) {
    // SAFETY: the caller passes NULL or a live handle it no longer uses (see `# Safety`).
    ffi_free(|| unsafe { ptr::free(store) });
}

/// The current time by the store's clock (Unix seconds): the base of
/// `BTP_RETENTION_KIND_UNTIL` retentions and of sweeps without a time.
///
/// # Safety
/// `store` a live handle or NULL; `now` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_store_now(store: *const btp_store, now: *mut i64) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_store_now", || unsafe {
        let s = ptr::handle(store, "store")?;
        let out = Out::new(now, "now")?;
        out.write(s.0.now()?);
        Ok(())
    })
}

/// The number of records (templates and retained probes, live or expired
/// and not yet swept) of `purpose`, or of every purpose in the file when
/// `purpose` is NULL. A purpose this handle does not serve gives
/// `BTP_RESULT_UNKNOWN_PURPOSE`.
///
/// # Safety
/// `store` a live handle or NULL; `purpose` NULL or NUL-terminated;
/// `count` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_store_record_count(
    store: *const btp_store,
    purpose: *const c_char,
    count: *mut u64,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_store_record_count", || unsafe {
        let s = ptr::handle(store, "store")?;
        let purpose = ptr::opt_str(purpose, "purpose")?;
        let count = Out::new(count, "count")?;
        if let Some(p) = purpose {
            s.0.protector(p)?;
        }
        let counts = s.0.record_counts()?;
        count.write(match purpose {
            Some(p) => counts.get(p).copied().unwrap_or(0),
            None => counts.values().sum(),
        });
        Ok(())
    })
}

/// Checks the structure of the whole database file (SQLite's
/// `integrity_check`: `BTP_RESULT_CORRUPT` naming the first problems),
/// then authenticates every record (`BTP_RESULT_INTEGRITY` naming the
/// first that fails); `BTP_RESULT_OK` when both pass. Finds damage that
/// reads may not reach. Reads the whole file and decrypts every record:
/// run it from maintenance jobs.
///
/// # Safety
/// `store` a live handle or NULL.
#[no_mangle]
pub unsafe extern "C" fn btp_store_check_integrity(store: *const btp_store) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_store_check_integrity", || unsafe {
        ptr::handle(store, "store")?.0.check_integrity()?;
        Ok(())
    })
}

/// Checkpoints the write-ahead log into the database file and truncates
/// it, so that deleted bytes are gone from both files (sweeps, erasures and
/// rotations do this themselves). `BTP_RESULT_BUSY` if other handles keep
/// it from completing within the busy timeout.
///
/// # Safety
/// `store` a live handle or NULL.
#[no_mangle]
pub unsafe extern "C" fn btp_store_checkpoint(store: *const btp_store) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_store_checkpoint", || unsafe {
        ptr::handle(store, "store")?.0.checkpoint()?;
        Ok(())
    })
}

/// What a key rotation did.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct btp_rotation_report {
    /// Purposes whose storage key was rotated.
    pub purposes: u64,
    /// Records re-encrypted under the new keys.
    pub reencrypted: u64,
}

/// Rotates the storage key of `purpose` (NULL: of every purpose this
/// handle serves): a new key version encrypts from now on and every record
/// is re-encrypted under it, in batches. Crash-safe: calling it again after
/// an interruption finishes the started rotation. Audited.
///
/// # Safety
/// `store` a live handle or NULL; `purpose` NULL or NUL-terminated;
/// `actor`, `reason` NULL or NUL-terminated; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_store_rotate_key(
    store: *const btp_store,
    purpose: *const c_char,
    actor: *const c_char,
    reason: *const c_char,
    out: *mut btp_rotation_report,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_store_rotate_key", || unsafe {
        let s = ptr::handle(store, "store")?;
        let purpose = ptr::opt_str(purpose, "purpose")?;
        let ctx = context(actor, reason)?;
        let out = Out::new(out, "out")?;
        let r = s.0.rotate_key(purpose, &ctx)?;
        out.write(btp_rotation_report {
            purposes: r.rotated.len() as u64,
            reencrypted: r.rotated.iter().map(|rot| rot.reencrypted).sum(),
        });
        Ok(())
    })
}
