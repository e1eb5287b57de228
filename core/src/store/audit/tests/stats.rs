//! Transparency statistics.

use super::*;

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
