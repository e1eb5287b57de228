//! What the store leaves on disk, and how it behaves when shared:
//!
//! * the bytes of erased, swept and re-encrypted records are gone from the
//!   database file and its WAL (searched for windows of the ciphertexts
//!   and nonces read beforehand with a raw SQLite connection), while a
//!   surviving record's bytes are found (the search can fail);
//! * subject ids, case ids and feature vectors never reach the files;
//! * several handles on one file, and one handle shared by several threads,
//!   enrol, verify, identify and sweep concurrently without lost writes or
//!   `Busy`, and see
//!   each other's committed enrolments;
//! * a damaged page gives a typed error, never a panic.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use btp::store::{Context, RecordId, Retention, Sample, Store, StoreOptions};
use btp::{Error, MasterKey, SchemeParams};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

mod common;
use common::{pairs, wal_of, Fixture, T0};

const DAY: u64 = 86_400;

fn ctx() -> Context<'static> {
    Context::new("disk-test", "storage check")
}

fn master() -> MasterKey {
    MasterKey::from_bytes(&[0x3c; 32]).unwrap()
}

/// `people` centred people (no centre needed), two samples each.
fn fixture(people: usize) -> Fixture {
    let params = SchemeParams::iom_grp(128, 256, 16).unwrap();
    Fixture::new(pairs(people, 128, 91), 2, params)
}

impl Fixture {
    fn open(&self) -> Store {
        self.try_open(&self.path).unwrap()
    }

    fn try_open(&self, path: &Path) -> btp::Result<Store> {
        self.open_waiting(path, StoreOptions::default().busy_timeout)
    }

    fn open_waiting(&self, path: &Path, busy_timeout: Duration) -> btp::Result<Store> {
        let options = StoreOptions {
            batch_size: 16,
            busy_timeout,
            ..self.options()
        };
        common::open_or_create(path, &master(), &self.purposes, options)
    }

    /// (nonce, ciphertext) of every record, read behind the store's back.
    fn raw_records(&self) -> BTreeMap<RecordId, (Vec<u8>, Vec<u8>)> {
        let conn = rusqlite::Connection::open(&self.path).unwrap();
        let mut stmt = conn
            .prepare("SELECT id, nonce, ciphertext FROM records")
            .unwrap();
        let out = stmt
            .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        out
    }

    fn ids(&self) -> BTreeSet<RecordId> {
        self.raw_records().into_keys().collect()
    }

    /// The database file and its WAL (when present), as they are on disk.
    fn files(&self) -> Vec<(String, Vec<u8>)> {
        files_of(&self.path)
    }
}

fn files_of(path: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![("db".to_owned(), std::fs::read(path).unwrap())];
    if let Ok(bytes) = std::fs::read(wal_of(path)) {
        out.push(("wal".to_owned(), bytes));
    }
    out
}

/// The needles found in any of the files: one pass per needle length over
/// every window of that length.
fn found_in(files: &[(String, Vec<u8>)], needles: &[Vec<u8>]) -> HashSet<Vec<u8>> {
    let mut by_len: BTreeMap<usize, HashSet<&[u8]>> = BTreeMap::new();
    for n in needles {
        assert!(!n.is_empty());
        by_len.entry(n.len()).or_default().insert(n);
    }
    let mut found = HashSet::new();
    for (len, set) in by_len {
        for (_, bytes) in files {
            for w in bytes.windows(len) {
                if set.contains(w) {
                    found.insert(w.to_vec());
                }
            }
        }
    }
    found
}

/// 16-byte windows of a ciphertext (start, middle, tag) and its whole nonce.
fn record_needles(nonce: &[u8], ct: &[u8]) -> Vec<Vec<u8>> {
    assert_eq!(nonce.len(), 12);
    assert!(ct.len() >= 48);
    let mid = ct.len() / 2;
    vec![
        nonce.to_vec(),
        ct[..16].to_vec(),
        ct[mid..mid + 16].to_vec(),
        ct[ct.len() - 16..].to_vec(),
    ]
}

/// 16-byte windows of a feature vector's little-endian f32 bytes.
fn feature_needles(x: &[f32]) -> Vec<Vec<u8>> {
    let bytes: Vec<u8> = x.iter().flat_map(|v| v.to_le_bytes()).collect();
    bytes
        .chunks_exact(16)
        .step_by(4)
        .map(<[u8]>::to_vec)
        .collect()
}

/// Asserts that no window of the `gone` records is on disk and that every
/// window of the `kept` records is.
fn assert_gone_and_kept(
    f: &Fixture,
    raw: &BTreeMap<RecordId, (Vec<u8>, Vec<u8>)>,
    gone: &BTreeSet<RecordId>,
    kept: &BTreeSet<RecordId>,
    when: &str,
) {
    let files = f.files();
    let needles = |ids: &BTreeSet<RecordId>| -> Vec<Vec<u8>> {
        ids.iter()
            .flat_map(|id| record_needles(&raw[id].0, &raw[id].1))
            .collect()
    };
    let gone_needles = needles(gone);
    let kept_needles = needles(kept);
    let found = found_in(
        &files,
        &[gone_needles.clone(), kept_needles.clone()].concat(),
    );
    for id in gone {
        let left: Vec<usize> = record_needles(&raw[id].0, &raw[id].1)
            .iter()
            .enumerate()
            .filter(|(_, n)| found.contains(*n))
            .map(|(i, _)| i)
            .collect();
        assert!(
            left.is_empty(),
            "{when}: bytes of deleted record {id} are still on disk (needles {left:?}: 0 = nonce, 1-3 = ciphertext windows) in {:?}",
            files.iter().map(|(n, b)| (n, b.len())).collect::<Vec<_>>()
        );
    }
    for n in &kept_needles {
        assert!(
            found.contains(n),
            "{when}: a surviving record's bytes are not found: the search is broken"
        );
    }
}

fn subject(i: usize) -> String {
    format!("subj-QX7-{i:04}")
}

#[test]
fn deleted_bytes_are_gone_from_the_file_and_the_wal() {
    let f = fixture(400);
    let store = f.open();
    // 0..100: border, kept a day (swept); 100..130: border, erased;
    // 130..400: border or watchlist, kept the maximum.
    let mut ids = BTreeMap::new();
    for i in 0..400 {
        let (purpose, keep) = match i {
            0..100 => ("border", Retention::For(Duration::from_secs(DAY))),
            100..130 => ("border", Retention::Maximum),
            _ if i % 2 == 0 => ("watchlist", Retention::Maximum),
            _ => ("border", Retention::Maximum),
        };
        ids.insert(
            i,
            store
                .enroll(
                    purpose,
                    &subject(i),
                    Sample::Features(f.x(i, 0)),
                    keep,
                    &ctx(),
                )
                .unwrap(),
        );
    }
    // Erased subjects 100..115 also have a watchlist record.
    for i in 100..115 {
        store
            .enroll(
                "watchlist",
                &subject(i),
                Sample::Features(f.x(i, 1)),
                Retention::Maximum,
                &ctx(),
            )
            .unwrap();
    }
    let raw = f.raw_records();
    let all: BTreeSet<RecordId> = raw.keys().copied().collect();
    // Before any deletion every record's bytes are on disk (file or WAL).
    assert_gone_and_kept(&f, &raw, &BTreeSet::new(), &all, "after enrolment");
    // A copy (the store is idle: file and WAL are consistent) for the control.
    let control = f.path.with_file_name("control.db");
    std::fs::copy(&f.path, &control).unwrap();
    for (name, bytes) in f.files().iter().skip(1) {
        std::fs::write(control.with_file_name(format!("control.db-{name}")), bytes).unwrap();
    }

    // Erasure.
    let mut erased = BTreeSet::new();
    for i in 100..130 {
        let r = store.erase(&subject(i), None, &ctx()).unwrap();
        let n = r.erased.values().map(Vec::len).sum::<usize>();
        assert_eq!(n, if i < 115 { 2 } else { 1 });
        erased.extend(r.erased.values().flatten().copied());
    }
    assert_eq!(erased.len(), 45);
    assert_eq!(f.ids(), &all - &erased);
    assert_gone_and_kept(&f, &raw, &erased, &(&all - &erased), "after erase");

    // Sweep.
    f.advance(DAY);
    let report = store.sweep(None, &ctx()).unwrap();
    let swept: BTreeSet<RecordId> = report.deleted.values().flatten().copied().collect();
    assert_eq!(swept, (0..100).map(|i| ids[&i]).collect());
    let kept = &(&all - &erased) - &swept;
    assert_eq!(f.ids(), kept);
    assert_gone_and_kept(&f, &raw, &(&erased | &swept), &kept, "after sweep");

    // Still so after more activity and closing the store.
    for i in 130..140 {
        let v = store.verify(
            if i % 2 == 0 { "watchlist" } else { "border" },
            &subject(i),
            Sample::Features(f.x(i, 1)),
            &ctx(),
        );
        assert!(v.unwrap().decision.matched);
    }
    drop(store);
    assert_gone_and_kept(&f, &raw, &(&erased | &swept), &kept, "after closing");

    // Control: the same deletions made by SQL without secure_delete leave
    // bytes behind, and the search finds them.
    let conn = rusqlite::Connection::open(&control).unwrap();
    conn.pragma_update(None, "secure_delete", "OFF").unwrap();
    let gone: Vec<String> = (&erased | &swept).iter().map(ToString::to_string).collect();
    conn.execute(
        &format!("DELETE FROM records WHERE id IN ({})", gone.join(",")),
        [],
    )
    .unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    drop(conn);
    let needles: Vec<Vec<u8>> = (&erased | &swept)
        .iter()
        .flat_map(|id| record_needles(&raw[id].0, &raw[id].1))
        .collect();
    let left = found_in(&files_of(&control), &needles).len();
    assert!(
        left > needles.len() / 2,
        "control: only {left} of {} needles left without secure_delete",
        needles.len()
    );
}

#[test]
fn rotation_leaves_no_old_ciphertext() {
    let f = fixture(200);
    let store = f.open();
    for i in 0..200 {
        let purpose = if i % 3 == 0 { "watchlist" } else { "border" };
        store
            .enroll(
                purpose,
                &subject(i),
                Sample::Features(f.x(i, 0)),
                Retention::Maximum,
                &ctx(),
            )
            .unwrap();
    }
    let old = f.raw_records();
    let report = store.rotate_key(None, &ctx()).unwrap();
    assert_eq!(
        report.rotated.iter().map(|r| r.reencrypted).sum::<u64>(),
        200
    );
    let new = f.raw_records();
    assert_eq!(
        old.keys().collect::<Vec<_>>(),
        new.keys().collect::<Vec<_>>()
    );
    // Check old and new needles together: every old one gone, every new
    // one (the same records, re-encrypted) found.
    let files = f.files();
    let old_needles: Vec<Vec<u8>> = old
        .values()
        .flat_map(|(n, c)| record_needles(n, c))
        .collect();
    let new_needles: Vec<Vec<u8>> = new
        .values()
        .flat_map(|(n, c)| record_needles(n, c))
        .collect();
    let found = found_in(&files, &[old_needles.clone(), new_needles.clone()].concat());
    let left = old_needles.iter().filter(|n| found.contains(*n)).count();
    assert_eq!(
        left, 0,
        "{left} windows of pre-rotation ciphertexts or nonces are still on disk"
    );
    assert!(
        new_needles.iter().all(|n| found.contains(n)),
        "the search is broken"
    );
    for i in (0..200).step_by(17) {
        let purpose = if i % 3 == 0 { "watchlist" } else { "border" };
        assert!(
            store
                .verify(purpose, &subject(i), Sample::Features(f.x(i, 1)), &ctx())
                .unwrap()
                .decision
                .matched
        );
    }
}

#[test]
fn subject_ids_and_features_never_reach_the_files() {
    let f = fixture(120);
    let store = f.open();
    let mut probes_used = Vec::new();
    for i in 0..100 {
        let purpose = if i % 2 == 0 { "watchlist" } else { "border" };
        store
            .enroll(
                purpose,
                &subject(i),
                Sample::Features(f.x(i, 0)),
                Retention::Maximum,
                &ctx(),
            )
            .unwrap();
    }
    for i in (0..100).step_by(5) {
        let purpose = if i % 2 == 0 { "watchlist" } else { "border" };
        assert!(
            store
                .verify(purpose, &subject(i), Sample::Features(f.x(i, 1)), &ctx())
                .unwrap()
                .decision
                .matched
        );
        let found = store
            .identify(purpose, Sample::Features(f.x(i, 1)), 3, None, &ctx())
            .unwrap();
        assert_eq!(found.candidates[0].subject, subject(i));
        probes_used.push(i);
    }
    // Retained probes: the case id is as secret as a subject id.
    let cases: Vec<String> = (100..110).map(|i| format!("case-ZK9-{i:04}")).collect();
    for (k, case) in cases.iter().enumerate() {
        store
            .retain_probe(
                "watchlist",
                case,
                Sample::Features(f.x(100 + k, 0)),
                Retention::For(Duration::from_secs(DAY)),
                &ctx(),
            )
            .unwrap();
    }
    let mut ids: Vec<Vec<u8>> = (0..100).map(|i| subject(i).into_bytes()).collect();
    ids.extend(cases.iter().map(|c| c.clone().into_bytes()));
    let features: Vec<Vec<u8>> = (0..110)
        .flat_map(|i| [feature_needles(f.x(i, 0)), feature_needles(f.x(i, 1))].concat())
        .collect();
    let check = |when: &str| {
        let files = f.files();
        let found = found_in(&files, &[ids.clone(), features.clone()].concat());
        let leaked_ids: Vec<String> = ids
            .iter()
            .filter(|n| found.contains(*n))
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect();
        assert!(
            leaked_ids.is_empty(),
            "{when}: subject or case ids in plain text on disk: {leaked_ids:?}"
        );
        let leaked = features.iter().filter(|n| found.contains(*n)).count();
        assert_eq!(
            leaked, 0,
            "{when}: {leaked} windows of raw feature vectors on disk"
        );
        // The search does find plain strings that are stored.
        assert!(!found_in(&files, &[b"police".to_vec()]).is_empty());
    };
    check("with the store open (WAL not checkpointed)");
    store.checkpoint().unwrap();
    check("after a checkpoint");
    drop(store);
    check("after closing");
    // Control: a feature vector written into a copy of the file is found.
    let copy = f.path.with_file_name("control.db");
    std::fs::copy(&f.path, &copy).unwrap();
    let conn = rusqlite::Connection::open(&copy).unwrap();
    let bytes: Vec<u8> = f.x(7, 0).iter().flat_map(|v| v.to_le_bytes()).collect();
    conn.execute_batch("CREATE TABLE control (b BLOB)").unwrap();
    conn.execute("INSERT INTO control VALUES (?1)", [&bytes])
        .unwrap();
    drop(conn);
    let needles = feature_needles(f.x(7, 0));
    assert_eq!(found_in(&files_of(&copy), &needles).len(), needles.len());
}

// ---------------------------------------------------------- concurrency

/// Committed enrolments shared between workers: (subject, record, person).
type Ledger = Mutex<Vec<(String, RecordId, usize)>>;

/// What a worker saw.
#[derive(Default)]
struct WorkerLog {
    long: Vec<RecordId>,
    short: Vec<RecordId>,
    swept: Vec<RecordId>,
    /// Identifications of another worker's enrolment that found it.
    cross_seen: usize,
}

const WORKERS: usize = 4;
const OPS: usize = 50;
/// A sweep at this time deletes the one-second enrolments only (the
/// clock stays at T0, so they are live for verification and galleries).
const SWEEP_AT: i64 = T0 + 10;

/// One worker's 50 operations: enrolments (long and one-second),
/// verifications of anyone's long enrolments, identifications of another
/// worker's committed enrolment (by the same features: score 1), sweeps.
fn worker(f: &Fixture, store: &Store, w: usize, ledger: &Ledger, start: &Barrier) -> WorkerLog {
    let mut rng = ChaCha8Rng::seed_from_u64(w as u64);
    let mut log = WorkerLog::default();
    start.wait();
    for i in 0..OPS {
        let person = w * OPS + i;
        let name = format!("w{w}-op{i}");
        match i % 6 {
            0 | 1 => {
                let id = store
                    .enroll(
                        "border",
                        &name,
                        Sample::Features(f.x(person, 0)),
                        Retention::Maximum,
                        &ctx(),
                    )
                    .unwrap_or_else(|e| panic!("worker {w} enrol {i}: {e}"));
                log.long.push(id);
                ledger.lock().unwrap().push((name, id, person));
            }
            2 => {
                let id = store
                    .enroll(
                        "border",
                        &name,
                        Sample::Features(f.x(person, 0)),
                        Retention::For(Duration::from_secs(1)),
                        &ctx(),
                    )
                    .unwrap_or_else(|e| panic!("worker {w} enrol {i}: {e}"));
                log.short.push(id);
            }
            3 => {
                let pick = {
                    let l = ledger.lock().unwrap();
                    (!l.is_empty()).then(|| l[rng.random_range(0..l.len())].clone())
                };
                if let Some((s, id, p)) = pick {
                    let v = store
                        .verify("border", &s, Sample::Features(f.x(p, 1)), &ctx())
                        .unwrap_or_else(|e| panic!("worker {w} verify {s}: {e}"));
                    assert_eq!(v.record, id);
                    assert!(v.decision.matched, "{s}: {v:?}");
                }
            }
            4 => {
                let pick = {
                    let l = ledger.lock().unwrap();
                    let others: Vec<_> = l
                        .iter()
                        .filter(|(s, _, _)| !s.starts_with(&format!("w{w}-")))
                        .cloned()
                        .collect();
                    (!others.is_empty()).then(|| others[rng.random_range(0..others.len())].clone())
                };
                if let Some((s, id, p)) = pick {
                    let found = store
                        .identify("border", Sample::Features(f.x(p, 0)), 3, None, &ctx())
                        .unwrap_or_else(|e| panic!("worker {w} identify {s}: {e}"));
                    let top = found
                        .candidates
                        .first()
                        .unwrap_or_else(|| panic!("worker {w} does not see {s}"));
                    assert_eq!(
                        (top.record, top.subject.as_str(), top.score),
                        (id, s.as_str(), 1.0)
                    );
                    log.cross_seen += 1;
                }
            }
            _ => {
                let started = std::time::Instant::now();
                match store.sweep(Some(SWEEP_AT), &ctx()) {
                    Ok(r) => log.swept.extend(r.deleted.values().flatten()),
                    Err(e) => panic!("worker {w} sweep {i}, after {:?}: {e}", started.elapsed()),
                }
            }
        }
    }
    log
}

/// Runs the workers, each with its store handle (`shared` is `None`) or
/// all with one; checks that no write was lost.
fn concurrent(shared: bool) {
    let f = fixture(WORKERS * OPS);
    let ledger = Ledger::default();
    let start = Barrier::new(WORKERS);
    let one = Arc::new(f.open());
    let handles: Vec<Arc<Store>> = (0..WORKERS)
        .map(|_| {
            if shared {
                one.clone()
            } else {
                Arc::new(f.open())
            }
        })
        .collect();
    let logs: Vec<WorkerLog> = std::thread::scope(|s| {
        let jobs: Vec<_> = handles
            .iter()
            .enumerate()
            .map(|(w, store)| {
                let (f, ledger, start) = (&f, &ledger, &start);
                s.spawn(move || worker(f, store, w, ledger, start))
            })
            .collect();
        jobs.into_iter().map(|j| j.join().unwrap()).collect()
    });
    drop(handles);
    let long: BTreeSet<RecordId> = logs.iter().flat_map(|l| l.long.iter().copied()).collect();
    let short: BTreeSet<RecordId> = logs.iter().flat_map(|l| l.short.iter().copied()).collect();
    let enrolments = (0..OPS).filter(|i| i % 6 < 3).count();
    assert_eq!(
        long.len() + short.len(),
        WORKERS * enrolments,
        "duplicate record ids"
    );
    // Sweeps deleted only one-second records, each once.
    let swept: Vec<RecordId> = logs.iter().flat_map(|l| l.swept.iter().copied()).collect();
    let swept_set: BTreeSet<RecordId> = swept.iter().copied().collect();
    assert_eq!(
        swept.len(),
        swept_set.len(),
        "a record reported swept twice"
    );
    assert!(swept_set.is_subset(&short));
    assert!(logs.iter().map(|l| l.cross_seen).sum::<usize>() >= WORKERS * 4);
    // Nothing lost: every long enrolment is there; the short ones are
    // there or were deleted by a sweep that reported them.
    let present = f.ids();
    assert!(
        long.is_subset(&present),
        "lost enrolments: {:?}",
        long.difference(&present).collect::<Vec<_>>()
    );
    assert!(present.is_subset(&(&long | &short)));
    assert!(
        swept_set.is_disjoint(&present),
        "a record reported swept is still there"
    );
    let unreported = &(&short - &swept_set) - &present;
    assert!(
        unreported.is_empty(),
        "records deleted without a report: {unreported:?}"
    );
    assert!(
        !(&short - &present).is_empty(),
        "the concurrent sweeps deleted nothing"
    );
    // A last sweep removes the rest of the one-second records.
    let last = one.sweep(Some(SWEEP_AT), &ctx()).unwrap();
    let last: BTreeSet<RecordId> = last.deleted.values().flatten().copied().collect();
    assert_eq!(&last | &swept_set, short);
    assert!(last.is_disjoint(&swept_set) && last.is_disjoint(&unreported));
    assert_eq!(f.ids(), long);
    // A fresh handle sees every long enrolment, and so does the old one.
    let fresh = f.open();
    let ledger = ledger.into_inner().unwrap();
    for store in [&fresh, &*one] {
        for (s, id, p) in ledger.iter().step_by(7) {
            let found = store
                .identify("border", Sample::Features(f.x(*p, 0)), 1, None, &ctx())
                .unwrap();
            assert_eq!(
                (found.candidates[0].record, &found.candidates[0].subject),
                (*id, s)
            );
        }
    }
}

#[test]
fn handles_on_one_file_work_concurrently() {
    for _ in 0..3 {
        concurrent(false);
    }
}

#[test]
fn one_handle_serves_threads_concurrently() {
    concurrent(true);
}

#[test]
fn identify_sees_another_handles_commits_at_once() {
    let f = fixture(40);
    let a = f.open();
    let b = f.open();
    // Load b's gallery first, so that it must catch up incrementally.
    assert!(b
        .identify("border", Sample::Features(f.x(0, 0)), 1, None, &ctx())
        .unwrap()
        .candidates
        .is_empty());
    for i in 0..20 {
        let id = a
            .enroll(
                "border",
                &subject(i),
                Sample::Features(f.x(i, 0)),
                Retention::Maximum,
                &ctx(),
            )
            .unwrap();
        let found = b
            .identify("border", Sample::Features(f.x(i, 0)), 1, None, &ctx())
            .unwrap();
        assert_eq!(
            found.candidates[0].record, id,
            "enrolment {i} not seen by the other handle"
        );
        assert_eq!(found.candidates[0].score, 1.0);
        if i % 4 == 3 {
            a.erase(&subject(i - 1), None, &ctx()).unwrap();
            let found = b
                .identify(
                    "border",
                    Sample::Features(f.x(i - 1, 0)),
                    5,
                    Some(0.0),
                    &ctx(),
                )
                .unwrap();
            assert!(
                found.candidates.iter().all(|c| c.subject != subject(i - 1)),
                "erasure not seen"
            );
        }
    }
}

/// `erase` and `sweep` commit, then checkpoint the WAL; a checkpoint that
/// cannot complete (here a reader holds a snapshot past the busy timeout:
/// another process, a backup) must not turn the committed operation into an
/// error. An error must mean that nothing happened.
#[test]
fn an_erasure_or_sweep_that_fails_has_not_happened() {
    let f = fixture(10);
    let store = f.open_waiting(&f.path, Duration::from_millis(200)).unwrap();
    for i in 0..4 {
        let keep = if i < 2 {
            Retention::Maximum
        } else {
            Retention::For(Duration::from_secs(DAY))
        };
        store
            .enroll(
                "border",
                &subject(i),
                Sample::Features(f.x(i, 0)),
                keep,
                &ctx(),
            )
            .unwrap();
    }
    let reader = rusqlite::Connection::open(&f.path).unwrap();
    reader.execute_batch("BEGIN").unwrap();
    let n: i64 = reader
        .query_row("SELECT count(*) FROM records", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 4);
    let erased = store.erase(&subject(0), None, &ctx());
    let after_erase = f.ids().len();
    f.advance(DAY);
    let swept = store.sweep(None, &ctx());
    let after_sweep = f.ids().len();
    reader.execute_batch("COMMIT").unwrap();
    match erased {
        Ok(r) => {
            assert_eq!(after_erase, 3);
            // The reader's snapshot blocks the truncating checkpoint; the
            // report says so instead of failing a committed erasure.
            assert!(!r.checkpointed);
        }
        Err(e) => assert_eq!(
            after_erase, 4,
            "erase returned `{e}`, yet it erased the records"
        ),
    }
    match swept {
        Ok(_) => assert_eq!(after_sweep, 1),
        Err(e) => assert_eq!(
            after_sweep, after_erase,
            "sweep returned `{e}`, yet it deleted the records"
        ),
    }
}

/// Gallery change log entries a sweep keeps (`CHANGES_KEPT` in `store/changes.rs`).
const CHANGES_KEPT: i64 = 100_000;

/// Once the change log passes `CHANGES_KEPT` entries a sweep prunes it and
/// records the floor; a handle behind the floor must reload its gallery.
#[test]
fn a_handle_behind_the_pruned_change_log_reloads() {
    let f = fixture(10);
    let a = f.open();
    let b = f.open();
    let mut ids = Vec::new();
    for i in 0..6 {
        let keep = if i == 5 {
            Retention::For(Duration::from_secs(DAY))
        } else {
            Retention::Maximum
        };
        ids.push(
            a.enroll(
                "border",
                &subject(i),
                Sample::Features(f.x(i, 0)),
                keep,
                &ctx(),
            )
            .unwrap(),
        );
    }
    // b loads its gallery now; the next enrolment's change will be pruned.
    assert_eq!(
        b.identify("border", Sample::Features(f.x(0, 0)), 1, None, &ctx())
            .unwrap()
            .candidates[0]
            .record,
        ids[0]
    );
    ids.push(
        a.enroll(
            "border",
            &subject(6),
            Sample::Features(f.x(6, 0)),
            Retention::Maximum,
            &ctx(),
        )
        .unwrap(),
    );
    // A long history, cheaply: removals of a record that never existed.
    let conn = rusqlite::Connection::open(&f.path).unwrap();
    conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         INSERT INTO gallery_changes (purpose, record_id, added) SELECT 'border', -1, 0 FROM n",
        [CHANGES_KEPT + 1],
    )
    .unwrap();
    drop(conn);
    ids.push(
        a.enroll(
            "border",
            &subject(7),
            Sample::Features(f.x(7, 0)),
            Retention::Maximum,
            &ctx(),
        )
        .unwrap(),
    );
    f.advance(DAY);
    let report = a
        .sweep(None, &ctx())
        .expect("a sweep that prunes the change log");
    assert_eq!(report.deleted["border"], vec![ids[5]]);
    let conn = rusqlite::Connection::open(&f.path).unwrap();
    let (kept, oldest): (i64, i64) = conn
        .query_row("SELECT count(*), min(seq) FROM gallery_changes", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert!(
        kept <= CHANGES_KEPT && oldest > 7,
        "the log was not pruned: {kept} entries from {oldest}"
    );
    drop(conn);
    // b is behind the floor: it must reload, and see 6 (whose change was
    // pruned) and 7, and not the swept 5.
    for (i, &id) in ids.iter().enumerate() {
        let found = b
            .identify("border", Sample::Features(f.x(i, 0)), 1, Some(0.0), &ctx())
            .unwrap();
        if i == 5 {
            assert_ne!(found.candidates[0].record, id);
        } else {
            assert_eq!(
                (found.candidates[0].record, found.candidates[0].score),
                (id, 1.0),
                "subject {i}"
            );
        }
    }
    // A second pruning sweep updates the floor.
    let conn = rusqlite::Connection::open(&f.path).unwrap();
    conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
         INSERT INTO gallery_changes (purpose, record_id, added) SELECT 'border', -1, 0 FROM n",
        [],
    )
    .unwrap();
    drop(conn);
    a.erase(&subject(1), None, &ctx()).unwrap();
    a.sweep(None, &ctx()).unwrap();
    let found = b
        .identify("border", Sample::Features(f.x(1, 0)), 1, Some(0.0), &ctx())
        .unwrap();
    assert_ne!(
        found.candidates[0].record, ids[1],
        "b still matches an erased record"
    );
}

// ----------------------------------------------------------- corruption

/// Errors a damaged file may give.
fn typed(e: &Error) -> bool {
    matches!(
        e,
        Error::Corrupt(_) | Error::NotAStore(_) | Error::Integrity { .. } | Error::Database { .. }
    )
}

/// Opens the file and uses it; returns every error met (an operation that
/// succeeds adds nothing). Panics propagate.
fn exercise(f: &Fixture, path: &Path, subjects: &[(usize, &str)]) -> Vec<Error> {
    let store = match f.try_open(path) {
        Ok(s) => s,
        Err(e) => return vec![e],
    };
    let mut errors = Vec::new();
    let note = |errors: &mut Vec<Error>, r: Result<(), Error>| {
        if let Err(e) = r {
            errors.push(e);
        }
    };
    for purpose in ["border", "watchlist"] {
        note(
            &mut errors,
            store
                .identify(purpose, Sample::Features(f.x(0, 1)), 5, Some(0.0), &ctx())
                .map(drop),
        );
    }
    for &(i, purpose) in subjects {
        // Every subject here is enrolled: "not found" is a wrong answer
        // (`Missing` is not `typed`, so the caller's assertion fails).
        note(
            &mut errors,
            store
                .verify(purpose, &subject(i), Sample::Features(f.x(i, 1)), &ctx())
                .map(drop),
        );
    }
    note(&mut errors, store.record_counts().map(drop));
    note(
        &mut errors,
        store
            .enroll(
                "border",
                "newcomer",
                Sample::Features(f.x(1, 0)),
                Retention::Maximum,
                &ctx(),
            )
            .map(drop),
    );
    note(
        &mut errors,
        store.sweep(Some(T0 + 2 * DAY as i64), &ctx()).map(drop),
    );
    // Subject 3 is enrolled (and kept past the sweep): an erasure that
    // finds nothing is a wrong answer.
    note(
        &mut errors,
        store.erase(&subject(3), None, &ctx()).and_then(|r| {
            if r.erased.is_empty() {
                Err(Error::Missing(
                    "wrong answer: subject 3 erased nothing".into(),
                ))
            } else {
                Ok(())
            }
        }),
    );
    note(&mut errors, store.rotate_key(None, &ctx()).map(drop));
    errors
}

/// What reads by subject answer on a damaged copy: every error met, and a
/// `Missing` for each enrolled subject reported as not enrolled or erased
/// as if absent (a wrong answer). Panics propagate.
fn lookups(f: &Fixture, path: &Path, subjects: &[(usize, &str)]) -> Vec<Error> {
    let store = match f.try_open(path) {
        Ok(s) => s,
        Err(e) => return vec![e],
    };
    let mut errors = Vec::new();
    for &(i, purpose) in subjects {
        if let Err(e) = store.verify(purpose, &subject(i), Sample::Features(f.x(i, 1)), &ctx()) {
            errors.push(e);
        }
    }
    for &(i, _) in subjects {
        match store.erase(&subject(i), None, &ctx()) {
            Ok(r) if r.erased.is_empty() => errors.push(Error::Missing(format!(
                "wrong answer: subject {i} erased nothing"
            ))),
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
    }
    errors
}

/// A closed store of 150 records and its page size.
fn corruption_fixture() -> (Fixture, Vec<(usize, &'static str)>, usize) {
    let f = fixture(150);
    let store = f.open();
    let mut subjects = Vec::new();
    for i in 0..150 {
        let purpose = if i % 3 == 0 { "watchlist" } else { "border" };
        let keep = if i % 5 == 0 {
            Retention::For(Duration::from_secs(DAY))
        } else {
            Retention::Maximum
        };
        store
            .enroll(
                purpose,
                &subject(i),
                Sample::Features(f.x(i, 0)),
                keep,
                &ctx(),
            )
            .unwrap();
        if i % 10 == 1 {
            subjects.push((i, purpose));
        }
    }
    drop(store);
    let page: usize = rusqlite::Connection::open(&f.path)
        .unwrap()
        .query_row("PRAGMA page_size", [], |r| r.get::<_, i64>(0))
        .unwrap() as usize;
    (f, subjects, page)
}

#[test]
fn a_damaged_record_is_an_integrity_error() {
    let (f, _, _) = corruption_fixture();
    let raw = f.raw_records();
    let pristine = std::fs::read(&f.path).unwrap();
    // The record of subject 7 (border).
    let store = f.open();
    let id = store
        .verify("border", &subject(7), Sample::Features(f.x(7, 1)), &ctx())
        .unwrap()
        .record;
    drop(store);
    let (_, ct) = &raw[&id];
    let at = pristine
        .windows(ct.len())
        .position(|w| w == &ct[..])
        .expect("ciphertext in the closed file");
    let mut bytes = pristine.clone();
    for b in &mut bytes[at + 40..at + 48] {
        *b ^= 0xa5;
    }
    std::fs::write(&f.path, &bytes).unwrap();
    let store = f.open();
    assert_eq!(
        store.verify("border", &subject(7), Sample::Features(f.x(7, 1)), &ctx()),
        Err(Error::Integrity { record: id })
    );
    assert_eq!(
        store
            .identify("border", Sample::Features(f.x(7, 1)), 1, None, &ctx())
            .unwrap_err(),
        Error::Integrity { record: id }
    );
    // Other purposes and subjects are unaffected.
    assert!(
        store
            .verify("border", &subject(8), Sample::Features(f.x(8, 1)), &ctx())
            .unwrap()
            .decision
            .matched
    );
    assert!(store
        .identify("watchlist", Sample::Features(f.x(9, 1)), 1, None, &ctx())
        .is_ok());
}

#[test]
fn a_damaged_records_page_is_a_typed_error() {
    let (f, subjects, page) = corruption_fixture();
    let raw = f.raw_records();
    let pristine = std::fs::read(&f.path).unwrap();
    // The page holding some record's ciphertext: a leaf of `records`.
    let (_, ct) = raw.values().nth(60).unwrap();
    let at = pristine
        .windows(ct.len())
        .position(|w| w == &ct[..])
        .unwrap();
    let p = at / page;
    assert!(p > 0);
    // Its b-tree page header (type, freeblock, cell count, content start).
    let mut bytes = pristine.clone();
    bytes[p * page..p * page + 8]
        .copy_from_slice(&[0xff, 0x13, 0x37, 0xff, 0xff, 0x00, 0x01, 0x02]);
    std::fs::write(&f.path, &bytes).unwrap();
    let errors = catch_unwind(AssertUnwindSafe(|| exercise(&f, &f.path, &subjects)))
        .unwrap_or_else(|_| panic!("a damaged page header made the store panic"));
    assert!(
        !errors.is_empty(),
        "a destroyed records page went unnoticed"
    );
    assert!(errors.iter().all(typed), "untyped errors: {errors:?}");
    assert!(
        errors.iter().any(|e| matches!(e, Error::Corrupt(_))),
        "{errors:?}"
    );
}

/// A byte flipped inside a stored subject hash, wherever it is (the
/// record's row, and each index of records by subject): reads by subject
/// either answer right or fail with a typed error; an enrolled person is
/// never "not enrolled" and an erasure never erases nothing (issue 13:
/// garbled index keys hid a subject's rows from lookups, and only
/// `check_integrity` noticed).
#[test]
fn a_garbled_subject_key_in_any_index_is_corrupt_never_not_enrolled() {
    let (f, subjects, _) = corruption_fixture();
    let pristine = std::fs::read(&f.path).unwrap();
    let store = f.open();
    let conn = rusqlite::Connection::open(&f.path).unwrap();
    let (mut flips, mut in_indexes) = (0, 0);
    for &(i, purpose) in &subjects {
        let record = store
            .verify(purpose, &subject(i), Sample::Features(f.x(i, 1)), &ctx())
            .unwrap()
            .record;
        let hash: Vec<u8> = conn
            .query_row(
                "SELECT subject_hash FROM records WHERE id = ?1",
                [record],
                |r| r.get(0),
            )
            .unwrap();
        let places: Vec<usize> = (0..pristine.len() - 32)
            .filter(|&at| pristine[at..at + 32] == hash[..])
            .collect();
        assert!(
            places.len() >= 3,
            "subject {i}: the hash is in its row and in both indexes, found {}",
            places.len()
        );
        for at in places {
            let mut bytes = pristine.clone();
            bytes[at + 16] ^= 0x10;
            let path = f.path.with_file_name(format!("key-{i}-{at}.db"));
            std::fs::write(&path, &bytes).unwrap();
            let errors = catch_unwind(AssertUnwindSafe(|| lookups(&f, &path, &[(i, purpose)])))
                .unwrap_or_else(|_| panic!("a garbled key of subject {i} made the store panic"));
            assert!(
                errors.iter().all(typed),
                "subject {i}, byte {at}: wrong answers or untyped errors {errors:?}"
            );
            assert!(
                !errors.is_empty(),
                "subject {i}, byte {at}: the damage went unnoticed"
            );
            in_indexes += usize::from(errors.iter().any(|e| matches!(e, Error::Corrupt(_))));
            flips += 1;
            std::fs::remove_file(&path).unwrap();
        }
    }
    println!("store_disk: {flips} garbled subject keys, {in_indexes} reported as a corrupt index");
    assert!(in_indexes >= 2 * subjects.len());
}

#[test]
fn garbage_in_any_page_is_a_typed_error_never_a_panic() {
    let (f, subjects, page) = corruption_fixture();
    let pristine = std::fs::read(&f.path).unwrap();
    let pages = pristine.len() / page;
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let mut noticed = 0;
    let mut flagged = 0;
    let mut kinds = BTreeMap::<String, usize>::new();
    f.try_open(&f.path)
        .unwrap()
        .check_integrity()
        .expect("the pristine file passes the structural check");
    for p in 0..pages {
        // 256 random bytes in the middle of the page (page 0 keeps its
        // 100-byte file header, which `foreign_files_are_refused` covers).
        let mut bytes = pristine.clone();
        let at = p * page + page / 2 - 128;
        rng.fill(&mut bytes[at..at + 256]);
        let path = f.path.with_file_name(format!("page-{p}.db"));
        std::fs::write(&path, &bytes).unwrap();
        let errors = catch_unwind(AssertUnwindSafe(|| exercise(&f, &path, &subjects)))
            .unwrap_or_else(|_| panic!("garbage in page {p} of {pages} made the store panic"));
        assert!(
            errors.iter().all(typed),
            "page {p}: untyped errors {errors:?}"
        );
        noticed += usize::from(!errors.is_empty());
        if let Ok(Err(Error::Corrupt(_))) = f.try_open(&path).map(|s| s.check_integrity()) {
            flagged += 1;
        }
        for e in &errors {
            let kind = format!("{e:?}");
            *kinds
                .entry(kind[..kind.find(['(', ' ']).unwrap_or(kind.len())].to_owned())
                .or_default() += 1;
        }
        std::fs::remove_file(&path).unwrap();
    }
    println!(
        "store_disk: garbage in each of {pages} pages: {noticed} noticed, {flagged} flagged by check_integrity; errors by kind {kinds:?}"
    );
    assert!(
        flagged >= pages / 4,
        "check_integrity flagged only {flagged} of {pages} damaged pages"
    );
    assert!(
        noticed >= pages / 4,
        "only {noticed} of {pages} damaged pages were noticed"
    );
}
