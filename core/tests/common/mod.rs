//! Fixtures shared by the store's integration tests (`store.rs`,
//! `store_disk.rs`, `store_crash/`, `store_faults.rs`, `properties.rs`):
//! the `border` purpose and a second one, options with a test clock,
//! centred synthetic people, a store file in a temporary folder with a
//! clock the test moves, scratch folders, copies of a store file and the
//! ids in it read behind the store's back, and the child-process protocol
//! of the crash and fault tests.

// Each test binary uses a subset of these.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use btp::store::{Purpose, RecordId, Store, StoreOptions};
use btp::synthetic::{Dataset, Population};
use btp::MasterKey;
use btp::SchemeParams;

pub const DAY: i64 = 86_400;
/// Where the test clocks start.
pub const T0: i64 = 1_800_000_000;

/// `border` (application `gate-A`, records kept 30 days at most) and
/// `second` (application `police`, 365 days), both with `params` and
/// threshold 0.3.
pub fn two_purposes(params: SchemeParams, second: &str) -> Vec<Purpose> {
    vec![
        Purpose::new(
            "border",
            params.clone(),
            "gate-A",
            0.3,
            Duration::from_secs(30 * DAY as u64),
        )
        .unwrap(),
        Purpose::new(
            second,
            params,
            "police",
            0.3,
            Duration::from_secs(365 * DAY as u64),
        )
        .unwrap(),
    ]
}

/// The default options but for a clock stopped at `now`, with batches
/// of `batch_size` records.
pub fn options_at(now: i64, batch_size: usize) -> StoreOptions {
    StoreOptions {
        clock: Some(Arc::new(move || now)),
        batch_size,
        ..StoreOptions::default()
    }
}

/// The store at `path`: opened when the file exists, created when it
/// does not (`Store::open` never creates, `Store::create` never opens).
pub fn open_or_create(
    path: &Path,
    master: &MasterKey,
    purposes: &[Purpose],
    options: StoreOptions,
) -> btp::Result<Store> {
    if path.exists() {
        Store::open_with(path, master, purposes, options)
    } else {
        Store::create_with(path, master, purposes, options)
    }
}

/// Centred synthetic people (population offset 0, so that every seed
/// draws from one distribution and no centre is needed): two samples
/// each of dimension `dim`, sample `j` of person `s` in row `2 s + j`.
pub fn pairs(subjects: usize, dim: usize, seed: u64) -> Dataset {
    Population {
        subjects,
        samples: 2,
        dim,
        offset: 0.0,
        within: 0.5,
        seed,
        ..Population::default()
    }
    .generate()
    .unwrap()
}

/// A store file (not yet created) in a temporary folder, a clock starting
/// at `T0` that the test moves, the people whose samples are enrolled and
/// the purposes `border` and `watchlist`.
pub struct Fixture {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
    clock: Arc<AtomicI64>,
    data: Dataset,
    /// Samples per person in `data`.
    samples: usize,
    pub purposes: Vec<Purpose>,
}

impl Fixture {
    /// `data` holds `samples` consecutive samples of each person; both
    /// purposes use `params`.
    pub fn new(data: Dataset, samples: usize, params: SchemeParams) -> Self {
        let dir = tempfile::tempdir().unwrap();
        Fixture {
            path: dir.path().join("store.db"),
            _dir: dir,
            clock: Arc::new(AtomicI64::new(T0)),
            data,
            samples,
            purposes: two_purposes(params, "watchlist"),
        }
    }

    /// The default options but for the clock, which is the fixture's.
    pub fn options(&self) -> StoreOptions {
        let clock = self.clock.clone();
        StoreOptions {
            clock: Some(Arc::new(move || clock.load(Ordering::SeqCst))),
            ..StoreOptions::default()
        }
    }

    /// Moves the clock `secs` seconds on.
    pub fn advance(&self, secs: u64) {
        self.clock.fetch_add(secs as i64, Ordering::SeqCst);
    }

    /// Sample `j` of person `s`.
    pub fn x(&self, s: usize, j: usize) -> &[f32] {
        self.data.row(s * self.samples + j)
    }
}

// ------------------------------------------------------------ files

/// A scratch folder (its name starting with `prefix`), in memory when
/// possible (no fsync cost).
pub fn scratch(prefix: &str) -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(d) = tempfile::Builder::new().prefix(prefix).tempdir_in(shm) {
            return d;
        }
    }
    tempfile::tempdir().unwrap()
}

/// [`scratch`] for a fixture kept in a `static`: statics are never
/// dropped, so such a folder would outlive the test process (they piled
/// up in `/dev/shm`, one set per run); this one is deleted when the
/// process exits (on Unix).
pub fn static_scratch(prefix: &str) -> tempfile::TempDir {
    let dir = scratch(prefix);
    #[cfg(unix)]
    {
        static AT_EXIT: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
        static REGISTER: std::sync::Once = std::sync::Once::new();
        extern "C" fn remove_all() {
            if let Ok(dirs) = AT_EXIT.lock() {
                for d in dirs.iter() {
                    let _ = std::fs::remove_dir_all(d);
                }
            }
        }
        AT_EXIT
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(dir.path().to_path_buf());
        REGISTER.call_once(|| {
            // SAFETY: registers a function without arguments that cannot
            // unwind (it ignores every error) to run at process exit.
            #[allow(unsafe_code)]
            let status = unsafe { libc::atexit(remove_all) };
            assert_eq!(status, 0, "atexit");
        });
    }
    dir
}

/// A copy of the database file `from` in `dir`, named `name`.
pub fn copy_db(from: &Path, dir: &Path, name: &str) -> PathBuf {
    let to = dir.join(name);
    std::fs::copy(from, &to).unwrap();
    to
}

/// The WAL beside the database file `path`.
pub fn wal_of(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push("-wal");
    PathBuf::from(p)
}

/// Ids returned by a query on the file, read behind the store's back.
pub fn query_ids(path: &Path, sql: &str) -> BTreeSet<RecordId> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    let ids = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    ids
}

/// The ids of the records in the file, read behind the store's back.
pub fn record_ids(path: &Path) -> BTreeSet<RecordId> {
    query_ids(path, "SELECT id FROM records")
}

// -------------------------------------------------- child processes

/// This test binary again, as a child process running only its test
/// `child_process` (inert unless the parent sets its environment), with
/// stdout and stderr piped.
pub fn child_command() -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "child_process",
        "--nocapture",
        "--test-threads=1",
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    cmd
}

/// Writes one protocol line (`BTP line`) and flushes it before going on.
pub fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "BTP {line}").unwrap();
    out.flush().unwrap();
}

/// What the child said (a `say` line without its `BTP `) in a line of its
/// stdout; libtest may print `test child_process ... ` before it.
pub fn heard(line: &str) -> Option<&str> {
    line.find("BTP ").map(|at| &line[at + 4..])
}

/// The tests that run children run them one at a time (the crash
/// scenarios time theirs).
pub fn serial() -> MutexGuard<'static, ()> {
    static M: Mutex<()> = Mutex::new(());
    M.lock().unwrap_or_else(|p| p.into_inner())
}
