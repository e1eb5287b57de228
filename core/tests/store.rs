//! The store through its public API: every operation's round trip, expiry,
//! purpose separation, holds, rotation, and tamper detection by editing the
//! file with SQL behind the store's back.

use std::time::Duration;

use btp::store::{Context, HoldTarget, Retention, ReviewOutcome, Sample, Store, StoreOptions};
use btp::synthetic::Population;
use btp::{fit_centre, Error, MasterKey, SchemeParams};

mod common;
use common::Fixture;

const DAY: u64 = 86_400;

fn ctx() -> Context<'static> {
    Context::new("officer-7", "case 2026/114")
}

/// Twenty people, three samples each, and purposes whose parameters
/// centre features with a centre fitted on twenty others.
fn fixture() -> Fixture {
    let (data, train) = Population {
        subjects: 40,
        samples: 3,
        within: 0.5,
        ..Population::default()
    }
    .generate()
    .unwrap()
    .split_subjects(20);
    let centre = fit_centre(&train.rows, 128).unwrap();
    let params = SchemeParams::iom_grp(128, 256, 16)
        .unwrap()
        .with_centre(centre)
        .unwrap();
    Fixture::new(data, 3, params)
}

fn master() -> MasterKey {
    MasterKey::from_bytes(&[11; 32]).unwrap()
}

impl Fixture {
    fn open(&self) -> Store {
        let options = StoreOptions {
            batch_size: 7,
            ..self.options()
        };
        common::open_or_create(&self.path, &master(), &self.purposes, options).unwrap()
    }

    fn sql(&self, sql: &str) -> usize {
        let conn = rusqlite::Connection::open(&self.path).unwrap();
        conn.execute(sql, []).unwrap()
    }
}

fn subject(s: usize) -> String {
    format!("person-{s:03}")
}

#[test]
fn enroll_verify_identify_review() {
    let f = fixture();
    let store = f.open();
    for s in 0..20 {
        store
            .enroll(
                "border",
                &subject(s),
                Sample::Features(f.x(s, 0)),
                Retention::Maximum,
                &ctx(),
            )
            .unwrap();
    }
    let v = store
        .verify("border", &subject(3), Sample::Features(f.x(3, 1)), &ctx())
        .unwrap();
    assert!(v.decision.matched, "{v:?}");
    assert_eq!(v.decision.threshold, 0.3);
    let v = store
        .verify("border", &subject(4), Sample::Features(f.x(3, 1)), &ctx())
        .unwrap();
    assert!(!v.decision.matched, "{v:?}");

    let id = store
        .identify("border", Sample::Features(f.x(5, 2)), 3, None, &ctx())
        .unwrap();
    assert_eq!(id.candidates[0].subject, subject(5));
    assert!(id.candidates.windows(2).all(|w| w[0].score >= w[1].score));
    let r = store
        .review(
            id.event,
            "reviewer-2",
            ReviewOutcome::Confirmed(id.candidates[0].record),
            &ctx(),
        )
        .unwrap();
    assert!(r > id.event);
    assert!(matches!(
        store.review(r, "x", ReviewOutcome::Rejected, &ctx()),
        Err(Error::Missing(_))
    ));
    // Enrolling from an existing protected template of the purpose's key.
    let t = store
        .protector("border")
        .unwrap()
        .protect(f.x(7, 1))
        .unwrap();
    store
        .enroll(
            "border",
            "template-person",
            Sample::Template(&t),
            Retention::Maximum,
            &ctx(),
        )
        .unwrap();
    let v = store
        .verify("border", "template-person", Sample::Template(&t), &ctx())
        .unwrap();
    assert_eq!(v.decision.score, 1.0);
}

#[test]
fn bad_input_is_typed() {
    let f = fixture();
    let store = f.open();
    let x = f.x(0, 0);
    assert_eq!(
        store.enroll("nope", "a", Sample::Features(x), Retention::Maximum, &ctx()),
        Err(Error::UnknownPurpose("nope".into()))
    );
    assert!(matches!(
        store.enroll(
            "border",
            "a",
            Sample::Features(x),
            Retention::For(Duration::from_secs(31 * DAY)),
            &ctx()
        ),
        Err(Error::RetentionTooLong { .. })
    ));
    assert!(matches!(
        store.enroll(
            "border",
            "a",
            Sample::Features(&x[..5]),
            Retention::Maximum,
            &ctx()
        ),
        Err(Error::WrongDimension { .. })
    ));
    let mut nan = x.to_vec();
    nan[3] = f32::NAN;
    assert!(matches!(
        store.enroll(
            "border",
            "a",
            Sample::Features(&nan),
            Retention::Maximum,
            &ctx()
        ),
        Err(Error::NonFinite { .. })
    ));
    assert!(matches!(
        store.enroll(
            "border",
            "a",
            Sample::Features(x),
            Retention::Maximum,
            &Context::new("", "r")
        ),
        Err(Error::InvalidParameter { .. })
    ));
    // A template of another key.
    let other = btp::Protector::new(
        f.purposes[0].params.clone(),
        &master(),
        "other-app",
        1,
        None,
    )
    .unwrap();
    let t = other.protect(x).unwrap();
    assert_eq!(
        store.enroll(
            "border",
            "a",
            Sample::Template(&t),
            Retention::Maximum,
            &ctx()
        ),
        Err(Error::KeyMismatch)
    );
    assert!(matches!(
        store.verify("border", "nobody", Sample::Features(x), &ctx()),
        Err(Error::Missing(_))
    ));
    // Wrong master key.
    drop(store);
    let wrong = MasterKey::from_bytes(&[12; 32]).unwrap();
    assert_eq!(
        Store::open(&f.path, &wrong, &f.purposes).unwrap_err(),
        Error::WrongKey
    );
    // A purpose redefined with other parameters.
    let mut changed = f.purposes.clone();
    changed[0].application = "gate-B".into();
    assert!(matches!(
        Store::open(&f.path, &master(), &changed),
        Err(Error::InvalidParameter { .. })
    ));
}

#[test]
fn foreign_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, vec![0x42u8; 8192]).unwrap();
    assert!(matches!(
        Store::open(&junk, &master(), &[]),
        Err(Error::NotAStore(_))
    ));
    let other = dir.path().join("other.db");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    assert!(matches!(
        Store::open(&other, &master(), &[]),
        Err(Error::NotAStore(_))
    ));
    let newer = dir.path().join("newer.db");
    drop(Store::create(&newer, &master(), &[]).unwrap());
    rusqlite::Connection::open(&newer)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    assert_eq!(
        Store::open(&newer, &master(), &[]).unwrap_err(),
        Error::UnsupportedSchema {
            found: 99,
            supported: 2
        }
    );
}

#[test]
fn expiry_is_honoured_before_the_sweep_and_sweeps_delete() {
    let f = fixture();
    let store = f.open();
    let short = store
        .enroll(
            "border",
            &subject(1),
            Sample::Features(f.x(1, 0)),
            Retention::For(Duration::from_secs(DAY)),
            &ctx(),
        )
        .unwrap();
    let long = store
        .enroll(
            "border",
            &subject(2),
            Sample::Features(f.x(2, 0)),
            Retention::Maximum,
            &ctx(),
        )
        .unwrap();
    let probe = f.x(1, 1);
    let found = store
        .identify("border", Sample::Features(probe), 5, None, &ctx())
        .unwrap();
    assert_eq!(found.candidates[0].record, short);
    f.advance(DAY);
    // Expired: never matched, even though not yet deleted.
    let found = store
        .identify("border", Sample::Features(probe), 5, Some(0.0), &ctx())
        .unwrap();
    assert!(found.candidates.iter().all(|c| c.record != short));
    assert_eq!(
        store.verify("border", &subject(1), Sample::Features(probe), &ctx()),
        Err(Error::Expired { record: short })
    );
    assert_eq!(store.record_counts().unwrap()["border"], 2);
    let report = store.sweep(None, &ctx()).unwrap();
    assert_eq!(report.deleted["border"], vec![short]);
    assert_eq!(store.record_counts().unwrap()["border"], 1);
    // Idempotent.
    assert_eq!(store.sweep(None, &ctx()).unwrap().total(), 0);
    assert!(
        store
            .verify("border", &subject(2), Sample::Features(f.x(2, 1)), &ctx())
            .unwrap()
            .decision
            .matched
    );
    let _ = long;
}

#[test]
fn purposes_are_separate() {
    let f = fixture();
    let store = f.open();
    let id = store
        .enroll(
            "watchlist",
            &subject(9),
            Sample::Features(f.x(9, 0)),
            Retention::Maximum,
            &ctx(),
        )
        .unwrap();
    // Not visible through another purpose.
    assert!(matches!(
        store.verify("border", &subject(9), Sample::Features(f.x(9, 1)), &ctx()),
        Err(Error::Missing(_))
    ));
    let found = store
        .identify("border", Sample::Features(f.x(9, 1)), 5, Some(0.0), &ctx())
        .unwrap();
    assert!(found.candidates.is_empty());
    drop(store);
    // Moving the row to another purpose in the file: it fails to decrypt.
    assert_eq!(
        f.sql(&format!(
            "UPDATE records SET purpose = 'border' WHERE id = {id}"
        )),
        1
    );
    let store = f.open();
    assert_eq!(
        store.verify("border", &subject(9), Sample::Features(f.x(9, 1)), &ctx()),
        Err(Error::Integrity { record: id })
    );
    assert_eq!(
        store
            .identify("border", Sample::Features(f.x(9, 1)), 5, None, &ctx())
            .unwrap_err(),
        Error::Integrity { record: id }
    );
}

#[test]
fn edits_in_the_file_are_detected() {
    let edits = [
        "UPDATE records SET expires_at = expires_at + 86400 WHERE id = {id}",
        "UPDATE records SET ciphertext = CAST(zeroblob(length(ciphertext)) AS BLOB) WHERE id = {id}",
        "UPDATE records SET nonce = x'000000000000000000000000' WHERE id = {id}",
        "UPDATE records SET kind = 1 WHERE id = {id}",
        "UPDATE records SET key_version = 2 WHERE id = {id}",
    ];
    for edit in edits {
        let f = fixture();
        let store = f.open();
        let id = store
            .enroll(
                "border",
                &subject(3),
                Sample::Features(f.x(3, 0)),
                Retention::Maximum,
                &ctx(),
            )
            .unwrap();
        drop(store);
        assert_eq!(f.sql(&edit.replace("{id}", &id.to_string())), 1, "{edit}");
        let store = f.open();
        let got = store.verify("border", &subject(3), Sample::Features(f.x(3, 1)), &ctx());
        // A row that no longer looks like a template of the subject (kind
        // edited) is authenticated before "not enrolled" is answered.
        assert_eq!(got, Err(Error::Integrity { record: id }), "{edit}");
    }
    // Two rows' ciphertexts swapped.
    let f = fixture();
    let store = f.open();
    let a = store
        .enroll(
            "border",
            &subject(1),
            Sample::Features(f.x(1, 0)),
            Retention::Maximum,
            &ctx(),
        )
        .unwrap();
    let b = store
        .enroll(
            "border",
            &subject(2),
            Sample::Features(f.x(2, 0)),
            Retention::Maximum,
            &ctx(),
        )
        .unwrap();
    drop(store);
    f.sql(&format!(
        "UPDATE records SET nonce = (SELECT nonce FROM records WHERE id = {b}), ciphertext = (SELECT ciphertext FROM records WHERE id = {b}) WHERE id = {a}"
    ));
    let store = f.open();
    assert_eq!(
        store.verify("border", &subject(1), Sample::Features(f.x(1, 1)), &ctx()),
        Err(Error::Integrity { record: a })
    );
}

#[test]
fn holds_block_erasure_and_sweeps_until_released() {
    let f = fixture();
    let store = f.open();
    let r1 = store
        .enroll(
            "border",
            &subject(1),
            Sample::Features(f.x(1, 0)),
            Retention::For(Duration::from_secs(DAY)),
            &ctx(),
        )
        .unwrap();
    let r2 = store
        .enroll(
            "watchlist",
            &subject(1),
            Sample::Features(f.x(1, 0)),
            Retention::Maximum,
            &ctx(),
        )
        .unwrap();
    let hold = store.hold(HoldTarget::Record(r1), &ctx()).unwrap();
    match store.erase(&subject(1), None, &ctx()) {
        Err(Error::Held {
            hold: h,
            target,
            reason,
        }) => {
            assert_eq!(h, hold);
            assert_eq!(target, format!("record {r1}"));
            assert_eq!(reason, "case 2026/114");
        }
        other => panic!("{other:?}"),
    }
    // Erasing only the other purpose is not blocked by a hold on this record.
    f.advance(2 * DAY);
    let report = store.sweep(None, &ctx()).unwrap();
    assert_eq!(report.total(), 0);
    assert_eq!(report.held, 1);
    store.release(hold, &ctx()).unwrap();
    assert!(matches!(
        store.release(hold, &ctx()),
        Err(Error::Missing(_))
    ));
    let subject_hold = store
        .hold(HoldTarget::Subject(&subject(1)), &ctx())
        .unwrap();
    assert!(
        matches!(store.erase(&subject(1), Some("watchlist"), &ctx()), Err(Error::Held { target, .. }) if target == "subject")
    );
    store.release(subject_hold, &ctx()).unwrap();
    let report = store.sweep(None, &ctx()).unwrap();
    assert_eq!(report.deleted["border"], vec![r1]);
    let erased = store.erase(&subject(1), None, &ctx()).unwrap();
    assert_eq!(erased.erased["watchlist"], vec![r2]);
    assert!(store
        .erase(&subject(1), None, &ctx())
        .unwrap()
        .erased
        .is_empty());
}

#[test]
fn key_rotation_preserves_every_record() {
    let f = fixture();
    let store = f.open();
    let mut ids = Vec::new();
    for s in 0..20 {
        ids.push(
            store
                .enroll(
                    "border",
                    &subject(s),
                    Sample::Features(f.x(s, 0)),
                    Retention::Maximum,
                    &ctx(),
                )
                .unwrap(),
        );
    }
    let before: Vec<f64> = (0..20)
        .map(|s| {
            store
                .verify("border", &subject(s), Sample::Features(f.x(s, 1)), &ctx())
                .unwrap()
                .decision
                .score
        })
        .collect();
    let report = store.rotate_key(Some("border"), &ctx()).unwrap();
    assert_eq!(
        report
            .rotated
            .iter()
            .map(|r| (r.purpose.clone(), r.from, r.to, r.reencrypted))
            .collect::<Vec<_>>(),
        vec![("border".to_string(), 1, 2, 20)]
    );
    let after: Vec<f64> = (0..20)
        .map(|s| {
            store
                .verify("border", &subject(s), Sample::Features(f.x(s, 1)), &ctx())
                .unwrap()
                .decision
                .score
        })
        .collect();
    assert_eq!(before, after);
    drop(store);
    let conn = rusqlite::Connection::open(&f.path).unwrap();
    let old: i64 = conn
        .query_row(
            "SELECT count(*) FROM records WHERE key_version <> 2",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(old, 0);
    let state: String = conn
        .query_row(
            "SELECT state FROM storage_keys WHERE purpose = 'border' AND version = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(state, "retired");
    // New writes use the new version.
    let store = f.open();
    let id = store
        .enroll(
            "border",
            "new",
            Sample::Features(f.x(0, 2)),
            Retention::Maximum,
            &ctx(),
        )
        .unwrap();
    let v: i64 = conn
        .query_row("SELECT key_version FROM records WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(v, 2);
}

#[test]
fn encryption_limit_is_enforced_and_reset_by_rotation() {
    let f = fixture();
    let options = StoreOptions {
        max_encryptions_per_key: 3,
        ..f.options()
    };
    let store = common::open_or_create(&f.path, &master(), &f.purposes, options).unwrap();
    for s in 0..3 {
        store
            .enroll(
                "border",
                &subject(s),
                Sample::Features(f.x(s, 0)),
                Retention::Maximum,
                &ctx(),
            )
            .unwrap();
    }
    assert_eq!(
        store.enroll(
            "border",
            &subject(3),
            Sample::Features(f.x(3, 0)),
            Retention::Maximum,
            &ctx()
        ),
        Err(Error::KeyExhausted {
            purpose: "border".into(),
            version: 1
        })
    );
    // Rotation gives a fresh key: 3 re-encryptions use up version 2 exactly.
    assert_eq!(
        store
            .rotate_key(Some("border"), &ctx())
            .unwrap()
            .rotated
            .iter()
            .map(|r| (r.purpose.clone(), r.from, r.to, r.reencrypted))
            .collect::<Vec<_>>(),
        vec![("border".to_string(), 1, 2, 3)]
    );
    assert_eq!(
        store.enroll(
            "border",
            &subject(3),
            Sample::Features(f.x(3, 0)),
            Retention::Maximum,
            &ctx()
        ),
        Err(Error::KeyExhausted {
            purpose: "border".into(),
            version: 2
        })
    );
    // Other purposes have their own keys and counters.
    store
        .enroll(
            "watchlist",
            &subject(3),
            Sample::Features(f.x(3, 0)),
            Retention::Maximum,
            &ctx(),
        )
        .unwrap();
    // Every record still verifies.
    for s in 0..3 {
        assert!(
            store
                .verify("border", &subject(s), Sample::Features(f.x(s, 0)), &ctx())
                .unwrap()
                .decision
                .matched
        );
    }
}

#[test]
fn other_handles_see_changes() {
    let f = fixture();
    let a = f.open();
    let b = f.open();
    a.enroll(
        "border",
        &subject(1),
        Sample::Features(f.x(1, 0)),
        Retention::Maximum,
        &ctx(),
    )
    .unwrap();
    let found = b
        .identify("border", Sample::Features(f.x(1, 1)), 1, None, &ctx())
        .unwrap();
    assert_eq!(found.candidates[0].subject, subject(1));
    b.enroll(
        "border",
        &subject(2),
        Sample::Features(f.x(2, 0)),
        Retention::Maximum,
        &ctx(),
    )
    .unwrap();
    let found = a
        .identify("border", Sample::Features(f.x(2, 1)), 1, None, &ctx())
        .unwrap();
    assert_eq!(found.candidates[0].subject, subject(2));
    a.erase(&subject(2), None, &ctx()).unwrap();
    let found = b
        .identify("border", Sample::Features(f.x(2, 1)), 5, Some(0.0), &ctx())
        .unwrap();
    assert!(found.candidates.iter().all(|c| c.subject != subject(2)));
}

#[test]
fn every_operation_is_audited_and_the_chain_verifies() {
    use btp::store::{Action, EventFilter};
    let f = fixture();
    let store = f.open();
    let head0 = store.audit_head().unwrap().unwrap();
    let r = store
        .enroll(
            "border",
            &subject(1),
            Sample::Features(f.x(1, 0)),
            Retention::For(Duration::from_secs(DAY)),
            &ctx(),
        )
        .unwrap();
    store
        .verify("border", &subject(1), Sample::Features(f.x(1, 1)), &ctx())
        .unwrap();
    let id = store
        .identify(
            "border",
            Sample::Features(f.x(1, 1)),
            100,
            Some(0.0),
            &ctx(),
        )
        .unwrap();
    store
        .review(id.event, "reviewer", ReviewOutcome::Rejected, &ctx())
        .unwrap();
    let h = store.hold(HoldTarget::Record(r), &ctx()).unwrap();
    store.release(h, &ctx()).unwrap();
    f.advance(2 * DAY);
    store.sweep(None, &ctx()).unwrap();
    store.erase(&subject(1), None, &ctx()).unwrap();
    store.rotate_key(Some("watchlist"), &ctx()).unwrap();
    let events = store.audit_events(&EventFilter::default()).unwrap();
    let actions: Vec<Action> = events.iter().map(|e| e.action).collect();
    for a in [
        Action::StoreCreated,
        Action::PurposeAdded,
        Action::Enroll,
        Action::Verify,
        Action::Identify,
        Action::Review,
        Action::Hold,
        Action::Release,
        Action::Sweep,
        Action::Erase,
        Action::RotateKeyStart,
        Action::RotateKeyFinish,
    ] {
        assert!(actions.contains(&a), "{a:?} missing");
    }
    // Who and why on every operation; subject hashes, never subject ids.
    let enroll = events.iter().find(|e| e.action == Action::Enroll).unwrap();
    assert_eq!(
        (enroll.actor.as_str(), enroll.reason.as_str()),
        ("officer-7", "case 2026/114")
    );
    assert_eq!(enroll.records, vec![r]);
    let mut export = Vec::new();
    store
        .export_audit(&EventFilter::default(), &mut export)
        .unwrap();
    let text = String::from_utf8(export).unwrap();
    assert_eq!(text.lines().count(), events.len());
    assert!(!text.contains(&subject(1)));
    let verify = events.iter().find(|e| e.action == Action::Verify).unwrap();
    assert!(verify.detail["score"].as_f64().is_some());
    let report = store.verify_audit().unwrap();
    assert_eq!(report.events, events.len() as u64);
    store.check_audit_head(&head0).unwrap();
    let stats = store.stats(0, i64::MAX).unwrap();
    let border = stats
        .activity
        .iter()
        .find(|a| a.purpose == "border")
        .unwrap();
    assert_eq!(border.counts.get("enroll"), Some(&1));
    assert_eq!(border.swept_records, 1);
    assert_eq!(border.erased_records, 0);
    drop(store);
    // An edited audit row is found, with its sequence number.
    let seq = verify.seq;
    rusqlite::Connection::open(&f.path)
        .unwrap()
        .execute_batch(&format!(
            "DROP TRIGGER IF EXISTS audit_no_update; UPDATE audit SET outcome = 'no-match' WHERE seq = {seq};"
        ))
        .unwrap();
    let store = f.open();
    match store.verify_audit() {
        Err(Error::AuditBroken { seq: bad, .. }) => assert_eq!(bad, seq),
        other => panic!("{other:?}"),
    }
}

#[test]
fn long_candidate_lists_are_audited() {
    let f = fixture();
    let store = f.open();
    for s in 0..20 {
        for j in 0..3 {
            for copy in 0..2 {
                let name = format!("{}-{j}-{copy}", subject(s));
                store
                    .enroll(
                        "border",
                        &name,
                        Sample::Features(f.x(s, j)),
                        Retention::Maximum,
                        &ctx(),
                    )
                    .unwrap();
            }
        }
    }
    let id = store
        .identify(
            "border",
            Sample::Features(f.x(0, 0)),
            1000,
            Some(0.0),
            &ctx(),
        )
        .unwrap();
    assert_eq!(id.candidates.len(), 120);
    let ev = &store
        .audit_events(&btp::store::EventFilter::default())
        .unwrap()[id.event as usize - 1];
    assert_eq!(ev.seq, id.event);
    assert_eq!(ev.records.len(), 120);
    assert_eq!(ev.detail["candidates"], 120);
    assert_eq!(ev.detail["scores"].as_array().unwrap().len(), 64);
    store.verify_audit().unwrap();
}

#[test]
fn retained_probes_are_kept_apart_and_expire() {
    let f = fixture();
    let store = f.open();
    store
        .enroll(
            "border",
            &subject(1),
            Sample::Features(f.x(1, 0)),
            Retention::Maximum,
            &ctx(),
        )
        .unwrap();
    let probe = store
        .retain_probe(
            "border",
            "case-77",
            Sample::Features(f.x(2, 0)),
            Retention::For(Duration::from_secs(DAY)),
            &ctx(),
        )
        .unwrap();
    // The retained probe is evidence, not a gallery entry.
    let found = store
        .identify("border", Sample::Features(f.x(2, 1)), 10, Some(0.0), &ctx())
        .unwrap();
    assert!(found.candidates.iter().all(|c| c.record != probe));
    let (case, t) = store.retained_probe(probe).unwrap();
    assert_eq!(case, "case-77");
    assert_eq!(
        t,
        store
            .protector("border")
            .unwrap()
            .protect(f.x(2, 0))
            .unwrap()
    );
    f.advance(DAY);
    assert_eq!(
        store.retained_probe(probe),
        Err(Error::Expired { record: probe })
    );
    let report = store.sweep(None, &ctx()).unwrap();
    assert_eq!(report.deleted["border"], vec![probe]);
    assert!(matches!(
        store.retained_probe(probe),
        Err(Error::Missing(_))
    ));
}

#[test]
fn audit_pruning_keeps_the_rest_verifiable() {
    let f = fixture();
    let store = f.open();
    for s in 0..5 {
        store
            .enroll(
                "border",
                &subject(s),
                Sample::Features(f.x(s, 0)),
                Retention::Maximum,
                &ctx(),
            )
            .unwrap();
    }
    f.advance(400 * DAY);
    store
        .enroll(
            "border",
            &subject(6),
            Sample::Features(f.x(6, 0)),
            Retention::Maximum,
            &ctx(),
        )
        .unwrap();
    let before = store
        .audit_events(&btp::store::EventFilter::default())
        .unwrap()
        .len();
    let report = store
        .prune_audit(store.now().unwrap() - 365 * DAY as i64, &ctx())
        .unwrap();
    assert!(report.pruned >= 5, "{report:?}");
    let after = store
        .audit_events(&btp::store::EventFilter::default())
        .unwrap()
        .len();
    assert_eq!(after as u64, before as u64 - report.pruned + 1);
    store.verify_audit().unwrap();
}
