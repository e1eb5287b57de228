//! Packed codes in and out of galleries, feature batches, and shard merges.

use super::*;
use crate::{MasterKey, Protector, SchemeParams};

fn protector() -> Protector {
    let mk = MasterKey::from_bytes(&[7; 32]).unwrap();
    let params = SchemeParams::iom_grp(8, 20, 4).unwrap();
    Protector::new(params, &mk, "batch-test", 1, None).unwrap()
}

fn rows(n: usize) -> Vec<f32> {
    (0..n * 8).map(|i| ((i * 37 % 11) as f32) - 5.0).collect()
}

#[test]
fn gallery_round_trip_and_packed_search() {
    let p = protector();
    let codes = p.protect_batch_packed(&rows(6)).unwrap();
    let mut g = Gallery::new(&p);
    g.add_packed(&p, &[10, 11, 12, 13, 14, 15], &codes).unwrap();
    g.remove(12).unwrap();
    let mut again = Gallery::new(&p);
    again.add_packed(&p, g.ids(), g.codes()).unwrap();
    let probes = &codes[..2 * p.layout().words()];
    let a = g.search_packed(&p, probes, 3, None).unwrap();
    let b = again.search_packed(&p, probes, 3, None).unwrap();
    assert_eq!(a, b);
    assert_eq!(a[0][0].id, 10);
    assert_eq!(a[0][0].score, 1.0);
    let templates = p.templates_from_codes(probes).unwrap();
    assert_eq!(g.search_batch(&templates, 3, None).unwrap(), a);
}

#[test]
fn features_are_added_like_their_codes_and_shapes_are_checked_first() {
    let p = protector();
    let x = rows(3);
    let mut g = Gallery::new(&p);
    let e = g
        .add_features(&p, &[1, 2, 3], &x[..x.len() - 1])
        .unwrap_err();
    assert_eq!(e.kind(), crate::ErrorKind::WrongDimension);
    assert!(matches!(e, Error::Row { row: 2, .. }), "{e:?}");
    let e = g.add_features(&p, &[1, 2], &x).unwrap_err();
    assert!(
        matches!(e, Error::InvalidParameter { name: "ids", .. }),
        "{e:?}"
    );
    assert!(g.is_empty());
    g.add_features(&p, &[1, 2, 3], &x).unwrap();
    let mut h = Gallery::new(&p);
    h.add_packed(&p, &[1, 2, 3], &p.protect_batch_packed(&x).unwrap())
        .unwrap();
    assert_eq!(g.codes(), h.codes());
    let e = p.protect_batch_packed(&x[..9]).unwrap_err();
    assert_eq!(e.kind(), crate::ErrorKind::WrongDimension);
    assert_eq!(e.to_string(), "row 1: wrong dimension: expected 8, got 1");
}

#[test]
fn shard_results_merge_like_one_search() {
    let p = protector();
    let codes = p.protect_batch_packed(&rows(8)).unwrap();
    let words = p.layout().words();
    let ids: Vec<u64> = (0..8).collect();
    let mut whole = Gallery::new(&p);
    whole.add_packed(&p, &ids, &codes).unwrap();
    let (mut a, mut b) = (Gallery::new(&p), Gallery::new(&p));
    a.add_packed(&p, &ids[..3], &codes[..3 * words]).unwrap();
    b.add_packed(&p, &ids[3..], &codes[3 * words..]).unwrap();
    let probe = &codes[5 * words..6 * words];
    let one = whole.search_packed(&p, probe, 4, None).unwrap();
    let mut parts = a.search_packed(&p, probe, 4, None).unwrap().remove(0);
    parts.extend(b.search_packed(&p, probe, 4, None).unwrap().remove(0));
    assert_eq!(top_k(parts, 4).unwrap(), one[0]);
    assert!(top_k(Vec::new(), 0).is_err());
}

#[test]
fn packed_codes_of_another_origin_are_refused_like_its_templates() {
    let p = protector();
    let mk = MasterKey::from_bytes(&[8; 32]).unwrap();
    let other = Protector::new(p.params().clone(), &mk, "batch-test", 1, None).unwrap();
    let codes = other.protect_batch_packed(&rows(2)).unwrap();
    let mut g = Gallery::new(p.origin());
    assert_eq!(
        g.add_packed(&other, &[1, 2], &codes),
        Err(Error::KeyMismatch)
    );
    assert_eq!(
        g.search_packed(&other, &codes, 1, None),
        Err(Error::KeyMismatch)
    );
    assert!(g.is_empty());
}
