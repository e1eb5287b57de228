//! Round trip, export format and the documented MAC construction.

use super::*;

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
