//! Enrolment loops killed at random moments, single (`Store::enroll`) and
//! batched (`Store::enroll_batch`, one transaction per batch: wholly
//! present or wholly absent after a kill). Each round kills children again
//! and again on one new store, every child going on where the last one
//! was killed; and two processes enrolling into one file at once.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use btp::store::{Action, EventFilter, RecordId, Retention, Sample, Samples, Store};
use btp::synthetic::Dataset;
use btp::ProtectedTemplate;
use rand::Rng;

use crate::common::{pairs, record_ids, say, serial, T0};
use crate::fixture::{create, ctx, gallery, x, DIM};
use crate::harness::{audit_head, child_run, remove_db, reopen, run_child, Campaign, Kill};

/// People a child of the single enrolment loop enrols.
const SINGLE_PEOPLE: usize = 200;
/// People a child of the batch enrolment loop enrols, by batches of
/// `batch_len` people.
const BATCH_PEOPLE: usize = 1_000;
/// Kills per store file.
const KILLS_PER_ROUND: usize = 8;
/// Older enrolments verified after each kill, besides the child's own.
const OLDER_CHECKED: usize = 4;

pub fn enrollee(i: usize) -> String {
    format!("enrollee-{i:05}")
}

/// The people of a child starting at enrollee `from`.
fn people(batched: bool, from: usize) -> Dataset {
    if batched {
        pairs(BATCH_PEOPLE, DIM, 2_000_000 + from as u64)
    } else {
        pairs(SINGLE_PEOPLE, DIM, 1_000_000 + from as u64)
    }
}

/// Size of the batch starting at enrollee `start`: 1 to 150, known to the
/// parent for the batch a kill interrupted.
fn batch_len(start: usize) -> usize {
    1 + (start * 7919 + 13) % 150
}

pub fn child_single(path: &Path, now: i64, from: usize) {
    let data = people(false, from);
    child_run(path, now, |store| {
        for k in 0..SINGLE_PEOPLE {
            let id = store
                .enroll(
                    "border",
                    &enrollee(from + k),
                    Sample::Features(x(&data, k, 0)),
                    Retention::Maximum,
                    &ctx(),
                )
                .unwrap();
            say(&format!("COMMITTED {} {id}", from + k));
        }
    });
}

pub fn child_batch(path: &Path, now: i64, from: usize) {
    let data = people(true, from);
    child_run(path, now, |store| {
        let mut i = from;
        while i + batch_len(i) <= from + BATCH_PEOPLE {
            let n = batch_len(i);
            let subjects: Vec<String> = (i..i + n).map(enrollee).collect();
            let names: Vec<&str> = subjects.iter().map(String::as_str).collect();
            let rows: Vec<f32> = (i..i + n)
                .flat_map(|p| x(&data, p - from, 0).to_vec())
                .collect();
            let ids = store
                .enroll_batch(
                    "border",
                    &names,
                    Samples::Features(&rows),
                    Retention::Maximum,
                    &ctx(),
                )
                .unwrap();
            let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
            say(&format!("BATCH {i} {n} {}", ids.join(" ")));
            i += n;
        }
    });
}

/// What the parent knows of one store file's enrolments.
#[derive(Default)]
struct Ledger {
    /// Each child's people, by the enrollee its run started at.
    people: BTreeMap<usize, Dataset>,
    /// Committed enrolments: record id -> enrollee.
    committed: BTreeMap<RecordId, usize>,
    /// The enrolled template of each committed enrollee, protected here.
    templates: BTreeMap<usize, ProtectedTemplate>,
}

impl Ledger {
    /// Sample `j` of enrollee `i`.
    fn sample(&self, i: usize, j: usize) -> &[f32] {
        let (&from, data) = self.people.range(..=i).next_back().unwrap();
        x(data, i - from, j)
    }

    /// Records a committed enrolment.
    fn commit(&mut self, store: &Store, id: RecordId, i: usize) {
        assert!(self.committed.insert(id, i).is_none(), "record {id} twice");
        let t = store
            .protector("border")
            .unwrap()
            .protect(self.sample(i, 0));
        self.templates.insert(i, t.unwrap());
    }

    /// The score a record of enrollee `i` must give against `probe`.
    fn score(&self, store: &Store, i: usize, probe: &ProtectedTemplate) -> f64 {
        let p = store.protector("border").unwrap();
        p.compare(&self.templates[&i], probe).unwrap()
    }

    /// Verifies enrollee `i`: its record `id` answers, with the score the
    /// parent computes from the two samples.
    fn check_verifies(&self, store: &Store, id: RecordId, i: usize) {
        let v = store
            .verify(
                "border",
                &enrollee(i),
                Sample::Features(self.sample(i, 1)),
                &ctx(),
            )
            .unwrap_or_else(|e| panic!("{} (record {id}): {e}", enrollee(i)));
        assert_eq!(v.record, id, "{}", enrollee(i));
        let probe = store
            .protector("border")
            .unwrap()
            .protect(self.sample(i, 1));
        let want = self.score(store, i, &probe.unwrap());
        assert_eq!(v.decision.score, want, "{}: score", enrollee(i));
    }
}

/// The enrollee of a subject id.
fn index_of(subject: &str) -> usize {
    subject.strip_prefix("enrollee-").unwrap().parse().unwrap()
}

/// One kill of an enrolment child starting at enrollee `next` and its
/// checks; returns the enrollee the next child starts at.
fn trial(c: &mut Campaign, db: &Path, ledger: &mut Ledger, batched: bool, next: usize) -> usize {
    let head = audit_head(db);
    ledger.people.insert(next, people(batched, next));
    let o = c.kill(db, T0, next, (0.0, 1.1), true);
    // What the child reported, in order.
    let mut reported: Vec<(RecordId, usize)> = Vec::new();
    let mut end = next;
    if batched {
        for v in o.values("BATCH") {
            let (i, n) = (v[0] as usize, v[1] as usize);
            assert_eq!((i, n), (end, batch_len(end)), "batches out of order");
            assert_eq!(v.len(), 2 + n, "a batch's ids");
            reported.extend(v[2..].iter().zip(i..i + n).map(|(&id, p)| (id, p)));
            end = i + n;
        }
    } else {
        for v in o.values("COMMITTED") {
            assert_eq!(v[0] as usize, end, "enrolments out of order");
            reported.push((v[1], end));
            end += 1;
        }
    }
    // The enrolment under way at the kill, if any: [end, end + len).
    let (limit, len) = if batched {
        (next + BATCH_PEOPLE, batch_len(end))
    } else {
        (next + SINGLE_PEOPLE, 1)
    };
    let in_flight = (end + len <= limit).then_some(end..end + len);

    // Every reported enrolment is there; besides, nothing or the whole
    // enrolment under way (committed, killed before it was reported).
    let now = record_ids(db);
    let store = reopen(db, T0, Some(&head));
    for &(id, i) in &reported {
        assert!(
            now.contains(&id),
            "{} (record {id}) is missing",
            enrollee(i)
        );
        ledger.commit(&store, id, i);
    }
    let known: BTreeSet<RecordId> = ledger.committed.keys().copied().collect();
    assert!(known.is_subset(&now), "an earlier enrolment is missing");
    let extra: BTreeSet<RecordId> = now.difference(&known).copied().collect();
    // Every record decrypts (the gallery), holds its enrollee, and scores
    // against a probe as the parent computes; the unreported ones are
    // the whole enrolment under way.
    let probe_sample = ledger.sample(next, 1).to_vec();
    let probe = store
        .protector("border")
        .unwrap()
        .protect(&probe_sample)
        .unwrap();
    let gallery = gallery(&store, "border", &probe_sample);
    assert_eq!(
        gallery.keys().copied().collect::<BTreeSet<_>>(),
        now,
        "gallery vs records"
    );
    let mut unreported = BTreeSet::new();
    for (&id, (subject, score)) in &gallery {
        let i = index_of(subject);
        match ledger.committed.get(&id) {
            Some(&known) => assert_eq!(known, i, "record {id} holds another enrollee"),
            None => {
                let under_way = in_flight.as_ref().is_some_and(|r| r.contains(&i));
                assert!(under_way, "record {id} of {subject} was never enrolled");
                assert!(unreported.insert(i), "{subject} enrolled twice");
                ledger.commit(&store, id, i);
            }
        }
        assert_eq!(*score, ledger.score(&store, i, &probe), "{subject}: score");
    }
    if let Some(range) = &in_flight {
        assert!(
            unreported.is_empty() || unreported.len() == range.len(),
            "{} of the {} enrollees of the enrolment under way are there",
            unreported.len(),
            range.len()
        );
        // Looked up by subject: the first and the last of it.
        for i in [range.start, range.end - 1] {
            if unreported.is_empty() {
                let got = store.verify(
                    "border",
                    &enrollee(i),
                    Sample::Features(ledger.sample(i, 1)),
                    &ctx(),
                );
                let missing = matches!(got, Err(btp::Error::Missing(_)));
                assert!(missing, "{}: {got:?}", enrollee(i));
            } else {
                let id = gallery
                    .iter()
                    .find(|(_, (s, _))| index_of(s) == i)
                    .map(|(&id, _)| id)
                    .unwrap();
                ledger.check_verifies(&store, id, i);
            }
        }
    } else {
        assert!(extra.is_empty(), "unreported records {extra:?}");
    }
    c.partial(!extra.is_empty());
    // One enrolment event per record, naming it; none for anything else.
    let events = store
        .audit_events(&EventFilter {
            action: Some(Action::Enroll),
            ..EventFilter::default()
        })
        .unwrap();
    assert!(events.iter().all(|e| e.records.len() == 1));
    let audited: Vec<RecordId> = events.iter().map(|e| e.records[0]).collect();
    assert_eq!(audited.len(), now.len(), "enrol events vs records");
    assert_eq!(audited.into_iter().collect::<BTreeSet<_>>(), now);
    // Some enrolments verify by subject, with the score they must have:
    // the child's last reported and older ones.
    if let Some(&(id, i)) = reported.last() {
        ledger.check_verifies(&store, id, i);
    }
    let all: Vec<(RecordId, usize)> = ledger.committed.iter().map(|(&a, &b)| (a, b)).collect();
    for _ in 0..OLDER_CHECKED.min(all.len()) {
        let (id, i) = all[c.schedule.rng.random_range(0..all.len())];
        ledger.check_verifies(&store, id, i);
    }
    in_flight.map_or(limit, |r| r.end)
}

fn campaign(op: &'static str, salt: u64, batched: bool) {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();

    // Uninterrupted, on a new store: the duration of the loop.
    let scratch = dir.path().join("scratch.db");
    drop(create(&scratch, T0));
    let full = run_child(op, &scratch, T0, 0, Kill::Never);
    let n = if batched {
        full.values("BATCH").map(|v| v[1] as usize).sum()
    } else {
        full.values("COMMITTED").count()
    };
    assert_eq!(record_ids(&scratch).len(), n);
    if batched {
        assert!(n > BATCH_PEOPLE - 150, "{n} people enrolled");
    } else {
        assert_eq!(n, SINGLE_PEOPLE);
    }
    remove_db(&scratch);

    let mut c = Campaign::new(op, salt, &full);
    while c.more() {
        c.round(|c| {
            let db = dir.path().join(format!("{op}-{}.db", c.rounds));
            drop(create(&db, T0));
            let mut ledger = Ledger::default();
            let mut next = 0;
            for _ in 0..KILLS_PER_ROUND {
                if !c.more() {
                    break;
                }
                next = trial(c, &db, &mut ledger, batched, next);
            }
            assert_eq!(
                record_ids(&db),
                ledger.committed.keys().copied().collect::<BTreeSet<_>>()
            );
            remove_db(&db);
        });
    }
    c.finish();
}

#[test]
fn single_killed_at_random_moments() {
    campaign("enroll", 4, false);
}

#[test]
fn batch_killed_at_random_moments() {
    campaign("enroll_batch", 5, true);
}

/// Two processes write one file at once: a child enrols its people while
/// the parent enrols others through its own handle and identifies. No
/// write is lost, and each side's enrolments are visible to the other.
#[test]
fn two_processes_enrol_concurrently() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("two.db");
    drop(create(&db, T0));
    let child_from = 0;
    let parent_from = SINGLE_PEOPLE;
    let parent_people = people(false, parent_from);
    let child_people = people(false, child_from);
    let (outcome, parent_ids) = std::thread::scope(|s| {
        let child = s.spawn(|| run_child("enroll", &db, T0, child_from, Kill::Never));
        let store = reopen(&db, T0, None);
        let mut ids = Vec::new();
        for k in 0..SINGLE_PEOPLE / 4 {
            let id = store
                .enroll(
                    "border",
                    &enrollee(parent_from + k),
                    Sample::Features(x(&parent_people, k, 0)),
                    Retention::Maximum,
                    &ctx(),
                )
                .unwrap();
            ids.push(id);
            if k % 10 == 0 {
                store
                    .identify(
                        "border",
                        Sample::Features(x(&parent_people, k, 1)),
                        3,
                        None,
                        &ctx(),
                    )
                    .unwrap();
            }
        }
        (child.join().unwrap(), ids)
    });
    assert!(!outcome.killed);
    let child_ids: Vec<RecordId> = outcome.values("COMMITTED").map(|v| v[1]).collect();
    assert_eq!(child_ids.len(), SINGLE_PEOPLE);
    let all = record_ids(&db);
    assert_eq!(all.len(), child_ids.len() + parent_ids.len());
    assert!(child_ids
        .iter()
        .chain(&parent_ids)
        .all(|id| all.contains(id)));
    // Each side's enrolments are found by a fresh handle and by identify.
    let store = reopen(&db, T0, None);
    let v = store
        .verify(
            "border",
            &enrollee(child_from + 7),
            Sample::Features(x(&child_people, 7, 1)),
            &ctx(),
        )
        .unwrap();
    assert!(v.decision.matched);
    let found = store
        .identify(
            "border",
            Sample::Features(x(&parent_people, 3, 1)),
            1,
            None,
            &ctx(),
        )
        .unwrap();
    assert_eq!(found.candidates[0].subject, enrollee(parent_from + 3));
}
