//! Integration tests of the public matching API.
//!
//! * `Gallery::search` against a brute-force oracle (every similarity, sorted
//!   by score descending then id ascending, filtered by the threshold and cut
//!   to `k`), for every scheme and code width (1, 4 and 8 bits, one and
//!   several words), whatever the thread count; `search_batch` against
//!   per-probe `search`.
//! * A model-based test of add / remove / get / search sequences.
//! * Typed errors: duplicate and absent ids, foreign keys and schemes, bad
//!   `k` and thresholds, bad batches.
//! * `Protector`: compare, verify, batch protection against row-wise
//!   protection, `add_packed` with `protect_batch_packed`.

use std::collections::btree_map::{BTreeMap, Entry};
use std::sync::OnceLock;

use btp::codes::CodeLayout;
use btp::decision;
use btp::{
    Candidate, Error, Gallery, MasterKey, ProtectedTemplate, Protector, SchemeId, SchemeParams,
};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Largest feature dimension of the small test configurations.
const MAX_DIM: usize = 80;
/// Smallest feature dimension of the small test configurations.
const MIN_DIM: usize = 8;

fn master(seed: u8) -> MasterKey {
    MasterKey::from_bytes(&[seed; 32]).unwrap()
}

fn protector_with(params: SchemeParams, key: u8, app: &str, version: u32) -> Protector {
    Protector::new(params, &master(key), app, version, None).unwrap()
}

/// Small configurations covering the three schemes, code widths 1, 4 and 8
/// bits, single- and multi-word codes and partial last words. Short codes
/// make equal scores (ties) frequent, which exercises the id tie-break.
fn configs() -> Vec<SchemeParams> {
    vec![
        SchemeParams::iom_grp(8, 6, 16).unwrap(), // 4-bit, 24 bits in one word
        SchemeParams::iom_grp(8, 40, 16).unwrap(), // 4-bit, 160 bits = 3 words
        SchemeParams::iom_grp(8, 20, 64).unwrap(), // 8-bit, 160 bits = 3 words
        SchemeParams::iom_urp(16, 12, 16, 2).unwrap(), // 4-bit
        SchemeParams::iom_urp(MAX_DIM as u32, 9, 64, 3).unwrap(), // 8-bit, 72 bits = 2 words
        SchemeParams::biohash(8, 5).unwrap(),     // 1-bit, 5 bits
        SchemeParams::biohash(MAX_DIM as u32, 70).unwrap(), // 1-bit, 2 words
    ]
}

/// One protector per configuration, built once (building draws the matrices).
fn protectors() -> &'static [Protector] {
    static P: OnceLock<Vec<Protector>> = OnceLock::new();
    P.get_or_init(|| {
        configs()
            .into_iter()
            .map(|p| protector_with(p, 1, "matching-tests", 1))
            .collect()
    })
}

/// The scheme defaults (dimension 128).
fn defaults() -> Vec<SchemeParams> {
    vec![
        SchemeParams::iom_grp(128, 512, 16).unwrap(),
        SchemeParams::iom_urp(128, 512, 16, 2).unwrap(),
        SchemeParams::biohash(128, 128).unwrap(),
    ]
}

/// Distinct ids in an order unrelated to insertion order.
fn scrambled_id(i: usize, salt: u64) -> u64 {
    (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt
}

/// Brute force: every similarity, sorted by (score desc, id asc), filtered
/// by the threshold, cut to `k`.
fn oracle(
    entries: &[(u64, ProtectedTemplate)],
    probe: &ProtectedTemplate,
    k: usize,
    threshold: Option<f64>,
) -> Vec<Candidate> {
    let mut all: Vec<Candidate> = entries
        .iter()
        .map(|(id, t)| Candidate {
            id: *id,
            score: probe.similarity(t).unwrap(),
        })
        .collect();
    all.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
    if let Some(t) = threshold {
        all.retain(|c| c.score >= t);
    }
    all.truncate(k);
    all
}

/// Structural properties every search result has.
fn check_result(got: &[Candidate], k: usize, threshold: Option<f64>) -> Result<(), String> {
    if got.len() > k {
        return Err(format!("{} results for k = {k}", got.len()));
    }
    for c in got {
        if !(0.0..=1.0).contains(&c.score) {
            return Err(format!("score {} outside [0, 1]", c.score));
        }
        if threshold.is_some_and(|t| c.score < t) {
            return Err(format!(
                "score {} below the threshold {threshold:?}",
                c.score
            ));
        }
    }
    for w in got.windows(2) {
        let ordered = w[0].score > w[1].score || (w[0].score == w[1].score && w[0].id < w[1].id);
        if !ordered {
            return Err(format!("not sorted: {:?} then {:?}", w[0], w[1]));
        }
    }
    Ok(())
}

/// A feature vector of `MAX_DIM` values; its first `MIN_DIM` values are not
/// all (nearly) zero, so every prefix used as a vector has a usable norm.
fn vector() -> impl Strategy<Value = Vec<f32>> {
    prop::collection::vec(-1.0f32..1.0, MAX_DIM).prop_filter("zero prefix", |v| {
        v[..MIN_DIM].iter().any(|x| x.abs() > 1e-3)
    })
}

/// A threshold: none, uniform in [0, 1], or exactly one of the scores the
/// layout can produce (the boundary case of `>=`).
fn threshold_of(layout: CodeLayout, mode: u8, uniform: f64, pick: u32) -> Option<f64> {
    match mode % 3 {
        0 => None,
        1 => Some(uniform),
        _ => Some(layout.score(pick % (layout.len() as u32 + 1))),
    }
}

fn random_vector(rng: &mut impl Rng, dim: usize) -> Vec<f32> {
    (0..dim).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

#[test]
fn configurations_cover_every_scheme_and_width() {
    let ps = protectors();
    for width in [1, 4, 8] {
        assert!(
            ps.iter().any(|p| p.layout().width() == width),
            "width {width}"
        );
        assert!(ps
            .iter()
            .any(|p| p.layout().width() == width && p.layout().words() > 1));
    }
    for scheme in [SchemeId::IomGrp, SchemeId::IomUrp, SchemeId::BioHash] {
        assert!(ps.iter().any(|p| p.params().scheme_id() == scheme));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn search_matches_brute_force(
        cfg in 0..configs().len(),
        rows in prop::collection::vec(vector(), 0..40),
        dups in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
        probes in prop::collection::vec(vector(), 1..4),
        salt in any::<u64>(),
        k in 1usize..12,
        (mode, uniform, pick) in (any::<u8>(), 0.0f64..=1.0, any::<u32>()),
    ) {
        let p = &protectors()[cfg];
        let dim = p.dim();
        let threshold = threshold_of(p.layout(), mode, uniform, pick);
        // Repeated vectors give equal codes: ties broken by id only.
        let mut rows = rows;
        if !rows.is_empty() {
            for d in &dups {
                let r = d.get(&rows).clone();
                rows.push(r);
            }
        }
        let templates: Vec<ProtectedTemplate> =
            rows.iter().map(|r| p.protect(&r[..dim]).unwrap()).collect();
        let ids: Vec<u64> = (0..templates.len()).map(|i| scrambled_id(i, salt)).collect();
        let mut g = Gallery::new(p);
        g.add_batch(&ids, &templates).unwrap();
        prop_assert_eq!(g.len(), templates.len());
        let entries: Vec<(u64, ProtectedTemplate)> =
            ids.iter().copied().zip(templates.iter().cloned()).collect();

        let mut probes: Vec<ProtectedTemplate> =
            probes.iter().map(|r| p.protect(&r[..dim]).unwrap()).collect();
        if let Some(t) = templates.first() {
            probes.push(t.clone()); // an exact match, score 1
        }

        // Scores in storage order agree with pairwise similarity.
        for probe in &probes {
            let scores = g.scores(probe).unwrap();
            let want: Vec<f64> = g
                .ids()
                .iter()
                .map(|id| probe.similarity(&g.get(*id).unwrap()).unwrap())
                .collect();
            prop_assert_eq!(scores, want);
        }

        for threads in [0, 1, 2, 7] {
            g.set_threads(threads);
            prop_assert_eq!(g.threads(), threads);
            let mut singles = Vec::new();
            for probe in &probes {
                let got = g.search(probe, k, threshold).unwrap();
                check_result(&got, k, threshold).map_err(TestCaseError::fail)?;
                prop_assert_eq!(&got, &oracle(&entries, probe, k, threshold));
                singles.push(got);
            }
            let batch = g.search_batch(&probes, k, threshold).unwrap();
            prop_assert_eq!(batch, singles);
        }
    }

    #[test]
    fn compare_and_verify(
        cfg in 0..configs().len(),
        a in vector(),
        b in vector(),
        threshold in 0.0f64..=1.0,
    ) {
        let p = &protectors()[cfg];
        let dim = p.dim();
        let ta = p.protect(&a[..dim]).unwrap();
        let tb = p.protect(&b[..dim]).unwrap();
        prop_assert_eq!(p.protect(&a[..dim]).unwrap(), ta.clone()); // deterministic

        let s = p.compare(&ta, &tb).unwrap();
        prop_assert!((0.0..=1.0).contains(&s));
        prop_assert_eq!(p.compare(&tb, &ta).unwrap(), s);
        prop_assert_eq!(ta.similarity(&tb).unwrap(), s);
        prop_assert_eq!(p.compare(&ta, &ta).unwrap(), 1.0);
        prop_assert_eq!(p.compare(&tb, &tb).unwrap(), 1.0);

        let d = p.verify(&ta, &tb, threshold).unwrap();
        prop_assert_eq!(d.score, s);
        prop_assert_eq!(d.threshold, threshold);
        prop_assert_eq!(d.matched, s >= threshold);
        prop_assert_eq!(decision::verify(&ta, &tb, threshold).unwrap(), d);

        // The boundary: a score equal to the threshold is accepted, the next
        // representable threshold above it is not.
        prop_assert!(p.verify(&ta, &tb, s).unwrap().matched);
        if s < 1.0 {
            let above = f64::from_bits(s.to_bits() + 1);
            let d = p.verify(&ta, &tb, above).unwrap();
            prop_assert!(!d.matched);
            prop_assert_eq!(d.threshold, above);
        }
        let d = p.verify(&ta, &ta, 1.0).unwrap();
        prop_assert!(d.matched && d.score == 1.0);
    }
}

/// Operations of the model-based gallery test. Ids come from a small range
/// so that duplicates and removals of present ids are frequent.
#[derive(Clone, Debug)]
enum Op {
    Add(u64, usize),
    AddBatch(Vec<(u64, usize)>),
    /// A batch whose last template comes from another key.
    AddForeign(Vec<(u64, usize)>),
    Remove(u64),
    RemoveBatch(Vec<u64>),
    Search(usize, usize),
}

const POOL: usize = 8;
const ID_RANGE: u64 = 12;

fn op() -> impl Strategy<Value = Op> {
    let entry = (0..ID_RANGE, 0..POOL);
    prop_oneof![
        3 => entry.clone().prop_map(|(id, t)| Op::Add(id, t)),
        2 => prop::collection::vec(entry.clone(), 0..5).prop_map(Op::AddBatch),
        1 => prop::collection::vec(entry, 0..3).prop_map(Op::AddForeign),
        3 => (0..ID_RANGE).prop_map(Op::Remove),
        1 => prop::collection::vec(0..ID_RANGE, 0..4).prop_map(Op::RemoveBatch),
        2 => (0..POOL, 1usize..6).prop_map(|(t, k)| Op::Search(t, k)),
    ]
}

/// The error `add_batch` must report for `ids` given the present ids: the
/// first id already present or repeated within the batch.
fn expected_duplicate(model: &BTreeMap<u64, ProtectedTemplate>, ids: &[u64]) -> Option<u64> {
    ids.iter()
        .enumerate()
        .find(|(i, id)| model.contains_key(id) || ids[..*i].contains(id))
        .map(|(_, id)| *id)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn gallery_follows_a_model(
        cfg in 0..configs().len(),
        pool in prop::collection::vec(vector(), POOL),
        threads in prop::sample::select(vec![0usize, 1, 3, 7]),
        ops in prop::collection::vec(op(), 1..40),
    ) {
        let p = &protectors()[cfg];
        let foreign = &foreign_protectors()[cfg];
        let dim = p.dim();
        let pool: Vec<ProtectedTemplate> =
            pool.iter().map(|r| p.protect(&r[..dim]).unwrap()).collect();
        let alien = foreign.protect(&vec![0.5; dim]).unwrap();
        let mut g = Gallery::new(p);
        g.set_threads(threads);
        let mut model: BTreeMap<u64, ProtectedTemplate> = BTreeMap::new();

        for op in ops {
            match op {
                Op::Add(id, t) => {
                    let r = g.add(id, &pool[t]);
                    match model.entry(id) {
                        Entry::Occupied(_) => prop_assert_eq!(r, Err(Error::DuplicateId(id))),
                        Entry::Vacant(e) => {
                            prop_assert_eq!(r, Ok(()));
                            e.insert(pool[t].clone());
                        }
                    }
                }
                Op::AddBatch(entries) => {
                    let ids: Vec<u64> = entries.iter().map(|e| e.0).collect();
                    let ts: Vec<ProtectedTemplate> =
                        entries.iter().map(|e| pool[e.1].clone()).collect();
                    let r = g.add_batch(&ids, &ts);
                    match expected_duplicate(&model, &ids) {
                        Some(dup) => prop_assert_eq!(r, Err(Error::DuplicateId(dup))),
                        None => {
                            prop_assert_eq!(r, Ok(()));
                            model.extend(ids.into_iter().zip(ts));
                        }
                    }
                }
                Op::AddForeign(entries) => {
                    let mut ids: Vec<u64> = entries.iter().map(|e| e.0).collect();
                    let mut ts: Vec<ProtectedTemplate> =
                        entries.iter().map(|e| pool[e.1].clone()).collect();
                    ids.push(ID_RANGE + 1);
                    ts.push(alien.clone());
                    prop_assert_eq!(g.add_batch(&ids, &ts), Err(Error::KeyMismatch));
                }
                Op::Remove(id) => {
                    let r = g.remove(id);
                    if model.remove(&id).is_some() {
                        prop_assert_eq!(r, Ok(()));
                    } else {
                        prop_assert_eq!(r, Err(Error::NotFound(id)));
                    }
                }
                Op::RemoveBatch(ids) => {
                    let want = ids.iter().filter(|id| model.remove(id).is_some()).count();
                    prop_assert_eq!(g.remove_batch(&ids), want);
                }
                Op::Search(t, k) => {
                    let entries: Vec<(u64, ProtectedTemplate)> =
                        model.iter().map(|(id, t)| (*id, t.clone())).collect();
                    let got = g.search(&pool[t], k, None).unwrap();
                    prop_assert_eq!(got, oracle(&entries, &pool[t], k, None));
                }
            }

            // Invariants after every operation.
            prop_assert_eq!(g.len(), model.len());
            prop_assert_eq!(g.is_empty(), model.is_empty());
            let mut ids = g.ids().to_vec();
            ids.sort_unstable();
            prop_assert_eq!(ids, model.keys().copied().collect::<Vec<_>>());
            for id in 0..=ID_RANGE + 1 {
                prop_assert_eq!(g.contains(id), model.contains_key(&id));
                prop_assert_eq!(g.get(id), model.get(&id).cloned());
            }
            // A search of everything returns exactly the present ids: a
            // removed id never comes back.
            let entries: Vec<(u64, ProtectedTemplate)> =
                model.iter().map(|(id, t)| (*id, t.clone())).collect();
            let all = g.search(&pool[0], ID_RANGE as usize + 2, None).unwrap();
            prop_assert_eq!(all, oracle(&entries, &pool[0], ID_RANGE as usize + 2, None));
        }
    }
}

/// For each configuration, a protector of the same parameters under another
/// master key.
fn foreign_protectors() -> &'static [Protector] {
    static P: OnceLock<Vec<Protector>> = OnceLock::new();
    P.get_or_init(|| {
        configs()
            .into_iter()
            .map(|p| protector_with(p, 2, "matching-tests", 1))
            .collect()
    })
}

/// A small gallery of `n` templates of `p` with ids `0..n`.
fn small_gallery(p: &Protector, n: usize, seed: u64) -> (Gallery, Vec<ProtectedTemplate>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let ts: Vec<ProtectedTemplate> = (0..n)
        .map(|_| p.protect(&random_vector(&mut rng, p.dim())).unwrap())
        .collect();
    let mut g = Gallery::new(p);
    let ids: Vec<u64> = (0..n as u64).collect();
    g.add_batch(&ids, &ts).unwrap();
    (g, ts)
}

#[test]
fn duplicate_ids_and_all_or_nothing_batches() {
    for p in protectors() {
        let (mut g, ts) = small_gallery(p, 5, 7);
        let before = g.clone();
        let snapshot = |g: &Gallery| (g.ids().to_vec(), g.search(&ts[0], 10, None).unwrap());

        assert_eq!(g.add(3, &ts[0]), Err(Error::DuplicateId(3)));
        // Duplicate with the gallery in the middle of a batch: nothing added.
        assert_eq!(
            g.add_batch(
                &[10, 11, 2, 12],
                &[ts[0].clone(), ts[1].clone(), ts[2].clone(), ts[3].clone()]
            ),
            Err(Error::DuplicateId(2))
        );
        // Duplicate within the batch: nothing added.
        assert_eq!(
            g.add_batch(
                &[20, 21, 20],
                &[ts[0].clone(), ts[1].clone(), ts[2].clone()]
            ),
            Err(Error::DuplicateId(20))
        );
        // Ids and templates of different lengths.
        assert!(matches!(
            g.add_batch(&[30, 31], std::slice::from_ref(&ts[0])),
            Err(Error::InvalidParameter { name: "ids", .. })
        ));
        for id in [10, 11, 12, 20, 21, 30, 31] {
            assert!(!g.contains(id));
        }
        assert_eq!(snapshot(&g), snapshot(&before));

        // An empty batch is fine and adds nothing.
        g.add_batch(&[], &[]).unwrap();
        assert_eq!(g.len(), 5);

        // A valid batch after the failures adds everything.
        g.add_batch(&[10, 11], &[ts[3].clone(), ts[4].clone()])
            .unwrap();
        assert_eq!(g.len(), 7);
        assert_eq!(g.get(10).as_ref(), Some(&ts[3]));
        assert_eq!(g.get(11).as_ref(), Some(&ts[4]));
    }
}

#[test]
fn remove_get_and_search() {
    for p in protectors() {
        let (mut g, ts) = small_gallery(p, 30, 11);
        for (i, t) in ts.iter().enumerate() {
            assert_eq!(g.get(i as u64).as_ref(), Some(t));
            // The round trip through the gallery keeps the wire encoding.
            let back = g.get(i as u64).unwrap();
            assert_eq!(ProtectedTemplate::from_bytes(&back.to_bytes()).unwrap(), *t);
        }
        assert_eq!(g.remove(100), Err(Error::NotFound(100)));
        for id in [0u64, 29, 7, 8, 15] {
            g.remove(id).unwrap();
            assert_eq!(g.remove(id), Err(Error::NotFound(id)));
            assert_eq!(g.get(id), None);
            assert!(!g.contains(id));
        }
        assert_eq!(g.len(), 25);
        for threads in [1, 2, 7] {
            g.set_threads(threads);
            for probe in &ts {
                let hits = g.search(probe, 30, None).unwrap();
                assert_eq!(hits.len(), 25);
                assert!(hits.iter().all(|c| ![0, 29, 7, 8, 15].contains(&c.id)));
            }
            // The removed template itself, searched with threshold 1, finds
            // only remaining entries with an identical code.
            let exact = g.search(&ts[7], 5, Some(1.0)).unwrap();
            assert!(exact
                .iter()
                .all(|c| c.id != 7 && g.get(c.id).unwrap() == ts[7]));
        }
        // remove_batch counts what it removed and ignores absent ids.
        assert_eq!(g.remove_batch(&[1, 1, 2, 0, 500]), 2);
        assert_eq!(g.len(), 23);
        // The ids are re-addable after removal.
        g.add(0, &ts[5]).unwrap();
        assert_eq!(g.get(0).as_ref(), Some(&ts[5]));
        let top = g.search(&ts[5], 1, None).unwrap();
        assert_eq!(top[0].score, 1.0);
        // Removing everything leaves an empty gallery that searches to nothing.
        let ids = g.ids().to_vec();
        assert_eq!(g.remove_batch(&ids), ids.len());
        assert!(g.is_empty());
        assert_eq!(g.search(&ts[0], 3, None).unwrap(), vec![]);
        assert_eq!(
            g.search_batch(&ts[..2], 3, None).unwrap(),
            vec![vec![], vec![]]
        );
    }
}

#[test]
fn foreign_keys_are_key_mismatches() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for (i, params) in configs().into_iter().enumerate() {
        let p = &protectors()[i];
        let others = [
            protector_with(params.clone(), 2, "matching-tests", 1), // master key
            protector_with(params.clone(), 1, "other-app", 1),      // application
            protector_with(params.clone(), 1, "matching-tests", 2), // version
            Protector::new(params.clone(), &master(1), "matching-tests", 1, Some(b"s")).unwrap(),
        ];
        let (mut g, ts) = small_gallery(p, 6, 5);
        let before = (g.ids().to_vec(), g.search(&ts[0], 10, None).unwrap());
        for other in &others {
            assert_ne!(other.fingerprint(), p.fingerprint());
            let x = random_vector(&mut rng, p.dim());
            let t = other.protect(&x).unwrap();
            let mine = p.protect(&x).unwrap();
            assert_eq!(g.add(100, &t), Err(Error::KeyMismatch));
            assert_eq!(
                g.add_batch(&[100, 101], &[mine.clone(), t.clone()]),
                Err(Error::KeyMismatch)
            );
            let packed = other.protect_batch_packed(&x).unwrap();
            assert_eq!(
                g.add_packed(other, &[100], &packed),
                Err(Error::KeyMismatch)
            );
            assert_eq!(g.search(&t, 3, None), Err(Error::KeyMismatch));
            assert_eq!(g.search(&t, 3, Some(0.5)), Err(Error::KeyMismatch));
            assert_eq!(
                g.search_batch(&[mine.clone(), t.clone()], 3, None),
                Err(Error::KeyMismatch)
            );
            assert_eq!(p.compare(&mine, &t), Err(Error::KeyMismatch));
            assert_eq!(p.compare(&t, &mine), Err(Error::KeyMismatch));
            assert_eq!(mine.similarity(&t), Err(Error::KeyMismatch));
            assert_eq!(p.verify(&mine, &t, 0.5), Err(Error::KeyMismatch));
            assert_eq!(p.verify(&t, &mine, 0.5), Err(Error::KeyMismatch));
            assert_eq!(decision::verify(&mine, &t, 0.5), Err(Error::KeyMismatch));
            // The other key's own gallery takes it.
            let mut og = Gallery::like(&t);
            og.add(1, &t).unwrap();
            assert_eq!(og.add(2, &mine), Err(Error::KeyMismatch));
        }
        assert_eq!(
            (g.ids().to_vec(), g.search(&ts[0], 10, None).unwrap()),
            before
        );
    }
}

#[test]
fn foreign_schemes_are_scheme_mismatches() {
    let ps = protectors();
    // The same scheme and layout but other preprocessing: other parameters.
    let l2 = protector_with(configs()[0].clone().with_l2(true), 1, "matching-tests", 1);
    assert_eq!(l2.layout(), ps[0].layout());
    let mut pairs: Vec<(&Protector, &Protector)> = vec![(&ps[0], &l2), (&l2, &ps[0])];
    for a in ps {
        for b in ps {
            if !std::ptr::eq(a, b) {
                pairs.push((a, b));
            }
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    for (a, b) in pairs {
        let (mut g, ts) = small_gallery(a, 3, 9);
        let t = b.protect(&random_vector(&mut rng, b.dim())).unwrap();
        let scheme = |r: Result<(), Error>| matches!(r, Err(Error::SchemeMismatch(_)));
        assert!(scheme(g.add(50, &t)), "{a:?} {b:?}");
        assert!(scheme(g.add_batch(&[50], std::slice::from_ref(&t))));
        assert!(scheme(g.search(&t, 1, None).map(|_| ())));
        assert!(scheme(
            g.search_batch(&[ts[0].clone(), t.clone()], 1, None)
                .map(|_| ())
        ));
        assert!(scheme(a.compare(&ts[0], &t).map(|_| ())));
        assert!(scheme(a.verify(&ts[0], &t, 0.5).map(|_| ())));
        assert!(scheme(ts[0].similarity(&t).map(|_| ())));
        if b.layout().words() == a.layout().words() {
            let packed = b
                .protect_batch_packed(&random_vector(&mut rng, b.dim()))
                .unwrap();
            assert!(scheme(g.add_packed(b, &[50], &packed)));
        }
        assert_eq!(g.len(), 3);
        assert!(!g.contains(50));
    }
}

#[test]
fn bad_k_and_thresholds_are_invalid_parameters() {
    let bad_thresholds = [
        -0.01,
        1.0 + f64::EPSILON,
        2.0,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    for p in protectors() {
        let (g, ts) = small_gallery(p, 4, 1);
        let is_param = |r: Result<(), Error>, want: &str| matches!(r, Err(Error::InvalidParameter { name, .. }) if name == want);
        assert!(is_param(g.search(&ts[0], 0, None).map(|_| ()), "k"));
        assert!(is_param(g.search(&ts[0], 0, Some(0.5)).map(|_| ()), "k"));
        assert!(is_param(g.search_batch(&ts, 0, None).map(|_| ()), "k"));
        assert!(is_param(g.search_batch(&[], 0, None).map(|_| ()), "k"));
        for t in bad_thresholds {
            assert!(
                is_param(g.search(&ts[0], 1, Some(t)).map(|_| ()), "threshold"),
                "{t}"
            );
            assert!(is_param(
                g.search_batch(&ts, 1, Some(t)).map(|_| ()),
                "threshold"
            ));
            assert!(is_param(
                p.verify(&ts[0], &ts[1], t).map(|_| ()),
                "threshold"
            ));
            assert!(is_param(
                decision::verify(&ts[0], &ts[1], t).map(|_| ()),
                "threshold"
            ));
        }
        // The ends of [0, 1] are valid.
        assert_eq!(g.search(&ts[0], 10, Some(0.0)).unwrap().len(), 4);
        let exact = g.search(&ts[0], 10, Some(1.0)).unwrap();
        assert!(exact.iter().any(|c| c.id == 0));
        assert!(exact.iter().all(|c| c.score == 1.0));
        assert!(p.verify(&ts[0], &ts[1], 0.0).unwrap().matched);
        // k larger than the gallery returns the whole gallery, without
        // allocating for k.
        assert_eq!(g.search(&ts[0], 1_000, None).unwrap().len(), 4);
        assert_eq!(g.search(&ts[0], usize::MAX, None).unwrap().len(), 4);
        assert_eq!(g.search_batch(&ts, 1 << 40, None).unwrap()[0].len(), 4);
        // An empty probe batch is an empty answer.
        assert_eq!(
            g.search_batch(&[], 1, None).unwrap(),
            Vec::<Vec<Candidate>>::new()
        );
    }
}

#[test]
fn protect_batch_equals_row_wise_protect() {
    let rows_n = 300; // several threads' worth of rows
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let all: Vec<Protector> = defaults()
        .into_iter()
        .map(|p| protector_with(p, 1, "batch", 1))
        .collect();
    for p in all.iter().chain(protectors()) {
        let dim = p.dim();
        let rows: Vec<f32> = random_vector(&mut rng, rows_n * dim);
        let batch = p.protect_batch(&rows).unwrap();
        let packed = p.protect_batch_packed(&rows).unwrap();
        let words = p.layout().words();
        assert_eq!(batch.len(), rows_n);
        assert_eq!(packed.len(), rows_n * words);
        for (i, row) in rows.chunks_exact(dim).enumerate() {
            let one = p.protect(row).unwrap();
            assert_eq!(batch[i], one, "row {i}");
            assert_eq!(&packed[i * words..(i + 1) * words], one.words(), "row {i}");
            let mut out = vec![0u64; words];
            p.protect_packed(row, &mut out).unwrap();
            assert_eq!(out, one.words());
        }
        assert!(p.protect_batch(&[]).unwrap().is_empty());
        assert!(p.protect_batch_packed(&[]).unwrap().is_empty());
    }
}

#[test]
fn batch_errors_are_typed() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    for p in protectors() {
        let dim = p.dim();
        let rows: Vec<f32> = random_vector(&mut rng, 300 * dim);

        let mut nan = rows.clone();
        nan[5 * dim + 3] = f32::NAN;
        let want = Error::NonFinite {
            index: 3,
            kind: "NaN",
        };
        let in_row = |row, e: &Error| Error::Row {
            row,
            source: Box::new(e.clone()),
        };
        assert_eq!(p.protect_batch(&nan), Err(in_row(5, &want)));
        assert_eq!(p.protect_batch_packed(&nan), Err(in_row(5, &want)));
        assert_eq!(p.protect(&nan[5 * dim..6 * dim]), Err(want));

        let mut inf = rows.clone();
        inf[250 * dim + 1] = f32::NEG_INFINITY;
        let want = Error::NonFinite {
            index: 1,
            kind: "infinity",
        };
        assert_eq!(p.protect_batch(&inf), Err(in_row(250, &want)));
        assert_eq!(p.protect(&inf[250 * dim..251 * dim]), Err(want));

        // A length that is not a multiple of the dimension: a wrong
        // dimension of the last, partial row.
        let mut long = rows.clone();
        long.push(0.5);
        for bad in [&long[..], &rows[..rows.len() - 1], &rows[..dim - 1]] {
            let partial = Error::WrongDimension {
                expected: dim,
                got: bad.len() % dim,
            };
            let want = in_row(bad.len() / dim, &partial);
            assert_eq!(p.protect_batch(bad), Err(want.clone()), "{}", bad.len());
            assert_eq!(p.protect_batch_packed(bad), Err(want));
        }
        assert_eq!(
            p.protect(&rows[..dim + 1]),
            Err(Error::WrongDimension {
                expected: dim,
                got: dim + 1
            })
        );
        let mut out = vec![0u64; p.layout().words() + 1];
        assert!(matches!(
            p.protect_packed(&rows[..dim], &mut out),
            Err(Error::InvalidParameter { name: "out", .. })
        ));

        // Zero rows cannot be projected: the first bad row is named, in
        // whichever thread's share of the batch it falls.
        let mut zero = rows.clone();
        zero[250 * dim..251 * dim].fill(0.0);
        assert_eq!(
            p.protect_batch_packed(&zero),
            Err(in_row(250, &Error::ZeroNorm))
        );
        zero[5 * dim..6 * dim].fill(0.0);
        assert_eq!(
            p.protect_batch_packed(&zero),
            Err(in_row(5, &Error::ZeroNorm))
        );
        assert!(p
            .protect_batch(&zero)
            .unwrap_err()
            .to_string()
            .starts_with("row 5: "));
        assert_eq!(p.protect(&zero[5 * dim..6 * dim]), Err(Error::ZeroNorm));

        // The first bad row wins whatever is wrong with it, and a later
        // bad row of another kind does not hide it.
        zero[250 * dim + 2] = f32::NAN;
        assert_eq!(
            p.protect_batch_packed(&zero),
            Err(in_row(5, &Error::ZeroNorm))
        );
        zero[3 * dim + 7] = f32::INFINITY;
        assert_eq!(
            p.protect_batch_packed(&zero),
            Err(in_row(
                3,
                &Error::NonFinite {
                    index: 7,
                    kind: "infinity"
                }
            ))
        );
    }
}

#[test]
fn add_packed_equals_add_batch() {
    let mut rng = ChaCha8Rng::seed_from_u64(10);
    for p in protectors() {
        let n = 300;
        let rows: Vec<f32> = random_vector(&mut rng, n * p.dim());
        let ids: Vec<u64> = (0..n).map(|i| scrambled_id(i, 99)).collect();
        let mut packed_g = Gallery::new(p);
        packed_g
            .add_packed(p, &ids, &p.protect_batch_packed(&rows).unwrap())
            .unwrap();
        let ts = p.protect_batch(&rows).unwrap();
        let mut g = Gallery::new(p);
        g.add_batch(&ids, &ts).unwrap();
        assert_eq!(packed_g.ids(), g.ids());
        for (id, t) in ids.iter().zip(&ts) {
            assert_eq!(packed_g.get(*id).as_ref(), Some(t));
        }
        for probe in ts.iter().step_by(37) {
            assert_eq!(
                packed_g.search(probe, 7, None).unwrap(),
                g.search(probe, 7, None).unwrap()
            );
        }
        // Wrong code length, duplicates: typed, nothing added.
        let words = p.layout().words();
        let extra = p.protect_batch_packed(&rows[..2 * p.dim()]).unwrap();
        assert!(matches!(
            packed_g.add_packed(p, &[1_000_000], &extra),
            Err(Error::InvalidParameter { name: "codes", .. })
        ));
        assert!(matches!(
            packed_g.add_packed(p, &[1_000_000, 1_000_001], &extra[..2 * words - 1]),
            Err(Error::InvalidParameter { name: "codes", .. })
        ));
        assert_eq!(
            packed_g.add_packed(p, &[1_000_000, ids[3]], &extra),
            Err(Error::DuplicateId(ids[3]))
        );
        assert_eq!(
            packed_g.add_packed(p, &[1_000_000, 1_000_000], &extra),
            Err(Error::DuplicateId(1_000_000))
        );
        assert_eq!(packed_g.len(), n);
        packed_g
            .add_packed(p, &[1_000_000, 1_000_001], &extra)
            .unwrap();
        assert_eq!(packed_g.len(), n + 2);
        assert_eq!(packed_g.get(1_000_001).unwrap().words(), &extra[words..]);
    }
}

/// Searches split over threads (explicitly, and automatically above
/// `PARALLEL_FROM_BYTES` of codes); with very short codes almost every
/// score is tied, so the merge of the threads' partial results must break
/// ties by id exactly like one thread, and the blocked batch search must
/// agree with single searches.
#[test]
fn large_gallery_with_automatic_threads_matches_the_oracle() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    for params in [
        SchemeParams::iom_grp(8, 4, 16).unwrap(),
        SchemeParams::iom_grp(8, 3, 64).unwrap(),
        SchemeParams::biohash(8, 6).unwrap(),
        // 512-byte codes: a batch search crosses many 256 KiB blocks.
        SchemeParams::iom_grp(8, 1024, 16).unwrap(),
    ] {
        let p = protector_with(params, 1, "large", 1);
        let n = 21_234;
        let rows: Vec<f32> = random_vector(&mut rng, n * p.dim());
        let ts = p.protect_batch(&rows).unwrap();
        let ids: Vec<u64> = (0..n).map(|i| scrambled_id(i, 5)).collect();
        let mut g = Gallery::new(&p);
        g.add_batch(&ids, &ts).unwrap();
        assert_eq!(g.threads(), 0);
        let entries: Vec<(u64, ProtectedTemplate)> = ids.into_iter().zip(ts.clone()).collect();
        let probes: Vec<ProtectedTemplate> = ts.iter().step_by(n / 5).cloned().collect();
        for (k, threshold) in [(1, None), (10, None), (50, Some(0.5)), (25_000, Some(1.0))] {
            let mut want = Vec::new();
            for probe in &probes {
                let o = oracle(&entries, probe, k, threshold);
                for threads in [0, 1, 2, 3] {
                    g.set_threads(threads);
                    assert_eq!(g.search(probe, k, threshold).unwrap(), o);
                }
                want.push(o);
            }
            for threads in [0, 1, 2] {
                g.set_threads(threads);
                assert_eq!(g.search_batch(&probes, k, threshold).unwrap(), want);
            }
        }
    }
}

/// End to end with the default parameters: a slightly noisy capture of an
/// enrolled vector is found first, with a score well above the impostors'.
#[test]
fn noisy_probe_finds_its_reference() {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    for params in defaults() {
        let p = protector_with(params, 1, "e2e", 1);
        let n = 100;
        let rows: Vec<f32> = random_vector(&mut rng, n * p.dim());
        let mut g = Gallery::new(&p);
        g.add_batch(
            &(0..n as u64).collect::<Vec<_>>(),
            &p.protect_batch(&rows).unwrap(),
        )
        .unwrap();
        for i in [0, 42, 99] {
            let noisy: Vec<f32> = rows[i * p.dim()..(i + 1) * p.dim()]
                .iter()
                .map(|v| v + rng.random_range(-0.02f32..0.02))
                .collect();
            let hits = g.search(&p.protect(&noisy).unwrap(), 2, None).unwrap();
            assert_eq!(hits[0].id, i as u64, "{:?}", p.params().spec());
            assert!(hits[0].score > hits[1].score + 0.2, "{hits:?}");
        }
    }
}

#[test]
fn foreign_packed_codes_are_refused() {
    // BioHash(8, 5): one word, bits 5.. are padding.
    let mk = MasterKey::from_bytes(&[5; 32]).unwrap();
    let p = Protector::new(SchemeParams::biohash(8, 5).unwrap(), &mk, "app", 1, None).unwrap();
    assert!(p.template(vec![0b10110]).is_ok());
    for bad in [vec![u64::MAX], vec![1 << 5], vec![0, 0, 0], vec![]] {
        assert!(
            matches!(p.template(bad.clone()), Err(Error::Decode { .. })),
            "{bad:?}"
        );
    }
    let mut g = Gallery::new(&p);
    assert!(matches!(
        g.add_packed(&p, &[1, 2], &[0b1, u64::MAX]),
        Err(Error::Row { row: 1, .. })
    ));
    assert!(g.is_empty());
    // IoM window 10 in 4-bit fields: 10..15 are outside the alphabet.
    let p = Protector::new(
        SchemeParams::iom_grp(8, 3, 10).unwrap(),
        &mk,
        "app",
        1,
        None,
    )
    .unwrap();
    assert!(p.template(vec![0x999]).is_ok());
    assert!(p.template(vec![0x9A9]).is_err());
}
