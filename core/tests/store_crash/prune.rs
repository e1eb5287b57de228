//! Audit pruning killed at random moments. A prepared store holds a month
//! of audit events (a batch enrolment and a verification a day); a child
//! prunes it in steps of three days, each step one transaction. A kill,
//! then a kill of a second child going on from the next step, then the
//! parent prunes to the last step. After each kill the chain verifies from
//! its anchor, exactly the events of the last committed step are gone, each
//! committed step left its own event, and no record was touched.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use btp::store::StoreOptions;
use btp::store::{Action, AuditHead, EventFilter, RecordId, Retention, Sample, Samples, Store};
use btp::synthetic::Dataset;

use crate::common::{copy_db, pairs, record_ids, say, serial, static_scratch, DAY, T0};
use crate::fixture::{ctx, identify_all, master, purposes, x, BATCH, DIM};
use crate::harness::{audit_head, child_run, remove_db, reopen, run_child, Campaign, Kill};

/// Days of events in the prepared store.
const DAYS: usize = 30;
/// Subjects enrolled (by one batch) each day.
const PER_DAY: usize = 40;
/// Prune steps: step `s` prunes what is older than `before(s)`.
const STEPS: usize = 9;
/// The clock of the pruning children and of the checks.
const T_PRUNE: i64 = T0 + 40 * DAY;

fn before(step: usize) -> i64 {
    T0 + 3 * step as i64 * DAY
}

fn person(d: usize, k: usize) -> String {
    format!("day{d:02}-{k:02}")
}

pub fn child(path: &Path, now: i64, from: usize) {
    child_run(path, now, |store| {
        for s in from..=STEPS {
            let r = store.prune_audit(before(s), &ctx()).unwrap();
            say(&format!("PRUNED {s} {}", r.pruned));
        }
    });
}

/// The prepared store.
struct Month {
    _dir: tempfile::TempDir,
    path: PathBuf,
    people: Dataset,
    /// (seq, time) of every event.
    events: Vec<(u64, i64)>,
    head: AuditHead,
    /// Each record's score against the probe of person 0.
    scores: BTreeMap<RecordId, f64>,
    /// (day, k, record, verification score) of some subjects.
    verified: Vec<(usize, usize, RecordId, f64)>,
}

impl Month {
    /// Events of the prepared store kept by a prune before `t`.
    fn kept(&self, t: i64) -> Vec<u64> {
        self.events
            .iter()
            .filter(|(_, time)| *time >= t)
            .map(|(s, _)| *s)
            .collect()
    }
}

fn month() -> &'static Month {
    static M: OnceLock<Month> = OnceLock::new();
    M.get_or_init(|| {
        let dir = static_scratch("btp-crash-month");
        let path = dir.path().join("month.db");
        let people = pairs(DAYS * PER_DAY, DIM, 99);
        let clock = Arc::new(AtomicI64::new(T0));
        let c = clock.clone();
        let options = StoreOptions {
            clock: Some(Arc::new(move || c.load(Ordering::SeqCst))),
            batch_size: BATCH,
            ..StoreOptions::default()
        };
        let store = Store::create_with(&path, &master(), &purposes(), options).unwrap();
        let mut verified = Vec::new();
        for d in 0..DAYS {
            clock.store(T0 + d as i64 * DAY + 3_600, Ordering::SeqCst);
            let subjects: Vec<String> = (0..PER_DAY).map(|k| person(d, k)).collect();
            let names: Vec<&str> = subjects.iter().map(String::as_str).collect();
            let rows: Vec<f32> = (0..PER_DAY)
                .flat_map(|k| x(&people, d * PER_DAY + k, 0).to_vec())
                .collect();
            let keep = Retention::For(Duration::from_secs(300 * DAY as u64));
            store
                .enroll_batch("watchlist", &names, Samples::Features(&rows), keep, &ctx())
                .unwrap();
            let k = d % PER_DAY;
            let v = store
                .verify(
                    "watchlist",
                    &person(d, k),
                    Sample::Features(x(&people, d * PER_DAY + k, 1)),
                    &ctx(),
                )
                .unwrap();
            assert!(v.decision.matched);
            verified.push((d, k, v.record, v.decision.score));
        }
        clock.store(T_PRUNE, Ordering::SeqCst);
        let scores = identify_all(&store, "watchlist", x(&people, 0, 1));
        let events = store
            .audit_events(&EventFilter::default())
            .unwrap()
            .iter()
            .map(|e| (e.seq, e.time))
            .collect();
        drop(store);
        Month {
            head: audit_head(&path),
            _dir: dir,
            path,
            people,
            events,
            scores,
            verified,
        }
    })
}

/// Checks a pruned store: the chain verifies from its anchor, the
/// prepared store's events are those a prune before `before(step)` keeps,
/// the log holds `prunes` prune events, and every record is there and
/// verifies as before.
fn check(path: &Path, m: &Month, step: usize, prunes: usize) {
    let store = reopen(path, T_PRUNE, Some(&m.head));
    let report = store.verify_audit().unwrap();
    let events = store.audit_events(&EventFilter::default()).unwrap();
    let old: Vec<u64> = events
        .iter()
        .map(|e| e.seq)
        .filter(|&s| s <= m.head.seq)
        .collect();
    let want = m.kept(before(step));
    assert_eq!(old, want, "events kept by the prunes through step {step}");
    let pruned_through = want[0] - 1;
    assert_eq!(report.pruned_through, (step > 0).then_some(pruned_through));
    assert_eq!(report.first_seq, Some(pruned_through + 1));
    let n = events
        .iter()
        .filter(|e| e.action == Action::AuditPrune)
        .count();
    assert_eq!(n, prunes, "prune events");
    assert_eq!(
        record_ids(path),
        m.scores.keys().copied().collect(),
        "records after pruning"
    );
    assert!(identify_all(&store, "watchlist", x(&m.people, 0, 1)) == m.scores);
    for &(d, k, id, score) in &m.verified {
        let v = store
            .verify(
                "watchlist",
                &person(d, k),
                Sample::Features(x(&m.people, d * PER_DAY + k, 1)),
                &ctx(),
            )
            .unwrap();
        assert_eq!((v.record, v.decision.score), (id, score));
    }
}

/// The prune step the file is at (0: none), from its oldest event.
fn step_of(path: &Path, m: &Month) -> usize {
    let conn = rusqlite::Connection::open(path).unwrap();
    let first: i64 = conn
        .query_row("SELECT min(seq) FROM audit", [], |r| r.get(0))
        .unwrap();
    let step = (0..=STEPS).find(|&s| m.kept(before(s))[0] == first as u64);
    step.unwrap_or_else(|| panic!("the oldest event, {first}, is no prune step's"))
}

#[test]
fn killed_at_random_moments() {
    let m = month();
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();

    let db = copy_db(&m.path, dir.path(), "full.db");
    let full = run_child("prune", &db, T_PRUNE, 1, Kill::Never);
    assert_eq!(full.values("PRUNED").count(), STEPS);
    check(&db, m, STEPS, STEPS);

    let mut c = Campaign::new("prune", 6, &full);
    while c.more() {
        c.round(|c| {
            let db = copy_db(&m.path, dir.path(), &format!("prune-{}.db", c.rounds));
            let (mut step, mut prunes) = (0, 0);
            for second in [false, true] {
                let span = if second { (0.0, 0.6) } else { (0.0, 1.1) };
                let o = c.kill(&db, T_PRUNE, step + 1, span, !second);
                let said: Vec<usize> = o.values("PRUNED").map(|v| v[0] as usize).collect();
                assert!(said.iter().copied().eq(step + 1..step + 1 + said.len()));
                let reported = step + said.len();
                // The step under way committed, or did not: nothing between.
                let now = step_of(&db, m);
                assert!(
                    now == reported || (now == reported + 1 && now <= STEPS),
                    "at step {now}, {reported} reported"
                );
                prunes += now - step;
                step = now;
                check(&db, m, step, prunes);
                c.partial(now > reported);
            }
            let store = reopen(&db, T_PRUNE, Some(&m.head));
            store.prune_audit(before(STEPS), &ctx()).unwrap();
            drop(store);
            check(&db, m, STEPS, prunes + 1);
            remove_db(&db);
        });
    }
    c.finish();
}
