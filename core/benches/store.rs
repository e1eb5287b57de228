//! Throughput and latency of the encrypted template store (`btp::store`).
//!
//! ```text
//! cargo bench -p btp --bench store                   # full run: 100,000 records, a few minutes
//! BTP_BENCH_QUICK=1 cargo bench -p btp --bench store # smoke run: 2,000 records, seconds
//! cargo bench -p btp --bench store -- --quick        # the same
//! ```
//!
//! On a store in a temporary directory (SQLite in WAL mode with
//! `synchronous = FULL`, `secure_delete`, AES-256-GCM records), one purpose
//! with IoM-GRP (dim 128, m = 512, q = 16), synthetic people with two
//! samples each, and a test clock, it measures in this order:
//!
//! 1. enrolments per second from feature vectors, one `enroll` call (one
//!    transaction, one audit event, one fsync'd commit) each, over the
//!    first 3,000 records (300 in quick mode);
//! 2. the rest of the gallery up to 100,000 records (2,000), enrolled from
//!    feature vectors with `Store::enroll_batch`, 5,000 per call (one
//!    transaction each, protection by the batch kernel included);
//! 3. `verify` latency, median and p99 over 1,000 calls (200) of random
//!    subjects with their second sample (each decrypts the subject's record
//!    and commits an audit event);
//! 4. `identify` latency (k = 10): the first call on a fresh handle, which
//!    loads and decrypts the whole gallery, then median and p99 of warm
//!    calls over 100 probes (20);
//! 5. `rotate_key` throughput: records re-encrypted per second, the whole
//!    gallery in batches of 500;
//! 6. sweep throughput: every record was enrolled with one day of
//!    retention; the clock moves two days on and one `sweep` deletes them
//!    all (in batches of `batch_size` = 500 per transaction, with a final
//!    WAL checkpoint). A failing sweep is reported in the table, with
//!    how many records it deleted before failing, and fails the run.
//!
//! Every result is checked (genuine verifications match, identification
//! ranks the enrolled subject first, the sweep deletes every record), so
//! the benchmark fails loudly instead of timing a broken store.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use btp::store::{Context, Purpose, Retention, Sample, Samples, Store, StoreOptions};
use btp::synthetic::{Dataset, Population};
use btp::{MasterKey, SchemeParams};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

struct Mode {
    name: &'static str,
    records: usize,
    from_features: usize,
    verifies: usize,
    identifies: usize,
}

const FULL: Mode = Mode {
    name: "full",
    records: 100_000,
    from_features: 3_000,
    verifies: 1_000,
    identifies: 100,
};

const QUICK: Mode = Mode {
    name: "quick",
    records: 2_000,
    from_features: 300,
    verifies: 200,
    identifies: 20,
};

const T0: i64 = 1_800_000_000;
const DAY: i64 = 86_400;
const K: usize = 10;
/// Records per `enroll_batch` call.
const BATCH: usize = 5_000;

fn quick_requested() -> bool {
    let env = std::env::var("BTP_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    env || std::env::args().any(|a| a == "--quick")
}

fn subject(i: usize) -> String {
    format!("subject-{i:06}")
}

/// Sample `j` (0 or 1) of person `i`.
fn x(data: &Dataset, i: usize, j: usize) -> &[f32] {
    data.row(i * 2 + j)
}

/// (median, p99) of durations.
fn percentiles(mut d: Vec<Duration>) -> (Duration, Duration) {
    d.sort_unstable();
    let at = |q: f64| d[((d.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99))
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e3)
}

struct Row {
    what: String,
    value: String,
    unit: &'static str,
    note: String,
}

fn main() {
    let mode = if quick_requested() { QUICK } else { FULL };
    let total = Instant::now();
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("bench.db");
    let clock = Arc::new(AtomicI64::new(T0));
    let options = || {
        let c = clock.clone();
        StoreOptions {
            clock: Some(Arc::new(move || c.load(Ordering::SeqCst))),
            ..StoreOptions::default()
        }
    };
    let master = MasterKey::from_bytes(&[7; 32]).unwrap();
    let params = SchemeParams::iom_grp(128, 512, 16).unwrap();
    let purpose = Purpose::new(
        "gate",
        params,
        "bench",
        0.3,
        Duration::from_secs(30 * DAY as u64),
    )
    .unwrap();
    let purposes = [purpose];
    let ctx = Context::new("bench", "store benchmark");
    // Centred synthetic people (population offset 0): no centre needed.
    let data = Population {
        subjects: mode.records,
        samples: 2,
        offset: 0.0,
        within: 0.5,
        seed: 5,
        ..Population::default()
    }
    .generate()
    .unwrap();
    let store = Store::create_with(&path, &master, &purposes, options()).unwrap();
    let keep = Retention::For(Duration::from_secs(DAY as u64));
    let mut rows = Vec::new();

    // 1. Enrolment from feature vectors.
    let start = Instant::now();
    for i in 0..mode.from_features {
        store
            .enroll(
                "gate",
                &subject(i),
                Sample::Features(x(&data, i, 0)),
                keep,
                &ctx,
            )
            .unwrap();
    }
    let t = start.elapsed();
    rows.push(Row {
        what: "enrol from features".into(),
        value: format!("{:.0}", mode.from_features as f64 / t.as_secs_f64()),
        unit: "records/s",
        note: format!(
            "{} records, one transaction each, {} ms/record",
            mode.from_features,
            ms(t / mode.from_features as u32)
        ),
    });

    // 2. The rest in batches: Store::enroll_batch, one transaction per
    // batch, protection by the batch kernel inside the call.
    let rest = mode.records - mode.from_features;
    let names: Vec<String> = (mode.from_features..mode.records).map(subject).collect();
    let flat: Vec<f32> = (mode.from_features..mode.records)
        .flat_map(|i| x(&data, i, 0).to_vec())
        .collect();
    let per = BATCH.min(rest.max(1));
    let dim = flat.len() / rest.max(1);
    let start = Instant::now();
    for (ids, rows_of) in names.chunks(per).zip(flat.chunks(per * dim)) {
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        store
            .enroll_batch("gate", &ids, Samples::Features(rows_of), keep, &ctx)
            .unwrap();
    }
    let t = start.elapsed();
    rows.push(Row {
        what: "enrol_batch from features".into(),
        value: format!("{:.0}", rest as f64 / t.as_secs_f64()),
        unit: "records/s",
        note: format!(
            "{rest} records in {:.1} s, batches of {per} (one transaction each, protection included)",
            t.as_secs_f64(),
        ),
    });
    assert_eq!(store.record_counts().unwrap()["gate"], mode.records as u64);
    let file_mb = std::fs::metadata(&path).unwrap().len() as f64 / 1e6;

    // 3. Verification.
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut lat = Vec::with_capacity(mode.verifies);
    for _ in 0..mode.verifies {
        let i = rng.random_range(0..mode.records);
        let start = Instant::now();
        let v = store
            .verify("gate", &subject(i), Sample::Features(x(&data, i, 1)), &ctx)
            .unwrap();
        lat.push(start.elapsed());
        assert!(
            v.decision.matched,
            "genuine verification of {} failed: {v:?}",
            subject(i)
        );
    }
    let (med, p99) = percentiles(lat);
    rows.push(Row {
        what: "verify".into(),
        value: format!("{} / {}", ms(med), ms(p99)),
        unit: "ms median / p99",
        note: format!(
            "{} calls, genuine sample, includes the audit commit",
            mode.verifies
        ),
    });

    // 4. Identification on a fresh handle: the first call loads the gallery.
    drop(store);
    let store = Store::open_with(&path, &master, &purposes, options()).unwrap();
    let check = |i: usize, found: &btp::store::Identification| {
        assert_eq!(
            found.candidates.first().map(|c| c.subject.as_str()),
            Some(subject(i).as_str()),
            "identification of {}",
            subject(i)
        );
    };
    let i = rng.random_range(0..mode.records);
    let start = Instant::now();
    let found = store
        .identify("gate", Sample::Features(x(&data, i, 1)), K, None, &ctx)
        .unwrap();
    let first = start.elapsed();
    check(i, &found);
    rows.push(Row {
        what: "identify, first call".into(),
        value: ms(first),
        unit: "ms",
        note: format!("loads and decrypts {} records, k = {K}", mode.records),
    });
    let mut lat = Vec::with_capacity(mode.identifies);
    for _ in 0..mode.identifies {
        let i = rng.random_range(0..mode.records);
        let start = Instant::now();
        let found = store
            .identify("gate", Sample::Features(x(&data, i, 1)), K, None, &ctx)
            .unwrap();
        lat.push(start.elapsed());
        check(i, &found);
    }
    let (med, p99) = percentiles(lat);
    rows.push(Row {
        what: "identify, warm".into(),
        value: format!("{} / {}", ms(med), ms(p99)),
        unit: "ms median / p99",
        note: format!(
            "{} probes over {} records, includes the audit commit",
            mode.identifies, mode.records
        ),
    });

    // 5. Key rotation of the whole gallery (batches of 500).
    let start = Instant::now();
    let rotated = store.rotate_key(Some("gate"), &ctx).unwrap();
    let t = start.elapsed();
    assert_eq!(
        rotated
            .rotated
            .iter()
            .map(|r| (r.purpose.clone(), r.from, r.to, r.reencrypted))
            .collect::<Vec<_>>(),
        vec![("gate".to_string(), 1, 2, mode.records as u64)]
    );
    rows.push(Row {
        what: "rotate_key".into(),
        value: format!("{:.0}", mode.records as f64 / t.as_secs_f64()),
        unit: "records/s",
        note: format!(
            "{} records re-encrypted in {:.2} s (batches of 500)",
            mode.records,
            t.as_secs_f64()
        ),
    });

    // 6. Sweep: every record has expired. A failure is reported in the
    // table (with what the sweep managed first) and fails the run after it.
    clock.fetch_add(2 * DAY, Ordering::SeqCst);
    let start = Instant::now();
    let swept = store.sweep(None, &ctx);
    let t = start.elapsed();
    let left = store
        .record_counts()
        .unwrap()
        .get("gate")
        .copied()
        .unwrap_or(0);
    let failure = match swept {
        Ok(report) => {
            assert_eq!(
                report.total(),
                mode.records,
                "the sweep deleted {} of {}",
                report.total(),
                mode.records
            );
            assert_eq!(left, 0);
            rows.push(Row {
                what: "sweep".into(),
                value: format!("{:.0}", mode.records as f64 / t.as_secs_f64()),
                unit: "records/s",
                note: format!(
                    "{} records deleted in {:.2} s (batches of 500, WAL checkpoint)",
                    mode.records,
                    t.as_secs_f64()
                ),
            });
            None
        }
        Err(e) => {
            let deleted = mode.records - left as usize;
            rows.push(Row {
                what: "sweep".into(),
                value: "FAILED".into(),
                unit: "",
                note: format!(
                    "after {:.2} s, {deleted} records deleted ({:.0}/s): {e}",
                    t.as_secs_f64(),
                    deleted as f64 / t.as_secs_f64()
                ),
            });
            Some(e)
        }
    };
    drop(store);

    println!();
    println!(
        "btp store benchmark ({} mode): IoM-GRP dim 128, m = 512, q = 16; {} records; file {:.1} MB before the sweep",
        mode.name, mode.records, file_mb
    );
    println!();
    let w = [
        rows.iter().map(|r| r.what.len()).max().unwrap().max(11),
        rows.iter().map(|r| r.value.len()).max().unwrap().max(5),
        rows.iter().map(|r| r.unit.len()).max().unwrap().max(4),
    ];
    println!(
        "{:<a$}  {:>b$}  {:<c$}  note",
        "measurement",
        "value",
        "unit",
        a = w[0],
        b = w[1],
        c = w[2]
    );
    println!("{}", "-".repeat(w[0] + w[1] + w[2] + 12));
    for r in &rows {
        println!(
            "{:<a$}  {:>b$}  {:<c$}  {}",
            r.what,
            r.value,
            r.unit,
            r.note,
            a = w[0],
            b = w[1],
            c = w[2]
        );
    }
    println!();
    println!("total time {:.1} s", total.elapsed().as_secs_f64());
    if let Some(e) = failure {
        eprintln!("the sweep failed: {e}");
        std::process::exit(1);
    }
}
