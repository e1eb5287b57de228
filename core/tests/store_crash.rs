//! Crash safety of the store: the test binary runs itself again as a child
//! process (`child_process`, inert unless `BTP_CRASH_CHILD` is set) that
//! opens a prepared store and runs one operation: a sweep, a key rotation,
//! a loop of erasures or a loop of enrolments. The parent kills it with
//! SIGKILL after a seeded random delay spread over the operation's measured
//! duration (re-estimated as the runs go), reopens the store and checks
//! what must hold after a crash. For sweeps, rotations and erasures each
//! run kills a second child resuming the operation on the same file before
//! the parent completes it through the API; the enrolment loop is killed
//! again and again on one file.
//!
//! Runs go on past a minimum until at least `MID_TARGET` kills per
//! operation have landed between the child's `READY` and `DONE` lines
//! (mid-operation). The counts are printed
//! (`cargo test --test store_crash -- --nocapture`); `BTP_CRASH_TRACE=1`
//! traces every child.

#![cfg(unix)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use btp::store::{Context, HoldTarget, Purpose, RecordId, Retention, Sample, Store};
use btp::synthetic::Dataset;
use btp::{MasterKey, SchemeParams};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

mod common;
use common::{
    child_command, copy_db, heard, options_at, pairs, query_ids, record_ids, say, serial,
    two_purposes, wal_of, DAY, T0,
};

const ENV_OP: &str = "BTP_CRASH_CHILD";
const ENV_DB: &str = "BTP_CRASH_DB";
const ENV_NOW: &str = "BTP_CRASH_NOW";
const ENV_FROM: &str = "BTP_CRASH_FROM";

/// Feature dimension of the synthetic people.
const DIM: usize = 128;
/// Singles `i` with `i % 10 < 5` have expired by then, the others not.
const T_SWEEP: i64 = T0 + 5 * DAY + DAY / 2;
const BATCH: usize = 50;

/// Subjects with one record each; single `i` is in `watchlist` when
/// `i % 3 == 2`, else in `border`, kept `1 + i % 10` days.
const SINGLES: usize = 4_000;
/// Subjects with many records each (the erasure scenario).
const BULK: usize = 5;
const BULK_BORDER: usize = 240;
const BULK_WATCH: usize = 60;
/// Enrolments a child attempts in the enrolment scenario.
const ENROLL_MAX: usize = 400;

/// Runs (a kill, then a kill of the resumed operation) per scenario at
/// least, and at most; runs go on past the minimum until `MID_TARGET`
/// kills have landed mid-operation.
const MIN_RUNS: usize = 8;
const MAX_RUNS: usize = 16;
const MID_TARGET: usize = 10;

fn ctx() -> Context<'static> {
    Context::new("crash-test", "crash safety check")
}

fn master() -> MasterKey {
    MasterKey::from_bytes(&[0x5a; 32]).unwrap()
}

/// The purposes, identical in the parent and in every child.
fn purposes() -> Vec<Purpose> {
    two_purposes(
        SchemeParams::iom_grp(DIM as u32, 256, 16).unwrap(),
        "watchlist",
    )
}

/// Sample `j` (0 or 1) of person `s`.
fn x(data: &Dataset, s: usize, j: usize) -> &[f32] {
    data.row(s * 2 + j)
}

/// The singles (`0..SINGLES`) and bulk subjects (`SINGLES..`) of the template.
fn population() -> &'static Dataset {
    static P: OnceLock<Dataset> = OnceLock::new();
    P.get_or_init(|| pairs(SINGLES + BULK, DIM, 77))
}

/// The people a child of the enrolment scenario starting at `from` enrols.
fn enrol_batch(from: usize) -> Dataset {
    pairs(ENROLL_MAX, DIM, 1_000_000 + from as u64)
}

fn open(path: &Path, now: i64) -> Store {
    try_open(path, now).unwrap_or_else(|e| panic!("the store does not open after a kill: {e}"))
}

fn try_open(path: &Path, now: i64) -> btp::Result<Store> {
    common::open_or_create(path, &master(), &purposes(), options_at(now, BATCH))
}

fn single(i: usize) -> String {
    format!("single-{i:05}")
}

fn bulk(b: usize) -> String {
    format!("bulk-{b}")
}

fn enrollee(i: usize) -> String {
    format!("enrollee-{i:05}")
}

// ---------------------------------------------------------------- child

/// The child: inert unless the parent set `BTP_CRASH_CHILD`.
#[test]
fn child_process() {
    let Ok(op) = std::env::var(ENV_OP) else {
        return;
    };
    let path = PathBuf::from(std::env::var(ENV_DB).unwrap());
    let now: i64 = std::env::var(ENV_NOW).unwrap().parse().unwrap();
    let from: usize = std::env::var(ENV_FROM).unwrap().parse().unwrap();
    let batch = (op == "enroll").then(|| enrol_batch(from));
    let store = open(&path, now);
    say("READY");
    let started = Instant::now();
    match op.as_str() {
        "sweep" => {
            let r = store.sweep(None, &ctx()).unwrap();
            say(&format!("SWEPT {}", r.total()));
        }
        "rotate" => {
            store.rotate_key(None, &ctx()).unwrap();
        }
        "erase" => {
            for b in from..BULK {
                let r = store.erase(&bulk(b), None, &ctx()).unwrap();
                let n: usize = r.erased.values().map(Vec::len).sum();
                say(&format!("ERASED {b} {n}"));
            }
        }
        "enroll" => {
            let data = batch.unwrap();
            for k in 0..ENROLL_MAX {
                let i = from + k;
                let id = store
                    .enroll(
                        "border",
                        &enrollee(i),
                        Sample::Features(x(&data, k, 0)),
                        Retention::Maximum,
                        &ctx(),
                    )
                    .unwrap();
                say(&format!("COMMITTED {i} {id}"));
            }
        }
        other => panic!("unknown child operation {other}"),
    }
    say(&format!("DONE {}", started.elapsed().as_micros()));
}

// ---------------------------------------------------------------- parent

/// When the parent kills the child.
#[derive(Clone, Copy, Debug)]
enum Kill {
    /// This long after the child said `READY`.
    AfterReady(Duration),
    /// Never: the child runs to the end.
    Never,
}

/// What a child run showed.
#[derive(Debug)]
struct Outcome {
    /// Protocol lines (without the `BTP ` prefix).
    lines: Vec<String>,
    killed: bool,
    /// Killed between `READY` and `DONE`.
    mid_operation: bool,
    /// `READY` to `DONE` as the parent saw it, when the child finished.
    op_time: Option<Duration>,
}

impl Outcome {
    /// The numbers after `tag` on each line starting with it.
    fn values<'a>(&'a self, tag: &'a str) -> impl Iterator<Item = Vec<i64>> + 'a {
        self.lines.iter().filter_map(move |l| {
            let rest = l.strip_prefix(tag)?.strip_prefix(' ')?;
            Some(rest.split(' ').map(|v| v.parse().unwrap()).collect())
        })
    }
}

fn run_child(op: &str, db: &Path, now: i64, from: usize, kill: Kill) -> Outcome {
    let spawned = Instant::now();
    let mut child = child_command()
        .env(ENV_OP, op)
        .env(ENV_DB, db)
        .env(ENV_NOW, now.to_string())
        .env(ENV_FROM, from.to_string())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel::<(Instant, String)>();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(said) = heard(&line) {
                let _ = tx.send((Instant::now(), said.to_owned()));
            }
        }
    });
    let mut stderr = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    let mut lines = Vec::new();
    let mut ready_at = None;
    let deadline = Instant::now() + Duration::from_secs(120);
    while ready_at.is_none() {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok((t, l)) => {
                if l == "READY" {
                    ready_at = Some(t);
                }
                lines.push(l);
            }
            // The child ended (or hangs) before READY.
            Err(_) => break,
        }
    }
    if let (Kill::AfterReady(d), Some(_)) = (kill, ready_at) {
        std::thread::sleep(d);
        child.kill().unwrap();
    }
    let status = child.wait().unwrap();
    reader.join().unwrap();
    let mut done_at = None;
    for (t, l) in rx.try_iter() {
        if l.starts_with("DONE") {
            done_at = Some(t);
        }
        lines.push(l);
    }
    let err = err_reader.join().unwrap();
    if std::env::var_os("BTP_CRASH_TRACE").is_some() {
        eprintln!(
            "{op} {kill:?}: {status}, ready after {:?}, {} lines, last {:?}",
            ready_at.map(|r| r - spawned),
            lines.len(),
            lines.last()
        );
    }
    let killed = status.signal() == Some(9);
    assert!(
        killed || status.success(),
        "child {op} failed ({status}): lines {lines:?}\nstderr:\n{err}"
    );
    assert!(
        ready_at.is_some(),
        "child {op} never got ready: {lines:?}\n{err}"
    );
    let done = done_at.is_some();
    assert!(
        killed || done,
        "child {op} exited without finishing: {lines:?}\n{err}"
    );
    Outcome {
        mid_operation: killed && !done,
        op_time: done_at.zip(ready_at).map(|(d, r)| d - r),
        killed,
        lines,
    }
}

/// Seeded kill delays as fractions of the operation's duration, which is
/// re-estimated whenever a child runs the whole operation before its kill
/// (the machine's speed varies with its load).
struct Schedule {
    rng: ChaCha8Rng,
    estimate: Duration,
}

impl Schedule {
    fn new(seed: u64, estimate: Duration) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            estimate,
        }
    }

    /// A delay in `[lo, hi] x` the estimated duration, at least 1 ms.
    fn delay(&mut self, lo: f64, hi: f64) -> Duration {
        let f = self.rng.random_range(lo..hi);
        Duration::from_secs_f64(f * self.estimate.as_secs_f64()).max(Duration::from_millis(1))
    }

    /// Learns from a child that was to run the whole operation.
    fn learn(&mut self, o: &Outcome) {
        if let Some(t) = o.op_time {
            self.estimate = t;
        }
    }
}

/// Per scenario: kills, kills between READY and DONE, kills that left a
/// partial state visible in the file, children that finished first.
#[derive(Default, Debug)]
struct Tally {
    runs: usize,
    kills: usize,
    mid: usize,
    partial: usize,
    finished: usize,
}

impl Tally {
    fn add(&mut self, o: &Outcome, partial: bool) {
        if o.killed {
            self.kills += 1;
        } else {
            self.finished += 1;
        }
        self.mid += usize::from(o.mid_operation);
        self.partial += usize::from(partial);
    }

    /// Whether to do another run.
    fn more(&self) -> bool {
        self.runs < MIN_RUNS || (self.mid < MID_TARGET && self.runs < MAX_RUNS)
    }

    fn report(&self, op: &str, op_time: Duration) {
        println!(
            "store_crash {op}: uninterrupted {op_time:.1?}; {} kills, {} mid-operation, {} left a partial state in the file, {} children finished before their kill",
            self.kills, self.mid, self.partial, self.finished
        );
        assert!(
            self.mid >= MID_TARGET,
            "too few kills landed mid-operation: {self:?}"
        );
    }
}

// ------------------------------------------------------------ template

#[derive(Clone, Debug)]
struct Rec {
    id: RecordId,
    purpose: &'static str,
    subject: String,
    /// Person of the population whose samples it holds.
    person: usize,
    expires_at: i64,
    held: bool,
    bulk: Option<usize>,
}

impl Rec {
    fn expired(&self) -> bool {
        self.expires_at <= T_SWEEP
    }
}

/// A prepared store, copied for every run of a scenario.
struct Template {
    _dir: tempfile::TempDir,
    path: PathBuf,
    recs: Vec<Rec>,
    /// At T0 (everything live): score of each purpose's probe against
    /// every record, by identification with threshold 0.
    scores: BTreeMap<&'static str, BTreeMap<RecordId, f64>>,
    /// At T0: verification score of some singles with their second sample.
    verify_scores: Vec<(usize, f64)>,
}

/// Probes: person 0 (border) and person 2 (watchlist), second sample.
const PROBES: [(&str, usize); 2] = [("border", 0), ("watchlist", 2)];

fn template() -> &'static Template {
    static T: OnceLock<Template> = OnceLock::new();
    T.get_or_init(|| {
        let data = population();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("template.db");
        let store = open(&path, T0);
        let started = Instant::now();
        // Protected in batches (every core); the store gets templates.
        let rows: Vec<f32> = (0..SINGLES + BULK)
            .flat_map(|s| x(data, s, 0).to_vec())
            .collect();
        let border = store
            .protector("border")
            .unwrap()
            .protect_batch(&rows)
            .unwrap();
        let watch = store
            .protector("watchlist")
            .unwrap()
            .protect_batch(&rows)
            .unwrap();
        let mut recs = Vec::new();
        for i in 0..SINGLES {
            let (purpose, t) = if i % 3 == 2 {
                ("watchlist", &watch[i])
            } else {
                ("border", &border[i])
            };
            let days = 1 + (i % 10) as i64;
            let keep = Retention::For(Duration::from_secs((days * DAY) as u64));
            let id = store
                .enroll(purpose, &single(i), Sample::Template(t), keep, &ctx())
                .unwrap();
            recs.push(Rec {
                id,
                purpose,
                subject: single(i),
                person: i,
                expires_at: T0 + days * DAY,
                held: false,
                bulk: None,
            });
        }
        for b in 0..BULK {
            let person = SINGLES + b;
            for k in 0..BULK_BORDER + BULK_WATCH {
                let (purpose, t, max) = if k < BULK_BORDER {
                    ("border", &border[person], 30 * DAY)
                } else {
                    ("watchlist", &watch[person], 365 * DAY)
                };
                let id = store
                    .enroll(
                        purpose,
                        &bulk(b),
                        Sample::Template(t),
                        Retention::Maximum,
                        &ctx(),
                    )
                    .unwrap();
                recs.push(Rec {
                    id,
                    purpose,
                    subject: bulk(b),
                    person,
                    expires_at: T0 + max,
                    held: false,
                    bulk: Some(b),
                });
            }
        }
        let enrol_time = started.elapsed();
        // Holds: records of some expired singles, one expired single's
        // subject, and a released hold (which protects nothing).
        for i in (0..SINGLES).filter(|i| i % 10 < 5 && i % 7 == 0).take(6) {
            store.hold(HoldTarget::Record(recs[i].id), &ctx()).unwrap();
            recs[i].held = true;
        }
        store
            .hold(HoldTarget::Subject(&single(13)), &ctx())
            .unwrap();
        recs[13].held = true;
        let released = store.hold(HoldTarget::Record(recs[11].id), &ctx()).unwrap();
        store.release(released, &ctx()).unwrap();
        assert!(recs[13].expired() && recs[11].expired() && !recs[11].held);

        let scores = PROBES
            .iter()
            .map(|&(p, probe)| (p, identify_all(&store, p, x(data, probe, 1))))
            .collect();
        let verify_scores = (0..SINGLES)
            .step_by(397)
            .map(|i| (i, verify_single(&store, &recs[i])))
            .collect();
        drop(store);
        // Closed cleanly: everything is in the main file.
        let wal = wal_of(&path);
        assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0);
        println!(
            "store_crash template: {} records enrolled in {enrol_time:.1?} ({:.0}/s)",
            recs.len(),
            recs.len() as f64 / enrol_time.as_secs_f64()
        );
        Template {
            _dir: dir,
            path,
            recs,
            scores,
            verify_scores,
        }
    })
}

impl Template {
    /// A fresh copy of the prepared store in `dir`.
    fn copy(&self, dir: &Path, name: &str) -> PathBuf {
        copy_db(&self.path, dir, name)
    }

    fn by_id(&self) -> BTreeMap<RecordId, &Rec> {
        self.recs.iter().map(|r| (r.id, r)).collect()
    }

    fn ids(&self, keep: impl Fn(&Rec) -> bool) -> BTreeSet<RecordId> {
        self.recs.iter().filter(|r| keep(r)).map(|r| r.id).collect()
    }
}

/// The probe's score against every live template record of the purpose;
/// loading the gallery decrypts every one of them.
fn identify_all(store: &Store, purpose: &str, probe: &[f32]) -> BTreeMap<RecordId, f64> {
    let found = store
        .identify(
            purpose,
            Sample::Features(probe),
            1_000_000,
            Some(0.0),
            &ctx(),
        )
        .unwrap_or_else(|e| panic!("identification in {purpose} fails: {e}"));
    found
        .candidates
        .iter()
        .map(|c| (c.record, c.score))
        .collect()
}

/// Verifies a template record's subject with its second sample.
fn verify_single(store: &Store, r: &Rec) -> f64 {
    let v = store
        .verify(
            r.purpose,
            &r.subject,
            Sample::Features(x(population(), r.person, 1)),
            &ctx(),
        )
        .unwrap_or_else(|e| panic!("verification of {} fails: {e}", r.subject));
    assert!(v.decision.matched, "{}: {v:?}", r.subject);
    assert_eq!(v.record, r.id);
    v.decision.score
}

// ---------------------------------------------------------------- sweep

/// Checks the sweep invariants on the file after a kill, given the records
/// present before it; returns those present now and whether the state is
/// partial (some but not all deleted, or the journal not yet audited).
fn check_after_sweep_kill(
    path: &Path,
    t: &Template,
    before: &BTreeSet<RecordId>,
) -> (BTreeSet<RecordId>, bool) {
    let by_id = t.by_id();
    let now = record_ids(path);
    let journal = query_ids(path, "SELECT record_id FROM sweep_journal");
    for id in &now {
        assert!(by_id.contains_key(id), "record {id} appeared from nowhere");
        assert!(before.contains(id), "record {id} was deleted and came back");
    }
    for r in t.recs.iter().filter(|r| !r.expired() || r.held) {
        assert!(
            now.contains(&r.id),
            "record {} (live or held) is gone: {r:?}",
            r.id
        );
    }
    let deleted: BTreeSet<RecordId> = by_id
        .keys()
        .filter(|id| !now.contains(id))
        .copied()
        .collect();
    for id in &deleted {
        let r = by_id[id];
        assert!(
            r.expired() && !r.held,
            "record {id} was deleted but it is live or held: {r:?}"
        );
    }
    assert!(
        journal.is_subset(&deleted),
        "the sweep journal names records still present"
    );
    let expired_unheld = t.recs.iter().filter(|r| r.expired() && !r.held).count();
    let partial = (!deleted.is_empty() && deleted.len() < expired_unheld) || !journal.is_empty();
    // The store opens, every live record decrypts (gallery load), and the
    // galleries hold exactly the live records.
    let store = open(path, T_SWEEP);
    for (purpose, probe) in PROBES {
        let got: BTreeSet<RecordId> = identify_all(&store, purpose, x(population(), probe, 1))
            .into_keys()
            .collect();
        assert_eq!(
            got,
            t.ids(|r| r.purpose == purpose && !r.expired()),
            "the {purpose} gallery"
        );
    }
    for &(i, score) in &t.verify_scores {
        if !t.recs[i].expired() {
            assert_eq!(verify_single(&store, &t.recs[i]), score);
        }
    }
    (now, partial)
}

#[test]
fn sweep_killed_at_random_moments() {
    let t = template();
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let by_id = t.by_id();
    let all = t.ids(|_| true);
    let expired_unheld = t.ids(|r| r.expired() && !r.held);
    let survivors = &all - &expired_unheld;
    let held_expired = t.ids(|r| r.expired() && r.held).len() as u64;
    assert!(expired_unheld.len() > 1_500 && held_expired >= 5);

    // Uninterrupted: how long the operation takes, and that it is right.
    let db = t.copy(dir.path(), "full.db");
    let full = run_child("sweep", &db, T_SWEEP, 0, Kill::Never);
    assert_eq!(
        full.values("SWEPT").next(),
        Some(vec![expired_unheld.len() as i64])
    );
    assert_eq!(record_ids(&db), survivors);
    let op_time = full.op_time.unwrap();

    let mut tally = Tally::default();
    let mut schedule = Schedule::new(0x5eed_0001, op_time);
    while tally.more() {
        let k = tally.runs;
        tally.runs += 1;
        let db = t.copy(dir.path(), &format!("sweep-{k}.db"));
        // A kill, then a kill while a second child resumes the sweep.
        let mut before = all.clone();
        for second in [false, true] {
            let d = if second {
                schedule.delay(0.0, 0.6)
            } else {
                schedule.delay(0.0, 1.1)
            };
            let o = run_child("sweep", &db, T_SWEEP, 0, Kill::AfterReady(d));
            if !second {
                schedule.learn(&o);
            }
            let (now, partial) = check_after_sweep_kill(&db, t, &before);
            tally.add(&o, partial);
            before = now;
        }
        // A sweep in the parent completes the interrupted one: it reports
        // the journalled deletions and the rest.
        let journal = query_ids(&db, "SELECT record_id FROM sweep_journal");
        let store = open(&db, T_SWEEP);
        let report = store.sweep(None, &ctx()).unwrap();
        let reported: BTreeSet<RecordId> = report.deleted.values().flatten().copied().collect();
        assert_eq!(
            reported,
            &journal | &(&expired_unheld & &before),
            "run {k}: the completing sweep's report"
        );
        for (purpose, ids) in &report.deleted {
            assert!(ids.iter().all(|id| by_id[id].purpose == purpose.as_str()));
        }
        assert_eq!(report.held, held_expired);
        assert_eq!(store.sweep(None, &ctx()).unwrap().total(), 0);
        drop(store);
        // Reopened: exactly the survivors, nothing resurrected, all decrypt.
        let (now, _) = check_after_sweep_kill(&db, t, &survivors);
        assert_eq!(now, survivors, "run {k}");
        assert!(query_ids(&db, "SELECT record_id FROM sweep_journal").is_empty());
    }
    tally.report("sweep", op_time);
}

// --------------------------------------------------------------- rotate

/// (version, state) of each purpose's storage keys, from `storage_keys`.
fn key_states(path: &Path) -> BTreeMap<String, Vec<(i64, String)>> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT purpose, version, state FROM storage_keys ORDER BY purpose, version")
        .unwrap();
    let mut out: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    for r in stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .unwrap()
    {
        let (p, v, s) = r.unwrap();
        out.entry(p).or_default().push((v, s));
    }
    out
}

/// Record count per (purpose, key version).
fn versions(path: &Path) -> BTreeMap<(String, i64), i64> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT purpose, key_version, count(*) FROM records GROUP BY purpose, key_version")
        .unwrap();
    let out = stmt
        .query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    out
}

fn in_state(states: &[(i64, String)], want: &str) -> Vec<i64> {
    states
        .iter()
        .filter(|(_, s)| s == want)
        .map(|(v, _)| *v)
        .collect()
}

/// Checks the rotation invariants after a kill; returns whether a rotation
/// was left under way.
fn check_after_rotate_kill(path: &Path, t: &Template) -> bool {
    let states = key_states(path);
    let counts = versions(path);
    let mut partial = false;
    for (purpose, _) in PROBES {
        let s = &states[purpose];
        let active = in_state(s, "active");
        let retiring = in_state(s, "retiring");
        assert_eq!(active.len(), 1, "{purpose}: {s:?}");
        assert!(retiring.len() <= 1, "{purpose}: {s:?}");
        for ((p, v), n) in &counts {
            assert!(
                p != purpose || *v == active[0] || retiring.contains(v),
                "{purpose}: {n} records at key version {v}, neither active nor retiring: {s:?}"
            );
        }
        partial |= !retiring.is_empty();
    }
    assert_eq!(counts.values().sum::<i64>() as usize, t.recs.len());
    // Every record decrypts and scores as before.
    let store = open(path, T0);
    for (purpose, probe) in PROBES {
        let got = identify_all(&store, purpose, x(population(), probe, 1));
        assert!(
            got == t.scores[purpose],
            "{purpose}: scores differ after a kill"
        );
    }
    for &(i, score) in &t.verify_scores {
        assert_eq!(verify_single(&store, &t.recs[i]), score);
    }
    partial
}

#[test]
fn key_rotation_killed_at_random_moments() {
    let t = template();
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let count = |p: &str| t.recs.iter().filter(|r| r.purpose == p).count() as i64;

    let db = t.copy(dir.path(), "full.db");
    let full = run_child("rotate", &db, T0, 0, Kill::Never);
    assert!(!check_after_rotate_kill(&db, t));
    assert_eq!(
        versions(&db),
        BTreeMap::from([
            (("border".into(), 2), count("border")),
            (("watchlist".into(), 2), count("watchlist"))
        ])
    );
    let op_time = full.op_time.unwrap();

    let mut tally = Tally::default();
    let mut schedule = Schedule::new(0x5eed_0002, op_time);
    while tally.more() {
        let k = tally.runs;
        tally.runs += 1;
        let db = t.copy(dir.path(), &format!("rotate-{k}.db"));
        for second in [false, true] {
            let d = if second {
                schedule.delay(0.0, 0.6)
            } else {
                schedule.delay(0.0, 1.1)
            };
            let o = run_child("rotate", &db, T0, 0, Kill::AfterReady(d));
            if !second {
                schedule.learn(&o);
            }
            let partial = check_after_rotate_kill(&db, t);
            tally.add(&o, partial);
        }
        // A rotation in the parent resumes one under way, or starts anew
        // for a purpose whose rotation the children finished (or never began).
        let states = key_states(&db);
        let counts = versions(&db);
        let mut expected = Vec::new();
        for (purpose, _) in PROBES {
            let s = &states[purpose];
            let active = in_state(s, "active")[0];
            let n = count(purpose);
            expected.push(match in_state(s, "retiring").first() {
                Some(&old) => {
                    let done = counts
                        .get(&(purpose.to_owned(), active))
                        .copied()
                        .unwrap_or(0);
                    (
                        purpose.to_owned(),
                        old as u32,
                        active as u32,
                        (n - done) as u64,
                    )
                }
                None => (
                    purpose.to_owned(),
                    active as u32,
                    active as u32 + 1,
                    n as u64,
                ),
            });
        }
        let store = open(&db, T0);
        let report = store.rotate_key(None, &ctx()).unwrap();
        assert_eq!(report.rotated, expected, "run {k}");
        drop(store);
        let states = key_states(&db);
        let counts = versions(&db);
        for (purpose, _, to, _) in &expected {
            let s = &states[purpose.as_str()];
            let to = i64::from(*to);
            assert_eq!(in_state(s, "active"), vec![to], "{purpose}: {s:?}");
            assert_eq!(
                in_state(s, "retired"),
                (1..to).collect::<Vec<_>>(),
                "{purpose}: {s:?}"
            );
            assert_eq!(
                counts[&(purpose.clone(), to)],
                count(purpose),
                "{purpose}: {counts:?}"
            );
        }
        assert!(!check_after_rotate_kill(&db, t));
    }
    tally.report("rotate_key", op_time);
}

// ---------------------------------------------------------------- erase

/// Checks that every bulk subject is either whole or gone, that the gone
/// ones are a prefix covering every reported erasure and at most one more,
/// and that nothing else was touched. Returns the number of subjects gone.
fn check_after_erase_kill(path: &Path, t: &Template, reported: usize) -> usize {
    let now = record_ids(path);
    let mut gone = Vec::new();
    for b in 0..BULK {
        let ids = t.ids(|r| r.bulk == Some(b));
        let n = ids.iter().filter(|id| now.contains(id)).count();
        assert!(
            n == 0 || n == ids.len(),
            "erasure of {} is half done: {n} of {} records left",
            bulk(b),
            ids.len()
        );
        gone.push(n == 0);
    }
    let erased = gone.iter().take_while(|&&g| g).count();
    assert!(
        gone[erased..].iter().all(|&g| !g),
        "erasures out of order: {gone:?}"
    );
    assert!(
        erased == reported || erased == reported + 1,
        "{erased} subjects erased, {reported} erasures reported"
    );
    assert!(
        t.ids(|r| r.bulk.is_none()).is_subset(&now),
        "a record of another subject vanished"
    );
    let store = open(path, T0);
    for (purpose, probe) in PROBES {
        let want: BTreeMap<RecordId, f64> = t.scores[purpose]
            .iter()
            .filter(|(id, _)| now.contains(id))
            .map(|(&id, &s)| (id, s))
            .collect();
        assert!(
            identify_all(&store, purpose, x(population(), probe, 1)) == want,
            "{purpose}: gallery after a kill"
        );
    }
    for b in 0..BULK {
        let got = store.verify(
            "watchlist",
            &bulk(b),
            Sample::Features(x(population(), SINGLES + b, 1)),
            &ctx(),
        );
        if b < erased {
            assert!(
                matches!(got, Err(btp::Error::Missing(_))),
                "{}: {got:?}",
                bulk(b)
            );
        } else {
            assert!(got.unwrap().decision.matched);
        }
    }
    erased
}

#[test]
fn erasure_killed_at_random_moments() {
    let t = template();
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();

    let db = t.copy(dir.path(), "full.db");
    let full = run_child("erase", &db, T0, 0, Kill::Never);
    assert_eq!(full.values("ERASED").count(), BULK);
    assert!(full
        .values("ERASED")
        .all(|v| v[1] as usize == BULK_BORDER + BULK_WATCH));
    assert_eq!(check_after_erase_kill(&db, t, BULK), BULK);
    let op_time = full.op_time.unwrap();

    let mut tally = Tally::default();
    let mut schedule = Schedule::new(0x5eed_0003, op_time);
    while tally.more() {
        let k = tally.runs;
        tally.runs += 1;
        let db = t.copy(dir.path(), &format!("erase-{k}.db"));
        let mut erased = 0;
        for second in [false, true] {
            let d = if second {
                schedule.delay(0.0, 0.6)
            } else {
                schedule.delay(0.0, 1.1)
            };
            let o = run_child("erase", &db, T0, erased, Kill::AfterReady(d));
            if !second {
                schedule.learn(&o);
            }
            let reported = erased + o.values("ERASED").count();
            let now = check_after_erase_kill(&db, t, reported);
            // Partial: the in-flight erasure committed but was not reported.
            tally.add(&o, now > reported);
            erased = now;
        }
        // The parent erases the rest, each whole.
        let store = open(&db, T0);
        for b in erased..BULK {
            let r = store.erase(&bulk(b), None, &ctx()).unwrap();
            assert_eq!(r.erased["border"].len(), BULK_BORDER, "run {k}");
            assert_eq!(r.erased["watchlist"].len(), BULK_WATCH, "run {k}");
        }
        drop(store);
        assert_eq!(check_after_erase_kill(&db, t, BULK), BULK);
    }
    tally.report("erase", op_time);
}

// --------------------------------------------------------------- enroll

#[test]
fn enrolment_loop_killed_at_random_moments() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("enroll.db");
    drop(open(&db, T0));

    // Uninterrupted, on a scratch copy: the duration of the loop.
    let scratch = copy_db(&db, dir.path(), "scratch.db");
    let full = run_child("enroll", &scratch, T0, 0, Kill::Never);
    assert_eq!(full.values("COMMITTED").count(), ENROLL_MAX);
    let op_time = full.op_time.unwrap();

    // Every child's people, by the index its run started at.
    let mut batches: BTreeMap<usize, Dataset> = BTreeMap::new();
    let sample = |batches: &BTreeMap<usize, Dataset>, i: usize, j: usize| -> Vec<f32> {
        let (&from, data) = batches.range(..=i).next_back().unwrap();
        x(data, i - from, j).to_vec()
    };
    // Committed enrolments: record id -> enrollee index.
    let mut committed: BTreeMap<RecordId, usize> = BTreeMap::new();
    let mut tally = Tally::default();
    let mut schedule = Schedule::new(0x5eed_0004, op_time);
    let mut next = 0;
    while tally.runs < 2 * MIN_RUNS || (tally.mid < MID_TARGET && tally.runs < 2 * MAX_RUNS) {
        tally.runs += 1;
        batches.insert(next, enrol_batch(next));
        let o = run_child(
            "enroll",
            &db,
            T0,
            next,
            Kill::AfterReady(schedule.delay(0.0, 1.1)),
        );
        schedule.learn(&o);
        let mut last = None;
        for v in o.values("COMMITTED") {
            let (i, id) = (v[0] as usize, v[1]);
            assert_eq!(i, last.map_or(next, |l| l + 1));
            assert!(committed.insert(id, i).is_none());
            last = Some(i);
        }
        let in_flight = last.map_or(next, |l| l + 1);
        // Every reported enrolment is there; at most the in-flight one
        // more (committed, killed before it was reported).
        let now = record_ids(&db);
        let reported: BTreeSet<RecordId> = committed.keys().copied().collect();
        assert!(reported.is_subset(&now), "a reported enrolment is missing");
        let extra: Vec<RecordId> = now.difference(&reported).copied().collect();
        assert!(
            extra.len() <= 1,
            "more than the in-flight enrolment is unreported: {extra:?}"
        );
        let store = open(&db, T0);
        let gallery = identify_all(&store, "border", &sample(&batches, 0, 1));
        assert_eq!(gallery.into_keys().collect::<BTreeSet<_>>(), now);
        if let Some(&id) = extra.first() {
            // It is the in-flight enrolment, whole.
            let probe = sample(&batches, in_flight, 1);
            let v = store
                .verify(
                    "border",
                    &enrollee(in_flight),
                    Sample::Features(&probe),
                    &ctx(),
                )
                .unwrap();
            assert_eq!(v.record, id);
            assert!(v.decision.matched);
            committed.insert(id, in_flight);
        }
        tally.add(&o, !extra.is_empty());
        // Some committed enrolments verify.
        let ids: Vec<(RecordId, usize)> = committed.iter().map(|(&a, &b)| (a, b)).collect();
        for _ in 0..4 {
            let (id, i) = ids[schedule.rng.random_range(0..ids.len())];
            let probe = sample(&batches, i, 1);
            let v = store
                .verify("border", &enrollee(i), Sample::Features(&probe), &ctx())
                .unwrap();
            assert_eq!(v.record, id);
            assert!(v.decision.matched);
        }
        drop(store);
        next = in_flight + 1;
    }
    assert_eq!(record_ids(&db), committed.keys().copied().collect());
    tally.report("enroll", op_time);
}

/// Two processes write one file at once: a child enrols its batch while
/// the parent enrols another through its own handle and identifies. No
/// write is lost, and each side's enrolments are visible to the other.
#[test]
fn two_processes_enrol_concurrently() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("two.db");
    drop(open(&db, T0));
    let child_from = 0;
    let parent_from = ENROLL_MAX;
    let parent_people = enrol_batch(parent_from);
    let child_people = enrol_batch(child_from);
    let (outcome, parent_ids) = std::thread::scope(|s| {
        let child = s.spawn(|| run_child("enroll", &db, T0, child_from, Kill::Never));
        let store = open(&db, T0);
        let mut ids = Vec::new();
        for k in 0..ENROLL_MAX / 4 {
            let id = store
                .enroll(
                    "border",
                    &enrollee(parent_from + k),
                    Sample::Features(x(&parent_people, k, 0)),
                    Retention::Maximum,
                    &ctx(),
                )
                .unwrap();
            ids.push(id);
            if k % 10 == 0 {
                store
                    .identify(
                        "border",
                        Sample::Features(x(&parent_people, k, 1)),
                        3,
                        None,
                        &ctx(),
                    )
                    .unwrap();
            }
        }
        (child.join().unwrap(), ids)
    });
    assert!(!outcome.killed);
    let child_ids: Vec<RecordId> = outcome.values("COMMITTED").map(|v| v[1]).collect();
    assert_eq!(child_ids.len(), ENROLL_MAX);
    let all = record_ids(&db);
    assert_eq!(all.len(), child_ids.len() + parent_ids.len());
    assert!(child_ids
        .iter()
        .chain(&parent_ids)
        .all(|id| all.contains(id)));
    // Each side's enrolments are found by a fresh handle and by identify.
    let store = open(&db, T0);
    let v = store
        .verify(
            "border",
            &enrollee(child_from + 7),
            Sample::Features(x(&child_people, 7, 1)),
            &ctx(),
        )
        .unwrap();
    assert!(v.decision.matched);
    let found = store
        .identify(
            "border",
            Sample::Features(x(&parent_people, 3, 1)),
            1,
            None,
            &ctx(),
        )
        .unwrap();
    assert_eq!(found.candidates[0].subject, enrollee(parent_from + 3));
    store.verify_audit().unwrap();
}
