//! Key rotations killed at random moments: a kill, then a kill while a
//! second child resumes the rotation, then the parent completes it.

use std::collections::BTreeMap;
use std::path::Path;

use btp::store::{Action, EventFilter, Store};

use crate::common::{serial, T0};
use crate::fixture::PROBES;
use crate::fixture::{ctx, identify_all, population, template, verify_single, x, Template};
use crate::harness::{audit_head, child_run, remove_db, reopen, run_child, Campaign, Kill};

pub fn child(path: &Path, now: i64) {
    child_run(path, now, |store| {
        store.rotate_key(None, &ctx()).unwrap();
    });
}

/// (version, state) of each purpose's storage keys, from `storage_keys`.
fn key_states(path: &Path) -> BTreeMap<String, Vec<(i64, String)>> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT purpose, version, state FROM storage_keys ORDER BY purpose, version")
        .unwrap();
    let mut out: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    for r in stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .unwrap()
    {
        let (p, v, s) = r.unwrap();
        out.entry(p).or_default().push((v, s));
    }
    out
}

/// Record count per (purpose, key version).
fn versions(path: &Path) -> BTreeMap<(String, i64), i64> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT purpose, key_version, count(*) FROM records GROUP BY purpose, key_version")
        .unwrap();
    let out = stmt
        .query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    out
}

fn in_state(states: &[(i64, String)], want: &str) -> Vec<i64> {
    states
        .iter()
        .filter(|(_, s)| s == want)
        .map(|(v, _)| *v)
        .collect()
}

/// Audit events of `action` for `purpose`.
fn count_events(store: &Store, action: Action, purpose: &str) -> i64 {
    let filter = EventFilter {
        action: Some(action),
        purpose: Some(purpose.to_owned()),
        ..EventFilter::default()
    };
    store.audit_events(&filter).unwrap().len() as i64
}

/// Checks the rotation invariants after a kill; returns whether a rotation
/// was left under way.
fn check_after_kill(path: &Path, t: &Template, head: &btp::store::AuditHead) -> bool {
    let states = key_states(path);
    let counts = versions(path);
    let store = reopen(path, T0, Some(head));
    let mut partial = false;
    for (purpose, _) in PROBES {
        let s = &states[purpose];
        let active = in_state(s, "active");
        let retiring = in_state(s, "retiring");
        assert_eq!(active.len(), 1, "{purpose}: {s:?}");
        assert!(retiring.len() <= 1, "{purpose}: {s:?}");
        for ((p, v), n) in &counts {
            assert!(
                p != purpose || *v == active[0] || retiring.contains(v),
                "{purpose}: {n} records at key version {v}, neither active nor retiring: {s:?}"
            );
        }
        // Every rotation begun is audited, and every one finished.
        let started = active[0] - 1;
        assert_eq!(
            count_events(&store, Action::RotateKeyStart, purpose),
            started,
            "{purpose}: rotations begun vs audited: {s:?}"
        );
        assert_eq!(
            count_events(&store, Action::RotateKeyFinish, purpose),
            started - retiring.len() as i64,
            "{purpose}: rotations finished vs audited: {s:?}"
        );
        partial |= !retiring.is_empty();
    }
    assert_eq!(counts.values().sum::<i64>() as usize, t.recs.len());
    // Every record decrypts and scores as before.
    for (purpose, probe) in PROBES {
        let got = identify_all(&store, purpose, x(population(), probe, 1));
        assert!(
            got == t.scores[purpose],
            "{purpose}: scores differ after a kill"
        );
    }
    for &(i, score) in &t.verify_scores {
        assert_eq!(verify_single(&store, &t.recs[i]), score);
    }
    partial
}

#[test]
fn killed_at_random_moments() {
    let t = template();
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let count = |p: &str| t.recs.iter().filter(|r| r.purpose == p).count() as i64;

    let db = t.copy(dir.path(), "full.db");
    let full = run_child("rotate", &db, T0, 0, Kill::Never);
    assert!(!check_after_kill(&db, t, t.head()));
    assert_eq!(
        versions(&db),
        BTreeMap::from([
            (("border".into(), 2), count("border")),
            (("watchlist".into(), 2), count("watchlist"))
        ])
    );

    let mut c = Campaign::new("rotate", 2, &full);
    while c.more() {
        c.round(|c| {
            let k = c.rounds;
            let db = t.copy(dir.path(), &format!("rotate-{k}.db"));
            for second in [false, true] {
                let span = if second { (0.0, 0.6) } else { (0.0, 1.1) };
                c.kill(&db, T0, 0, span, !second);
                let partial = check_after_kill(&db, t, t.head());
                c.partial(partial);
            }
            // A rotation in the parent resumes one under way, or starts
            // anew for a purpose whose rotation the children finished (or
            // never began).
            let states = key_states(&db);
            let counts = versions(&db);
            let mut expected = Vec::new();
            for (purpose, _) in PROBES {
                let s = &states[purpose];
                let active = in_state(s, "active")[0];
                let n = count(purpose);
                expected.push(match in_state(s, "retiring").first() {
                    Some(&old) => {
                        let done = counts
                            .get(&(purpose.to_owned(), active))
                            .copied()
                            .unwrap_or(0);
                        (
                            purpose.to_owned(),
                            old as u32,
                            active as u32,
                            (n - done) as u64,
                        )
                    }
                    None => (
                        purpose.to_owned(),
                        active as u32,
                        active as u32 + 1,
                        n as u64,
                    ),
                });
            }
            let store = reopen(&db, T0, Some(&audit_head(&db)));
            let report = store.rotate_key(None, &ctx()).unwrap();
            assert_eq!(
                report
                    .rotated
                    .iter()
                    .map(|r| (r.purpose.clone(), r.from, r.to, r.reencrypted))
                    .collect::<Vec<_>>(),
                expected
            );
            drop(store);
            let states = key_states(&db);
            let counts = versions(&db);
            for (purpose, _, to, _) in &expected {
                let s = &states[purpose.as_str()];
                let to = i64::from(*to);
                assert_eq!(in_state(s, "active"), vec![to], "{purpose}: {s:?}");
                assert_eq!(
                    in_state(s, "retired"),
                    (1..to).collect::<Vec<_>>(),
                    "{purpose}: {s:?}"
                );
                assert_eq!(
                    counts[&(purpose.clone(), to)],
                    count(purpose),
                    "{purpose}: {counts:?}"
                );
            }
            assert!(!check_after_kill(&db, t, t.head()));
            remove_db(&db);
        });
    }
    c.finish();
}
