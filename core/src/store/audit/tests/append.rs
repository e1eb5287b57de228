//! What `append` refuses and how it stores detail.

use super::*;

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
