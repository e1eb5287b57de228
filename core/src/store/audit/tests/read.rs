//! Reading by filter, export, parsing lines and offline verification.

use super::*;

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
