//! Store creation killed at random moments. Afterwards the path holds
//! nothing, or a store that opens and works, or a file that opening
//! refuses as `NotAStore` (an empty file, or one whose first commits did
//! not all happen) and that is never reinitialised: not by opening, not by
//! `Store::create`. A creation reported done always opens.

use std::path::Path;
use std::time::Instant;

use btp::store::{Action, EventFilter, Retention, Sample, Store};

use crate::common::{options_at, pairs, say, serial, T0};
use crate::fixture::{create, ctx, master, purposes, x, BATCH, DIM};
use crate::harness::{reopen, run_child, Campaign, Kill, Landing};

pub fn child(path: &Path, now: i64) {
    say("READY");
    let started = Instant::now();
    let store = create(path, now);
    say(&format!("DONE {}", started.elapsed().as_micros()));
    // Closing (a checkpoint) may be killed too.
    drop(store);
}

fn open(path: &Path) -> btp::Result<Store> {
    Store::open_with(path, &master(), &purposes(), options_at(T0, BATCH))
}

/// Checks the path after a kill; returns whether it holds a file that is
/// not a store.
fn check_after_kill(path: &Path, landing: Landing) -> bool {
    if !path.exists() {
        assert!(landing != Landing::After, "a created store vanished");
        return false;
    }
    match open(path) {
        Ok(store) => drop(store),
        Err(btp::Error::NotAStore(why)) => {
            assert!(
                landing != Landing::After,
                "a store reported created is not a store: {why}"
            );
            // Never reinitialised: opening again, opening with the stored
            // purposes and creating all refuse it, and it stays.
            let again = open(path);
            assert!(matches!(again, Err(btp::Error::NotAStore(_))), "{again:?}");
            let existing = Store::open_existing_with(path, &master(), options_at(T0, BATCH));
            assert!(
                matches!(existing, Err(btp::Error::NotAStore(_))),
                "{existing:?}"
            );
            let created = Store::create_with(path, &master(), &purposes(), options_at(T0, BATCH));
            assert!(matches!(created, Err(btp::Error::Io { .. })), "{created:?}");
            assert!(path.exists());
            assert!(matches!(open(path), Err(btp::Error::NotAStore(_))));
            return true;
        }
        Err(e) => panic!("a store killed while it was created gives {e:?}, not NotAStore"),
    }
    // A store: sound, its creation and purposes audited, and it works.
    let store = reopen(path, T0, None);
    let events = store.audit_events(&EventFilter::default()).unwrap();
    let actions: Vec<Action> = events.iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        [
            Action::StoreCreated,
            Action::PurposeAdded,
            Action::PurposeAdded
        ]
    );
    let people = pairs(1, DIM, 5);
    let id = store
        .enroll(
            "border",
            "first",
            Sample::Features(x(&people, 0, 0)),
            Retention::Maximum,
            &ctx(),
        )
        .unwrap();
    let v = store
        .verify(
            "border",
            "first",
            Sample::Features(x(&people, 0, 1)),
            &ctx(),
        )
        .unwrap();
    assert_eq!(v.record, id);
    false
}

#[test]
fn killed_at_random_moments() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();

    let db = dir.path().join("full.db");
    let full = run_child("create", &db, T0, 0, Kill::Never);
    assert!(!check_after_kill(&db, Landing::After));

    let mut c = Campaign::new("create", 7, &full);
    while c.more() {
        c.round(|c| {
            let db = dir.path().join(format!("create-{}.db", c.rounds));
            let o = c.kill(&db, T0, 0, (0.0, 1.3), true);
            let partial = check_after_kill(&db, o.landing);
            c.partial(partial);
        });
    }
    c.finish();
}
