use super::event::{hex, Field};
use super::jsonl::jsonl_line;
use super::table::COLUMNS;
use super::*;
use crate::keys::{DerivedKey, KeyUsage, MasterKey};
use proptest::prelude::*;
use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, Connection, TransactionBehavior};
use serde_json::json;

fn key_for(store: &[u8]) -> DerivedKey {
    MasterKey::from_bytes(&[7u8; 32])
        .unwrap()
        .derive(&KeyUsage::Audit { store_id: store })
}

fn key() -> DerivedKey {
    key_for(b"store-1")
}

fn db() -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(SCHEMA).unwrap();
    // Idempotent: the store may run it on every open.
    conn.execute_batch(SCHEMA).unwrap();
    conn
}

fn add(conn: &mut Connection, key: &DerivedKey, now: i64, event: &NewEvent<'_>) -> u64 {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .unwrap();
    let seq = append(&tx, key, now, event).unwrap();
    tx.commit().unwrap();
    seq
}

fn try_add(conn: &mut Connection, event: &NewEvent<'_>) -> Result<u64> {
    let tx = conn.transaction().unwrap();
    append(&tx, &key(), 1, event)
}

fn do_prune(conn: &mut Connection, key: &DerivedKey, now: i64, before: i64) -> Result<PruneReport> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .unwrap();
    let report = prune(
        &tx,
        key,
        now,
        before,
        "retention-job",
        "audit retention 3 years",
    )?;
    tx.commit().unwrap();
    Ok(report)
}

fn subject(i: u8) -> [u8; 32] {
    let mut s = [0u8; 32];
    s[0] = i;
    s[31] = 0xa5;
    s
}

const PURPOSES: [&str; 3] = ["border-entry", "police-comparison", "city-id"];
/// Every action `append` accepts: all but audit-prune, which `prune` alone
/// writes.
fn appendable() -> Vec<Action> {
    Action::ALL
        .into_iter()
        .filter(|a| *a != Action::AuditPrune)
        .collect()
}

/// A varied event: every field takes several forms across `i`.
fn sample(i: usize) -> NewEvent<'static> {
    let actions = appendable();
    let mut ev = NewEvent::new(
        ["gate-7", "officer 1138", "svc:sweeper", "Zoë \"quoted\"\n"][i % 4],
        actions[i % actions.len()],
        [
            "border crossing",
            "case 2024/17",
            "retention",
            "request of the subject",
        ][i % 4],
    );
    if !i.is_multiple_of(3) {
        ev = ev.purpose(PURPOSES[i % PURPOSES.len()]);
    }
    if i.is_multiple_of(2) {
        ev = ev.records((0..(i % 4) as i64).map(|r| r * 1000 - 7 + i as i64));
    }
    if i % 5 != 1 {
        ev = ev.subjects((0..(i % 3) as u8).map(|s| subject(s.wrapping_add(i as u8))));
    }
    ev = ev.outcome(["ok", "match", "no-match", "refused: held"][i % 4]);
    if i % 4 != 3 {
        ev = ev
            .detail("score", 0.1 + i as f64 / 7.0)
            .detail("threshold", 0.71)
            .detail("k", i as u64 % 10)
            .detail("scores", json!([0.9, 0.5, -0.25, 1e-9]))
            .detail("note", json!({"b": null, "a": [true, "x\u{1}y"]}));
    }
    ev
}

/// A log of `n` sample events at times 1000, 1001, ...
fn chain(n: usize) -> Connection {
    let mut conn = db();
    let key = key();
    for i in 0..n {
        assert_eq!(
            add(&mut conn, &key, 1000 + i as i64, &sample(i)),
            i as u64 + 1
        );
    }
    conn
}

/// What an attacker with the file does first.
fn unguard(conn: &Connection) {
    conn.execute_batch(
        "DROP TRIGGER audit_no_update; DROP TRIGGER audit_prune_only;
         DROP TRIGGER audit_anchor_forward; DROP TRIGGER audit_anchor_kept;",
    )
    .unwrap();
}

fn broken_at<T: fmt::Debug>(result: Result<T>) -> u64 {
    match result {
        Err(Error::AuditBroken { seq, .. }) => seq,
        other => panic!("expected AuditBroken, got {other:?}"),
    }
}

fn all(conn: &Connection) -> Vec<AuditEvent> {
    events(conn, &EventFilter::default()).unwrap()
}

fn export_all(conn: &Connection) -> String {
    let mut out = Vec::new();
    export_jsonl(conn, &EventFilter::default(), &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

// ---------------------------------------------------------------------------
// Round trip and format
// ---------------------------------------------------------------------------

#[test]
fn action_names_round_trip() {
    for a in Action::ALL {
        assert_eq!(Action::parse(a.as_str()), Some(a));
        assert_eq!(a.to_string(), a.as_str());
    }
    assert_eq!(Action::parse("Enroll"), None);
    assert_eq!(Action::parse(""), None);
    let names: std::collections::HashSet<_> = Action::ALL.iter().map(|a| a.as_str()).collect();
    assert_eq!(names.len(), Action::ALL.len());
}

#[test]
fn columns_and_line_members_follow_the_fields() {
    // The row decoder reads column `Field as usize`; the line parser knows
    // the members by `Field::name`.
    let names: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
    assert_eq!(COLUMNS, names.join(", "));
    for (i, field) in Field::ALL.into_iter().enumerate() {
        assert_eq!(field as usize, i);
    }
    let line = export_all(&chain(1));
    let at: Vec<usize> = names
        .iter()
        .map(|n| line.find(&format!("\"{n}\":")).unwrap())
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{line}");
}

#[test]
fn sample_events_cover_every_appendable_action() {
    let seen: std::collections::HashSet<Action> =
        (0..appendable().len()).map(|i| sample(i).action).collect();
    assert_eq!(seen.len(), Action::ALL.len() - 1);
    assert!(!seen.contains(&Action::AuditPrune));
}

#[test]
fn append_events_export_parse_round_trip() {
    let n = 24;
    let conn = chain(n);
    let stored = all(&conn);
    assert_eq!(stored.len(), n);
    for (i, ev) in stored.iter().enumerate() {
        let want = sample(i);
        assert_eq!(ev.seq, i as u64 + 1);
        assert_eq!(ev.time, 1000 + i as i64);
        assert_eq!(ev.actor, want.actor);
        assert_eq!(ev.action, want.action);
        assert_eq!(ev.purpose.as_deref(), want.purpose);
        assert_eq!(ev.reason, want.reason);
        assert_eq!(ev.records, want.records);
        assert_eq!(ev.subjects, want.subjects);
        assert_eq!(ev.outcome, want.outcome);
        assert_eq!(ev.detail, want.detail);
    }
    let text = export_all(&conn);
    assert_eq!(text.lines().count(), n);
    assert!(text.ends_with('\n'));
    let parsed: Vec<AuditEvent> = text.lines().map(|l| parse_jsonl_line(l).unwrap()).collect();
    assert_eq!(parsed, stored);
    // The lines are what the documentation says.
    let first = text.lines().next().unwrap();
    assert!(first.starts_with("{\"seq\":1,\"time\":1000,\"actor\":\"gate-7\",\"action\":\"store-created\",\"purpose\":null,"), "{first}");
    assert!(first.contains(&format!("\"mac\":\"{}\"}}", hex(&stored[0].mac))));
}

#[test]
fn mac_follows_the_documented_construction() {
    // Recompute the MAC of two events from the module documentation, with
    // HMAC from the keys module only.
    let mut conn = db();
    let key = key();
    let e1 = NewEvent::new("gate-7", Action::Verify, "crossing")
        .purpose("border-entry")
        .records([42, -1])
        .subjects([subject(3)])
        .outcome("match")
        .detail("threshold", 0.75)
        .detail("score", 0.8125);
    let e2 = NewEvent::new("svc", Action::StoreCreated, "setup");
    add(&mut conn, &key, 1_700_000_000, &e1);
    add(&mut conn, &key, -5, &e2);

    fn s(out: &mut Vec<u8>, x: &str) {
        out.extend_from_slice(&(x.len() as u32).to_be_bytes());
        out.extend_from_slice(x.as_bytes());
    }
    let mut m1 = b"btp/v1/audit-event\0".to_vec();
    m1.extend_from_slice(&1u64.to_be_bytes());
    m1.extend_from_slice(&1_700_000_000i64.to_be_bytes());
    s(&mut m1, "gate-7");
    s(&mut m1, "verify");
    m1.push(1);
    s(&mut m1, "border-entry");
    s(&mut m1, "crossing");
    m1.extend_from_slice(&2u32.to_be_bytes());
    m1.extend_from_slice(&42i64.to_be_bytes());
    m1.extend_from_slice(&(-1i64).to_be_bytes());
    m1.extend_from_slice(&1u32.to_be_bytes());
    m1.extend_from_slice(&subject(3));
    s(&mut m1, "match");
    s(&mut m1, r#"{"score":0.8125,"threshold":0.75}"#);
    m1.extend_from_slice(&GENESIS);
    let mac1 = key.mac(&[&m1]);

    let mut m2 = b"btp/v1/audit-event\0".to_vec();
    m2.extend_from_slice(&2u64.to_be_bytes());
    m2.extend_from_slice(&(-5i64).to_be_bytes());
    s(&mut m2, "svc");
    s(&mut m2, "store-created");
    m2.push(0);
    s(&mut m2, "setup");
    m2.extend_from_slice(&0u32.to_be_bytes());
    m2.extend_from_slice(&0u32.to_be_bytes());
    s(&mut m2, "ok");
    s(&mut m2, "{}");
    m2.extend_from_slice(&mac1);
    let mac2 = key.mac(&[&m2]);

    let stored = all(&conn);
    assert_eq!(stored[0].mac, mac1);
    assert_eq!(stored[1].mac, mac2);
    assert_eq!(head(&conn).unwrap(), Some(AuditHead { seq: 2, mac: mac2 }));
    // The stored columns are the documented texts.
    let (records, subjects, detail): (String, String, String) = conn
        .query_row(
            "SELECT records, subjects, detail FROM audit WHERE seq = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(records, "[42,-1]");
    assert_eq!(subjects, format!("[\"{}\"]", hex(&subject(3))));
    assert_eq!(detail, r#"{"score":0.8125,"threshold":0.75}"#);
}

#[test]
fn verify_accepts_a_long_chain() {
    let n = 600;
    let conn = chain(n);
    let report = verify(&conn, &key()).unwrap();
    assert_eq!(
        report,
        AuditReport {
            events: n as u64,
            first_seq: Some(1),
            head: head(&conn).unwrap(),
            pruned_through: None,
        }
    );
    assert_eq!(report.head.unwrap().seq, n as u64);
    check_head(&conn, &key(), &report.head.unwrap()).unwrap();
}

#[test]
fn empty_log() {
    let conn = db();
    assert_eq!(head(&conn).unwrap(), None);
    assert_eq!(
        verify(&conn, &key()).unwrap(),
        AuditReport {
            events: 0,
            first_seq: None,
            head: None,
            pruned_through: None
        }
    );
    assert_eq!(export_all(&conn), "");
    assert_eq!(verify_events(&[], &key(), None).unwrap().events, 0);
}

#[test]
fn wrong_key_or_store_fails_at_the_first_event() {
    let conn = chain(5);
    assert_eq!(broken_at(verify(&conn, &key_for(b"store-2"))), 1);
}

// ---------------------------------------------------------------------------
// Tamper detection on the table
// ---------------------------------------------------------------------------

/// One way to change each column of a row, in canonical form (so the MAC,
/// not the canonical-form check, is what catches it) and in a form that
/// only changes the spelling.
fn column_tampers() -> Vec<(&'static str, String)> {
    let zero_subject = format!("[\"{}\"]", "0".repeat(64));
    vec![
        ("time", "time = time + 1".into()),
        ("actor", "actor = actor || 'x'".into()),
        (
            "action",
            "action = CASE action WHEN 'verify' THEN 'identify' ELSE 'verify' END".into(),
        ),
        ("action (unknown)", "action = 'delete-everything'".into()),
        (
            "purpose",
            "purpose = CASE WHEN purpose IS NULL THEN 'city-id' ELSE NULL END".into(),
        ),
        (
            "purpose (renamed)",
            "purpose = COALESCE(purpose, '') || 'x'".into(),
        ),
        ("reason", "reason = reason || 'x'".into()),
        (
            "records",
            "records = CASE records WHEN '[]' THEN '[1]' ELSE '[]' END".into(),
        ),
        (
            "records (spelling)",
            "records = '[ ' || substr(records, 2)".into(),
        ),
        (
            "subjects",
            format!(
                "subjects = CASE subjects WHEN '{zero_subject}' THEN '[]' ELSE '{zero_subject}' END"
            ),
        ),
        (
            "subjects (case)",
            format!("subjects = '[\"{}\"]'", "A".repeat(64)),
        ),
        ("outcome", "outcome = outcome || 'x'".into()),
        (
            "detail",
            "detail = CASE detail WHEN '{}' THEN '{\"score\":1}' ELSE '{}' END".into(),
        ),
        ("detail (spelling)", "detail = '{ }'".into()),
        ("detail (not json)", "detail = 'score=1'".into()),
        ("mac", "mac = randomblob(32)".into()),
    ]
}

#[test]
fn a_modified_field_is_caught_at_its_seq() {
    for (column, set) in column_tampers() {
        for target in [1u64, 5, 10] {
            let conn = chain(10);
            unguard(&conn);
            let changed = conn
                .execute(
                    &format!("UPDATE audit SET {set} WHERE seq = ?1"),
                    [target as i64],
                )
                .unwrap();
            assert_eq!(changed, 1);
            assert_eq!(
                broken_at(verify(&conn, &key())),
                target,
                "column {column} at {target}"
            );
        }
    }
}

#[test]
fn a_respelled_column_is_caught() {
    // The same data in another spelling: only the canonical-form check can
    // tell, since the MAC is over the parsed values.
    type Respell = fn(&str) -> String;
    let respell: [(&str, Respell); 3] = [
        ("records", |t| t.replace(',', ", ")),
        ("subjects", |t| format!(" {t}")),
        ("detail", |t| {
            serde_json::to_string_pretty(&serde_json::from_str::<Value>(t).unwrap()).unwrap()
        }),
    ];
    for (column, f) in respell {
        let mut conn = db();
        let ev = NewEvent::new("a", Action::Identify, "r")
            .records([1, 2])
            .subjects([subject(1)])
            .detail("k", 2)
            .detail("scores", json!([0.5, 0.25]));
        add(&mut conn, &key(), 1, &ev);
        add(&mut conn, &key(), 2, &ev);
        unguard(&conn);
        let text: String = conn
            .query_row(
                &format!("SELECT {column} FROM audit WHERE seq = 2"),
                [],
                |r| r.get(0),
            )
            .unwrap();
        let respelled = f(&text);
        assert_ne!(respelled, text);
        conn.execute(
            &format!("UPDATE audit SET {column} = ?1 WHERE seq = 2"),
            [&respelled],
        )
        .unwrap();
        assert_eq!(broken_at(verify(&conn, &key())), 2, "{column}");
        assert_eq!(broken_at(events(&conn, &EventFilter::default())), 2);
    }
}

#[test]
fn a_spliced_event_from_another_history_is_caught() {
    // Two histories under the same key agree on events 1..=5 and differ at
    // 6 (e.g. the file was rolled back and the store went on). Each event 6
    // is genuine; moving one into the other history breaks the chain at
    // its successor, and at the held head when it is the last.
    let key = key();
    let mut a = chain(5);
    let mut b = chain(5);
    for i in 5..8 {
        add(&mut a, &key, 2000, &sample(i));
        add(&mut b, &key, 2000, &sample(i + 20));
    }
    let a_head = head(&a).unwrap().unwrap();
    unguard(&a);
    let b6 = row_values(&b, 6);
    a.execute("DELETE FROM audit WHERE seq = 6", []).unwrap();
    insert_row(&a, &b6);
    assert_eq!(broken_at(verify(&a, &key)), 7);

    let mut a = chain(5);
    add(&mut a, &key, 2000, &sample(5));
    let held = head(&a).unwrap().unwrap();
    unguard(&a);
    a.execute("DELETE FROM audit WHERE seq = 6", []).unwrap();
    insert_row(&a, &b6);
    verify(&a, &key).unwrap();
    assert_eq!(broken_at(check_head(&a, &key, &held)), 6);
    assert_ne!(held, a_head);
}

#[test]
fn a_deleted_middle_event_is_caught() {
    for target in [1u64, 2, 6, 9] {
        let conn = chain(10);
        unguard(&conn);
        conn.execute("DELETE FROM audit WHERE seq = ?1", [target as i64])
            .unwrap();
        assert_eq!(broken_at(verify(&conn, &key())), target);
    }
}

#[test]
fn a_deleted_last_event_is_caught_with_the_held_head() {
    let conn = chain(10);
    let held = head(&conn).unwrap().unwrap();
    let earlier = all(&conn)[6].head();
    check_head(&conn, &key(), &held).unwrap();
    check_head(&conn, &key(), &earlier).unwrap();
    unguard(&conn);
    conn.execute("DELETE FROM audit WHERE seq >= 9", [])
        .unwrap();
    // The shorter chain is valid in itself...
    assert_eq!(verify(&conn, &key()).unwrap().events, 8);
    // ...but the head kept elsewhere proves the truncation.
    assert_eq!(broken_at(check_head(&conn, &key(), &held)), 9);
    check_head(&conn, &key(), &earlier).unwrap();
}

#[test]
fn a_rewritten_log_fails_the_held_head() {
    // Rollback: the file is replaced by a copy from before event 10, after
    // which the store appends a different event 10.
    let mut conn = chain(10);
    let held = head(&conn).unwrap().unwrap();
    unguard(&conn);
    conn.execute("DELETE FROM audit WHERE seq = 10", [])
        .unwrap();
    add(&mut conn, &key(), 5000, &sample(3));
    verify(&conn, &key()).unwrap();
    assert_eq!(broken_at(check_head(&conn, &key(), &held)), 10);
    // A forged held head is refused too, and seq 0 is not a head.
    let forged = AuditHead {
        seq: 4,
        mac: [1; 32],
    };
    assert_eq!(broken_at(check_head(&conn, &key(), &forged)), 4);
    assert!(matches!(
        check_head(
            &conn,
            &key(),
            &AuditHead {
                seq: 0,
                mac: [0; 32]
            }
        ),
        Err(Error::InvalidParameter { name: "head", .. })
    ));
}

fn row_values(conn: &Connection, seq: u64) -> Vec<SqlValue> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM audit WHERE seq = ?1"),
        [seq as i64],
        |r| (0..11).map(|i| r.get::<_, SqlValue>(i)).collect(),
    )
    .unwrap()
}

fn insert_row(conn: &Connection, values: &[SqlValue]) {
    conn.execute(
        &format!(
            "INSERT INTO audit ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        ),
        params_from_iter(values),
    )
    .unwrap();
}

/// Swaps everything but `seq` between two rows.
fn swap_rows(conn: &Connection, a: u64, b: u64) {
    let (ra, rb) = (row_values(conn, a), row_values(conn, b));
    conn.execute(
        "DELETE FROM audit WHERE seq IN (?1, ?2)",
        [a as i64, b as i64],
    )
    .unwrap();
    let mut na = rb.clone();
    na[0] = ra[0].clone();
    let mut nb = ra;
    nb[0] = rb[0].clone();
    insert_row(conn, &na);
    insert_row(conn, &nb);
}

/// Makes room at `at` by renumbering `at..` one up.
fn shift_up(conn: &Connection, at: u64) {
    conn.execute_batch(&format!(
        "UPDATE audit SET seq = seq + 1000000 WHERE seq >= {at};
         UPDATE audit SET seq = seq - 999999 WHERE seq >= 1000000;"
    ))
    .unwrap();
}

#[test]
fn an_inserted_event_is_caught() {
    // At the end, with a made-up MAC.
    let conn = chain(10);
    let mut row = row_values(&conn, 4);
    row[0] = SqlValue::Integer(11);
    row[10] = SqlValue::Blob(vec![9; 32]);
    insert_row(&conn, &row);
    assert_eq!(broken_at(verify(&conn, &key())), 11);

    // At the end, replaying a genuine event and its MAC.
    let conn = chain(10);
    let mut row = row_values(&conn, 10);
    row[0] = SqlValue::Integer(11);
    insert_row(&conn, &row);
    assert_eq!(broken_at(verify(&conn, &key())), 11);

    // In the middle, renumbering the rest.
    for at in [1u64, 4, 10] {
        let conn = chain(10);
        unguard(&conn);
        shift_up(&conn, at);
        let mut row = row_values(&conn, at + 1);
        row[0] = SqlValue::Integer(at as i64);
        row[2] = SqlValue::Text("intruder".into());
        insert_row(&conn, &row);
        assert_eq!(broken_at(verify(&conn, &key())), at, "insert at {at}");
    }
}

#[test]
fn swapped_events_are_caught() {
    for (a, b) in [(1u64, 2u64), (3, 8), (9, 10)] {
        let conn = chain(10);
        unguard(&conn);
        swap_rows(&conn, a, b);
        assert_eq!(broken_at(verify(&conn, &key())), a, "swap {a} {b}");
    }
}

#[test]
fn a_renumbered_event_is_caught() {
    let conn = chain(10);
    unguard(&conn);
    conn.execute("UPDATE audit SET seq = 15 WHERE seq = 7", [])
        .unwrap();
    assert_eq!(broken_at(verify(&conn, &key())), 7);
}

#[test]
fn a_row_before_the_log_is_caught() {
    let conn = chain(3);
    conn.execute_batch(
        "CREATE TABLE t AS SELECT * FROM audit; DROP TABLE audit;
         CREATE TABLE audit AS SELECT * FROM t; UPDATE audit SET seq = 0 WHERE seq = 1;",
    )
    .unwrap();
    assert_eq!(broken_at(verify(&conn, &key())), 1);
}

#[test]
fn triggers_keep_honest_code_append_only() {
    let mut conn = chain(5);
    assert!(conn
        .execute("UPDATE audit SET actor = 'x' WHERE seq = 2", [])
        .is_err());
    assert!(conn.execute("DELETE FROM audit WHERE seq = 5", []).is_err());
    do_prune(&mut conn, &key(), 2000, 1003).unwrap();
    assert!(conn.execute("DELETE FROM audit_anchor", []).is_err());
    assert!(conn.execute("UPDATE audit_anchor SET seq = 1", []).is_err());
    assert!(conn.execute("DELETE FROM audit WHERE seq = 4", []).is_err());
    verify(&conn, &key()).unwrap();
}

#[test]
fn concurrent_writers_do_not_fork_the_chain() {
    // Four connections to one file append at once, each in BEGIN IMMEDIATE
    // transactions as the store does: the chain stays linear.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("PRAGMA journal_mode = WAL;").unwrap();
    conn.execute_batch(SCHEMA).unwrap();
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut conn = Connection::open(&path).unwrap();
                conn.busy_timeout(std::time::Duration::from_secs(60))
                    .unwrap();
                let key = key();
                let actor = format!("writer-{w}");
                for i in 0..40 {
                    let tx = conn
                        .transaction_with_behavior(TransactionBehavior::Immediate)
                        .unwrap();
                    append(&tx, &key, i, &NewEvent::new(&actor, Action::Verify, "load")).unwrap();
                    tx.commit().unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let report = verify(&conn, &key()).unwrap();
    assert_eq!((report.first_seq, report.events), (Some(1), 160));
    // A writer that computed its seq from a stale tail cannot add a branch.
    let mut row = row_values(&conn, 160);
    row[2] = SqlValue::Text("stale".into());
    assert!(conn
        .execute(
            &format!("INSERT INTO audit ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"),
            params_from_iter(&row),
        )
        .is_err());
}

// ---------------------------------------------------------------------------
// Pruning
// ---------------------------------------------------------------------------

#[test]
fn prune_keeps_the_rest_verifiable() {
    let mut conn = chain(10);
    let key = key();
    let kept_before: Vec<_> = all(&conn).into_iter().filter(|e| e.time >= 1004).collect();
    let mac4 = all(&conn)[3].mac;
    let report = do_prune(&mut conn, &key, 2000, 1004).unwrap();
    assert_eq!(
        report,
        PruneReport {
            pruned: 4,
            pruned_through: Some(4)
        }
    );
    let after = all(&conn);
    assert_eq!(after[..6], kept_before[..]);
    let prune_event = after.last().unwrap();
    assert_eq!(prune_event.seq, 11);
    assert_eq!(prune_event.action, Action::AuditPrune);
    assert_eq!(prune_event.actor, "retention-job");
    assert_eq!(prune_event.detail["pruned_through"], 4);
    assert_eq!(prune_event.detail["count"], 4);
    assert_eq!(prune_event.detail["before"], 1004);
    assert_eq!(prune_event.detail["anchor_mac"], hex(&mac4));
    assert_eq!(
        verify(&conn, &key).unwrap(),
        AuditReport {
            events: 7,
            first_seq: Some(5),
            head: Some(prune_event.head()),
            pruned_through: Some(4)
        }
    );
    // Appending continues the chain; a second prune moves the anchor on and
    // may delete the first audit-prune event.
    add(&mut conn, &key, 2001, &sample(4));
    let report = do_prune(&mut conn, &key, 3000, 2001).unwrap();
    assert_eq!(report.pruned, 7);
    assert_eq!(report.pruned_through, Some(11));
    let report = verify(&conn, &key).unwrap();
    assert_eq!((report.first_seq, report.events), (Some(12), 2));
    // A prune with nothing to delete is still logged, restating the anchor.
    let report = do_prune(&mut conn, &key, 3001, 100).unwrap();
    assert_eq!(
        report,
        PruneReport {
            pruned: 0,
            pruned_through: Some(11)
        }
    );
    assert_eq!(verify(&conn, &key).unwrap().events, 3);
    // Pruning everything leaves the audit-prune event alone.
    let report = do_prune(&mut conn, &key, 4000, 4000).unwrap();
    assert_eq!(report.pruned, 3);
    let report = verify(&conn, &key).unwrap();
    assert_eq!((report.first_seq, report.events), (Some(15), 1));
    assert_eq!(report.pruned_through, Some(14));
    add(&mut conn, &key, 4001, &sample(1));
    assert_eq!(verify(&conn, &key).unwrap().events, 2);
}

#[test]
fn prune_of_an_unpruned_log_with_nothing_old() {
    let mut conn = chain(3);
    let report = do_prune(&mut conn, &key(), 2000, 10).unwrap();
    assert_eq!(
        report,
        PruneReport {
            pruned: 0,
            pruned_through: None
        }
    );
    let last = all(&conn).pop().unwrap();
    assert_eq!(last.detail["pruned_through"], Value::Null);
    assert_eq!(last.detail["anchor_mac"], Value::Null);
    assert_eq!(verify(&conn, &key()).unwrap().pruned_through, None);
}

#[test]
fn prune_stops_at_the_first_recent_event() {
    // The clock went backwards: event 3 is old but follows a recent one.
    let mut conn = db();
    let key = key();
    for (i, t) in [100, 500, 90, 600].into_iter().enumerate() {
        add(&mut conn, &key, t, &sample(i));
    }
    let report = do_prune(&mut conn, &key, 1000, 400).unwrap();
    assert_eq!(report.pruned_through, Some(1));
    verify(&conn, &key).unwrap();
}

#[test]
fn prune_checks_its_arguments_and_the_log() {
    let mut conn = chain(5);
    assert!(matches!(
        do_prune(&mut conn, &key(), 100, 200),
        Err(Error::InvalidParameter { name: "before", .. })
    ));
    let tx = conn.transaction().unwrap();
    assert!(matches!(
        prune(&tx, &key(), 2000, 1002, "", "r"),
        Err(Error::InvalidParameter { name: "actor", .. })
    ));
    drop(tx);
    // A broken log is not pruned: pruning must not launder tampering.
    unguard(&conn);
    conn.execute("UPDATE audit SET reason = 'x' WHERE seq = 2", [])
        .unwrap();
    assert_eq!(broken_at(do_prune(&mut conn, &key(), 2000, 1004)), 2);
    assert_eq!(all(&conn).len(), 5);
}

#[test]
fn deleting_old_events_without_prune_is_caught() {
    // No anchor at all.
    let conn = chain(10);
    unguard(&conn);
    conn.execute("DELETE FROM audit WHERE seq <= 3", [])
        .unwrap();
    assert_eq!(broken_at(verify(&conn, &key())), 1);

    // With an anchor forged from the genuine MAC of the last deleted event:
    // the chain verifies from it, but no audit-prune event states it.
    let conn = chain(10);
    unguard(&conn);
    let mac3 = all(&conn)[2].mac;
    conn.execute(
        "INSERT INTO audit_anchor (id, seq, mac) VALUES (1, 3, ?1)",
        [&mac3[..]],
    )
    .unwrap();
    conn.execute("DELETE FROM audit WHERE seq <= 3", [])
        .unwrap();
    assert_eq!(broken_at(verify(&conn, &key())), 1);

    // After a genuine prune through 4, deleting 5..=6 and moving the anchor.
    let mut conn = chain(10);
    do_prune(&mut conn, &key(), 2000, 1004).unwrap();
    unguard(&conn);
    let mac6 = all(&conn)[1].mac;
    conn.execute("UPDATE audit_anchor SET seq = 6, mac = ?1", [&mac6[..]])
        .unwrap();
    conn.execute("DELETE FROM audit WHERE seq <= 6", [])
        .unwrap();
    assert_eq!(broken_at(verify(&conn, &key())), 5);

    // Deleting the audit-prune event (the whole log after the anchor but
    // for newer events would leave a gap, so take the prefix through it).
    let mut conn = chain(10);
    do_prune(&mut conn, &key(), 2000, 1004).unwrap();
    add(&mut conn, &key(), 2001, &sample(2));
    unguard(&conn);
    let mac11 = all(&conn)[6].mac;
    conn.execute("UPDATE audit_anchor SET seq = 11, mac = ?1", [&mac11[..]])
        .unwrap();
    conn.execute("DELETE FROM audit WHERE seq <= 11", [])
        .unwrap();
    assert_eq!(broken_at(verify(&conn, &key())), 1);
}

#[test]
fn tampering_with_the_anchor_is_caught() {
    let pruned = || {
        let mut conn = chain(10);
        do_prune(&mut conn, &key(), 2000, 1004).unwrap();
        unguard(&conn);
        conn
    };
    // Its MAC: the first event no longer chains from it.
    let conn = pruned();
    conn.execute("UPDATE audit_anchor SET mac = zeroblob(32)", [])
        .unwrap();
    assert_eq!(broken_at(verify(&conn, &key())), 5);
    // Its seq, lower: event 4 is missing.
    let conn = pruned();
    conn.execute("UPDATE audit_anchor SET seq = 3", []).unwrap();
    assert_eq!(broken_at(verify(&conn, &key())), 4);
    // Its seq, higher: event 5 comes before the anchor.
    let conn = pruned();
    conn.execute("UPDATE audit_anchor SET seq = 5", []).unwrap();
    assert_eq!(broken_at(verify(&conn, &key())), 5);
    // Deleted: the log no longer starts at 1.
    let conn = pruned();
    conn.execute("DELETE FROM audit_anchor", []).unwrap();
    assert_eq!(broken_at(verify(&conn, &key())), 1);
    // Malformed.
    let conn = pruned();
    conn.execute_batch(
        "DROP TABLE audit_anchor; CREATE TABLE audit_anchor (id, seq, mac);
         INSERT INTO audit_anchor VALUES (1, 'four', x'00');",
    )
    .unwrap();
    assert_eq!(broken_at(verify(&conn, &key())), 1);
    // Restored pruned events (from a backup) with the anchor removed: the
    // audit-prune event says they are gone.
    let original = chain(10);
    let old_rows: Vec<_> = (1..=4).map(|s| row_values(&original, s)).collect();
    let conn = pruned();
    conn.execute("DELETE FROM audit_anchor", []).unwrap();
    for row in &old_rows {
        insert_row(&conn, row);
    }
    assert_eq!(broken_at(verify(&conn, &key())), 1);
}

// ---------------------------------------------------------------------------
// Append validation
// ---------------------------------------------------------------------------

#[test]
fn append_refuses_bad_events() {
    let mut conn = db();
    let cases: Vec<(NewEvent<'static>, &str)> = vec![
        (NewEvent::new("", Action::Verify, "r"), "actor"),
        (NewEvent::new("a", Action::Verify, ""), "reason"),
        (
            NewEvent::new("a", Action::Verify, "r").outcome(""),
            "outcome",
        ),
        (
            NewEvent::new("a", Action::Verify, "r").purpose(""),
            "purpose",
        ),
        (NewEvent::new("a", Action::AuditPrune, "r"), "action"),
        (
            NewEvent::new(
                Box::leak("a".repeat(MAX_TEXT_LEN + 1).into_boxed_str()),
                Action::Verify,
                "r",
            ),
            "actor",
        ),
        // A feature vector.
        (
            NewEvent::new("a", Action::Enroll, "r").detail("features", vec![0.5f64; 65]),
            "detail",
        ),
        // The same, split into two arrays and a few members.
        (
            NewEvent::new("a", Action::Enroll, "r")
                .detail("f1", vec![0.5f64; 48])
                .detail("f2", vec![0.5f64; 48])
                .detail("f3", 0.5),
            "detail",
        ),
        (
            NewEvent::new("a", Action::Enroll, "r").detail("nested", json!({"v": [vec![1; 65]]})),
            "detail",
        ),
        // Encoded as text.
        (
            NewEvent::new("a", Action::Enroll, "r").detail("template", "ab".repeat(129)),
            "detail",
        ),
        (
            NewEvent::new("a", Action::Enroll, "r").detail(&"k".repeat(MAX_DETAIL_STRING + 1), 1),
            "detail",
        ),
        // Integers a double cannot hold exactly.
        (
            NewEvent::new("a", Action::Enroll, "r").detail("id", (1u64 << 53) + 1),
            "detail",
        ),
        (
            NewEvent::new("a", Action::Enroll, "r").detail("deep", {
                let mut v = json!(1);
                for _ in 0..40 {
                    v = json!({ "x": v });
                }
                v
            }),
            "detail",
        ),
    ];
    for (event, field) in cases {
        match try_add(&mut conn, &event) {
            Err(Error::InvalidParameter { name, .. }) => assert_eq!(name, field, "{event:?}"),
            other => panic!("{event:?}: {other:?}"),
        }
    }
    // At the limits.
    let ok = NewEvent::new("a", Action::Identify, "r")
        .detail("scores", vec![0.5f64; MAX_ARRAY_NUMBERS])
        .detail("k", 64)
        .detail("id", 1u64 << 53)
        .detail("label", "x".repeat(MAX_DETAIL_STRING));
    try_add(&mut conn, &ok).unwrap();
    // Too many numbers in all, each array within its limit.
    let many = NewEvent::new("a", Action::Identify, "r")
        .detail("a", vec![1; 64])
        .detail("b", vec![1; MAX_DETAIL_NUMBERS - 63]);
    assert!(try_add(&mut conn, &many).is_err());
}

#[test]
fn detail_numbers_are_stored_canonically() {
    let mut conn = db();
    let ev = NewEvent::new("a", Action::Verify, "r")
        .detail("five", 5.0)
        .detail("neg_zero", -0.0)
        .detail("big", 1e21)
        .detail("small", 1e-7)
        .detail("third", 1.0 / 3.0)
        .detail("unicode", "€ and \u{1f600} and \u{7f}");
    add(&mut conn, &key(), 1, &ev);
    let detail: String = conn
        .query_row("SELECT detail FROM audit", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        detail,
        "{\"big\":1e+21,\"five\":5,\"neg_zero\":0,\"small\":1e-7,\"third\":0.3333333333333333,\
         \"unicode\":\"€ and \u{1f600} and \u{7f}\"}"
    );
    let back = &all(&conn)[0].detail;
    assert_eq!(back["five"], 5);
    assert_eq!(back["third"], 1.0 / 3.0);
    verify(&conn, &key()).unwrap();
}

// ---------------------------------------------------------------------------
// Reading, export and offline verification
// ---------------------------------------------------------------------------

#[test]
fn filters_select_events() {
    let conn = chain(40);
    let everything = all(&conn);
    let pick =
        |f: EventFilter| -> Vec<u64> { events(&conn, &f).unwrap().iter().map(|e| e.seq).collect() };
    let expect = |p: &dyn Fn(&AuditEvent) -> bool| -> Vec<u64> {
        everything.iter().filter(|e| p(e)).map(|e| e.seq).collect()
    };
    let f = EventFilter {
        from: Some(1010),
        to: Some(1020),
        ..Default::default()
    };
    assert_eq!(pick(f), expect(&|e| (1010..1020).contains(&e.time)));
    let f = EventFilter {
        purpose: Some("city-id".into()),
        ..Default::default()
    };
    assert_eq!(
        pick(f),
        expect(&|e| e.purpose.as_deref() == Some("city-id"))
    );
    let f = EventFilter {
        action: Some(Action::Verify),
        ..Default::default()
    };
    let verifies = pick(f);
    assert!(!verifies.is_empty());
    assert_eq!(verifies, expect(&|e| e.action == Action::Verify));
    let f = EventFilter {
        after_seq: Some(30),
        limit: Some(4),
        ..Default::default()
    };
    assert_eq!(pick(f), vec![31, 32, 33, 34]);
    let f = EventFilter {
        limit: Some(0),
        ..Default::default()
    };
    assert!(pick(f).is_empty());
    let record = everything
        .iter()
        .find_map(|e| e.records.last().copied())
        .unwrap();
    let f = EventFilter {
        record: Some(record),
        ..Default::default()
    };
    assert_eq!(pick(f), expect(&|e| e.records.contains(&record)));
    let s = subject(5);
    let f = EventFilter {
        subject: Some(s),
        ..Default::default()
    };
    let with_subject = pick(f);
    assert!(!with_subject.is_empty());
    assert_eq!(with_subject, expect(&|e| e.subjects.contains(&s)));
    let f = EventFilter {
        purpose: Some("border-entry".into()),
        from: Some(1005),
        to: Some(1035),
        action: Some(Action::Identify),
        ..Default::default()
    };
    assert_eq!(
        pick(f),
        expect(&|e| e.purpose.as_deref() == Some("border-entry")
            && (1005..1035).contains(&e.time)
            && e.action == Action::Identify)
    );
    // Export uses the same filter.
    let mut out = Vec::new();
    let f = EventFilter {
        after_seq: Some(35),
        ..Default::default()
    };
    assert_eq!(export_jsonl(&conn, &f, &mut out).unwrap(), 5);
}

#[test]
fn verify_events_on_an_export_equals_verify_on_the_table() {
    let key = key();
    let mut conn = chain(30);
    let parse = |text: &str| -> Vec<AuditEvent> {
        text.lines().map(|l| parse_jsonl_line(l).unwrap()).collect()
    };
    let exported = parse(&export_all(&conn));
    assert_eq!(
        verify_events(&exported, &key, None).unwrap(),
        verify(&conn, &key).unwrap()
    );
    // A pruned log: the export verifies by itself, from the anchor its
    // audit-prune event states.
    do_prune(&mut conn, &key, 3000, 1010).unwrap();
    add(&mut conn, &key, 3001, &sample(7));
    let exported = parse(&export_all(&conn));
    let table = verify(&conn, &key).unwrap();
    assert_eq!(table.pruned_through, Some(10));
    assert_eq!(verify_events(&exported, &key, None).unwrap(), table);
    // Without its audit-prune event the export no longer verifies alone...
    let without: Vec<_> = exported
        .iter()
        .filter(|e| e.action != Action::AuditPrune)
        .cloned()
        .collect();
    assert_eq!(broken_at(verify_events(&without[..20], &key, None)), 1);
    // ...but a slice verifies from a head the reader trusts.
    let anchor = exported[4].head();
    let slice = &exported[5..];
    let report = verify_events(slice, &key, Some(&anchor)).unwrap();
    assert_eq!(report.first_seq, Some(slice[0].seq));
    assert_eq!(report.head, table.head);
    let wrong = AuditHead {
        seq: anchor.seq,
        mac: [0; 32],
    };
    assert_eq!(
        broken_at(verify_events(slice, &key, Some(&wrong))),
        slice[0].seq
    );
    // Tampering with the parsed events is caught as on the table.
    let mut edited = exported.clone();
    edited[7].detail.insert("score".into(), json!(0.99));
    assert_eq!(broken_at(verify_events(&edited, &key, None)), edited[7].seq);
    let mut gap = exported.clone();
    gap.remove(3);
    assert_eq!(broken_at(verify_events(&gap, &key, None)), exported[3].seq);
    let mut swapped = exported.clone();
    swapped.swap(2, 3);
    assert_eq!(
        broken_at(verify_events(&swapped, &key, None)),
        exported[2].seq
    );
}

#[test]
fn parse_is_strict() {
    let conn = chain(6);
    let text = export_all(&conn);
    let line = text.lines().nth(2).unwrap().to_owned();
    let event = parse_jsonl_line(&line).unwrap();
    assert_eq!(parse_jsonl_line(&format!("{line}\n")).unwrap(), event);
    assert_eq!(parse_jsonl_line(&format!("{line}\r\n")).unwrap(), event);
    let mac_hex = hex(&event.mac);
    let bad: Vec<String> = vec![
        String::new(),
        "null".into(),
        "[]".into(),
        format!(" {line}"),
        format!("{line}\n\n"),
        line.replace(",\"time\":", ", \"time\":"),
        line.replace(&mac_hex, &mac_hex.to_uppercase()),
        line.replace(&mac_hex, &mac_hex[2..]),
        line.replacen("{\"seq\":3,", "{\"seq\":3,\"seq\":3,", 1),
        line.replacen("{\"seq\":3,", "{\"seq\":3,\"extra\":1,", 1),
        line.replacen("{\"seq\":3,", "{", 1),
        line.replacen("{\"seq\":3,", "{\"seq\":3.0,", 1),
        line.replacen("{\"seq\":3,", "{\"seq\":0,", 1),
        line.replacen("{\"seq\":3,", "{\"seq\":-3,", 1),
        line.replacen("{\"seq\":3,", "{\"seq\":\"3\",", 1),
        line.replace("\"action\":\"enroll\"", "\"action\":\"Enroll\""),
        line.replace("\"threshold\":0.71", "\"threshold\":0.710"),
        line.replace("\"threshold\":0.71", "\"threshold\":7.1e-1"),
        line.replace("\"detail\":{", "\"detail\":{\"threshold\":1,"),
        line.replace("\"mac\":", "\"mac\" :"),
        line.replace("\"svc:sweeper\"", "\"svc\\u003asweeper\""),
    ];
    for b in &bad {
        if b != &line {
            assert!(
                matches!(
                    parse_jsonl_line(b),
                    Err(Error::InvalidParameter { name: "line", .. })
                ),
                "accepted: {b}"
            );
        } else {
            panic!("mutation did not change the line: {b}");
        }
    }
}

#[test]
fn parse_errors_do_not_echo_content() {
    let secret = "Zq8secretvalue";
    let line = format!("{{\"seq\":1,\"{secret}\":\"{secret}\"}}");
    let msg = parse_jsonl_line(&line).unwrap_err().to_string();
    assert!(!msg.contains(secret), "{msg}");
}

// ---------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------

#[test]
fn stats_count_per_purpose() {
    let mut conn = db();
    let key = key();
    let at = |conn: &mut Connection, t: i64, ev: NewEvent<'_>| {
        add(conn, &key, t, &ev);
    };
    at(
        &mut conn,
        5,
        NewEvent::new("admin", Action::StoreCreated, "setup"),
    );
    for (t, p) in [(10, "border"), (11, "border"), (12, "police")] {
        at(
            &mut conn,
            t,
            NewEvent::new("op", Action::Enroll, "r").purpose(p),
        );
    }
    at(
        &mut conn,
        13,
        NewEvent::new("op", Action::Verify, "r").purpose("border"),
    );
    at(
        &mut conn,
        14,
        NewEvent::new("op", Action::Verify, "r").purpose("border"),
    );
    at(
        &mut conn,
        15,
        NewEvent::new("op", Action::Identify, "r")
            .purpose("police")
            .outcome("candidates"),
    );
    at(
        &mut conn,
        16,
        NewEvent::new("op", Action::Review, "r")
            .purpose("police")
            .outcome("confirmed"),
    );
    at(
        &mut conn,
        17,
        NewEvent::new("op", Action::Erase, "request")
            .purpose("border")
            .records([1, 2, 3]),
    );
    at(
        &mut conn,
        18,
        NewEvent::new("op", Action::Erase, "request")
            .purpose("border")
            .records([4]),
    );
    at(
        &mut conn,
        19,
        NewEvent::new("svc", Action::Sweep, "retention")
            .purpose("border")
            .detail("deleted", 5),
    );
    at(
        &mut conn,
        20,
        NewEvent::new("svc", Action::Sweep, "retention")
            .purpose("border")
            .detail("deleted", 2),
    );
    at(
        &mut conn,
        21,
        NewEvent::new("svc", Action::Sweep, "retention")
            .purpose("police")
            .detail("deleted", 0),
    );
    // Outside [10, 30).
    at(
        &mut conn,
        30,
        NewEvent::new("op", Action::Enroll, "r").purpose("border"),
    );
    at(
        &mut conn,
        9,
        NewEvent::new("op", Action::Verify, "r").purpose("police"),
    );

    let s = stats(&conn, 10, 30).unwrap();
    let counts = |pairs: &[(&'static str, u64)]| pairs.iter().copied().collect::<BTreeMap<_, _>>();
    assert_eq!(
        s,
        vec![
            PurposeActivity {
                purpose: "border".into(),
                counts: counts(&[("enroll", 2), ("erase", 2), ("sweep", 2), ("verify", 2)]),
                swept_records: 7,
                erased_records: 4,
            },
            PurposeActivity {
                purpose: "police".into(),
                counts: counts(&[("enroll", 1), ("identify", 1), ("review", 1), ("sweep", 1)]),
                swept_records: 0,
                erased_records: 0,
            },
        ]
    );
    let s = stats(&conn, 0, 100).unwrap();
    assert_eq!(s[0].purpose, "");
    assert_eq!(s[0].counts, counts(&[("store-created", 1)]));
    assert_eq!(s[1].counts["enroll"], 3);
    assert_eq!(s[2].counts["verify"], 1);
    assert!(stats(&conn, 50, 50).unwrap().is_empty());
    assert!(matches!(
        stats(&conn, 2, 1),
        Err(Error::InvalidParameter { .. })
    ));
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Tamper {
    /// Index into `column_tampers()`, target seq.
    Column(usize, u64),
    Delete(u64),
    Swap(u64, u64),
    InsertEnd,
    InsertAt(u64),
    Mac(u64),
    Renumber(u64),
}

fn tamper_strategy(n: u64) -> impl Strategy<Value = Tamper> {
    let columns = column_tampers().len();
    prop_oneof![
        (0..columns, 1..=n).prop_map(|(c, s)| Tamper::Column(c, s)),
        (1..=n).prop_map(Tamper::Delete),
        (1..n, 1..n).prop_map(move |(a, d)| {
            let a = a.min(n - 1);
            Tamper::Swap(a, (a + d).min(n))
        }),
        Just(Tamper::InsertEnd),
        (1..=n).prop_map(Tamper::InsertAt),
        (1..=n).prop_map(Tamper::Mac),
        (1..=n).prop_map(Tamper::Renumber),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Any one change to one row is found, at the first seq it makes wrong;
    /// removing the last event is found by the head held before.
    #[test]
    fn any_single_row_tamper_is_detected(
        (n, picks, tamper, times) in (2u64..25).prop_flat_map(|n| (
            Just(n),
            proptest::collection::vec(0usize..1000, n as usize),
            tamper_strategy(n),
            proptest::collection::vec(-1000i64..1000, n as usize),
        ))
    ) {
        let key = key();
        let mut conn = db();
        for (i, pick) in picks.iter().enumerate() {
            add(&mut conn, &key, times[i], &sample(*pick));
        }
        let held = head(&conn).unwrap().unwrap();
        prop_assert_eq!(verify(&conn, &key).unwrap().events, n);
        unguard(&conn);
        let expected = match tamper {
            Tamper::Column(c, s) => {
                let (_, set) = &column_tampers()[c];
                conn.execute(&format!("UPDATE audit SET {set} WHERE seq = ?1"), [s as i64]).unwrap();
                s
            }
            Tamper::Delete(s) => {
                conn.execute("DELETE FROM audit WHERE seq = ?1", [s as i64]).unwrap();
                s
            }
            Tamper::Swap(a, b) => {
                prop_assume!(a != b);
                swap_rows(&conn, a, b);
                a
            }
            Tamper::InsertEnd => {
                let mut row = row_values(&conn, n);
                row[0] = SqlValue::Integer(n as i64 + 1);
                insert_row(&conn, &row);
                n + 1
            }
            Tamper::InsertAt(s) => {
                shift_up(&conn, s);
                let mut row = row_values(&conn, s + 1);
                row[0] = SqlValue::Integer(s as i64);
                row[2] = SqlValue::Text("intruder".into());
                insert_row(&conn, &row);
                s
            }
            Tamper::Mac(s) => {
                conn.execute("UPDATE audit SET mac = randomblob(32) WHERE seq = ?1", [s as i64]).unwrap();
                s
            }
            Tamper::Renumber(s) => {
                conn.execute("UPDATE audit SET seq = ?1 WHERE seq = ?2", [n as i64 + 3, s as i64]).unwrap();
                s
            }
        };
        let truncated_only = matches!(tamper, Tamper::Delete(s) if s == n);
        if truncated_only {
            prop_assert!(verify(&conn, &key).is_ok());
            prop_assert_eq!(broken_at(check_head(&conn, &key, &held)), n);
        } else {
            prop_assert_eq!(broken_at(verify(&conn, &key)), expected);
            prop_assert_eq!(broken_at(check_head(&conn, &key, &held)), expected);
        }
    }

    /// Random detail values survive storage, export and parsing, and verify.
    #[test]
    fn random_details_round_trip(
        scores in proptest::collection::vec(any::<f64>().prop_filter("finite", |x| x.is_finite()), 0..8),
        ints in proptest::collection::vec(-(1i64 << 53)..(1i64 << 53), 0..4),
        label in "\\PC{0,40}",
        name in "\\PC{1,20}",
    ) {
        let key = key();
        let mut conn = db();
        let ev = NewEvent::new("a", Action::Identify, "r")
            .detail("scores", scores.clone())
            .detail("ints", ints.clone())
            .detail(&name, label.clone());
        add(&mut conn, &key, 1, &ev);
        add(&mut conn, &key, 2, &ev);
        let stored = all(&conn);
        let back: Vec<f64> = stored[0].detail["scores"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        prop_assert_eq!(back.len(), scores.len());
        for (a, b) in back.iter().zip(&scores) {
            prop_assert!(a == b, "{} != {}", a, b);
        }
        let back_ints: Vec<i64> = stored[0].detail["ints"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
        prop_assert_eq!(back_ints, ints);
        prop_assert_eq!(&stored[0].detail[&name], &json!(label));
        let parsed: Vec<AuditEvent> = export_all(&conn).lines().map(|l| parse_jsonl_line(l).unwrap()).collect();
        prop_assert_eq!(&parsed, &stored);
        prop_assert_eq!(verify_events(&parsed, &key, None).unwrap(), verify(&conn, &key).unwrap());
    }

    #[test]
    fn parse_never_panics_on_arbitrary_text(s in "\\PC{0,300}") {
        let _ = parse_jsonl_line(&s);
    }

    #[test]
    fn parse_never_panics_on_jsonish_text(s in "[\\[\\]{}\":,0-9a-z .eE+\\\\-]{0,300}") {
        let _ = parse_jsonl_line(&s);
    }

    /// A mutated export line is refused, or parses to an event that does not
    /// verify: no edit of an exported line goes unnoticed.
    #[test]
    fn mutated_lines_are_refused_or_fail_verification(
        which in 0usize..8,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..4, any::<char>()), 1..4),
    ) {
        thread_local! {
            static LOG: (Vec<String>, Vec<AuditEvent>) = {
                let conn = chain(8);
                (export_all(&conn).lines().map(str::to_owned).collect(), all(&conn))
            };
        }
        let (line, anchor) = LOG.with(|(lines, evs)| {
            (lines[which].clone(), which.checked_sub(1).map(|i| evs[i].head()))
        });
        let mut chars: Vec<char> = line.chars().collect();
        for (at, kind, c) in edits {
            let i = at.index(chars.len() + 1);
            match kind {
                0 if i < chars.len() => chars[i] = c,
                1 if i < chars.len() => { chars.remove(i); }
                2 => chars.insert(i, c),
                _ => {
                    // Duplicate a slice (e.g. a member).
                    let j = (i + 12).min(chars.len());
                    let piece: Vec<char> = chars[i.min(j)..j].to_vec();
                    for (k, ch) in piece.into_iter().enumerate() { chars.insert(j + k, ch); }
                }
            }
        }
        let mutated: String = chars.into_iter().collect();
        prop_assume!(mutated != line);
        if let Ok(event) = parse_jsonl_line(&mutated) {
            prop_assert_eq!(jsonl_line(&event).unwrap(), mutated);
            prop_assert!(verify_events(&[event], &key(), anchor.as_ref()).is_err());
        }
    }
}
