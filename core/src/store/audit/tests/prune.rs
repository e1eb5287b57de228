//! Pruning and the prune anchor.

use super::*;

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
