//! Fixtures shared by the store's integration tests: the two purposes
//! most of them serve and a store file in a temporary folder with a clock
//! the test moves.

// Each test binary uses a subset of these.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use btp::store::{Purpose, StoreOptions};
use btp::synthetic::Dataset;
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

/// A store file (not yet created) in a temporary folder, a clock starting
/// at `T0` that the test moves, the people whose samples are enrolled and
/// the purposes `border` and `watchlist`.
pub struct Fixture {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
    pub clock: Arc<AtomicI64>,
    pub data: Dataset,
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

    pub fn advance(&self, secs: u64) {
        self.clock.fetch_add(secs as i64, Ordering::SeqCst);
    }

    /// Sample `j` of person `s`.
    pub fn x(&self, s: usize, j: usize) -> &[f32] {
        self.data.row(s * self.samples + j)
    }
}
