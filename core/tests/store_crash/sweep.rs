//! Sweeps killed at random moments: a kill, then a kill while a second
//! child resumes the sweep on the same file, then the parent completes it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use btp::store::{Action, EventFilter, RecordId, Store};

use crate::common::{query_ids, record_ids, serial};
use crate::fixture::{ctx, identify_all, population, template, verify_single, x, Template};
use crate::fixture::{PROBES, T_SWEEP};
use crate::harness::{audit_head, child_run, remove_db, reopen, run_child, Campaign, Kill};

pub fn child(path: &Path, now: i64) {
    child_run(path, now, |store| {
        let r = store.sweep(None, &ctx()).unwrap();
        crate::common::say(&format!("SWEPT {}", r.total()));
    });
}

/// Record ids named by the sweep events of the log.
fn audited_sweeps(store: &Store) -> BTreeSet<RecordId> {
    let filter = EventFilter {
        action: Some(Action::Sweep),
        ..EventFilter::default()
    };
    let events = store.audit_events(&filter).unwrap();
    let ids: Vec<RecordId> = events.iter().flat_map(|e| e.records.clone()).collect();
    let set: BTreeSet<RecordId> = ids.iter().copied().collect();
    assert_eq!(set.len(), ids.len(), "a deletion audited by two sweeps");
    set
}

/// Checks the sweep invariants on the file after a kill, given the records
/// present before it; returns those present now and whether the state is
/// partial (some but not all deleted, or the journal not yet audited).
fn check_after_kill(
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
    // The store opens, its file and audit chain are sound; every deletion
    // is either audited or journalled for the next sweep to audit.
    let store = reopen(path, T_SWEEP, Some(t.head()));
    let audited = audited_sweeps(&store);
    assert!(
        audited.is_disjoint(&journal),
        "a journalled deletion is audited already"
    );
    assert_eq!(
        &audited | &journal,
        deleted,
        "deleted records that are neither audited nor journalled"
    );
    // Every live record decrypts (gallery load) and scores as before, and
    // the galleries hold exactly the live records.
    for (purpose, probe) in PROBES {
        let live = t.ids(|r| r.purpose == purpose && !r.expired());
        let want: BTreeMap<RecordId, f64> = t.scores[purpose]
            .iter()
            .filter(|(id, _)| live.contains(id))
            .map(|(&id, &s)| (id, s))
            .collect();
        assert_eq!(want.len(), live.len());
        assert!(
            identify_all(&store, purpose, x(population(), probe, 1)) == want,
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
fn killed_at_random_moments() {
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

    let mut c = Campaign::new("sweep", 1, &full);
    while c.more() {
        c.round(|c| {
            let k = c.rounds;
            let db = t.copy(dir.path(), &format!("sweep-{k}.db"));
            // A kill, then a kill while a second child resumes the sweep.
            let mut before = all.clone();
            for second in [false, true] {
                let span = if second { (0.0, 0.6) } else { (0.0, 1.1) };
                c.kill(&db, T_SWEEP, 0, span, !second);
                let (now, partial) = check_after_kill(&db, t, &before);
                c.partial(partial);
                before = now;
            }
            // A sweep in the parent completes the interrupted one: it
            // reports the journalled deletions and the rest.
            let journal = query_ids(&db, "SELECT record_id FROM sweep_journal");
            let store = reopen(&db, T_SWEEP, Some(&audit_head(&db)));
            let report = store.sweep(None, &ctx()).unwrap();
            let reported: BTreeSet<RecordId> = report.deleted.values().flatten().copied().collect();
            assert_eq!(
                reported,
                &journal | &(&expired_unheld & &before),
                "the completing sweep's report"
            );
            for (purpose, ids) in &report.deleted {
                assert!(ids.iter().all(|id| by_id[id].purpose == purpose.as_str()));
            }
            assert_eq!(report.held, held_expired);
            assert_eq!(store.sweep(None, &ctx()).unwrap().total(), 0);
            drop(store);
            // Reopened: exactly the survivors, nothing resurrected, all
            // decrypt, every deletion audited once.
            let (now, _) = check_after_kill(&db, t, &survivors);
            assert_eq!(now, survivors);
            assert!(query_ids(&db, "SELECT record_id FROM sweep_journal").is_empty());
            remove_db(&db);
        });
    }
    c.finish();
}
