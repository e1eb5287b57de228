//! Protection, comparison and search with arbitrary floats (NaN, infinities,
//! subnormals, huge values): a typed error or a template, never a panic;
//! the batch (GEMM) path gives the same bytes as the single path; scores
//! are in [0, 1]; search results are sorted and at most k.
#![no_main]

use arbitrary::Arbitrary;
use btp::{Error, Gallery, MasterKey, Protector, SchemeParams};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    scheme: u8,
    centre: bool,
    l2: bool,
    k: u8,
    threshold: u8,
    /// Raw bits of the floats: every NaN payload, infinity and subnormal.
    bits: Vec<u32>,
}

const DIM: usize = 8;

fn params(scheme: u8) -> SchemeParams {
    match scheme % 3 {
        0 => SchemeParams::iom_grp(DIM as u32, 24, 4),
        1 => SchemeParams::iom_urp(DIM as u32, 24, 4, 2),
        _ => SchemeParams::biohash(DIM as u32, DIM as u32),
    }
    .expect("valid parameters")
}

fuzz_target!(|input: Input| {
    let mut params = params(input.scheme);
    if input.centre {
        let centre: Vec<f32> = (0..DIM).map(|i| 0.1 * i as f32).collect();
        params = params.with_centre(centre).expect("finite centre");
    }
    let params = params.with_l2(input.l2);
    let mk = MasterKey::from_bytes(&[0x33; 32]).expect("32 bytes");
    let prot = Protector::new(params, &mk, "fuzz", 1, None).expect("valid");
    let floats: Vec<f32> = input.bits.iter().map(|&b| f32::from_bits(b)).collect();
    let rows = &floats[..floats.len() / DIM * DIM];

    let mut templates = Vec::new();
    for (i, x) in rows.chunks_exact(DIM).enumerate() {
        match prot.protect(x) {
            Ok(t) => templates.push((i as u64, t)),
            Err(Error::NonFinite { index, .. }) => assert!(!x[index].is_finite()),
            Err(Error::ZeroNorm) => {}
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    // All rows good: the batch path must give the very same templates.
    match prot.protect_batch(rows) {
        Ok(batch) => {
            assert_eq!(batch.len(), templates.len());
            for (b, (_, t)) in batch.iter().zip(&templates) {
                assert_eq!(b, t, "batch and single protection differ");
            }
        }
        Err(Error::Row { row, .. }) => assert!(templates.iter().all(|(i, _)| *i != row as u64)),
        Err(e) => panic!("unexpected batch error {e}"),
    }
    // A wrong length is a typed error.
    assert!(matches!(
        prot.protect(&floats[..floats.len().min(DIM - 1)]),
        Err(Error::WrongDimension { .. })
    ));

    let mut gallery = Gallery::new(&prot);
    for (id, t) in &templates {
        gallery.add(*id, t).expect("fresh ids");
        let s = prot.compare(t, &templates[0].1).expect("same protector");
        assert!((0.0..=1.0).contains(&s));
    }
    let Some((_, probe)) = templates.first() else {
        return;
    };
    let k = usize::from(input.k % 8) + 1;
    let threshold = (input.threshold % 2 == 0).then(|| f64::from(input.threshold) / 255.0);
    let hits = gallery
        .search(probe, k, threshold)
        .expect("valid k and threshold");
    assert!(hits.len() <= k);
    for w in hits.windows(2) {
        assert!(
            w[0].score > w[1].score || (w[0].score == w[1].score && w[0].id < w[1].id),
            "results not sorted"
        );
    }
    for h in &hits {
        assert!((0.0..=1.0).contains(&h.score));
        assert!(threshold.is_none_or(|t| h.score >= t));
    }
});
