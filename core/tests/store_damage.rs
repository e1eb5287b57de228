//! Damaged record rows never turn into negative answers.
//!
//! A byte changed in a record's row (not an index) can move the record out
//! of a lookup (its purpose or kind) or make it look expired (its expiry),
//! while every SQLite query and SQLite's own `integrity_check` still
//! succeed. Each such change must be an integrity failure on the path:
//! never "not enrolled", "expired", "nothing to erase", a 1:N gallery
//! without the person, or a sweep that deletes the record; and
//! `check_integrity` must find it. The changes are made with SQL, as a
//! single flipped byte in the row would make them, so that the file stays
//! sound for SQLite and only btp's own authentication can tell.

use std::path::Path;

use btp::store::{Context, Retention, Sample, Store};
use btp::{Error, MasterKey, SchemeParams};
use rusqlite::{params, Connection};

#[path = "common/mod.rs"]
mod common;
use common::{pairs, Fixture, DAY};

fn ctx() -> Context<'static> {
    Context::new("officer", "damage test")
}

fn master() -> MasterKey {
    MasterKey::from_bytes(&[0x2d; 32]).unwrap()
}

/// A store with 6 people enrolled for `border` (person 3 also for
/// `watchlist`), closed; returns the fixture and person 3's record ids.
fn enrolled() -> (Fixture, i64, i64) {
    let params = SchemeParams::iom_grp(64, 128, 16).unwrap();
    let f = Fixture::new(pairs(6, 64, 17), 2, params);
    let store = Store::create_with(&f.path, &master(), &f.purposes, f.options()).unwrap();
    let mut border = 0;
    for s in 0..6 {
        let id = store
            .enroll(
                "border",
                &format!("P-{s}"),
                Sample::Features(f.x(s, 0)),
                Retention::Maximum,
                &ctx(),
            )
            .unwrap();
        if s == 3 {
            border = id;
        }
    }
    let watch = store
        .enroll(
            "watchlist",
            "P-3",
            Sample::Features(f.x(3, 0)),
            Retention::Maximum,
            &ctx(),
        )
        .unwrap();
    drop(store);
    (f, border, watch)
}

fn open(f: &Fixture) -> Store {
    Store::open_with(&f.path, &master(), &f.purposes, f.options()).unwrap()
}

fn damage(path: &Path, sql: &str, record: i64) {
    let conn = Connection::open(path).unwrap();
    assert_eq!(conn.execute(sql, params![record]).unwrap(), 1);
    // SQLite itself sees nothing wrong.
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
}

fn is_integrity(r: &btp::Result<impl std::fmt::Debug>, record: i64) -> bool {
    matches!(r, Err(Error::Integrity { record: got }) if *got == record)
}

#[test]
fn a_damaged_purpose_or_kind_is_an_integrity_failure_not_absence() {
    for (what, sql) in [
        // 'border' -> 'bordes': one byte, a purpose the store does not have.
        (
            "purpose",
            "UPDATE records SET purpose = 'bordes' WHERE id = ?1",
        ),
        // The other purpose's name: a row moved between purposes.
        (
            "purpose moved",
            "UPDATE records SET purpose = 'watchlist' WHERE id = ?1",
        ),
        // A template turned into a retained probe.
        ("kind", "UPDATE records SET kind = 1 WHERE id = ?1"),
        ("kind unknown", "UPDATE records SET kind = 9 WHERE id = ?1"),
    ] {
        let (f, record, _) = enrolled();
        damage(&f.path, sql, record);
        let store = open(&f);
        let v = store.verify("border", "P-3", Sample::Features(f.x(3, 1)), &ctx());
        assert!(is_integrity(&v, record), "{what}: verify gave {v:?}");
        // A row moved into another real purpose is left out of this
        // purpose's gallery (authenticating every other purpose's rows at
        // each load would cost a decryption per record); the purpose it
        // landed in refuses it, as do verify above and check_integrity.
        let searched = if what == "purpose moved" {
            "watchlist"
        } else {
            "border"
        };
        let i = store.identify(searched, Sample::Features(f.x(3, 1)), 3, None, &ctx());
        assert!(is_integrity(&i, record), "{what}: identify gave {i:?}");
        let c = store.check_integrity();
        assert!(
            is_integrity(&c, record),
            "{what}: check_integrity gave {c:?}"
        );
        // Erasing the person in `border`: a row still found there (kind
        // damaged) is erased, as asked; "nothing to erase" is answered only
        // if nothing of theirs is damaged.
        let e = store.erase("P-3", Some("border"), &ctx());
        if what.starts_with("kind") {
            assert_eq!(e.unwrap().erased["border"], [record], "{what}");
        } else {
            assert!(is_integrity(&e, record), "{what}: erase gave {e:?}");
        }
        // Other people are unaffected.
        assert!(
            store
                .verify("border", "P-1", Sample::Features(f.x(1, 1)), &ctx())
                .unwrap()
                .decision
                .matched
        );
    }
}

#[test]
fn a_damaged_expiry_is_an_integrity_failure_and_is_never_swept() {
    let (f, record, _) = enrolled();
    // An expiry in the past, as a flipped high bit makes it.
    damage(
        &f.path,
        "UPDATE records SET expires_at = expires_at - (1 << 26) WHERE id = ?1",
        record,
    );
    let store = open(&f);
    let v = store.verify("border", "P-3", Sample::Features(f.x(3, 1)), &ctx());
    assert!(is_integrity(&v, record), "verify gave {v:?}");
    let i = store.identify("border", Sample::Features(f.x(3, 1)), 3, None, &ctx());
    assert!(is_integrity(&i, record), "identify gave {i:?}");
    let s = store.sweep(None, &ctx());
    assert!(is_integrity(&s, record), "sweep gave {s:?}");
    assert!(is_integrity(&store.check_integrity(), record));
    drop(store);
    let conn = Connection::open(&f.path).unwrap();
    let kept: i64 = conn
        .query_row(
            "SELECT count(*) FROM records WHERE id = ?1",
            [record],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        kept, 1,
        "the sweep deleted a record whose expiry is not authentic"
    );
}

#[test]
fn really_expired_records_are_still_expired_and_swept() {
    // The control: the checks above do not refuse honest expiries.
    let (f, record, _) = enrolled();
    f.advance(31 * DAY as u64);
    let store = open(&f);
    let v = store.verify("border", "P-3", Sample::Features(f.x(3, 1)), &ctx());
    assert!(
        matches!(v, Err(Error::Expired { record: r }) if r == record),
        "{v:?}"
    );
    assert!(store
        .identify("border", Sample::Features(f.x(3, 1)), 3, None, &ctx())
        .unwrap()
        .candidates
        .is_empty());
    let m = store.verify("border", "P-99", Sample::Features(f.x(3, 1)), &ctx());
    assert!(matches!(m, Err(Error::Missing(_))), "{m:?}");
    store.check_integrity().unwrap();
    assert_eq!(
        store.sweep(None, &ctx()).unwrap().deleted["border"].len(),
        6
    );
    store.check_integrity().unwrap();
}

#[test]
fn check_integrity_authenticates_every_record() {
    let (f, record, _) = enrolled();
    damage(
        &f.path,
        "UPDATE records SET ciphertext = CAST(zeroblob(length(ciphertext)) AS BLOB) WHERE id = ?1",
        record,
    );
    let store = open(&f);
    let c = store.check_integrity();
    assert!(is_integrity(&c, record), "{c:?}");
}

#[test]
fn a_damaged_purposes_index_does_not_hide_a_purpose() {
    let (f, _, _) = enrolled();
    // Garble the key 'border' inside the purposes' unique index page (to
    // 'bordes'): lookups through that index no longer find the purpose,
    // while the table row is intact.
    let (page_size, root): (i64, i64) = {
        let conn = Connection::open(&f.path).unwrap();
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        let page_size = conn
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .unwrap();
        let root = conn
            .query_row(
                "SELECT rootpage FROM sqlite_master WHERE type = 'index' AND tbl_name = 'purposes'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        (page_size, root)
    };
    let mut bytes = std::fs::read(&f.path).unwrap();
    let page = (root - 1) as usize * page_size as usize..root as usize * page_size as usize;
    let at = bytes[page.clone()]
        .windows(6)
        .position(|w| w == b"border")
        .expect("the key in the index page")
        + page.start;
    bytes[at + 5] = b's';
    std::fs::write(&f.path, &bytes).unwrap();

    // The store reads its purposes from the table: nothing is unknown,
    // nothing is registered twice, and the people are still enrolled.
    let store = Store::open_existing_with(&f.path, &master(), f.options()).unwrap();
    assert_eq!(store.purposes().count(), 2);
    drop(store);
    let store = open(&f);
    assert!(
        store
            .verify("border", "P-3", Sample::Features(f.x(3, 1)), &ctx())
            .unwrap()
            .decision
            .matched
    );
    // Only the whole-file check sees the damaged index.
    assert!(matches!(store.check_integrity(), Err(Error::Corrupt(_))));
}

/// Record ids are assigned as `AUTOINCREMENT` assigns them, though a
/// record is now written by one INSERT with its id chosen first (the
/// AEAD binds it): never an id used before, even by an erased record, and
/// `sqlite_sequence` read as SQLite reads it, also when a hand edit left
/// its count as text.
#[test]
fn record_ids_follow_autoincrement_after_erasure_and_an_edited_sequence() {
    let (f, border, watch) = enrolled();
    assert_eq!((border, watch), (4, 7));
    let store = open(&f);
    let enroll = |s: &str| {
        store
            .enroll(
                "border",
                s,
                Sample::Features(f.x(0, 1)),
                Retention::Maximum,
                &ctx(),
            )
            .unwrap()
    };
    // The highest record erased: its id is not given again.
    store.erase("P-3", None, &ctx()).unwrap();
    assert_eq!(enroll("Q-1"), 8);
    drop(store);
    // A count ahead of the table (records erased) written back as text.
    let conn = Connection::open(&f.path).unwrap();
    conn.execute(
        "UPDATE sqlite_sequence SET seq = '41' WHERE name = 'records'",
        [],
    )
    .unwrap();
    drop(conn);
    let store = open(&f);
    let id = store
        .enroll(
            "border",
            "Q-2",
            Sample::Features(f.x(1, 1)),
            Retention::Maximum,
            &ctx(),
        )
        .unwrap();
    assert_eq!(id, 42);
    let seq: i64 = Connection::open(&f.path)
        .unwrap()
        .query_row(
            "SELECT seq FROM sqlite_sequence WHERE name = 'records'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(seq, 42, "the count is written back as an integer");
    drop(store);
}
