//! Erasures killed at random moments: a child erases the bulk subjects one
//! after the other (300 records each); a kill, then a kill of a second
//! child that goes on from the first subject left, then the parent erases
//! the rest.

use std::collections::BTreeMap;
use std::path::Path;

use btp::store::{Action, EventFilter, RecordId};

use crate::common::{record_ids, say, serial, T0};
use crate::fixture::{bulk, ctx, identify_all, population, template, x, Template};
use crate::fixture::{BULK, BULK_BORDER, BULK_WATCH, PROBES, SINGLES};
use crate::harness::{child_run, remove_db, reopen, run_child, Campaign, Kill};

pub fn child(path: &Path, now: i64, from: usize) {
    child_run(path, now, |store| {
        for b in from..BULK {
            let r = store.erase(&bulk(b), None, &ctx()).unwrap();
            let n: usize = r.erased.values().map(Vec::len).sum();
            say(&format!("ERASED {b} {n}"));
        }
    });
}

/// Checks that every bulk subject is either whole or gone, that the gone
/// ones are a prefix covering every reported erasure and at most one more,
/// that each is audited once, and that nothing else was touched. Returns
/// the number of subjects gone.
fn check_after_kill(path: &Path, t: &Template, reported: usize) -> usize {
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
    let store = reopen(path, T0, Some(t.head()));
    // One audit event per erased subject, naming exactly its records.
    let events = store
        .audit_events(&EventFilter {
            action: Some(Action::Erase),
            ..EventFilter::default()
        })
        .unwrap();
    assert_eq!(events.len(), erased, "erasures vs erase events");
    for (b, e) in events.iter().enumerate() {
        let mut ids = e.records.clone();
        ids.sort_unstable();
        assert_eq!(e.outcome, "erased");
        assert_eq!(
            ids,
            t.ids(|r| r.bulk == Some(b)).into_iter().collect::<Vec<_>>(),
            "the erase event of {}",
            bulk(b)
        );
    }
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
            btp::store::Sample::Features(x(population(), SINGLES + b, 1)),
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
fn killed_at_random_moments() {
    let t = template();
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();

    let db = t.copy(dir.path(), "full.db");
    let full = run_child("erase", &db, T0, 0, Kill::Never);
    assert_eq!(full.values("ERASED").count(), BULK);
    assert!(full
        .values("ERASED")
        .all(|v| v[1] as usize == BULK_BORDER + BULK_WATCH));
    assert_eq!(check_after_kill(&db, t, BULK), BULK);

    let mut c = Campaign::new("erase", 3, &full);
    while c.more() {
        c.round(|c| {
            let k = c.rounds;
            let db = t.copy(dir.path(), &format!("erase-{k}.db"));
            let mut erased = 0;
            for second in [false, true] {
                let span = if second { (0.0, 0.6) } else { (0.0, 1.1) };
                let o = c.kill(&db, T0, erased, span, !second);
                let reported = erased + o.values("ERASED").count();
                let now = check_after_kill(&db, t, reported);
                // Partial: the in-flight erasure committed but was not reported.
                c.partial(now > reported);
                erased = now;
            }
            // The parent erases the rest, each whole.
            let store = reopen(&db, T0, Some(t.head()));
            for b in erased..BULK {
                let r = store.erase(&bulk(b), None, &ctx()).unwrap();
                assert_eq!(r.erased["border"].len(), BULK_BORDER);
                assert_eq!(r.erased["watchlist"].len(), BULK_WATCH);
            }
            drop(store);
            assert_eq!(check_after_kill(&db, t, BULK), BULK);
            remove_db(&db);
        });
    }
    c.finish();
}
