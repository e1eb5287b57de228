//! The machinery of every crash scenario: a child process killed at a
//! seeded random moment (`run_child`, `Schedule`), the campaign that counts
//! trials, where the kills landed and what failed (`Campaign`), and the
//! checks every trial makes on the reopened store (`reopen`).

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use btp::store::{AuditHead, EventFilter, Store};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::common::{child_command, heard, options_at, say};
use crate::fixture::{master, purposes, BATCH};

pub const ENV_OP: &str = "BTP_CRASH_CHILD";
pub const ENV_DB: &str = "BTP_CRASH_DB";
pub const ENV_NOW: &str = "BTP_CRASH_NOW";
pub const ENV_FROM: &str = "BTP_CRASH_FROM";

/// Trials per operation unless `BTP_CRASH_TRIALS` says otherwise.
const DEFAULT_TRIALS: usize = 12;
/// The campaign's seed unless `BTP_CRASH_SEED` says otherwise.
const DEFAULT_SEED: u64 = 0x5eed;
/// Share of the kills drawn over the child's start (before `READY`).
const BEFORE_SHARE: f64 = 0.1;

// ---------------------------------------------------------------- child

/// The child's side: opens the store at `path` with the clock at `now`,
/// says `READY`, runs `op`, says `DONE` with its duration in microseconds.
pub fn child_run(path: &Path, now: i64, op: impl FnOnce(&Store)) {
    let store = Store::open_with(path, &master(), &purposes(), options_at(now, BATCH))
        .unwrap_or_else(|e| panic!("the child cannot open the store: {e}"));
    say("READY");
    let started = Instant::now();
    op(&store);
    say(&format!("DONE {}", started.elapsed().as_micros()));
}

// --------------------------------------------------------------- parent

/// When the parent kills the child.
#[derive(Clone, Copy, Debug)]
pub enum Kill {
    /// This long after the child was spawned, whatever it said.
    AfterSpawn(Duration),
    /// This long after the child said `READY`.
    AfterReady(Duration),
    /// Never: the child runs to the end.
    Never,
}

/// Where a kill landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Landing {
    /// Before the child said `READY` (while it started or opened the store).
    Before,
    /// Between `READY` and `DONE`.
    Mid,
    /// After `DONE`, or the child finished before its kill.
    After,
}

/// What a child run showed.
#[derive(Debug)]
pub struct Outcome {
    /// Protocol lines (without the `BTP ` prefix).
    pub lines: Vec<String>,
    pub killed: bool,
    pub landing: Landing,
    /// Spawn to `READY`, when the child said it.
    pub ready_time: Option<Duration>,
    /// `READY` to `DONE` as the parent saw it, when the child finished.
    pub op_time: Option<Duration>,
}

impl Outcome {
    /// The numbers after `tag` on each line starting with it.
    pub fn values<'a>(&'a self, tag: &'a str) -> impl Iterator<Item = Vec<i64>> + 'a {
        self.lines.iter().filter_map(move |l| {
            let rest = l.strip_prefix(tag)?.strip_prefix(' ')?;
            Some(rest.split(' ').map(|v| v.parse().unwrap()).collect())
        })
    }
}

/// Runs the child operation `op` on `db` with its clock at `now` and
/// killed as `kill` says.
pub fn run_child(op: &str, db: &Path, now: i64, from: usize, kill: Kill) -> Outcome {
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
    let mut heard_lines: Vec<(Instant, String)> = Vec::new();
    match kill {
        Kill::Never => {}
        Kill::AfterSpawn(d) => {
            std::thread::sleep((spawned + d).saturating_duration_since(Instant::now()));
            child.kill().unwrap();
        }
        Kill::AfterReady(d) => {
            let deadline = Instant::now() + Duration::from_secs(120);
            // Ends early when the child ends (or hangs) before READY.
            while let Ok((t, l)) =
                rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                let ready = l == "READY";
                heard_lines.push((t, l));
                if ready {
                    std::thread::sleep(d);
                    child.kill().unwrap();
                    break;
                }
            }
        }
    }
    let status = child.wait().unwrap();
    reader.join().unwrap();
    heard_lines.extend(rx.try_iter());
    let err = err_reader.join().unwrap();
    let at = |tag: &str| {
        heard_lines
            .iter()
            .find(|(_, l)| l.split(' ').next() == Some(tag))
            .map(|(t, _)| *t)
    };
    let (ready_at, done_at) = (at("READY"), at("DONE"));
    let lines: Vec<String> = heard_lines.into_iter().map(|(_, l)| l).collect();
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
        killed || done_at.is_some(),
        "child {op} exited without finishing: {lines:?}\n{err}"
    );
    let landing = match (ready_at, done_at) {
        (None, _) => Landing::Before,
        (Some(_), None) => Landing::Mid,
        (Some(_), Some(_)) => Landing::After,
    };
    Outcome {
        landing,
        ready_time: ready_at.map(|r| r - spawned),
        op_time: done_at.zip(ready_at).map(|(d, r)| d - r),
        killed,
        lines,
    }
}

/// Seeded kill moments. Most are fractions of the operation's duration
/// after `READY`, re-estimated whenever a child runs the whole operation
/// before its kill (the machine's speed varies with its load); one in ten
/// falls in the child's start, before `READY`.
pub struct Schedule {
    pub rng: ChaCha8Rng,
    ready: Duration,
    op: Duration,
}

impl Schedule {
    /// A kill `[lo, hi] x` the operation's estimated duration after
    /// `READY` (at least 1 ms), or one over the child's start.
    pub fn kill(&mut self, lo: f64, hi: f64) -> Kill {
        if self.rng.random_bool(BEFORE_SHARE) {
            let f = self.rng.random_range(0.0..1.0);
            return Kill::AfterSpawn(self.ready.mul_f64(f));
        }
        let f = self.rng.random_range(lo..hi);
        Kill::AfterReady(self.op.mul_f64(f).max(Duration::from_millis(1)))
    }

    /// Learns from a child that was to run the whole operation.
    fn learn(&mut self, o: &Outcome) {
        if let Some(t) = o.ready_time {
            self.ready = t;
        }
        if let Some(t) = o.op_time {
            self.op = t;
        }
    }
}

/// The campaign of one operation: its trials (one kill each), where the
/// kills landed, and the rounds whose checks failed.
pub struct Campaign {
    pub op: &'static str,
    pub schedule: Schedule,
    /// Trials to run at least.
    target: usize,
    seed: u64,
    uninterrupted: Duration,
    started: Instant,
    pub trials: usize,
    before: usize,
    mid: usize,
    after: usize,
    partial: usize,
    /// Rounds run (a round: a fresh file, one or more kills, checks).
    pub rounds: usize,
    failures: Vec<String>,
}

impl Campaign {
    /// A campaign of `op` (salt: its own stream of the seed), with the
    /// estimates of an uninterrupted run.
    pub fn new(op: &'static str, salt: u64, uninterrupted: &Outcome) -> Self {
        let seed = env_number("BTP_CRASH_SEED").unwrap_or(DEFAULT_SEED);
        let target = env_number("BTP_CRASH_TRIALS").map_or(DEFAULT_TRIALS, |n| n as usize);
        let uninterrupted_time = uninterrupted.op_time.expect("an uninterrupted run");
        Self {
            op,
            schedule: Schedule {
                rng: ChaCha8Rng::seed_from_u64(seed ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15)),
                ready: uninterrupted.ready_time.expect("an uninterrupted run"),
                op: uninterrupted_time,
            },
            target,
            seed,
            uninterrupted: uninterrupted_time,
            started: Instant::now(),
            trials: 0,
            before: 0,
            mid: 0,
            after: 0,
            partial: 0,
            rounds: 0,
            failures: Vec::new(),
        }
    }

    /// Whether to run another round: until the target number of trials,
    /// and beyond it (up to three times the target) while fewer than half
    /// of the kills landed mid-operation. Where a kill lands depends on
    /// the machine's speed at that moment (a loaded host stretches or
    /// shrinks the operation against the schedule's estimate), so the
    /// campaign buys coverage with more trials instead of failing on a
    /// slow moment; `finish` still requires half of them mid-operation.
    pub fn more(&self) -> bool {
        self.trials < self.target || (2 * self.mid < self.trials && self.trials < 3 * self.target)
    }

    /// Runs one round; a failed check (a panic) is counted and the campaign
    /// goes on with the next round.
    pub fn round(&mut self, body: impl FnOnce(&mut Self)) {
        let k = self.rounds;
        self.rounds += 1;
        let result = catch_unwind(AssertUnwindSafe(|| body(self)));
        if let Err(panic) = result {
            let msg = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(a panic without a message)");
            self.failures
                .push(format!("round {k} (trial {}): {msg}", self.trials));
        }
    }

    /// One trial: the child `op` killed at a moment drawn in `[lo, hi] x`
    /// the operation's duration. `whole`: the child was to run the whole
    /// operation (its duration re-estimates the schedule's).
    pub fn kill(
        &mut self,
        db: &Path,
        now: i64,
        from: usize,
        (lo, hi): (f64, f64),
        whole: bool,
    ) -> Outcome {
        let kill = self.schedule.kill(lo, hi);
        let o = run_child(self.op, db, now, from, kill);
        if whole {
            self.schedule.learn(&o);
        }
        self.trials += 1;
        match o.landing {
            Landing::Before => self.before += 1,
            Landing::Mid => self.mid += 1,
            Landing::After => self.after += 1,
        }
        o
    }

    /// The trial's checks found a partial state in the file (an operation
    /// under way, to be completed or rolled back).
    pub fn partial(&mut self, partial: bool) {
        self.partial += usize::from(partial);
    }

    /// Prints the campaign's line and fails on any lost or wrong trial.
    pub fn finish(self) {
        println!(
            "CRASH-CAMPAIGN op={} trials={} before={} mid={} after={} partial={} lost_or_wrong={} rounds={} uninterrupted_ms={:.1} wall_s={:.1} seed={:#x}",
            self.op,
            self.trials,
            self.before,
            self.mid,
            self.after,
            self.partial,
            self.failures.len(),
            self.rounds,
            self.uninterrupted.as_secs_f64() * 1e3,
            self.started.elapsed().as_secs_f64(),
            self.seed,
        );
        assert!(
            self.failures.is_empty(),
            "{}: {} rounds failed their checks:\n{}",
            self.op,
            self.failures.len(),
            self.failures.join("\n")
        );
        // The schedule aims most kills at the operation (not for a handful).
        assert!(
            self.trials < 8 || 2 * self.mid >= self.trials,
            "{}: too few kills landed mid-operation ({} of {})",
            self.op,
            self.mid,
            self.trials
        );
    }
}

/// An integer from the environment (decimal, or hex with `0x`).
fn env_number(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let parsed = match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => v.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name}={v} is not a number")))
}

// --------------------------------------------------------------- checks

/// The newest audit event of the file, read behind the store's back.
pub fn audit_head(path: &Path) -> AuditHead {
    let conn = rusqlite::Connection::open(path).unwrap();
    let (seq, mac): (i64, Vec<u8>) = conn
        .query_row(
            "SELECT seq, mac FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    AuditHead {
        seq: seq as u64,
        mac: mac.try_into().unwrap(),
    }
}

/// What every trial checks after its kill: the store opens (with the
/// purposes given, and with those it holds), SQLite's integrity check and
/// the audit chain pass, and the chain still holds `head`, its newest
/// event before the child ran (nothing before the kill was rewritten).
/// Returns the store, opened at `now`.
pub fn reopen(path: &Path, now: i64, head: Option<&AuditHead>) -> Store {
    let store = Store::open_with(path, &master(), &purposes(), options_at(now, BATCH))
        .unwrap_or_else(|e| panic!("the store does not open after a kill: {e}"));
    store
        .check_integrity()
        .unwrap_or_else(|e| panic!("integrity check after a kill: {e}"));
    store
        .verify_audit()
        .unwrap_or_else(|e| panic!("audit chain after a kill: {e}"));
    if let Some(head) = head {
        // The chain verified: the event at the head's seq must be it.
        let at = store
            .audit_events(&EventFilter {
                after_seq: Some(head.seq - 1),
                limit: Some(1),
                ..EventFilter::default()
            })
            .unwrap();
        assert!(
            at.first()
                .is_some_and(|e| e.seq == head.seq && e.mac == head.mac),
            "the audit log lost or rewrote its head of before the kill (seq {})",
            head.seq
        );
    }
    let existing = Store::open_existing_with(path, &master(), options_at(now, BATCH))
        .unwrap_or_else(|e| panic!("open_existing after a kill: {e}"));
    assert_eq!(
        existing.purposes().count(),
        purposes().len(),
        "open_existing serves another set of purposes"
    );
    store
}

/// Removes a store file and its WAL and shared-memory files.
pub fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}
