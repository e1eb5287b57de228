//! Properties: random tampering, details and lines.

use super::*;

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
