//! Property tests of the invariants of issue 7 that other tests do not
//! already state as properties (fixed seeds, bounded case counts):
//!
//! * `decode(encode(x)) = x` for arbitrary scheme parameters and arbitrary
//!   protected templates (codes, layouts and preprocessing drawn at random;
//!   the packed-code and audit-detail round trips are in `codes.rs` and
//!   `store/audit/tests.rs`).
//! * One flipped bit in any column of a stored record is detected (see
//!   [`a_flipped_bit_in_a_record_is_detected`] for what "detected" means
//!   per column), and one flipped bit in any column of an audit row makes
//!   `verify_audit` fail at that row's seq.
//! * A sweep deletes exactly the expired records without an active hold;
//!   everything else still decrypts and scores as before.
//! * Key rotation (one purpose or all, up to three times) preserves every
//!   record and its scores, and a record put back under a retired key
//!   version no longer reads.
//!
//! Search results sorted, bounded by `k` and scored in [0, 1] are a
//! property of `tests/matching.rs` (`search_matches_brute_force`), for
//! every scheme, code width and thread count: not repeated here.
//!
//! Stores live in `/dev/shm` when it exists (no fsync cost), else in the
//! temporary folder.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use btp::codes::CodeLayout;
use btp::features::Preprocess;
use btp::store::{Context, HoldTarget, Purpose, RecordId, Retention, Sample, Store};
use btp::synthetic::{Dataset, Population};
use btp::{Error, MasterKey, Protector, SchemeParams, SchemeSpec};
use proptest::prelude::*;
use proptest::test_runner::{RngSeed, TestCaseError, TestRunner};
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, Connection};

mod common;
use common::{copy_db, options_at, record_ids, scratch, static_scratch, DAY, T0};

const DIM: usize = 32;
/// Two purposes whose names differ in one bit (`a` = 0x61, `c` = 0x63): a
/// single flipped bit can move a record from one purpose to the other.
const PURPOSES: [&str; 2] = ["gate-a", "gate-c"];

fn config(cases: u32, seed: u64) -> ProptestConfig {
    ProptestConfig {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Runs `test` on `config.cases` values of `strategy` (proptest, fixed
/// seed, shrinking on failure) and tallies the kind of case each one was,
/// as `test` names it. Prints the tally, so that a run says how many cases
/// really exercised what (a property can pass vacuously when its cases
/// miss their target), and returns it for the caller's own bounds.
fn tallied<S: Strategy>(
    name: &str,
    config: ProptestConfig,
    strategy: S,
    test: impl Fn(S::Value) -> Result<&'static str, TestCaseError>,
) -> BTreeMap<&'static str, usize> {
    let tally = Mutex::new(BTreeMap::new());
    let mut runner = TestRunner::new(config);
    let result = runner.run(&strategy, |v| {
        let kind = test(v)?;
        *tally.lock().unwrap().entry(kind).or_insert(0) += 1;
        Ok(())
    });
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
    // Shrinking reruns cases; the tally counts the passing runs.
    let tally = tally.into_inner().unwrap();
    println!("properties: {name}: {tally:?}");
    tally
}

fn ctx() -> Context<'static> {
    Context::new("property-test", "invariant check")
}

fn master() -> MasterKey {
    MasterKey::from_bytes(&[0x3c; 32]).unwrap()
}

fn purposes() -> Vec<Purpose> {
    PURPOSES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            Purpose::new(
                name,
                SchemeParams::iom_grp(DIM as u32, 96, 8).unwrap(),
                &format!("app-{i}"),
                0.3,
                Duration::from_secs(30 * DAY as u64),
            )
            .unwrap()
        })
        .collect()
}

fn open(path: &Path, now: i64, batch: usize) -> Store {
    common::open_or_create(path, &master(), &purposes(), options_at(now, batch)).unwrap()
}

/// Twelve centred synthetic people, two samples each.
fn people() -> &'static Dataset {
    static P: OnceLock<Dataset> = OnceLock::new();
    P.get_or_init(|| {
        Population {
            subjects: 12,
            samples: 2,
            dim: DIM,
            offset: 0.0,
            within: 0.4,
            seed: 7,
            ..Population::default()
        }
        .generate()
        .unwrap()
    })
}

/// Sample `j` of person `p`.
fn x(p: usize, j: usize) -> &'static [f32] {
    people().row(p * 2 + j)
}

/// Flips bit `bit` (modulo the value's width in bits) of `column` in the
/// row of `table` whose `key` is `id`, writing the value back with its
/// storage class (text stays text, even when no longer UTF-8). Returns
/// false when the value has no bits (NULL, empty) or the database refuses
/// the new value (a uniqueness or CHECK constraint).
fn flip_bit(conn: &Connection, table: &str, key: &str, id: i64, column: &str, bit: u64) -> bool {
    let value: SqlValue = conn
        .query_row(
            &format!("SELECT {column} FROM {table} WHERE {key} = ?1"),
            [id],
            |r| r.get(0),
        )
        .unwrap();
    let update = |expr: &str| format!("UPDATE {table} SET {column} = {expr} WHERE {key} = ?2");
    let flip = |bytes: &mut Vec<u8>| {
        let n = bit as usize % (bytes.len() * 8);
        bytes[n / 8] ^= 1 << (n % 8);
    };
    let done = match value {
        SqlValue::Integer(i) => conn.execute(&update("?1"), params![i ^ (1i64 << (bit % 64)), id]),
        SqlValue::Text(s) if !s.is_empty() => {
            let mut b = s.into_bytes();
            flip(&mut b);
            conn.execute(&update("CAST(?1 AS TEXT)"), params![b, id])
        }
        SqlValue::Blob(mut b) if !b.is_empty() => {
            flip(&mut b);
            conn.execute(&update("?1"), params![b, id])
        }
        _ => return false,
    };
    match done {
        Ok(1) => true,
        Ok(n) => panic!("{n} rows changed"),
        Err(_) => false,
    }
}

// ------------------------------------------------------------ round trips

/// Valid scheme parameters: any scheme, dimension up to `max_dim`, code
/// length up to `max_len`, windows up to `max_window`, any finite centre
/// (subnormals and -0 included), L2 on or off.
fn scheme_params(
    max_dim: u32,
    max_len: u32,
    max_window: u32,
) -> impl Strategy<Value = SchemeParams> {
    let finite = any::<f32>().prop_filter("finite", |v| v.is_finite());
    (
        1u32..=max_dim,
        0u8..3,
        1u32..=max_len,
        2u32..=max_window,
        1u32..=16,
        any::<bool>(),
        prop::option::of(prop::collection::vec(finite, max_dim as usize)),
    )
        .prop_filter_map(
            "invalid parameters",
            |(dim, scheme, len, window, order, l2, centre)| {
                let spec = match scheme {
                    0 => SchemeSpec::IomGrp {
                        hashes: len,
                        window,
                    },
                    1 => SchemeSpec::IomUrp {
                        hashes: len,
                        window: window.min(dim),
                        order,
                    },
                    _ => SchemeSpec::BioHash { bits: len.min(dim) },
                };
                let preprocess = Preprocess {
                    centre: centre.map(|c| c[..dim as usize].to_vec()),
                    l2,
                };
                SchemeParams::new(dim, spec, preprocess).ok()
            },
        )
}

proptest! {
    #![proptest_config(config(256, 0x7e57_0001))]

    #[test]
    fn scheme_parameters_round_trip(p in scheme_params(64, 4096, 256)) {
        let bytes = p.to_bytes();
        let back = SchemeParams::from_bytes(&bytes).unwrap();
        prop_assert_eq!(&back, &p);
        // Bit for bit (PartialEq says -0.0 == 0.0; the encoding must not).
        prop_assert_eq!(back.to_bytes(), bytes);
        prop_assert_eq!(back.digest(), p.digest());
    }

    /// Arbitrary codes of arbitrary layouts, under arbitrary keys and
    /// versions, as templates of a protector: decoding the encoding gives
    /// the same template, and protecting gives templates that do too.
    #[test]
    fn templates_round_trip(
        p in scheme_params(24, 80, 32),
        key in any::<u8>(),
        version in any::<u32>(),
        seed in prop::collection::vec(any::<u8>(), 80),
        v in prop::collection::vec(-1.0f32..1.0, 24),
    ) {
        let master = MasterKey::from_bytes(&[key; 32]).unwrap();
        let prot = Protector::new(p, &master, "round-trip", version, None).unwrap();
        let layout: CodeLayout = prot.layout();
        let elements: Vec<u8> = seed[..layout.len()]
            .iter()
            .map(|b| (u16::from(*b) % layout.alphabet()) as u8)
            .collect();
        let t = prot.template(layout.pack(&elements)).unwrap();
        let mut templates = vec![t];
        match prot.protect(&v[..prot.dim()]) {
            Ok(t) => templates.push(t),
            // A centre equal to the vector: nothing to protect.
            Err(Error::ZeroNorm) => {}
            Err(e) => return Err(TestCaseError::fail(format!("protect: {e}"))),
        }
        for t in templates {
            let bytes = t.to_bytes();
            prop_assert_eq!(bytes.len(), t.encoded_len());
            let back = btp::ProtectedTemplate::from_bytes(&bytes).unwrap();
            prop_assert_eq!(&back, &t);
            prop_assert_eq!(back.to_bytes(), bytes);
            prop_assert_eq!(back.fingerprint(), prot.fingerprint());
            prop_assert!(prot.check(&back).is_ok());
            prop_assert_eq!(prot.compare(&back, &t).unwrap(), 1.0);
        }
        let back = btp::ProtectedTemplate::from_bytes(&prot.template(layout.pack(&elements)).unwrap().to_bytes()).unwrap();
        prop_assert_eq!(back.elements(), elements);
    }
}

proptest! {
    #![proptest_config(config(64, 0x7e57_0005))]

    /// Batch protection (the packed kernel, certified decisions, blocks,
    /// chunks and threads) gives every row the code of single protection,
    /// for any parameters and at any scale of the values (tiny, huge, with
    /// exact ties when values are coarsely quantised); a batch with a bad
    /// row fails with the error of its first bad row.
    #[test]
    fn batch_protection_equals_single(
        p in scheme_params(40, 300, 24),
        key in any::<u8>(),
        n in 1usize..140,
        seed in prop::collection::vec(any::<u32>(), 140 * 40),
        scale in prop::sample::select(vec![1e-30f32, 1e-3, 1.0, 1e3, 1e30]),
        coarse in any::<bool>(),
    ) {
        let master = MasterKey::from_bytes(&[key; 32]).unwrap();
        let prot = Protector::new(p, &master, "batch", 1, None).unwrap();
        let dim = prot.dim();
        let rows: Vec<f32> = seed[..n * dim]
            .iter()
            .map(|&u| {
                let v = (u as f32 / u32::MAX as f32) * 2.0 - 1.0;
                let v = if coarse { (v * 4.0).round() / 4.0 } else { v };
                v * scale
            })
            .collect();
        let words = prot.layout().words();
        let single: Vec<Result<Vec<u64>, Error>> = rows
            .chunks_exact(dim)
            .map(|x| prot.protect(x).map(|t| t.words().to_vec()))
            .collect();
        match single.iter().position(|r| r.is_err()) {
            None => {
                let batch = prot.protect_batch_packed(&rows).unwrap();
                for (i, one) in single.iter().enumerate() {
                    prop_assert_eq!(&batch[i * words..][..words], &one.as_ref().unwrap()[..], "row {}", i);
                }
            }
            Some(i) => {
                let e = single[i].clone().unwrap_err();
                let want = Error::Row { row: i, source: Box::new(e) };
                prop_assert_eq!(prot.protect_batch_packed(&rows), Err(want));
            }
        }
    }
}

// ---------------------------------------------------- flipped bits: base

/// A record of the bit-flip store.
#[derive(Clone, Copy, Debug)]
struct Rec {
    id: RecordId,
    purpose: usize,
    subject: &'static str,
    probe: bool,
    expires_at: i64,
}

impl Rec {
    fn live(&self) -> bool {
        self.expires_at > T_READ
    }
}

/// When the bit-flip store is read: records kept 5 days have expired (not
/// swept), those kept 30 days are live.
const T_READ: i64 = T0 + 10 * DAY;

/// (purpose, subject or case, person, retained probe, days kept).
const RECS: [(usize, &str, usize, bool, i64); 8] = [
    (0, "s0", 0, false, 30),
    (0, "s0", 4, false, 30), // a second record of s0 in gate-a
    (0, "s1", 1, false, 30),
    (0, "s2", 2, false, 5), // expired
    (1, "s0", 0, false, 30),
    (1, "s3", 3, false, 30),
    (0, "case-1", 5, true, 30),
    (1, "case-2", 6, true, 5), // expired
];

/// Subjects verified, with the person whose second sample is the probe.
const SUBJECTS: [(&str, usize); 4] = [("s0", 0), ("s1", 1), ("s2", 2), ("s3", 3)];

/// The columns of `records` a bit is flipped in. The first three are read
/// whenever the row is; the others also select rows (by subject, purpose,
/// kind, expiry), so a flip there may hide the row from a query.
const COLUMNS: [&str; 7] = [
    "nonce",
    "ciphertext",
    "key_version",
    "expires_at",
    "purpose",
    "subject_hash",
    "kind",
];
const READ_ONLY_COLUMNS: usize = 3;

/// Every read path's answer, by name: `Ok` answers as text.
type Reads = BTreeMap<String, Result<String, Error>>;

fn reads(store: &Store, recs: &[Rec]) -> Reads {
    let mut out = Reads::new();
    for p in PURPOSES {
        for (s, person) in SUBJECTS {
            let got = store
                .verify(p, s, Sample::Features(x(person, 1)), &ctx())
                .map(|v| format!("record {} score {}", v.record, v.decision.score));
            out.insert(format!("verify {p} {s}"), got);
        }
        let got = store
            .identify(p, Sample::Features(x(0, 1)), 100, Some(0.0), &ctx())
            .map(|i| {
                let c: Vec<_> = i
                    .candidates
                    .iter()
                    .map(|c| (c.record, c.subject.clone(), c.score))
                    .collect();
                format!("{c:?}")
            });
        out.insert(format!("identify {p}"), got);
    }
    for r in recs.iter().filter(|r| r.probe) {
        let got = store
            .retained_probe(r.id)
            .map(|(case, t)| format!("{case} {:?}", t.to_bytes()));
        out.insert(format!("probe {}", r.id), got);
    }
    out
}

/// Whether `read` decrypts record `r` in the unaltered store.
fn touches(read: &str, r: &Rec) -> bool {
    let p = PURPOSES[r.purpose];
    r.live()
        && if r.probe {
            read == format!("probe {}", r.id)
        } else {
            read == format!("verify {p} {}", r.subject) || read == format!("identify {p}")
        }
}

struct FlipBase {
    dir: tempfile::TempDir,
    path: PathBuf,
    recs: Vec<Rec>,
    events: i64,
    /// Reads of the unaltered store.
    baseline: Reads,
    /// Reads of the store without record `id`, by `id`.
    without: Mutex<BTreeMap<RecordId, Reads>>,
}

fn flip_base() -> &'static FlipBase {
    static B: OnceLock<FlipBase> = OnceLock::new();
    B.get_or_init(|| {
        let dir = static_scratch("btp-prop-");
        let path = dir.path().join("base.db");
        let store = open(&path, T0, 500);
        let mut recs = Vec::new();
        for (purpose, subject, person, probe, days) in RECS {
            let keep = Retention::For(Duration::from_secs((days * DAY) as u64));
            let sample = Sample::Features(x(person, 0));
            let p = PURPOSES[purpose];
            let id = if probe {
                store.retain_probe(p, subject, sample, keep, &ctx())
            } else {
                store.enroll(p, subject, sample, keep, &ctx())
            }
            .unwrap();
            recs.push(Rec {
                id,
                purpose,
                subject,
                probe,
                expires_at: T0 + days * DAY,
            });
        }
        // Events of every kind in the audit log: hold and release, 1:1,
        // 1:N, erasure of a temporary subject, an empty sweep, rotation.
        let hold = store.hold(HoldTarget::Subject("s1"), &ctx()).unwrap();
        store.release(hold, &ctx()).unwrap();
        store.hold(HoldTarget::Record(recs[2].id), &ctx()).unwrap();
        store
            .verify("gate-a", "s0", Sample::Features(x(0, 1)), &ctx())
            .unwrap();
        store
            .identify("gate-c", Sample::Features(x(3, 1)), 3, None, &ctx())
            .unwrap();
        store
            .enroll(
                "gate-c",
                "temporary",
                Sample::Features(x(9, 0)),
                Retention::Maximum,
                &ctx(),
            )
            .unwrap();
        store.erase("temporary", None, &ctx()).unwrap();
        store.sweep(None, &ctx()).unwrap();
        store.rotate_key(Some("gate-c"), &ctx()).unwrap();
        let events = store.verify_audit().unwrap().events as i64;
        drop(store);

        let scratch_copy = copy_db(&path, dir.path(), "baseline.db");
        let baseline = reads(&open(&scratch_copy, T_READ, 500), &recs);
        std::fs::remove_file(&scratch_copy).unwrap();
        // The unaltered answers are the expected ones.
        let expect_err = |k: &str, e: &Error| {
            assert_eq!(baseline[k].as_ref().unwrap_err(), e, "{k}");
        };
        expect_err("verify gate-a s2", &Error::Expired { record: recs[3].id });
        expect_err(
            &format!("probe {}", recs[7].id),
            &Error::Expired { record: recs[7].id },
        );
        let live_ok = [
            "verify gate-a s0",
            "verify gate-a s1",
            "verify gate-c s0",
            "verify gate-c s3",
            "identify gate-a",
            "identify gate-c",
        ];
        for k in live_ok {
            assert!(baseline[k].is_ok(), "{k}: {:?}", baseline[k]);
        }
        assert!(baseline[&format!("probe {}", recs[6].id)].is_ok());
        FlipBase {
            dir,
            path,
            recs,
            events,
            baseline,
            without: Mutex::new(BTreeMap::new()),
        }
    })
}

impl FlipBase {
    /// A fresh copy of the store in `dir`.
    fn copy(&self, dir: &Path) -> PathBuf {
        copy_db(&self.path, dir, "flipped.db")
    }

    /// The reads of the store with record `id` deleted: the answers a
    /// flip that hides the row from a query may give.
    fn without(&self, id: RecordId) -> Reads {
        let mut cache = self.without.lock().unwrap();
        cache
            .entry(id)
            .or_insert_with(|| {
                let path = copy_db(&self.path, self.dir.path(), &format!("without-{id}.db"));
                let conn = Connection::open(&path).unwrap();
                assert_eq!(
                    conn.execute("DELETE FROM records WHERE id = ?1", [id])
                        .unwrap(),
                    1
                );
                drop(conn);
                let got = reads(&open(&path, T_READ, 500), &self.recs);
                std::fs::remove_file(&path).unwrap();
                got
            })
            .clone()
    }
}

/// One bit flipped in one column of one record, behind the store's back;
/// then every read path: 1:1 of every subject in both purposes, 1:N in
/// both purposes (a fresh handle: the gallery decrypts every live
/// template), every retained probe.
///
/// "Detected" means, for every read: it fails with
/// `Error::Integrity { record }` naming exactly the altered record, or it
/// fails with `Error::Expired { record }` naming it (a flip that shortened
/// its life: refused, its data unused), or it answers exactly as the store
/// would with that record deleted (a flip in a column a query selects by
/// can hide the row from that query, as deleting it would). No read ever
/// returns data of the altered record, names another record as damaged, or
/// fails with any other error. In particular a flipped `expires_at` never
/// extends a record's life. For `nonce`, `ciphertext` and `key_version`,
/// which select nothing, every read that decrypted the live record before
/// must fail with `Error::Integrity` for it.
///
/// The cases are tallied by what the reads saw: `refused` (some read
/// failed naming the record), `hidden` (no read failed, some answered as
/// if the record were deleted: the flip moved the row out of a query), or
/// `untouched` (no read differed). Every case flips a bit (a flip the
/// database refuses fails the test), and every case must be `refused`.
#[test]
fn a_flipped_bit_in_a_record_is_detected() {
    let tally = tallied(
        "record bit flips",
        config(400, 0x7e57_0002),
        (0..RECS.len(), 0..COLUMNS.len(), any::<u64>()),
        |(which, column, bit)| {
            let base = flip_base();
            let rec = base.recs[which];
            let dir = scratch("btp-prop-");
            let path = base.copy(dir.path());
            let conn = Connection::open(&path).unwrap();
            prop_assert!(flip_bit(
                &conn,
                "records",
                "id",
                rec.id,
                COLUMNS[column],
                bit
            ));
            drop(conn);
            let got = reads(&open(&path, T_READ, 500), &base.recs);
            let without = base.without(rec.id);
            let integrity = Err(Error::Integrity { record: rec.id });
            let expired = Err(Error::Expired { record: rec.id });
            let (mut refused, mut hidden) = (false, false);
            for (read, answer) in &got {
                let detected =
                    *answer == integrity || *answer == without[read] || *answer == expired;
                prop_assert!(
                    detected,
                    "{} flipped in record {:?}: `{}` answered {:?}; unaltered {:?}, without the record {:?}",
                    COLUMNS[column], rec, read, answer, base.baseline[read], without[read]
                );
                if column < READ_ONLY_COLUMNS && touches(read, &rec) {
                    prop_assert_eq!(
                        answer,
                        &integrity,
                        "{} flipped: `{}`",
                        COLUMNS[column],
                        read
                    );
                }
                refused |= *answer == integrity || *answer == expired;
                hidden |= *answer != base.baseline[read] && *answer == without[read];
            }
            Ok(if refused {
                "refused"
            } else if hidden {
                "hidden"
            } else {
                "untouched"
            })
        },
    );
    // Negative answers come only from authentic rows (store/negative.rs):
    // a flip that moves a row out of a query makes the read that then
    // answers "not enrolled", "expired" or an empty gallery authenticate
    // the subject's rows, so every flip is refused by some read; none
    // hides the record from all of them (before that check, about a
    // quarter of the flips did).
    let cases: usize = tally.values().sum();
    assert_eq!(
        tally.get("refused").copied().unwrap_or(0),
        cases,
        "a flip that no read refused: {tally:?}"
    );
}

/// One bit flipped in one column of one audit row (the append-only
/// triggers dropped first, as an attacker would): the chain check fails at
/// exactly that row's seq. A flip the table refuses (a seq that exists
/// already or is not positive) or in a NULL value (an event without a
/// purpose) changes nothing: such cases are tallied as `not flipped`, and
/// at least 90% of the cases must really flip a bit.
#[test]
fn a_flipped_bit_in_an_audit_event_is_detected() {
    let tally = tallied(
        "audit bit flips",
        config(400, 0x7e57_0005),
        (
            any::<prop::sample::Index>(),
            0..AUDIT_COLUMNS.len(),
            any::<u64>(),
        ),
        |(pick, column, bit)| {
            let base = flip_base();
            let seq = pick.index(base.events as usize) as i64 + 1;
            let dir = scratch("btp-prop-");
            let path = base.copy(dir.path());
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch("DROP TRIGGER audit_no_update; DROP TRIGGER audit_prune_only;")
                .unwrap();
            if !flip_bit(&conn, "audit", "seq", seq, AUDIT_COLUMNS[column], bit) {
                return Ok("not flipped");
            }
            drop(conn);
            let store = open(&path, T_READ, 500);
            match store.verify_audit() {
                Err(Error::AuditBroken { seq: at, .. }) => prop_assert_eq!(
                    at,
                    seq as u64,
                    "{} flipped in event {}",
                    AUDIT_COLUMNS[column],
                    seq
                ),
                other => prop_assert!(
                    false,
                    "{} flipped in event {}: {:?}",
                    AUDIT_COLUMNS[column],
                    seq,
                    other
                ),
            }
            Ok("detected at its seq")
        },
    );
    let cases: usize = tally.values().sum();
    assert!(
        tally.get("not flipped").copied().unwrap_or(0) * 10 <= cases,
        "too many cases flipped nothing: {tally:?}"
    );
}

const AUDIT_COLUMNS: [&str; 11] = [
    "seq", "time", "actor", "action", "purpose", "reason", "records", "subjects", "outcome",
    "detail", "mac",
];

/// The controls: a flip is not a no-op, and the checks above can fail.
#[test]
fn flip_controls() {
    let base = flip_base();
    let dir = scratch("btp-prop-");
    // Restoring a flipped bit restores the answers.
    let path = base.copy(dir.path());
    let conn = Connection::open(&path).unwrap();
    let id = base.recs[0].id;
    assert!(flip_bit(&conn, "records", "id", id, "ciphertext", 77));
    drop(conn);
    let got = reads(&open(&path, T_READ, 500), &base.recs);
    assert_eq!(got["identify gate-a"], Err(Error::Integrity { record: id }));
    let conn = Connection::open(&path).unwrap();
    assert!(flip_bit(&conn, "records", "id", id, "ciphertext", 77));
    drop(conn);
    let again = reads(&open(&path, T_READ, 500), &base.recs);
    for (k, v) in &again {
        if k.starts_with("verify") || k.starts_with("identify") || k.starts_with("probe") {
            assert_eq!(v, &base.baseline[k], "{k}");
        }
    }
    // Deleting a record changes the answers the property compares with.
    assert_ne!(
        base.without(id)["identify gate-a"],
        base.baseline["identify gate-a"]
    );
}

// ------------------------------------------------------------ sweep

/// A record to enrol in the sweep and rotation properties.
#[derive(Clone, Debug)]
struct Spec {
    purpose: usize,
    subject: usize,
    person: usize,
    probe: bool,
    days: i64,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        0..2usize,
        0..4usize,
        0..12usize,
        prop::bool::weighted(0.2),
        1i64..=10,
    )
        .prop_map(|(purpose, subject, person, probe, days)| Spec {
            purpose,
            subject,
            person,
            probe,
            days,
        })
}

fn subject_name(s: usize) -> String {
    format!("subject-{s}")
}

/// Enrols (or retains) every spec at `T0`; returns the ids in order.
fn enrol_all(store: &Store, specs: &[Spec]) -> Vec<RecordId> {
    specs
        .iter()
        .map(|s| {
            let keep = Retention::For(Duration::from_secs((s.days * DAY) as u64));
            let sample = Sample::Features(x(s.person, 0));
            let (p, name) = (PURPOSES[s.purpose], subject_name(s.subject));
            if s.probe {
                store.retain_probe(p, &name, sample, keep, &ctx())
            } else {
                store.enroll(p, &name, sample, keep, &ctx())
            }
            .unwrap()
        })
        .collect()
}

/// What a store holds, read through the API: per purpose every live
/// template's score against a fixed probe (1:N with threshold 0, which
/// decrypts the whole gallery), and every retained probe's bytes. The
/// candidate lists are checked sorted and within [0, 1] on the way.
fn contents(store: &Store, probes: &[RecordId]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for p in PURPOSES {
        let found = store
            .identify(p, Sample::Features(x(11, 1)), 1000, Some(0.0), &ctx())
            .unwrap();
        for w in found.candidates.windows(2) {
            assert!(
                w[0].score > w[1].score || (w[0].score == w[1].score && w[0].record < w[1].record)
            );
        }
        for c in found.candidates {
            assert!((0.0..=1.0).contains(&c.score));
            out.insert(
                format!("template {}", c.record),
                format!("{p} {} {}", c.subject, c.score),
            );
        }
    }
    for &id in probes {
        if let Ok((case, t)) = store.retained_probe(id) {
            out.insert(format!("probe {id}"), format!("{case} {:?}", t.to_bytes()));
        }
    }
    out
}

/// Arbitrary records and retentions, holds on arbitrary subjects and
/// records (some released again), a sweep at an arbitrary time (on, just
/// before or just after expiry days): exactly the expired records without
/// an active hold are deleted and reported; the rest are all still there,
/// decrypt and score as before, and the audit chain verifies. Cases are
/// tallied by whether the sweep deleted and whether a hold kept an expired
/// record; each kind must occur.
#[test]
fn sweep_deletes_exactly_the_expired_unheld_records() {
    let strategy = (
        prop::collection::vec(spec(), 1..12),
        prop::collection::vec(0..3u8, 4),
        prop::collection::vec(0..3u8, 12),
        0i64..=11,
        -1i64..=1,
        1usize..5,
    );
    let tally = tallied(
        "sweeps",
        config(128, 0x7e57_0003),
        strategy,
        |(specs, subject_holds, record_holds, sweep_day, shift, batch)| {
            let dir = scratch("btp-prop-");
            let path = dir.path().join("sweep.db");
            let store = open(&path, T0, batch);
            let ids = enrol_all(&store, &specs);
            // 0: no hold, 1: an active hold, 2: a hold released again.
            for (s, &h) in subject_holds.iter().enumerate() {
                if h > 0 {
                    let hold = store
                        .hold(HoldTarget::Subject(&subject_name(s)), &ctx())
                        .unwrap();
                    if h == 2 {
                        store.release(hold, &ctx()).unwrap();
                    }
                }
            }
            for (&id, &h) in ids.iter().zip(&record_holds) {
                if h > 0 {
                    let hold = store.hold(HoldTarget::Record(id), &ctx()).unwrap();
                    if h == 2 {
                        store.release(hold, &ctx()).unwrap();
                    }
                }
            }
            let probes: Vec<RecordId> = ids
                .iter()
                .zip(&specs)
                .filter(|(_, s)| s.probe)
                .map(|(&id, _)| id)
                .collect();
            let before = contents(&store, &probes);
            prop_assert_eq!(before.len(), ids.len());
            drop(store);

            let now = T0 + sweep_day * DAY + shift;
            let held =
                |i: usize| subject_holds[specs[i].subject] == 1 || record_holds.get(i) == Some(&1);
            let expired = |i: usize| T0 + specs[i].days * DAY <= now;
            let mut expected: BTreeMap<String, Vec<RecordId>> = BTreeMap::new();
            for i in (0..ids.len()).filter(|&i| expired(i) && !held(i)) {
                expected
                    .entry(PURPOSES[specs[i].purpose].to_owned())
                    .or_default()
                    .push(ids[i]);
            }
            let store = open(&path, now, batch);
            let report = store.sweep(None, &ctx()).unwrap();
            prop_assert_eq!(&report.deleted, &expected);
            prop_assert_eq!(
                report.held,
                (0..ids.len()).filter(|&i| expired(i) && held(i)).count() as u64
            );
            prop_assert_eq!(store.sweep(None, &ctx()).unwrap().total(), 0);
            // At sweep time, 1:N finds exactly the live templates.
            let live: BTreeSet<String> = (0..ids.len())
                .filter(|&i| !expired(i) && !specs[i].probe)
                .map(|i| format!("template {}", ids[i]))
                .collect();
            let found: BTreeSet<String> = contents(&store, &[]).into_keys().collect();
            prop_assert_eq!(found, live);
            store.verify_audit().unwrap();
            drop(store);

            let deleted: BTreeSet<RecordId> = expected.values().flatten().copied().collect();
            let kept: BTreeSet<RecordId> = ids
                .iter()
                .copied()
                .filter(|id| !deleted.contains(id))
                .collect();
            prop_assert_eq!(record_ids(&path), kept.clone());
            // Back at T0 every kept record is live again: each decrypts and
            // scores exactly as before the sweep.
            let after = contents(&open(&path, T0, batch), &probes);
            let want: BTreeMap<String, String> = before
                .into_iter()
                .filter(|(k, _)| kept.contains(&k.rsplit(' ').next().unwrap().parse().unwrap()))
                .collect();
            prop_assert_eq!(after, want);
            Ok(match (deleted.is_empty(), report.held == 0) {
                (false, false) => "deleted some, a hold kept some",
                (false, true) => "deleted some, none held",
                (true, false) => "deleted none, a hold kept some",
                (true, true) => "nothing expired",
            })
        },
    );
    assert_eq!(tally.len(), 4, "a kind of sweep never occurred: {tally:?}");
}

// ------------------------------------------------------------ rotation

/// `(key_version, nonce, ciphertext)` of every record.
fn sealed(path: &Path) -> BTreeMap<RecordId, (i64, Vec<u8>, Vec<u8>)> {
    let conn = Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT id, key_version, nonce, ciphertext FROM records")
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?))))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    rows
}

/// `(version, state)` of a purpose's storage keys.
fn key_states(path: &Path, purpose: &str) -> Vec<(i64, String)> {
    let conn = Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT version, state FROM storage_keys WHERE purpose = ?1 ORDER BY version")
        .unwrap();
    let rows = stmt
        .query_map([purpose], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    rows
}

/// Arbitrary records, then one to three rotations of one purpose or of
/// all, with arbitrary batch sizes: every record still decrypts and scores
/// as before (the rotating handle and a fresh one), every record is under
/// its purpose's new key version, the old versions are retired, and a
/// record put back as it was under a retired version (its old key version,
/// nonce and ciphertext: a restored backup) no longer reads. Cases are
/// tallied by whether a restored record could be tried (a case where no
/// rotation touched a record cannot), which most must.
#[test]
fn rotation_preserves_every_record() {
    let strategy = (
        prop::collection::vec(spec(), 1..10),
        prop::collection::vec(prop::option::of(0..2usize), 1..=3),
        1usize..4,
    );
    let tally = tallied(
        "rotations",
        config(128, 0x7e57_0004),
        strategy,
        |(specs, plan, batch)| {
            let dir = scratch("btp-prop-");
            let path = dir.path().join("rotate.db");
            let store = open(&path, T0, batch);
            let ids = enrol_all(&store, &specs);
            let probes: Vec<RecordId> = ids
                .iter()
                .zip(&specs)
                .filter(|(_, s)| s.probe)
                .map(|(&id, _)| id)
                .collect();
            let before = contents(&store, &probes);
            prop_assert_eq!(before.len(), ids.len());
            let old = sealed(&path);
            let count = |p: usize| specs.iter().filter(|s| s.purpose == p).count() as u64;
            let mut version = [1u32; 2];
            for step in &plan {
                let report = store.rotate_key(step.map(|p| PURPOSES[p]), &ctx()).unwrap();
                let rotated: Vec<usize> = step.map_or(vec![0, 1], |p| vec![p]);
                let want: Vec<(String, u32, u32, u64)> = rotated
                    .iter()
                    .map(|&p| (PURPOSES[p].to_owned(), version[p], version[p] + 1, count(p)))
                    .collect();
                prop_assert_eq!(
                    report
                        .rotated
                        .iter()
                        .map(|r| (r.purpose.clone(), r.from, r.to, r.reencrypted))
                        .collect::<Vec<_>>(),
                    want
                );
                for p in rotated {
                    version[p] += 1;
                }
                prop_assert_eq!(&contents(&store, &probes), &before);
            }
            store.verify_audit().unwrap();
            drop(store);
            prop_assert_eq!(&contents(&open(&path, T0, batch), &probes), &before);

            let now = sealed(&path);
            for (i, id) in ids.iter().enumerate() {
                prop_assert_eq!(now[id].0, i64::from(version[specs[i].purpose]));
            }
            for (p, name) in PURPOSES.iter().enumerate() {
                let want: Vec<(i64, String)> = (1..=i64::from(version[p]))
                    .map(|v| {
                        (
                            v,
                            if v == i64::from(version[p]) {
                                "active"
                            } else {
                                "retired"
                            }
                            .to_owned(),
                        )
                    })
                    .collect();
                prop_assert_eq!(key_states(&path, name), want);
            }
            // A rotated record restored to its bytes under key version 1.
            if let Some(i) = (0..ids.len()).find(|&i| version[specs[i].purpose] > 1) {
                let (id, s) = (ids[i], &specs[i]);
                let copy = copy_db(&path, dir.path(), "restored.db");
                let conn = Connection::open(&copy).unwrap();
                let (v, nonce, ct) = &old[&id];
                conn.execute(
                "UPDATE records SET key_version = ?2, nonce = ?3, ciphertext = ?4 WHERE id = ?1",
                params![id, v, nonce, ct],
            ).unwrap();
                drop(conn);
                let store = open(&copy, T0, batch);
                let got = if s.probe {
                    store.retained_probe(id).map(|_| ())
                } else {
                    store
                        .identify(
                            PURPOSES[s.purpose],
                            Sample::Features(x(0, 1)),
                            10,
                            None,
                            &ctx(),
                        )
                        .map(|_| ())
                };
                prop_assert_eq!(got, Err(Error::Integrity { record: id }));
                return Ok("rotated, and a restored old row refused");
            }
            Ok("rotated, no record under an old key to restore")
        },
    );
    let cases: usize = tally.values().sum();
    assert!(
        tally
            .get("rotated, and a restored old row refused")
            .copied()
            .unwrap_or(0)
            * 2
            >= cases,
        "{tally:?}"
    );
}

/// What the properties above found, pinned as plain tests: each failed
/// before its fix.
#[test]
fn regressions_found_by_the_properties() {
    let base = flip_base();
    let dir = scratch("btp-prop-");
    // A flipped high bit of `key_version` was read as the original
    // version (an `as u32` truncation): the record decrypted and matched.
    let path = base.copy(dir.path());
    let conn = Connection::open(&path).unwrap();
    let id = base.recs[0].id;
    assert!(flip_bit(&conn, "records", "id", id, "key_version", 40));
    drop(conn);
    let store = open(&path, T_READ, 500);
    let got = store.identify("gate-a", Sample::Features(x(0, 1)), 10, None, &ctx());
    assert_eq!(got.unwrap_err(), Error::Integrity { record: id });
    drop(store);
    // A purpose that is no longer UTF-8 was a database (conversion)
    // error, not an integrity failure of the record.
    let probe = base.recs[6].id;
    let path = copy_db(&base.path, dir.path(), "purpose.db");
    let conn = Connection::open(&path).unwrap();
    assert!(flip_bit(&conn, "records", "id", probe, "purpose", 7));
    drop(conn);
    let store = open(&path, T_READ, 500);
    assert_eq!(
        store.retained_probe(probe).unwrap_err(),
        Error::Integrity { record: probe }
    );
    drop(store);
    // IoM-GRP with a window of 2 (binary codes): templates never decoded,
    // so every stored record was an integrity failure.
    let params = SchemeParams::iom_grp(DIM as u32, 64, 2).unwrap();
    let purpose = Purpose::new(
        "binary",
        params,
        "app",
        0.3,
        Duration::from_secs(DAY as u64),
    )
    .unwrap();
    let store = Store::create(dir.path().join("binary.db"), &master(), &[purpose]).unwrap();
    let keep = Retention::Maximum;
    store
        .enroll("binary", "s", Sample::Features(x(0, 0)), keep, &ctx())
        .unwrap();
    let v = store
        .verify("binary", "s", Sample::Features(x(0, 1)), &ctx())
        .unwrap();
    assert!(v.decision.matched, "{v:?}");
}
