//! What parent and children share: the key, the purposes, the synthetic
//! people, and the prepared store (`template`) that every run of the
//! sweep, erasure and rotation scenarios copies.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use btp::store::{
    AuditHead, Context, HoldTarget, Purpose, RecordId, Retention, Sample, Samples, Store,
};
use btp::synthetic::Dataset;
use btp::{MasterKey, SchemeParams};

use crate::common::{copy_db, options_at, pairs, static_scratch, two_purposes, wal_of, DAY, T0};
use crate::harness::audit_head;

/// Feature dimension of the synthetic people.
pub const DIM: usize = 128;
/// Records per transaction in sweeps and rotations.
pub const BATCH: usize = 50;
/// Singles `i` with `i % 10 < 5` have expired by then, the others not.
pub const T_SWEEP: i64 = T0 + 5 * DAY + DAY / 2;

/// Subjects with one record each; single `i` is in `watchlist` when
/// `i % 3 == 2`, else in `border`, kept `1 + i % 10` days.
pub const SINGLES: usize = 4_000;
/// Subjects with many records each (the erasure scenario).
pub const BULK: usize = 5;
pub const BULK_BORDER: usize = 240;
pub const BULK_WATCH: usize = 60;

pub fn ctx() -> Context<'static> {
    Context::new("crash-test", "crash safety check")
}

pub fn master() -> MasterKey {
    MasterKey::from_bytes(&[0x5a; 32]).unwrap()
}

/// The purposes, identical in the parent and in every child.
pub fn purposes() -> Vec<Purpose> {
    two_purposes(
        SchemeParams::iom_grp(DIM as u32, 256, 16).unwrap(),
        "watchlist",
    )
}

/// A new store at `path` (which must not exist), its clock at `now`.
pub fn create(path: &Path, now: i64) -> Store {
    Store::create_with(path, &master(), &purposes(), options_at(now, BATCH)).unwrap()
}

/// Sample `j` (0 or 1) of person `s`.
pub fn x(data: &Dataset, s: usize, j: usize) -> &[f32] {
    data.row(s * 2 + j)
}

/// The singles (`0..SINGLES`) and bulk subjects (`SINGLES..`) of the template.
pub fn population() -> &'static Dataset {
    static P: OnceLock<Dataset> = OnceLock::new();
    P.get_or_init(|| pairs(SINGLES + BULK, DIM, 77))
}

pub fn single(i: usize) -> String {
    format!("single-{i:05}")
}

pub fn bulk(b: usize) -> String {
    format!("bulk-{b}")
}

/// Probes: person 0 (border) and person 2 (watchlist), second sample.
pub const PROBES: [(&str, usize); 2] = [("border", 0), ("watchlist", 2)];

#[derive(Clone, Debug)]
pub struct Rec {
    pub id: RecordId,
    pub purpose: &'static str,
    pub subject: String,
    /// Person of the population whose samples it holds.
    pub person: usize,
    pub expires_at: i64,
    pub held: bool,
    pub bulk: Option<usize>,
}

impl Rec {
    pub fn expired(&self) -> bool {
        self.expires_at <= T_SWEEP
    }
}

/// A prepared store, copied for every run of a scenario.
pub struct Template {
    _dir: tempfile::TempDir,
    path: PathBuf,
    pub recs: Vec<Rec>,
    /// At T0 (everything live): score of each purpose's probe against
    /// every record, by identification with threshold 0.
    pub scores: BTreeMap<&'static str, BTreeMap<RecordId, f64>>,
    /// At T0: verification score of some singles with their second sample.
    pub verify_scores: Vec<(usize, f64)>,
    /// The newest audit event.
    head: AuditHead,
}

/// The prepared store: the singles enrolled by batches of one purpose and
/// retention, the bulk subjects one record at a time, some holds.
pub fn template() -> &'static Template {
    static T: OnceLock<Template> = OnceLock::new();
    T.get_or_init(|| {
        let data = population();
        // Only copied from: in memory when possible.
        let dir = static_scratch("btp-crash-template");
        let path = dir.path().join("template.db");
        let store = create(&path, T0);
        let started = Instant::now();
        let mut singles: Vec<Option<Rec>> = vec![None; SINGLES];
        for purpose in ["border", "watchlist"] {
            for days in 1..=10i64 {
                let group: Vec<usize> = (0..SINGLES)
                    .filter(|&i| {
                        (i % 3 == 2) == (purpose == "watchlist") && 1 + (i % 10) as i64 == days
                    })
                    .collect();
                let subjects: Vec<String> = group.iter().map(|&i| single(i)).collect();
                let names: Vec<&str> = subjects.iter().map(String::as_str).collect();
                let rows: Vec<f32> = group.iter().flat_map(|&i| x(data, i, 0).to_vec()).collect();
                let keep = Retention::For(Duration::from_secs((days * DAY) as u64));
                let ids = store
                    .enroll_batch(purpose, &names, Samples::Features(&rows), keep, &ctx())
                    .unwrap();
                for (&i, id) in group.iter().zip(ids) {
                    singles[i] = Some(Rec {
                        id,
                        purpose,
                        subject: single(i),
                        person: i,
                        expires_at: T0 + days * DAY,
                        held: false,
                        bulk: None,
                    });
                }
            }
        }
        let mut recs: Vec<Rec> = singles.into_iter().map(Option::unwrap).collect();
        for b in 0..BULK {
            let person = SINGLES + b;
            for (purpose, n, max) in [
                ("border", BULK_BORDER, 30 * DAY),
                ("watchlist", BULK_WATCH, 365 * DAY),
            ] {
                let t = store
                    .protector(purpose)
                    .unwrap()
                    .protect(x(data, person, 0));
                let t = t.unwrap();
                for _ in 0..n {
                    let id = store
                        .enroll(
                            purpose,
                            &bulk(b),
                            Sample::Template(&t),
                            Retention::Maximum,
                            &ctx(),
                        )
                        .unwrap();
                    recs.push(Rec {
                        id,
                        purpose,
                        subject: bulk(b),
                        person,
                        expires_at: T0 + max,
                        held: false,
                        bulk: Some(b),
                    });
                }
            }
        }
        let enrol_time = started.elapsed();
        // Holds: records of some expired singles, one expired single's
        // subject, and a released hold (which protects nothing).
        for i in (0..SINGLES).filter(|i| i % 10 < 5 && i % 7 == 0).take(6) {
            store.hold(HoldTarget::Record(recs[i].id), &ctx()).unwrap();
            recs[i].held = true;
        }
        store
            .hold(HoldTarget::Subject(&single(13)), &ctx())
            .unwrap();
        recs[13].held = true;
        let released = store.hold(HoldTarget::Record(recs[11].id), &ctx()).unwrap();
        store.release(released, &ctx()).unwrap();
        assert!(recs[13].expired() && recs[11].expired() && !recs[11].held);

        let scores = PROBES
            .iter()
            .map(|&(p, probe)| (p, identify_all(&store, p, x(data, probe, 1))))
            .collect();
        let verify_scores = (0..SINGLES)
            .step_by(397)
            .map(|i| (i, verify_single(&store, &recs[i])))
            .collect();
        drop(store);
        // Closed cleanly: everything is in the main file.
        let wal = wal_of(&path);
        assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0);
        println!(
            "store_crash template: {} records enrolled in {enrol_time:.1?}",
            recs.len(),
        );
        Template {
            head: audit_head(&path),
            _dir: dir,
            path,
            recs,
            scores,
            verify_scores,
        }
    })
}

impl Template {
    /// A fresh copy of the prepared store in `dir`.
    pub fn copy(&self, dir: &Path, name: &str) -> PathBuf {
        copy_db(&self.path, dir, name)
    }

    /// The newest audit event of the prepared store.
    pub fn head(&self) -> &AuditHead {
        &self.head
    }

    pub fn by_id(&self) -> BTreeMap<RecordId, &Rec> {
        self.recs.iter().map(|r| (r.id, r)).collect()
    }

    pub fn ids(&self, keep: impl Fn(&Rec) -> bool) -> BTreeSet<RecordId> {
        self.recs.iter().filter(|r| keep(r)).map(|r| r.id).collect()
    }
}

/// The probe's score against every live template record of the purpose;
/// loading the gallery decrypts every one of them.
pub fn identify_all(store: &Store, purpose: &str, probe: &[f32]) -> BTreeMap<RecordId, f64> {
    gallery(store, purpose, probe)
        .into_iter()
        .map(|(id, (_, score))| (id, score))
        .collect()
}

/// [`identify_all`] with each record's subject.
pub fn gallery(store: &Store, purpose: &str, probe: &[f32]) -> BTreeMap<RecordId, (String, f64)> {
    let found = store
        .identify(
            purpose,
            Sample::Features(probe),
            1_000_000,
            Some(0.0),
            &ctx(),
        )
        .unwrap_or_else(|e| panic!("identification in {purpose} fails: {e}"));
    found
        .candidates
        .into_iter()
        .map(|c| (c.record, (c.subject, c.score)))
        .collect()
}

/// Verifies a template record's subject with its second sample.
pub fn verify_single(store: &Store, r: &Rec) -> f64 {
    let v = store
        .verify(
            r.purpose,
            &r.subject,
            Sample::Features(x(population(), r.person, 1)),
            &ctx(),
        )
        .unwrap_or_else(|e| panic!("verification of {} fails: {e}", r.subject));
    assert!(v.decision.matched, "{}: {v:?}", r.subject);
    assert_eq!(v.record, r.id);
    v.decision.score
}
