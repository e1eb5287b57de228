//! Bad input to the store never half-commits and never reinitialises a
//! file (issue 13): creating and opening are distinct, every argument and
//! every value that will be reported back is checked before the first
//! write, and a batch enrolment is all or nothing.

use std::time::Duration;

use btp::store::{
    Context, EventFilter, Retention, Sample, Samples, Store, StoreOptions, MAX_SUBJECT_BYTES,
};
use btp::{Error, MasterKey, SchemeParams};

mod common;
use common::{pairs, Fixture, DAY, T0};

fn ctx() -> Context<'static> {
    Context::new("officer-7", "case 2026/114")
}

fn master() -> MasterKey {
    MasterKey::from_bytes(&[11; 32]).unwrap()
}

fn fixture() -> Fixture {
    Fixture::new(
        pairs(60, 32, 5),
        2,
        SchemeParams::iom_grp(32, 64, 8).unwrap(),
    )
}

impl Fixture {
    fn create(&self) -> Store {
        Store::create_with(&self.path, &master(), &self.purposes, self.options()).unwrap()
    }

    fn reopen(&self) -> Store {
        Store::open_with(&self.path, &master(), &self.purposes, self.options()).unwrap()
    }

    /// Rows `0..n` of person `s`'s first sample, row-major.
    fn rows(&self, people: std::ops::Range<usize>) -> Vec<f32> {
        people.flat_map(|s| self.x(s, 0).to_vec()).collect()
    }
}

/// Events and records, to show that a refused call changed nothing.
fn state(store: &Store) -> (usize, u64) {
    let events = store.audit_events(&EventFilter::default()).unwrap().len();
    let records = store.record_counts().unwrap().values().sum();
    (events, records)
}

fn subjects(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("person-{i:03}")).collect()
}

#[test]
fn open_never_creates_and_create_never_opens() {
    let f = fixture();
    // A missing path is not found, and stays missing.
    assert!(matches!(
        Store::open(&f.path, &master(), &f.purposes),
        Err(Error::Missing(_))
    ));
    assert!(matches!(
        Store::open_existing(&f.path, &master()),
        Err(Error::Missing(_))
    ));
    assert!(!f.path.exists());
    let store = f.create();
    let id = store
        .enroll(
            "border",
            "alice",
            Sample::Features(f.x(0, 0)),
            Retention::Maximum,
            &ctx(),
        )
        .unwrap();
    drop(store);
    // Creating over an existing store is refused and leaves it whole.
    let before = std::fs::read(&f.path).unwrap();
    assert!(matches!(
        Store::create(&f.path, &master(), &f.purposes),
        Err(Error::Io { .. })
    ));
    assert_eq!(std::fs::read(&f.path).unwrap(), before);
    let store = f.reopen();
    assert_eq!(
        store
            .verify("border", "alice", Sample::Features(f.x(0, 1)), &ctx())
            .unwrap()
            .record,
        id
    );
    drop(store);
    // An emptied store file is not a store, and is not reinitialised.
    std::fs::write(&f.path, b"").unwrap();
    for r in [
        Store::open(&f.path, &master(), &f.purposes),
        Store::open_existing(&f.path, &master()),
    ] {
        assert!(matches!(r, Err(Error::NotAStore(_))), "{r:?}");
    }
    assert_eq!(std::fs::metadata(&f.path).unwrap().len(), 0);
    assert!(matches!(
        Store::create(&f.path, &master(), &f.purposes),
        Err(Error::Io { .. })
    ));
    // A directory is not a store either.
    let dir = f.path.with_file_name("folder.db");
    std::fs::create_dir(&dir).unwrap();
    assert!(matches!(
        Store::open(&dir, &master(), &f.purposes),
        Err(Error::NotAStore(_))
    ));
}

#[test]
fn a_failed_creation_leaves_no_file() {
    let f = fixture();
    let options = StoreOptions {
        clock: Some(std::sync::Arc::new(|| -5)),
        ..StoreOptions::default()
    };
    assert!(matches!(
        Store::create_with(&f.path, &master(), &f.purposes, options),
        Err(Error::InvalidParameter { name: "clock", .. })
    ));
    assert!(!f.path.exists());
    assert!(f
        .path
        .parent()
        .unwrap()
        .read_dir()
        .unwrap()
        .next()
        .is_none());
}

#[test]
#[cfg(unix)]
fn a_new_store_is_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt;
    let f = fixture();
    drop(f.create());
    let mode = std::fs::metadata(&f.path).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "mode {mode:o}");
}

#[test]
fn options_that_cannot_be_honoured_are_refused_before_the_file_is_touched() {
    let f = fixture();
    for (options, name) in [
        (
            StoreOptions {
                busy_timeout: Duration::from_secs(1 << 40),
                ..StoreOptions::default()
            },
            "busy_timeout",
        ),
        (
            StoreOptions {
                batch_size: 0,
                ..StoreOptions::default()
            },
            "batch_size",
        ),
    ] {
        match Store::create_with(&f.path, &master(), &f.purposes, options) {
            Err(Error::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
            r => panic!("{name}: {r:?}"),
        }
        assert!(!f.path.exists());
    }
}

#[test]
fn a_version_1_store_is_migrated_and_gets_its_second_subject_index() {
    let f = fixture();
    let store = f.create();
    store
        .enroll(
            "border",
            "alice",
            Sample::Features(f.x(0, 0)),
            Retention::Maximum,
            &ctx(),
        )
        .unwrap();
    drop(store);
    let conn = rusqlite::Connection::open(&f.path).unwrap();
    conn.execute_batch("DROP INDEX records_subject_check; PRAGMA user_version = 1;")
        .unwrap();
    drop(conn);
    let store = f.reopen();
    assert!(
        store
            .verify("border", "alice", Sample::Features(f.x(0, 1)), &ctx())
            .unwrap()
            .decision
            .matched
    );
    drop(store);
    let conn = rusqlite::Connection::open(&f.path).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    let indexes: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name = 'records_subject_check'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!((version, indexes), (2, 1));
}

#[test]
fn subject_ids_follow_one_rule_everywhere() {
    let f = fixture();
    let store = f.create();
    let long = "x".repeat(MAX_SUBJECT_BYTES + 1);
    let x = Sample::Features(f.x(0, 0));
    for bad in [
        "",
        " alice",
        "alice ",
        "al\nice",
        "al\u{0}ice",
        long.as_str(),
    ] {
        assert!(
            matches!(
                store.enroll("border", bad, x, Retention::Maximum, &ctx()),
                Err(Error::InvalidParameter {
                    name: "subject",
                    ..
                })
            ),
            "{bad:?}"
        );
        assert!(matches!(
            store.erase(bad, None, &ctx()),
            Err(Error::InvalidParameter {
                name: "subject",
                ..
            })
        ));
    }
    // The message never repeats the id.
    let e = store
        .enroll("border", "secret name\n", x, Retention::Maximum, &ctx())
        .unwrap_err();
    assert!(!e.to_string().contains("secret"), "{e}");
    let longest = "y".repeat(MAX_SUBJECT_BYTES);
    for good in ["alice", "Ærø-7 ü", "P 123 456", longest.as_str()] {
        store
            .enroll("border", good, x, Retention::Maximum, &ctx())
            .unwrap();
    }
    assert_eq!(state(&store).1, 4);
}

#[test]
fn times_outside_the_calendar_are_refused_before_anything_is_written() {
    let f = fixture();
    let store = f.create();
    let x = Sample::Features(f.x(0, 0));
    store
        .enroll(
            "border",
            "alice",
            x,
            Retention::For(Duration::from_secs(DAY as u64)),
            &ctx(),
        )
        .unwrap();
    let before = state(&store);
    // A sweep "now" past year 9999 deletes nothing and audits nothing.
    for now in [1_000_000_000_000, -1, i64::MAX, i64::MIN] {
        assert!(
            matches!(
                store.sweep(Some(now), &ctx()),
                Err(Error::InvalidParameter { name: "now", .. })
            ),
            "{now}"
        );
        assert!(matches!(
            store.prune_audit(now, &ctx()),
            Err(Error::InvalidParameter { name: "before", .. })
        ));
    }
    assert_eq!(state(&store), before);
    // An expiry in the past has its own error, in dates.
    let e = store
        .enroll("border", "bob", x, Retention::Until(T0 - DAY), &ctx())
        .unwrap_err();
    assert_eq!(
        e,
        Error::ExpiryInPast {
            expires_at: T0 - DAY,
            now: T0
        }
    );
    assert_eq!(
        e.to_string(),
        "expiry 2027-01-14T08:00:00Z is not after the present (2027-01-15T08:00:00Z)"
    );
    for t in [T0, i64::MIN, -1, 253_402_300_800] {
        assert!(store
            .enroll("border", "bob", x, Retention::Until(t), &ctx())
            .is_err());
    }
    assert!(matches!(
        store.enroll("border", "bob", x, Retention::For(Duration::ZERO), &ctx()),
        Err(Error::InvalidParameter {
            name: "retention",
            ..
        })
    ));
    assert!(matches!(
        store.enroll("border", "bob", x, Retention::For(Duration::MAX), &ctx()),
        Err(Error::RetentionTooLong { .. })
    ));
    assert_eq!(state(&store), before);
}

#[test]
fn a_purpose_keeps_every_expiry_a_date() {
    let params = SchemeParams::iom_grp(32, 64, 8).unwrap();
    let purpose = |secs: u64| {
        btp::store::Purpose::new("p", params.clone(), "a", 0.3, Duration::from_secs(secs))
    };
    assert!(purpose(1000 * 365 * DAY as u64).is_ok());
    assert!(matches!(
        purpose(1000 * 365 * DAY as u64 + 1),
        Err(Error::InvalidParameter {
            name: "max_retention",
            ..
        })
    ));
    assert!(purpose(u64::MAX).is_err());
}

#[test]
fn identification_refuses_a_k_the_audit_log_cannot_record() {
    let f = fixture();
    let store = f.create();
    let x = Sample::Features(f.x(0, 0));
    store
        .enroll("border", "alice", x, Retention::Maximum, &ctx())
        .unwrap();
    let before = state(&store);
    for k in [0, usize::MAX, (1 << 53) + 1] {
        assert!(matches!(
            store.identify("border", x, k, None, &ctx()),
            Err(Error::InvalidParameter { name: "k", .. })
        ));
    }
    assert_eq!(state(&store), before);
    // A k beyond the gallery is clamped by the search, not an error.
    let found = store.identify("border", x, 1 << 53, None, &ctx()).unwrap();
    assert_eq!(found.candidates.len(), 1);
}

#[test]
fn audit_texts_too_long_for_the_log_are_refused_first() {
    let f = fixture();
    let store = f.create();
    let before = state(&store);
    let long = "r".repeat(5000);
    let r = store.enroll(
        "border",
        "alice",
        Sample::Features(f.x(0, 0)),
        Retention::Maximum,
        &Context::new("officer-7", &long),
    );
    assert!(matches!(
        r,
        Err(Error::InvalidParameter { name: "reason", .. })
    ));
    assert_eq!(state(&store), before);
}

#[test]
fn a_batch_enrolment_is_all_or_nothing() {
    let f = fixture();
    let store = f.create();
    let names = subjects(50);
    let ids: Vec<&str> = names.iter().map(String::as_str).collect();
    let rows = f.rows(0..50);
    let before = state(&store);
    let mut refused = Vec::new();
    // A subject id too long on the last row.
    let mut bad = ids.clone();
    let long = "z".repeat(70_000);
    bad[49] = &long;
    refused.push(store.enroll_batch(
        "border",
        &bad,
        Samples::Features(&rows),
        Retention::Maximum,
        &ctx(),
    ));
    // The same subject twice.
    let mut twice = ids.clone();
    twice[30] = ids[12];
    let r = store.enroll_batch(
        "border",
        &twice,
        Samples::Features(&rows),
        Retention::Maximum,
        &ctx(),
    );
    match &r {
        Err(Error::Row { row: 30, source }) => {
            assert!(source.to_string().contains("row 12"), "{source}")
        }
        other => panic!("{other:?}"),
    }
    refused.push(r);
    // NaN in one row; a zero row.
    let mut nan = rows.clone();
    nan[47 * 32 + 3] = f32::NAN;
    let r = store.enroll_batch(
        "border",
        &ids,
        Samples::Features(&nan),
        Retention::Maximum,
        &ctx(),
    );
    assert!(matches!(&r, Err(Error::Row { row: 47, .. })), "{r:?}");
    assert_eq!(r.as_ref().unwrap_err().kind(), btp::ErrorKind::NonFinite);
    refused.push(r);
    // Rows and subjects that disagree in number.
    refused.push(store.enroll_batch(
        "border",
        &ids[..49],
        Samples::Features(&rows),
        Retention::Maximum,
        &ctx(),
    ));
    // An unknown purpose, a past expiry, an empty actor.
    refused.push(store.enroll_batch(
        "nowhere",
        &ids,
        Samples::Features(&rows),
        Retention::Maximum,
        &ctx(),
    ));
    refused.push(store.enroll_batch(
        "border",
        &ids,
        Samples::Features(&rows),
        Retention::Until(T0),
        &ctx(),
    ));
    refused.push(store.enroll_batch(
        "border",
        &ids,
        Samples::Features(&rows),
        Retention::Maximum,
        &Context::new(" ", "r"),
    ));
    // Templates of another purpose's key.
    let other = store
        .protector("watchlist")
        .unwrap()
        .protect_batch(&rows)
        .unwrap();
    refused.push(store.enroll_batch(
        "border",
        &ids,
        Samples::Templates(&other),
        Retention::Maximum,
        &ctx(),
    ));
    for r in &refused {
        assert!(r.is_err(), "{r:?}");
    }
    assert_eq!(state(&store), before, "a refused batch wrote something");

    let records = store
        .enroll_batch(
            "border",
            &ids,
            Samples::Features(&rows),
            Retention::Maximum,
            &ctx(),
        )
        .unwrap();
    assert_eq!(records.len(), 50);
    assert_eq!(
        state(&store),
        (before.0 + 50, 50),
        "one audit event per record"
    );
    for (s, record) in records.iter().enumerate() {
        let v = store
            .verify("border", &names[s], Sample::Features(f.x(s, 1)), &ctx())
            .unwrap();
        assert_eq!(v.record, *record);
    }
    // Templates work too, and give the same codes as features.
    let templates = store
        .protector("watchlist")
        .unwrap()
        .protect_batch(&rows)
        .unwrap();
    let more = store
        .enroll_batch(
            "watchlist",
            &ids,
            Samples::Templates(&templates),
            Retention::Maximum,
            &ctx(),
        )
        .unwrap();
    assert_eq!(more.len(), 50);
}

#[test]
fn a_batch_that_would_pass_the_key_budget_is_refused_whole() {
    let f = fixture();
    let options = StoreOptions {
        max_encryptions_per_key: 10,
        ..f.options()
    };
    let store = Store::create_with(&f.path, &master(), &f.purposes, options).unwrap();
    let names = subjects(11);
    let ids: Vec<&str> = names.iter().map(String::as_str).collect();
    let rows = f.rows(0..11);
    let before = state(&store);
    assert!(matches!(
        store.enroll_batch(
            "border",
            &ids,
            Samples::Features(&rows),
            Retention::Maximum,
            &ctx()
        ),
        Err(Error::KeyExhausted { .. })
    ));
    assert_eq!(state(&store), before);
    store
        .enroll_batch(
            "border",
            &ids[..10],
            Samples::Features(&rows[..320]),
            Retention::Maximum,
            &ctx(),
        )
        .unwrap();
}
