//! Secrets stay secret: nothing btp formats shows key or feature bytes,
//! and secret buffers are wiped before their memory is freed.
//!
//! **Formatting.** Every public type a caller may print or log (keys,
//! protector, parameters, templates, galleries, purposes, options, the
//! store, samples, contexts, every report) and every error the test can
//! provoke, through `{:?}`, `{:#?}` and `{}` where implemented, plus the
//! audit export (the store's log), is scanned for the master key and every
//! key derived from it (lowercase and uppercase hex of any 8-byte run, a
//! byte-array `Debug` run like `[90, 90, 90, 90`, base64 at every
//! alignment) and for the feature values given to btp (`{}` and `{:?}` of
//! each `f32` and of it widened to `f64`, and the little-endian bytes of
//! any two consecutive values in hex). Key bytes and values are chosen so
//! that no honest output contains them by chance, and
//! `the_scanner_finds_a_deliberate_leak` shows each pattern is found when
//! the raw key or vector is printed on purpose.
//!
//! **Wiping.** This binary's global allocator wraps `System` and, while a
//! test has armed it, scans every block freed (and every block a
//! reallocation leaves) for 32-byte needles: the master key, the store's
//! derived keys, the transform key, the first coefficients of a
//! protector's secret matrix (recomputed from the documented derivation:
//! HKDF, ChaCha20, Box-Muller), the preprocessed (centred, normalised)
//! copy of a feature vector, a template's packed code and a subject id.
//! The scan is allocation-free (atomics and stack arrays). Covered: a
//! boxed `MasterKey`, a boxed `Store` (master key copy, audit and subject
//! index keys, its decrypted gallery and subject ids) after 1:1 and 1:N, a
//! boxed `Protector` (matrix), `protect` (the preprocessed copy), a
//! `Gallery` grown by many additions, decrypted templates, and
//! `protect_batch` (its packed matrix, scratch and block buffers). Known
//! not covered (see `docs/decisions.md`): copies on the stack (the
//! transform key seed and the ChaCha20 generator's state while a transform
//! is drawn, AES round keys while a record is sealed or opened, HKDF and
//! HMAC state), which no allocator sees.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use btp::keys::KeyUsage;
use btp::store::{
    Context, EventFilter, HoldTarget, Purpose, Retention, Sample, Store, StoreOptions,
};
use btp::{Error, Gallery, MasterKey, ProtectedTemplate, Protector, SchemeParams};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

// ------------------------------------------------------------ allocator

const NEEDLE_LEN: usize = 32;
const MAX_NEEDLES: usize = 8;
const MAX_VALUES: usize = 64;

static ARMED: AtomicBool = AtomicBool::new(false);
static NEEDLES: [[AtomicU8; NEEDLE_LEN]; MAX_NEEDLES] =
    [const { [const { AtomicU8::new(0) }; NEEDLE_LEN] }; MAX_NEEDLES];
static NEEDLE_COUNT: AtomicUsize = AtomicUsize::new(0);
static HITS: [AtomicUsize; MAX_NEEDLES] = [const { AtomicUsize::new(0) }; MAX_NEEDLES];
/// Single 4-byte values (aligned) and which of them were seen.
static VALUES: [AtomicU32; MAX_VALUES] = [const { AtomicU32::new(0) }; MAX_VALUES];
static VALUE_COUNT: AtomicUsize = AtomicUsize::new(0);
static VALUES_SEEN: AtomicU64 = AtomicU64::new(0);

struct Scanning;

/// Counts the needles and values in a block about to be freed. Runs inside
/// the allocator: no allocation, stack arrays and atomics only.
///
/// # Safety
/// `ptr` must point to `len` readable bytes.
unsafe fn scan(ptr: *const u8, len: usize) {
    let block = std::slice::from_raw_parts(ptr, len);
    let n = NEEDLE_COUNT.load(Ordering::Acquire).min(MAX_NEEDLES);
    for (i, stored) in NEEDLES.iter().enumerate().take(n) {
        let mut needle = [0u8; NEEDLE_LEN];
        for (b, a) in needle.iter_mut().zip(stored) {
            *b = a.load(Ordering::Relaxed);
        }
        if len >= NEEDLE_LEN && block.windows(NEEDLE_LEN).any(|w| w == needle) {
            HITS[i].fetch_add(1, Ordering::Relaxed);
        }
    }
    let m = VALUE_COUNT.load(Ordering::Acquire).min(MAX_VALUES);
    if m > 0 {
        let mut values = [0u32; MAX_VALUES];
        for (v, a) in values.iter_mut().zip(&VALUES) {
            *v = a.load(Ordering::Relaxed);
        }
        let mut seen = 0u64;
        for c in block.chunks_exact(4) {
            let w = u32::from_ne_bytes([c[0], c[1], c[2], c[3]]);
            for (i, v) in values[..m].iter().enumerate() {
                if w == *v {
                    seen |= 1 << i;
                }
            }
        }
        VALUES_SEEN.fetch_or(seen, Ordering::Relaxed);
    }
}

unsafe impl GlobalAlloc for Scanning {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        System.alloc_zeroed(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ARMED.load(Ordering::Acquire) {
            scan(ptr, layout.size());
        }
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !ARMED.load(Ordering::Acquire) {
            return System.realloc(ptr, layout, new_size);
        }
        // Moved by hand, so that the block left behind is scanned like
        // any freed block (System's realloc frees it out of sight).
        let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
        let new = System.alloc(new_layout);
        if !new.is_null() {
            std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
            self.dealloc(ptr, layout);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Scanning = Scanning;

/// What an armed run saw.
#[derive(Debug)]
struct Seen {
    /// Freed blocks holding each needle.
    hits: Vec<usize>,
    /// How many of the single values were in freed blocks.
    values: u32,
}

/// Runs `f` with the allocator armed with `needles` and single `values`.
/// One armed run at a time; the needles are on the stack of the caller,
/// so that setting them up frees nothing that holds them.
fn armed<R>(needles: &[[u8; NEEDLE_LEN]], values: &[u32], f: impl FnOnce() -> R) -> (R, Seen) {
    static ONE: Mutex<()> = Mutex::new(());
    let _one = ONE.lock().unwrap_or_else(|p| p.into_inner());
    assert!(needles.len() <= MAX_NEEDLES && values.len() <= MAX_VALUES);
    for (stored, needle) in NEEDLES.iter().zip(needles) {
        for (a, b) in stored.iter().zip(needle) {
            a.store(*b, Ordering::Relaxed);
        }
    }
    for (a, v) in VALUES.iter().zip(values) {
        a.store(*v, Ordering::Relaxed);
    }
    HITS.iter().for_each(|h| h.store(0, Ordering::Relaxed));
    VALUES_SEEN.store(0, Ordering::Relaxed);
    NEEDLE_COUNT.store(needles.len(), Ordering::Release);
    VALUE_COUNT.store(values.len(), Ordering::Release);
    ARMED.store(true, Ordering::Release);
    let r = f();
    ARMED.store(false, Ordering::Release);
    NEEDLE_COUNT.store(0, Ordering::Release);
    VALUE_COUNT.store(0, Ordering::Release);
    let hits = HITS[..needles.len()]
        .iter()
        .map(|h| h.load(Ordering::Relaxed))
        .collect();
    let seen = VALUES_SEEN.load(Ordering::Relaxed).count_ones();
    (r, Seen { hits, values: seen })
}

fn needle(bytes: &[u8]) -> [u8; NEEDLE_LEN] {
    bytes[..NEEDLE_LEN].try_into().unwrap()
}

fn f32_needle(values: &[f32]) -> [u8; NEEDLE_LEN] {
    let mut out = [0u8; NEEDLE_LEN];
    for (o, v) in out.chunks_exact_mut(4).zip(values) {
        o.copy_from_slice(&v.to_ne_bytes());
    }
    out
}

fn u64_needle(words: &[u64]) -> [u8; NEEDLE_LEN] {
    let mut out = [0u8; NEEDLE_LEN];
    for (o, w) in out.chunks_exact_mut(8).zip(words) {
        o.copy_from_slice(&w.to_ne_bytes());
    }
    out
}

// ------------------------------------------------------------ fixtures

/// 32 distinct bytes from `start` with step 37: no run of them is text,
/// zeros or a small counter.
fn key_bytes(start: u8) -> [u8; 32] {
    std::array::from_fn(|i| start.wrapping_add((i as u8).wrapping_mul(37)))
}

/// Feature values with eight significant digits that no score, count or
/// parameter printed by btp has.
fn features(dim: usize, salt: f32) -> Vec<f32> {
    (0..dim)
        .map(|i| (i as f32 * 0.618_034 + salt).sin() * 3.3 + 0.012_345_67 * (1.0 + salt))
        .collect()
}

fn ctx() -> Context<'static> {
    Context::new("secrets-test", "secret scan")
}

/// The transform matrix of IoM-GRP `params` under `key`, recomputed from
/// the documented derivation (`keys.rs`, `schemes/rng.rs`): the first `n`
/// coefficients.
fn grp_matrix(master: &MasterKey, params: &SchemeParams, app: &str, n: usize) -> Vec<f32> {
    let digest = params.digest();
    let seed = *master
        .derive(&KeyUsage::Transform {
            params_digest: &digest,
            application: app,
            version: 1,
            subject: None,
        })
        .expose_secret();
    let mut rng = ChaCha20Rng::from_seed(seed);
    let mut unit = || (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let u1 = 1.0 - unit();
        let u2 = unit();
        let r = libm::sqrt(-2.0 * libm::log(u1));
        let theta = 2.0 * std::f64::consts::PI * u2;
        out.push((r * libm::cos(theta)) as f32);
        out.push((r * libm::sin(theta)) as f32);
    }
    out.truncate(n);
    out
}

/// `x` centred on `centre` and scaled to unit length, exactly as
/// `features::Preprocess` does it.
fn preprocessed(x: &[f32], centre: &[f32]) -> Vec<f32> {
    let mut y: Vec<f32> = x.iter().zip(centre).map(|(a, c)| a - c).collect();
    let norm: f64 = y.iter().map(|v| f64::from(*v) * f64::from(*v)).sum();
    let inv = 1.0 / norm.sqrt();
    for v in &mut y {
        *v = (f64::from(*v) * inv) as f32;
    }
    y
}

// ------------------------------------------------------------ scanner

/// The text patterns a secret would leave in formatted output.
struct Scanner {
    patterns: Vec<(String, String)>,
}

fn base64(bytes: &[u8], alphabet: &[u8; 64]) -> String {
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..=c.len() {
            out.push(alphabet[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

impl Scanner {
    fn new() -> Self {
        Self {
            patterns: Vec::new(),
        }
    }

    fn key(&mut self, name: &str, k: &[u8]) {
        let hex: String = k.iter().map(|b| format!("{b:02x}")).collect();
        for w in (0..=k.len() - 8).map(|i| &hex[2 * i..2 * i + 16]) {
            self.patterns.push((format!("{name} hex"), w.to_owned()));
            self.patterns
                .push((format!("{name} HEX"), w.to_ascii_uppercase()));
        }
        for w in k.windows(4) {
            self.patterns.push((
                format!("{name} bytes"),
                format!("{}, {}, {}, {}", w[0], w[1], w[2], w[3]),
            ));
        }
        let std = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let url = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for alphabet in [std, url] {
            for skip in 0..3 {
                let b = base64(&k[skip..], alphabet);
                // Whole groups of the aligned part: any alignment of the
                // key in a longer encoded buffer shows one of these.
                self.patterns
                    .push((format!("{name} base64"), b[..16].to_owned()));
            }
        }
    }

    fn features(&mut self, name: &str, x: &[f32]) {
        for v in x {
            self.patterns
                .push((format!("{name} value"), format!("{v}")));
            self.patterns
                .push((format!("{name} value"), format!("{v:?}")));
            self.patterns
                .push((format!("{name} value as f64"), format!("{}", f64::from(*v))));
        }
        for w in x.windows(2) {
            let hex: String = w
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .map(|b| format!("{b:02x}"))
                .collect();
            self.patterns.push((format!("{name} bytes"), hex.clone()));
            self.patterns
                .push((format!("{name} BYTES"), hex.to_ascii_uppercase()));
        }
    }

    /// The first pattern `text` contains.
    fn find(&self, text: &str) -> Option<&(String, String)> {
        self.patterns
            .iter()
            .find(|(_, p)| text.contains(p.as_str()))
    }

    fn check(&self, what: &str, text: &str) {
        if let Some((name, p)) = self.find(text) {
            panic!("{what} shows {name} `{p}`:\n{text}");
        }
    }
}

macro_rules! scan_debug {
    ($s:expr, $($v:expr),+ $(,)?) => {$(
        $s.check(stringify!($v), &format!("{:?}", $v));
        $s.check(stringify!($v), &format!("{:#?}", $v));
    )+};
}

macro_rules! scan_all {
    ($s:expr, $($v:expr),+ $(,)?) => {$(
        scan_debug!($s, $v);
        $s.check(stringify!($v), &format!("{}", $v));
    )+};
}

// ------------------------------------------------------------ formatting

const DIM: usize = 32;

#[test]
fn nothing_formatted_shows_key_or_feature_bytes() {
    let key = key_bytes(0xA7);
    let master = MasterKey::from_bytes(&key).unwrap();
    let centre = features(DIM, 9.0);
    let params = SchemeParams::iom_grp(DIM as u32, 64, 16)
        .unwrap()
        .with_centre(centre)
        .unwrap()
        .with_l2(true);
    let prot = Protector::new(params.clone(), &master, "gate", 1, None).unwrap();
    let (a, b) = (features(DIM, 0.25), features(DIM, 0.75));

    let mut s = Scanner::new();
    s.key("master key", &key);
    let digest = params.digest();
    let transform = master.derive(&KeyUsage::Transform {
        params_digest: &digest,
        application: "gate",
        version: 1,
        subject: None,
    });
    s.key("transform key", transform.expose_secret());
    s.features("probe a", &a);
    s.features("probe b", &b);
    for v in 1..=3 {
        for p in ["border", "watch"] {
            let k = master.derive(&KeyUsage::Storage {
                purpose: p,
                version: v,
            });
            s.key(&format!("storage key {p} v{v}"), k.expose_secret());
        }
    }

    // Keys, protector, templates, gallery.
    let transform_key = master.transform_key(&digest, "gate", 1, None);
    let ta = prot.protect(&a).unwrap();
    let tb = prot.protect(&b).unwrap();
    let mut gallery = Gallery::new(&prot);
    gallery.add(1, &ta).unwrap();
    gallery.add(2, &tb).unwrap();
    let decision = prot.verify(&ta, &tb, 0.3).unwrap();
    let candidates = gallery.search(&tb, 2, None).unwrap();
    scan_debug!(
        s,
        master,
        transform,
        transform_key,
        prot,
        params,
        ta,
        gallery,
        decision,
        candidates,
        Sample::Features(&a),
        Sample::Template(&ta),
        ctx()
    );
    scan_all!(s, transform_key.fingerprint());

    // Errors of the core: each provoked, then printed every way.
    let other = Protector::new(
        params.clone(),
        &MasterKey::from_bytes(&key_bytes(1)).unwrap(),
        "gate",
        1,
        None,
    )
    .unwrap();
    let mut nan = a.clone();
    nan[3] = f32::NAN;
    let mut batch = a.clone();
    batch.extend(&nan);
    let errors: Vec<Error> = vec![
        prot.protect(&a[..DIM - 1]).unwrap_err(),
        prot.protect(&nan).unwrap_err(),
        prot.protect_batch(&batch).unwrap_err(),
        prot.protect(&features(DIM, 9.0)).unwrap_err(), // the centre: zero norm
        MasterKey::from_bytes(&key[..31]).unwrap_err(),
        prot.compare(&ta, &other.protect(&a).unwrap()).unwrap_err(),
        gallery.add(3, &other.protect(&a).unwrap()).unwrap_err(),
        gallery.add(1, &ta).unwrap_err(),
        gallery.remove(9).unwrap_err(),
        prot.verify(&ta, &tb, 1.5).unwrap_err(),
        ProtectedTemplate::from_bytes(&key).unwrap_err(),
        ProtectedTemplate::from_bytes(&ta.to_bytes()[..20]).unwrap_err(),
        SchemeParams::from_bytes(&key).unwrap_err(),
        SchemeParams::from_bytes(&a.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>())
            .unwrap_err(),
        btp::eval::eer(&[0.5, f32::NAN as f64], &[0.1]).unwrap_err(),
    ];
    for e in &errors {
        scan_all!(s, e);
    }
    s.check(
        "error kinds",
        &format!("{:?}", errors.iter().map(Error::kind).collect::<Vec<_>>()),
    );

    // The store: purposes, options, reports, store errors, the audit log.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let now = Arc::new(std::sync::atomic::AtomicI64::new(1_800_000_000));
    let clock = now.clone();
    let options = StoreOptions {
        clock: Some(Arc::new(move || clock.load(Ordering::SeqCst))),
        ..StoreOptions::default()
    };
    let purposes = vec![
        Purpose::new(
            "border",
            params.clone(),
            "gate",
            0.3,
            Duration::from_secs(86_400),
        )
        .unwrap(),
        Purpose::new("watch", params, "police", 0.3, Duration::from_secs(864_000)).unwrap(),
    ];
    let store = Store::create_with(&path, &master, &purposes, options.clone()).unwrap();
    let keep = Retention::Maximum;
    let r1 = store
        .enroll("border", "alice", Sample::Features(&a), keep, &ctx())
        .unwrap();
    store
        .enroll("watch", "bob", Sample::Features(&b), keep, &ctx())
        .unwrap();
    store
        .retain_probe("watch", "case-1", Sample::Features(&b), keep, &ctx())
        .unwrap();
    let verification = store
        .verify("border", "alice", Sample::Features(&b), &ctx())
        .unwrap();
    let identification = store
        .identify("watch", Sample::Features(&a), 5, Some(0.0), &ctx())
        .unwrap();
    let hold = store.hold(HoldTarget::Subject("bob"), &ctx()).unwrap();
    let held = store.erase("bob", None, &ctx()).unwrap_err();
    store.release(hold, &ctx()).unwrap();
    let erasure = store.erase("bob", None, &ctx()).unwrap();
    let rotation = store.rotate_key(None, &ctx()).unwrap();
    let stats = store.stats(0, i64::MAX).unwrap();
    let audit = store.verify_audit().unwrap();
    let head = store.audit_head().unwrap();
    let events = store.audit_events(&EventFilter::default()).unwrap();
    let mut export = Vec::new();
    store
        .export_audit(&EventFilter::default(), &mut export)
        .unwrap();
    now.fetch_add(2 * 86_400, Ordering::SeqCst);
    let expired = store
        .verify("border", "alice", Sample::Features(&a), &ctx())
        .unwrap_err();
    let sweep = store.sweep(None, &ctx()).unwrap();
    scan_debug!(
        s,
        purposes,
        options,
        store,
        verification,
        identification,
        erasure,
        rotation,
        stats,
        audit,
        head,
        events,
        sweep
    );
    let export = String::from_utf8(export).unwrap();
    s.check("audit export", &export);
    let mut store_errors = vec![held, expired];
    store_errors.push(
        store
            .enroll(
                "border",
                "carol",
                Sample::Features(&a),
                Retention::For(Duration::from_secs(10 * 86_400)),
                &ctx(),
            )
            .unwrap_err(),
    );
    store_errors.push(
        store
            .verify("nowhere", "alice", Sample::Features(&a), &ctx())
            .unwrap_err(),
    );
    store_errors.push(store.retained_probe(r1 + 99).unwrap_err());
    store_errors.push(
        store
            .verify("border", "alice", Sample::Features(&nan), &ctx())
            .unwrap_err(),
    );
    drop(store);
    // Integrity: a flipped ciphertext byte.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE records SET ciphertext = CAST(zeroblob(length(ciphertext)) AS BLOB)",
        [],
    )
    .unwrap();
    drop(conn);
    let store = Store::open_with(&path, &master, &purposes, options.clone()).unwrap();
    store_errors.push(store.retained_probe(r1 + 2).unwrap_err());
    drop(store);
    store_errors.push(
        Store::open(
            &path,
            &MasterKey::from_bytes(&key_bytes(1)).unwrap(),
            &purposes,
        )
        .unwrap_err(),
    );
    // A file that holds the key bytes is not a store.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, key.repeat(64)).unwrap();
    store_errors.push(Store::open(&junk, &master, &purposes).unwrap_err());
    store_errors
        .push(Store::open(dir.path().join("no/such/dir/x.db"), &master, &purposes).unwrap_err());
    for e in &store_errors {
        scan_all!(s, e);
    }
    assert!(store_errors
        .iter()
        .any(|e| matches!(e, Error::Integrity { .. })));
    assert!(store_errors.iter().any(|e| matches!(e, Error::WrongKey)));
}

/// The scanner is not blind: each kind of pattern is found when a secret
/// is printed on purpose.
#[test]
fn the_scanner_finds_a_deliberate_leak() {
    let key = key_bytes(0xA7);
    let master = MasterKey::from_bytes(&key).unwrap();
    let x = features(DIM, 0.25);
    let mut s = Scanner::new();
    s.key("master key", &key);
    s.features("probe", &x);
    let raw = master.expose_secret();
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let std = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let leaks = [
        format!("{raw:?}"),
        format!("key={hex}"),
        format!("KEY={}", hex.to_uppercase()),
        format!("b64={}", base64(&[&[0u8][..], &raw[..]].concat(), std)),
        format!("{:?}", &x[5..7]),
        format!("{}", x[17]),
        format!("{:#?}", &x[20..]),
        x[9..11]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .map(|b| format!("{b:02x}"))
            .collect(),
    ];
    for leak in &leaks {
        assert!(s.find(leak).is_some(), "not found: {leak}");
    }
    // And honest output of similar shape is not flagged.
    for honest in [
        format!("{:?}", key_bytes(0x11)),
        "0.30000001192092896 0.5 1800000000".to_owned(),
    ] {
        assert_eq!(s.find(&honest), None, "{honest}");
    }
}

// ------------------------------------------------------------ wiping

#[test]
fn a_master_key_is_wiped_when_dropped() {
    let key = key_bytes(0x3B);
    // Control: a plain boxed copy of the bytes is found when freed.
    let ((), seen) = armed(&[needle(&key)], &[], || {
        drop(std::hint::black_box(Box::new(key)))
    });
    assert_eq!(seen.hits, vec![1], "the scanner misses a freed key");
    let ((), seen) = armed(&[needle(&key)], &[], || {
        drop(Box::new(MasterKey::from_bytes(&key).unwrap()))
    });
    assert_eq!(seen.hits, vec![0], "a dropped MasterKey left its bytes");
    let ((), seen) = armed(&[needle(&key)], &[], || {
        let m = MasterKey::from_bytes(&key).unwrap();
        drop(Box::new(m.derive(&KeyUsage::Audit { store_id: b"id" })));
        drop(Box::new(m));
    });
    assert_eq!(seen.hits, vec![0]);
}

#[test]
fn a_protector_and_its_preprocessed_copies_are_wiped() {
    let master = MasterKey::from_bytes(&key_bytes(0x5C)).unwrap();
    let centre = features(DIM, 4.0);
    let params = SchemeParams::iom_grp(DIM as u32, 64, 16)
        .unwrap()
        .with_centre(centre.clone())
        .unwrap()
        .with_l2(true);
    let matrix = grp_matrix(&master, &params, "wipe", 64 * 16 * DIM);
    let x = features(DIM, 1.5);
    let y = preprocessed(&x, &centre);
    let digest = params.digest();
    let tkey = *master
        .derive(&KeyUsage::Transform {
            params_digest: &digest,
            application: "wipe",
            version: 1,
            subject: None,
        })
        .expose_secret();
    // The recomputed matrix is the protector's: codes agree.
    let prot = Protector::new(params.clone(), &master, "wipe", 1, None).unwrap();
    for salt in [0.0, 1.0, 2.0] {
        let v = preprocessed(&features(DIM, salt), &centre);
        let want: Vec<u8> = matrix
            .chunks_exact(16 * DIM)
            .map(|w| {
                let p: Vec<f64> = w
                    .chunks_exact(DIM)
                    .map(|row| row.iter().zip(&v).map(|(a, b)| f64::from(a * b)).sum())
                    .collect();
                (0..16).fold(0, |b, j| if p[j] > p[b] { j } else { b }) as u8
            })
            .collect();
        let got = prot.protect(&features(DIM, salt)).unwrap().elements();
        let same = got.iter().zip(&want).filter(|(a, b)| a == b).count();
        assert!(same >= 62, "recomputed matrix differs: {same} of 64");
    }
    let needles = [
        needle(&tkey),
        f32_needle(&matrix[..8]),
        f32_needle(&matrix[40 * DIM..40 * DIM + 8]),
        f32_needle(&y[..8]),
        f32_needle(&y[DIM - 8..]),
    ];
    // Control: the matrix needle is found in a freed copy of it.
    let ((), seen) = armed(&needles, &[], || drop(matrix[..64].to_vec()));
    assert_eq!(seen.hits, vec![0, 1, 0, 0, 0]);
    let ((), seen) = armed(&needles, &[], || {
        let p = Box::new(Protector::new(params.clone(), &master, "wipe", 1, None).unwrap());
        let t = p.protect(&x).unwrap();
        drop(t);
        drop(p);
    });
    assert_eq!(
        seen.hits,
        vec![0; 5],
        "[transform key, matrix row 0, matrix row 40, preprocessed head, preprocessed tail]"
    );
}

/// `protect_batch` packs the secret matrix once for its kernel (kept by the
/// protector until it is dropped), projects blocks of preprocessed rows
/// into scratch buffers and turns them into codes: every one of those
/// buffers is wiped before it is freed. (Before btp had its own kernel,
/// matrixmultiply's packing buffers left panels of the matrix and of the
/// rows here; this test measured that leak.) Needles: a matrix row, the
/// first coefficient of eight consecutive rows (a row of a packed panel),
/// a preprocessed row, and each preprocessed value on its own.
#[test]
fn batch_protection_leaves_nothing() {
    let master = MasterKey::from_bytes(&key_bytes(0x71)).unwrap();
    let centre = features(DIM, 5.0);
    let params = SchemeParams::iom_grp(DIM as u32, 64, 16)
        .unwrap()
        .with_centre(centre.clone())
        .unwrap()
        .with_l2(true);
    let matrix = grp_matrix(&master, &params, "batch", 64 * 16 * DIM);
    let rows: Vec<f32> = (0..100)
        .flat_map(|k| features(DIM, 10.0 + k as f32))
        .collect();
    let y = preprocessed(&rows[..DIM], &centre);
    let column: Vec<f32> = (0..8).map(|j| matrix[j * DIM]).collect();
    let values: Vec<u32> = y.iter().map(|v| v.to_bits()).collect();
    let needles = [
        f32_needle(&matrix[..8]),
        f32_needle(&column),
        f32_needle(&y[..8]),
    ];
    // Control: each needle and the values are found in freed copies.
    let ((), seen) = armed(&needles, &values, || {
        drop(std::hint::black_box(column.to_vec()));
        drop(std::hint::black_box(y.to_vec()));
    });
    assert_eq!(seen.hits, vec![0, 1, 1]);
    assert_eq!(seen.values as usize, DIM);
    let prot = Protector::new(params, &master, "batch", 1, None).unwrap();
    let single = prot.protect(&rows[..DIM]).unwrap().words().to_vec();
    let (codes, seen) = armed(&needles, &values, || {
        let codes = prot.protect_batch_packed(&rows).unwrap();
        drop(prot);
        codes
    });
    println!(
        "secrets: protect_batch left in freed memory: {seen:?} (of {DIM} preprocessed values)"
    );
    // The batch really ran (and agrees with single protection).
    assert_eq!(codes[..single.len()], single[..]);
    assert_eq!(
        seen.hits,
        vec![0; 3],
        "[matrix row, packed panel row, preprocessed row]"
    );
    assert_eq!(seen.values, 0, "preprocessed values in freed memory");
}

#[test]
fn galleries_and_decrypted_templates_are_wiped() {
    let master = MasterKey::from_bytes(&key_bytes(0x29)).unwrap();
    let params = SchemeParams::iom_grp(DIM as u32, 64, 16).unwrap();
    let prot = Protector::new(params, &master, "gallery", 1, None).unwrap();
    let templates: Vec<ProtectedTemplate> = (0..200)
        .map(|i| prot.protect(&features(DIM, i as f32 * 0.37)).unwrap())
        .collect();
    let code = u64_needle(templates[3].words());
    // A gallery grown one template at a time (many reallocations), some
    // removed, cloned, dropped.
    let ((), seen) = armed(&[code], &[], || {
        let mut g = Gallery::new(&prot);
        for (i, t) in templates.iter().enumerate() {
            g.add(i as u64, t).unwrap();
        }
        g.remove(3).unwrap();
        g.add(1000, &templates[3]).unwrap();
        drop(g.clone());
        drop(g);
    });
    assert_eq!(seen.hits, vec![0], "a gallery left a code in freed memory");
}

#[test]
fn a_store_is_wiped_when_dropped() {
    let master = MasterKey::from_bytes(&key_bytes(0x44)).unwrap();
    let params = SchemeParams::iom_grp(DIM as u32, 64, 16).unwrap();
    let purposes =
        vec![Purpose::new("border", params, "gate", 0.3, Duration::from_secs(86_400)).unwrap()];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    // A 32-byte subject id: a needle of its own.
    let subject = "subject-0123456789abcdefghijklmn";
    assert_eq!(subject.len(), NEEDLE_LEN);
    let store = Box::new(Store::create(&path, &master, &purposes).unwrap());
    let x = features(DIM, 2.5);
    let code = store.protector("border").unwrap().protect(&x).unwrap();
    let code_needle = u64_needle(code.words());
    drop(code);
    let id = store.store_id();
    let audit = *master
        .derive(&KeyUsage::Audit { store_id: &id })
        .expose_secret();
    let index = *master
        .derive(&KeyUsage::SubjectIndex { store_id: &id })
        .expose_secret();
    let needles = [
        needle(master.expose_secret()),
        needle(&audit),
        needle(&index),
        code_needle,
        needle(subject.as_bytes()),
    ];
    let keep = Retention::Maximum;
    store
        .enroll("border", subject, Sample::Features(&x), keep, &ctx())
        .unwrap();
    for _ in 0..3 {
        store
            .enroll(
                "border",
                "other",
                Sample::Features(&features(DIM, 7.0)),
                keep,
                &ctx(),
            )
            .unwrap();
    }
    let (results, seen) = armed(&needles, &[], || {
        // 1:1 and 1:N decrypt the record (and fill the gallery), then the
        // handle goes. The results are the caller's: dropped unarmed.
        let v = store
            .verify("border", subject, Sample::Features(&x), &ctx())
            .unwrap();
        let found = store
            .identify("border", Sample::Features(&x), 3, None, &ctx())
            .unwrap();
        drop(store);
        (v, found)
    });
    assert_eq!(results.1.candidates[0].subject, subject);
    drop(results);
    assert_eq!(
        seen.hits,
        vec![0; 5],
        "[master key, audit key, subject index key, decrypted code, subject id]"
    );
}
