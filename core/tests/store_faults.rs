//! Write failures: a store whose writes start failing keeps its last
//! committed state and reports a typed `Error::Io`, never a panic.
//!
//! The test binary runs itself again as a child process
//! (`child_process`, inert unless `BTP_FAULT_DB` is set), as
//! `store_crash/` does. The child gets a file-size limit
//! (`RLIMIT_FSIZE`, set between fork and exec, with `SIGXFSZ` ignored so
//! that a write past the limit fails with `EFBIG` instead of killing the
//! process): no root needed. It opens a prepared store and runs a fixed
//! script (enrolments, erasures, a sweep, a key rotation, more of each),
//! reporting every operation that returned, until the first error, which
//! it reports with its kind. The limits are spread between the prepared
//! file's size and the largest size an unlimited run reaches, so the
//! failure lands in different operations and at different points of them
//! (WAL appends, checkpoints into the main file, the shared-memory index).
//!
//! After each child the parent reopens the store without a limit and
//! checks: the error was `ErrorKind::Io`; the file is sound
//! (`check_integrity`) and the audit chain verifies; every record
//! committed before is there and scores exactly as before unless an
//! operation the child reported (or a sweep, for expired records) removed
//! it; every reported enrolment is there, the failed one is not; a failed
//! erasure erased nothing; nothing live or held was swept and 1:N at
//! sweep time finds exactly the live records (nothing expired came
//! back); then a sweep and a rotation by the parent complete whatever
//! was interrupted.
//!
//! `full_disk_is_an_io_error_and_loses_nothing` runs the same script on a
//! really full file system (a small tmpfs): an ignored test, which
//! `scripts/test-all` runs as root with `--ignored`.

#![cfg(unix)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use btp::store::{Context, HoldTarget, Purpose, RecordId, Retention, Sample, Store};
use btp::synthetic::Dataset;
use btp::{Error, ErrorKind, MasterKey, SchemeParams};

mod common;
use common::{
    child_command, copy_db, heard, options_at, pairs, record_ids, say, scratch, serial,
    static_scratch, two_purposes, wal_of, DAY, T0,
};

const ENV_DB: &str = "BTP_FAULT_DB";
const ENV_FROM: &str = "BTP_FAULT_FROM";

/// Singles `i` with `i % 10 < 5` have expired by then.
const T_SWEEP: i64 = T0 + 5 * DAY + DAY / 2;
const BATCH: usize = 8;
const DIM: usize = 64;

/// Subjects with one record each: `watch` when `i % 3 == 2`, else
/// `border`, kept `1 + i % 10` days.
const SINGLES: usize = 60;
/// Subjects with several records in both purposes (the erasures).
const BULK: usize = 3;
const BULK_RECORDS: usize = 6;
/// People the child enrols.
const NEWCOMERS: usize = 8;

fn ctx() -> Context<'static> {
    Context::new("fault-test", "write failure check")
}

fn master() -> MasterKey {
    MasterKey::from_bytes(&[0x6b; 32]).unwrap()
}

fn purposes() -> Vec<Purpose> {
    two_purposes(SchemeParams::iom_grp(DIM as u32, 256, 16).unwrap(), "watch")
}

fn open(path: &Path, now: i64) -> btp::Result<Store> {
    common::open_or_create(path, &master(), &purposes(), options_at(now, BATCH))
}

/// The singles, bulk subjects and newcomers, two samples each.
fn people() -> &'static Dataset {
    static P: OnceLock<Dataset> = OnceLock::new();
    P.get_or_init(|| pairs(SINGLES + BULK + NEWCOMERS, DIM, 91))
}

fn x(person: usize, j: usize) -> &'static [f32] {
    people().row(person * 2 + j)
}

fn single(i: usize) -> String {
    format!("single-{i}")
}

fn bulk(b: usize) -> String {
    format!("bulk-{b}")
}

fn newcomer(i: usize) -> String {
    format!("newcomer-{i}")
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

// ---------------------------------------------------------------- child

/// One operation of the child's script.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Step {
    Enroll(usize),
    Erase(usize),
    Sweep,
    Rotate,
}

fn script() -> Vec<Step> {
    let mut s: Vec<Step> = (0..NEWCOMERS / 2).map(Step::Enroll).collect();
    s.extend([Step::Erase(0), Step::Sweep, Step::Rotate, Step::Erase(1)]);
    s.extend((NEWCOMERS / 2..NEWCOMERS).map(Step::Enroll));
    s.extend([Step::Erase(2), Step::Sweep, Step::Rotate]);
    s
}

/// The script's name for step `k` (`open` for the opening).
fn step_name(k: Option<usize>) -> String {
    k.map_or("open".into(), |k| format!("{:?}", script()[k]))
}

/// Runs one step of the script; its value: the new record's id, the
/// number of records erased or swept, 0 for a rotation.
fn run_step(store: &Store, step: Step) -> btp::Result<i64> {
    match step {
        Step::Enroll(i) => store.enroll(
            "border",
            &newcomer(i),
            Sample::Features(x(SINGLES + BULK + i, 0)),
            Retention::Maximum,
            &ctx(),
        ),
        Step::Erase(b) => store
            .erase(&bulk(b), None, &ctx())
            .map(|r| r.erased.values().map(Vec::len).sum::<usize>() as i64),
        Step::Sweep => store.sweep(None, &ctx()).map(|r| r.total() as i64),
        Step::Rotate => store.rotate_key(None, &ctx()).map(|_| 0),
    }
}

/// The child: inert unless the parent set `BTP_FAULT_DB`. From script
/// step `BTP_FAULT_FROM` on, it reports the file sizes before each
/// operation (`AT k db wal`, `k` its index in the script), each operation
/// that returned `Ok` (`OK k value`) and the first error (`ERR k KIND
/// message`, `ERR open ...` when the store does not open).
#[test]
fn child_process() {
    let Ok(db) = std::env::var(ENV_DB) else {
        return;
    };
    let from: usize = std::env::var(ENV_FROM).unwrap().parse().unwrap();
    let path = PathBuf::from(db);
    let wal = wal_of(&path);
    let store = match open(&path, T_SWEEP) {
        Ok(s) => s,
        Err(e) => return say(&format!("ERR open {:?} {e}", e.kind())),
    };
    for (k, step) in script().into_iter().enumerate().skip(from) {
        say(&format!("AT {k} {} {}", file_len(&path), file_len(&wal)));
        match run_step(&store, step) {
            Ok(v) => say(&format!("OK {k} {v}")),
            Err(e) => return say(&format!("ERR {k} {:?} {e}", e.kind())),
        }
    }
}

// ---------------------------------------------------------------- parent

/// What a child reported.
#[derive(Debug, Default)]
struct Report {
    /// Script index -> value of each `OK` line.
    ok: BTreeMap<usize, i64>,
    /// The failed step (`None` for the open) and its error kind and message.
    failed: Option<(Option<usize>, String, String)>,
    /// Script index -> (main file, WAL) sizes before the operation.
    before: BTreeMap<usize, (u64, u64)>,
}

/// Runs the child on `db` from script step `from` with a file-size limit
/// of `limit` bytes (`None`: no limit). `done` are the values of the
/// steps before `from` (run by the parent).
fn run_child(db: &Path, from: usize, done: &BTreeMap<usize, i64>, limit: Option<u64>) -> Report {
    let mut cmd = child_command();
    cmd.env(ENV_DB, db).env(ENV_FROM, from.to_string());
    if let Some(limit) = limit {
        // SAFETY: between fork and exec only async-signal-safe calls
        // (signal, setrlimit), no allocation; an ignored signal stays
        // ignored across exec.
        unsafe {
            cmd.pre_exec(move || {
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                let lim = libc::rlimit {
                    rlim_cur: limit as libc::rlim_t,
                    rlim_max: limit as libc::rlim_t,
                };
                if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let out = cmd.spawn().unwrap().wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the child failed (a panic?) with limit {limit:?}: {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    let mut report = Report {
        ok: done.clone(),
        ..Report::default()
    };
    for line in BufReader::new(stdout.as_bytes()).lines() {
        let line = line.unwrap();
        let Some(said) = heard(&line) else {
            continue;
        };
        let mut words = said.splitn(4, ' ');
        match words.next().unwrap() {
            "OK" => {
                let k = words.next().unwrap().parse().unwrap();
                let v = words.next().unwrap().parse().unwrap();
                report.ok.insert(k, v);
            }
            "ERR" => {
                let step = words.next().unwrap();
                let kind = words.next().unwrap().to_owned();
                let msg = words.next().unwrap_or("").to_owned();
                report.failed = Some((step.parse().ok(), kind, msg));
            }
            "AT" => {
                let k = words.next().unwrap().parse().unwrap();
                let a = words.next().unwrap().parse().unwrap();
                let b = words.next().unwrap().parse().unwrap();
                report.before.insert(k, (a, b));
            }
            other => panic!("unknown line {other}"),
        }
    }
    report
}

#[derive(Clone, Debug)]
struct Rec {
    id: RecordId,
    purpose: &'static str,
    expires_at: i64,
    held: bool,
    bulk: Option<usize>,
}

impl Rec {
    fn expired(&self) -> bool {
        self.expires_at <= T_SWEEP
    }
}

/// The prepared store, copied for every child.
struct Template {
    _dir: tempfile::TempDir,
    path: PathBuf,
    recs: Vec<Rec>,
    /// At T0, each purpose's probe's score against every template record.
    scores: BTreeMap<&'static str, BTreeMap<RecordId, f64>>,
}

/// Probes: the second samples of single 0 (border) and single 2 (watch).
const PROBES: [(&str, usize); 2] = [("border", 0), ("watch", 2)];

fn template() -> &'static Template {
    static T: OnceLock<Template> = OnceLock::new();
    T.get_or_init(|| {
        let dir = static_scratch("btp-faults-");
        let path = dir.path().join("template.db");
        let store = open(&path, T0).unwrap();
        let mut recs = Vec::new();
        for i in 0..SINGLES {
            let purpose = if i % 3 == 2 { "watch" } else { "border" };
            let days = 1 + (i % 10) as i64;
            let keep = Retention::For(Duration::from_secs((days * DAY) as u64));
            let id = store
                .enroll(purpose, &single(i), Sample::Features(x(i, 0)), keep, &ctx())
                .unwrap();
            recs.push(Rec {
                id,
                purpose,
                expires_at: T0 + days * DAY,
                held: false,
                bulk: None,
            });
        }
        for b in 0..BULK {
            for k in 0..BULK_RECORDS {
                let (purpose, days) = if k % 2 == 0 {
                    ("border", 30)
                } else {
                    ("watch", 365)
                };
                let id = store
                    .enroll(
                        purpose,
                        &bulk(b),
                        Sample::Features(x(SINGLES + b, k % 2)),
                        Retention::Maximum,
                        &ctx(),
                    )
                    .unwrap();
                recs.push(Rec {
                    id,
                    purpose,
                    expires_at: T0 + days * DAY,
                    held: false,
                    bulk: Some(b),
                });
            }
        }
        // Holds on two expired singles' records and on one subject.
        for i in [0, 10] {
            store.hold(HoldTarget::Record(recs[i].id), &ctx()).unwrap();
            recs[i].held = true;
        }
        store.hold(HoldTarget::Subject(&single(3)), &ctx()).unwrap();
        recs[3].held = true;
        assert!(recs[0].expired() && recs[10].expired() && recs[3].expired());
        let scores = PROBES
            .iter()
            .map(|&(p, person)| (p, identify_all(&store, p, x(person, 1))))
            .collect();
        drop(store);
        Template {
            _dir: dir,
            path,
            recs,
            scores,
        }
    })
}

fn identify_all(store: &Store, purpose: &str, probe: &[f32]) -> BTreeMap<RecordId, f64> {
    store
        .identify(purpose, Sample::Features(probe), 100_000, Some(0.0), &ctx())
        .unwrap_or_else(|e| panic!("identification in {purpose} fails: {e}"))
        .candidates
        .iter()
        .map(|c| (c.record, c.score))
        .collect()
}

/// Checks the reopened store after a child that ran `report`; `label`
/// names the run in messages. Returns the failed step's script index
/// (`usize::MAX` for a failed open, `None` when nothing failed).
fn check_after(path: &Path, report: &Report, label: &str) -> Option<usize> {
    let t = template();
    let steps = script();
    if let Some((_, kind, msg)) = &report.failed {
        assert_eq!(
            kind,
            &format!("{:?}", ErrorKind::Io),
            "{label}: the write failure is not an I/O error: {msg}"
        );
    }
    let failed = report
        .failed
        .as_ref()
        .map(|(step, _, _)| step.unwrap_or(usize::MAX));
    let reached = |s: Step| steps.iter().position(|&x| x == s);
    let succeeded = |s: Step| reached(s).is_some_and(|k| report.ok.contains_key(&k));
    let failed_at = |s: Step| reached(s).is_some_and(|k| failed == Some(k));
    // Sweeps are batched: one that failed may have deleted whole batches.
    let any_sweep_ran = steps
        .iter()
        .enumerate()
        .any(|(k, &s)| s == Step::Sweep && (report.ok.contains_key(&k) || failed == Some(k)));
    let any_sweep_done = steps
        .iter()
        .enumerate()
        .any(|(k, &s)| s == Step::Sweep && report.ok.contains_key(&k));

    let store =
        open(path, T_SWEEP).unwrap_or_else(|e| panic!("{label}: the store does not reopen: {e}"));
    store
        .check_integrity()
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    store
        .verify_audit()
        .unwrap_or_else(|e| panic!("{label}: audit chain: {e}"));
    let now = record_ids(path);

    let mut expected_new = BTreeSet::new();
    for (k, &s) in steps.iter().enumerate() {
        if let Step::Enroll(_) = s {
            if let Some(&id) = report.ok.get(&k) {
                assert!(
                    now.contains(&id),
                    "{label}: reported enrolment {id} is gone"
                );
                expected_new.insert(id);
            }
        }
    }
    let base_ids: BTreeSet<RecordId> = t.recs.iter().map(|r| r.id).collect();
    let extra: BTreeSet<RecordId> = now.difference(&base_ids).copied().collect();
    assert_eq!(
        extra, expected_new,
        "{label}: records beyond the reported enrolments (a failed enrolment happened?)"
    );
    for r in &t.recs {
        let here = now.contains(&r.id);
        if let Some(b) = r.bulk {
            if succeeded(Step::Erase(b)) {
                assert!(
                    !here,
                    "{label}: {} erased, record {} is back",
                    bulk(b),
                    r.id
                );
            } else {
                assert!(
                    here,
                    "{label}: record {} of {} is gone, yet its erasure {}",
                    r.id,
                    bulk(b),
                    if failed_at(Step::Erase(b)) {
                        "reported an error"
                    } else {
                        "never ran"
                    }
                );
            }
        } else if !r.expired() || r.held {
            assert!(here, "{label}: live or held record {} is gone", r.id);
        } else if any_sweep_done {
            assert!(!here, "{label}: expired record {} came back", r.id);
        } else if !any_sweep_ran {
            assert!(here, "{label}: expired record {} vanished unswept", r.id);
        }
    }
    // Every live record decrypts and scores as before; 1:N at sweep time
    // finds exactly the live records.
    for (purpose, person) in PROBES {
        let got = identify_all(&store, purpose, x(person, 1));
        let want: BTreeSet<RecordId> = t
            .recs
            .iter()
            .filter(|r| r.purpose == purpose && !r.expired() && now.contains(&r.id))
            .map(|r| r.id)
            .chain(if purpose == "border" {
                expected_new.clone()
            } else {
                BTreeSet::new()
            })
            .collect();
        assert_eq!(
            got.keys().copied().collect::<BTreeSet<_>>(),
            want,
            "{label}: the {purpose} gallery"
        );
        for (id, score) in &got {
            if let Some(before) = t.scores[purpose].get(id) {
                assert_eq!(score, before, "{label}: record {id} scores differently");
            }
        }
    }
    failed
}

/// The parent completes what the child left: a sweep reports the rest of
/// the expired records, a rotation resumes or rotates again; then every
/// expired record without a hold is gone and the rest still verify.
fn complete(path: &Path, label: &str) {
    let t = template();
    let store = open(path, T_SWEEP).unwrap();
    store
        .sweep(None, &ctx())
        .unwrap_or_else(|e| panic!("{label}: completing sweep: {e}"));
    store
        .rotate_key(None, &ctx())
        .unwrap_or_else(|e| panic!("{label}: completing rotation: {e}"));
    store.verify_audit().unwrap();
    drop(store);
    let now = record_ids(path);
    for r in t.recs.iter().filter(|r| r.bulk.is_none()) {
        assert_eq!(
            now.contains(&r.id),
            !r.expired() || r.held,
            "{label}: record {} after the completing sweep",
            r.id
        );
    }
    let store = open(path, T_SWEEP).unwrap();
    for (purpose, person) in PROBES {
        for (id, score) in identify_all(&store, purpose, x(person, 1)) {
            if let Some(before) = t.scores[purpose].get(&id) {
                assert_eq!(&score, before, "{label}: record {id} after completion");
            }
        }
    }
    store.check_integrity().unwrap();
}

/// A prepared file and the values of the script steps run on it.
type Prepared = (PathBuf, BTreeMap<usize, i64>);

/// The script's state before each start step: the template store with
/// the steps before it run (by the parent, without a limit), cleanly
/// closed (no WAL), and the values of those steps.
struct Starts {
    dir: tempfile::TempDir,
    made: Mutex<BTreeMap<usize, Prepared>>,
}

fn starts() -> &'static Starts {
    static S: OnceLock<Starts> = OnceLock::new();
    S.get_or_init(|| Starts {
        dir: static_scratch("btp-faults-"),
        made: Mutex::new(BTreeMap::new()),
    })
}

impl Starts {
    /// A fresh copy of the state before step `from` in `dir`.
    fn copy(&self, from: usize, dir: &Path, name: &str) -> Prepared {
        let mut made = self.made.lock().unwrap();
        let (path, done) = made.entry(from).or_insert_with(|| {
            let path = self.dir.path().join(format!("before-{from}.db"));
            std::fs::copy(&template().path, &path).unwrap();
            let store = open(&path, T_SWEEP).unwrap();
            let done = script()
                .into_iter()
                .enumerate()
                .take(from)
                .map(|(k, step)| (k, run_step(&store, step).unwrap()))
                .collect();
            drop(store);
            assert!(!wal_of(&path).exists());
            (path, done)
        });
        (copy_db(path, dir, name), done.clone())
    }
}

/// The steps the failures are aimed at: the first of each kind and the
/// second round of each, each started from a cleanly closed file.
fn start_steps() -> Vec<usize> {
    let steps = script();
    let mut out = vec![0];
    for (k, s) in steps.iter().enumerate().skip(1) {
        if std::mem::discriminant(s) != std::mem::discriminant(&steps[k - 1]) {
            out.push(k);
        }
    }
    out
}

const PAGE: u64 = 4096;

#[test]
fn write_failures_are_io_errors_and_lose_nothing() {
    let _serial = serial();
    let dir = scratch("btp-faults-");
    let started = Instant::now();

    // Unlimited: the whole script succeeds.
    let (db, done) = starts().copy(0, dir.path(), "unlimited.db");
    let full = run_child(&db, 0, &done, None);
    assert!(full.failed.is_none(), "{full:?}");
    assert_eq!(full.ok.len(), script().len());
    assert_eq!(check_after(&db, &full, "unlimited"), None);
    complete(&db, "unlimited");

    // Below the shared-memory index's size (32 KiB): the open fails.
    let (db, done) = starts().copy(0, dir.path(), "tiny.db");
    let report = run_child(&db, 0, &done, Some(16 * 1024));
    assert_eq!(check_after(&db, &report, "16 KiB"), Some(usize::MAX));

    // From each start: limits below the main file's size (its pages past
    // the limit cannot be rewritten: checkpoints fail), just above it
    // (the WAL fills first) and further up (later operations fail).
    let mut failed_kinds = BTreeSet::new();
    let mut runs = 0;
    for from in start_steps() {
        for (n, extra) in [-24i64, 1, 6, 24].into_iter().enumerate() {
            let (db, done) = starts().copy(from, dir.path(), &format!("from-{from}-{n}.db"));
            let size = file_len(&db);
            let limit = (size as i64 + extra * PAGE as i64) as u64;
            let report = run_child(&db, from, &done, Some(limit));
            let label = format!("from {} with a limit of {limit} B", step_name(Some(from)));
            let failed = check_after(&db, &report, &label);
            println!(
                "store_faults {label} (file {size} B): {} operations, then {}",
                report.ok.len() - done.len(),
                report
                    .failed
                    .as_ref()
                    .map_or("none failed".into(), |(k, kind, msg)| format!(
                        "{} failed (files before it: {:?}): {kind}: {msg}",
                        step_name(*k),
                        k.and_then(|k| report.before.get(&k))
                    ))
            );
            if let Some(k) = failed {
                failed_kinds.insert(step_name(Some(k)).split('(').next().unwrap().to_owned());
            }
            complete(&db, &label);
            runs += 1;
        }
    }
    assert_eq!(
        failed_kinds,
        ["Enroll", "Erase", "Rotate", "Sweep"]
            .map(String::from)
            .into(),
        "the failures did not land in every kind of operation"
    );
    println!(
        "store_faults: {runs} limited runs in {:.1?}",
        started.elapsed()
    );
}

/// The checks can fail: a store that lost a committed record, or a
/// failure reported as something other than I/O, is caught.
#[test]
fn the_checks_catch_a_lost_record_and_a_wrong_error_kind() {
    let t = template();
    let dir = scratch("btp-faults-");
    let db = copy_db(&t.path, dir.path(), "control.db");
    let lost = t.recs.iter().find(|r| !r.expired()).unwrap().id;
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute("DELETE FROM records WHERE id = ?1", [lost])
        .unwrap();
    drop(conn);
    let report = Report::default();
    let r = std::panic::catch_unwind(|| check_after(&db, &report, "control"));
    assert!(r.is_err(), "a lost record went unnoticed");
    let db2 = copy_db(&t.path, dir.path(), "control-2.db");
    let report = Report {
        failed: Some((Some(0), "Database".into(), "disk I/O".into())),
        ..Report::default()
    };
    let r = std::panic::catch_unwind(|| check_after(&db2, &report, "control"));
    assert!(r.is_err(), "a wrong error kind went unnoticed");
    // And an intact copy passes.
    let db3 = copy_db(&t.path, dir.path(), "control-3.db");
    assert_eq!(check_after(&db3, &Report::default(), "intact"), None);
}

/// A tmpfs of `size` bytes mounted on `dir`, unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: u64) -> Result<Self, String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}")])
            .arg("tmpfs")
            .arg(dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if out.status.success() {
            Ok(Self(dir.to_owned()))
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// The same script on a really full file system (ENOSPC rather than
/// EFBIG), where the test may mount a small tmpfs (root on Linux): from
/// each start, a file system with a few pages free beyond the copy and
/// its shared-memory index.
///
/// Ignored by a plain `cargo test` (libtest then reports it as ignored,
/// never as passed): it mounts file systems. `scripts/test-all` runs it
/// with `--ignored` as root (as CI does), where a failure to mount fails
/// it.
#[test]
#[ignore = "mounts a tmpfs (needs root): scripts/test-all runs it with --ignored"]
fn full_disk_is_an_io_error_and_loses_nothing() {
    let _serial = serial();
    let dir = scratch("btp-faults-");
    let mut failed_kinds = BTreeSet::new();
    for from in start_steps() {
        for (n, free) in [2u64, 12, 40].into_iter().enumerate() {
            let (db, done) = starts().copy(from, dir.path(), &format!("copy-{from}-{n}.db"));
            let size = (file_len(&db) + 32 * 1024).div_ceil(PAGE) * PAGE + free * PAGE;
            let mnt = dir.path().join(format!("mnt-{from}-{n}"));
            let fs = Tmpfs::mount(&mnt, size)
                .unwrap_or_else(|why| panic!("cannot mount a tmpfs (this test needs root): {why}"));
            let on_fs = mnt.join("store.db");
            std::fs::copy(&db, &on_fs).unwrap();
            let report = run_child(&on_fs, from, &done, None);
            // Out of the full file system before checking (checks write).
            std::fs::copy(&on_fs, &db).unwrap();
            let wal = wal_of(&on_fs);
            if wal.exists() {
                std::fs::copy(&wal, wal_of(&db)).unwrap();
            }
            drop(fs);
            let label = format!("from {} on a tmpfs of {size} B", step_name(Some(from)));
            println!(
                "store_faults {label}: {} operations, then {}",
                report.ok.len() - done.len(),
                report
                    .failed
                    .as_ref()
                    .map_or("none failed".into(), |(k, kind, msg)| format!(
                        "{} failed (files before it: {:?}): {kind}: {msg}",
                        step_name(*k),
                        k.and_then(|k| report.before.get(&k))
                    ))
            );
            if let Some(k) = check_after(&db, &report, &label) {
                failed_kinds.insert(step_name(Some(k)).split('(').next().unwrap().to_owned());
            }
            complete(&db, &label);
        }
    }
    assert!(
        failed_kinds.len() >= 3,
        "the disk filled up in too few kinds of operation: {failed_kinds:?}"
    );
}

#[test]
fn errors_map_disk_full_and_io_failures_to_io() {
    use rusqlite::ffi;
    for code in [ffi::SQLITE_FULL, ffi::SQLITE_IOERR, ffi::SQLITE_IOERR_WRITE] {
        let e = Error::from(rusqlite::Error::SqliteFailure(ffi::Error::new(code), None));
        assert_eq!(e.kind(), ErrorKind::Io, "{code}: {e}");
    }
}
