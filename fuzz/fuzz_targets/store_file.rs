//! Store files damaged anywhere (byte patches, truncation): opening and
//! using the store gives typed errors, never a panic, and never a wrong
//! "match" for a subject whose records were damaged.
#![no_main]

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use arbitrary::Arbitrary;
use btp::store::{
    Context, EventFilter, HoldTarget, Purpose, Retention, Sample, Store, StoreOptions,
};
use btp::synthetic::{Dataset, Population};
use btp::{MasterKey, SchemeParams};
use libfuzzer_sys::fuzz_target;

const T0: i64 = 1_800_000_000;
const DAY: u64 = 86_400;

struct Pristine {
    bytes: Vec<u8>,
    data: Dataset,
    dir: tempfile::TempDir,
}

fn key() -> MasterKey {
    MasterKey::from_bytes(&[0x5a; 32]).expect("32 bytes")
}

fn purposes() -> Vec<Purpose> {
    let grp = SchemeParams::iom_grp(16, 64, 16).expect("valid");
    let bio = SchemeParams::biohash(16, 16).expect("valid");
    vec![
        Purpose::new("border", grp, "gate", 0.5, Duration::from_secs(30 * DAY)).expect("valid"),
        Purpose::new("watch", bio, "police", 0.6, Duration::from_secs(10 * DAY)).expect("valid"),
    ]
}

fn options() -> StoreOptions {
    StoreOptions {
        clock: Some(Arc::new(|| T0)),
        busy_timeout: Duration::from_millis(10),
        batch_size: 4,
        ..StoreOptions::default()
    }
}

fn open(path: &PathBuf) -> btp::Result<Store> {
    Store::open_with(path, &key(), &purposes(), options())
}

fn ctx() -> Context<'static> {
    Context::new("fuzz", "fuzzing")
}

/// A small store with records in both purposes, a hold, an erasure and a
/// rotation behind it, checkpointed into one file.
fn pristine() -> &'static Pristine {
    static P: OnceLock<Pristine> = OnceLock::new();
    P.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = Population {
            subjects: 12,
            samples: 2,
            dim: 16,
            ..Population::default()
        }
        .generate()
        .expect("population");
        let path = dir.path().join("pristine.db");
        let store = Store::create_with(&path, &key(), &purposes(), options()).expect("new store");
        for s in 0..12 {
            let purpose = if s % 3 == 0 { "watch" } else { "border" };
            let retention = Retention::For(Duration::from_secs((s as u64 % 4 + 1) * DAY));
            store
                .enroll(
                    purpose,
                    &format!("s{s}"),
                    Sample::Features(data.row(2 * s)),
                    retention,
                    &ctx(),
                )
                .expect("enrol");
        }
        store.hold(HoldTarget::Subject("s4"), &ctx()).expect("hold");
        store.erase("s5", None, &ctx()).expect("erase");
        store.rotate_key(Some("border"), &ctx()).expect("rotate");
        store.checkpoint().expect("checkpoint");
        drop(store);
        let bytes = std::fs::read(&path).expect("read back");
        Pristine { bytes, data, dir }
    })
}

#[derive(Arbitrary, Debug)]
struct Damage {
    patches: Vec<(u32, u8)>,
    truncate: Option<u32>,
}

fuzz_target!(|damage: Damage| {
    let p = pristine();
    let mut bytes = p.bytes.clone();
    for &(at, v) in damage.patches.iter().take(64) {
        let at = at as usize % bytes.len();
        bytes[at] = v;
    }
    if let Some(len) = damage.truncate {
        bytes.truncate(len as usize % (bytes.len() + 1));
    }
    let path = p.dir.path().join("damaged.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    std::fs::write(&path, &bytes).expect("write");
    let Ok(store) = open(&path) else {
        return;
    };
    for s in 0..12usize {
        let purpose = if s % 3 == 0 { "watch" } else { "border" };
        // The second sample of subject s: a genuine probe.
        if let Ok(v) = store.verify(
            purpose,
            &format!("s{s}"),
            Sample::Features(p.data.row(2 * s + 1)),
            &ctx(),
        ) {
            assert!((0.0..=1.0).contains(&v.decision.score));
        }
        // Another subject's sample must never be taken for s's: damage can
        // lose records but must not forge a genuine-looking comparison.
        let other = (s + 1) % 12;
        if let Ok(v) = store.verify(
            purpose,
            &format!("s{s}"),
            Sample::Features(p.data.row(2 * other)),
            &ctx(),
        ) {
            assert!(
                v.decision.score < 0.95,
                "an impostor scored {}",
                v.decision.score
            );
        }
    }
    for purpose in ["border", "watch"] {
        if let Ok(id) = store.identify(
            purpose,
            Sample::Features(p.data.row(1)),
            5,
            Some(0.0),
            &ctx(),
        ) {
            assert!(id.candidates.len() <= 5);
        }
    }
    let _ = store.record_counts();
    let _ = store.verify_audit();
    let mut out = Vec::new();
    let _ = store.export_audit(&EventFilter::default(), &mut out);
    let _ = store.sweep(Some(T0 + 2 * DAY as i64), &ctx());
    let _ = store.erase("s7", None, &ctx());
    let _ = store.rotate_key(None, &ctx());
    let _ = store.check_integrity();
});
