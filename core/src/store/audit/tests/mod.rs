//! Tests of the audit log: the shared fixtures here, one file per topic.

mod append;
mod format;
mod properties;
mod prune;
mod read;
mod stats;
mod tamper;

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
