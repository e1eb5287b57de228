//! Tampering with the table: a changed, deleted, inserted, swapped or
//! spliced row is caught.

use super::*;

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
