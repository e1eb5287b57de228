//! Evaluation over arbitrary score arrays (NaN, infinities, empty, equal):
//! a result or `InvalidScores`/`InvalidParameter`, never a panic; rates are
//! in [0, 1].
#![no_main]

use arbitrary::Arbitrary;
use btp::eval;
use btp::Error;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    genuine: Vec<u64>,
    impostor: Vec<u64>,
    /// Scores from a grid (many ties) instead of raw bits.
    grid: bool,
    fmr: u16,
    bins: u8,
}

fn scores(raw: &[u64], grid: bool) -> Vec<f64> {
    raw.iter()
        .map(|&b| {
            if grid {
                f64::from((b % 11) as u32) / 10.0
            } else {
                f64::from_bits(b)
            }
        })
        .collect()
}

fn typed(e: &Error) -> bool {
    matches!(e, Error::InvalidScores(_) | Error::InvalidParameter { .. })
}

fuzz_target!(|input: Input| {
    let g = scores(&input.genuine, input.grid);
    let i = scores(&input.impostor, input.grid);
    let rate = |x: f64| (0.0..=1.0).contains(&x);
    match eval::eer(&g, &i) {
        Ok(e) => assert!(rate(e.eer) && rate(e.fmr) && rate(e.fnmr)),
        Err(e) => assert!(typed(&e), "{e}"),
    }
    match eval::det(&g, &i) {
        Ok(c) => assert!(c.fmr.iter().chain(&c.fnmr).all(|&x| rate(x))),
        Err(e) => assert!(typed(&e), "{e}"),
    }
    let fmr = f64::from(input.fmr) / f64::from(u16::MAX);
    match eval::fnmr_at_fmr(&g, &i, fmr) {
        Ok(p) => assert!(rate(p.fmr) && rate(p.fnmr) && p.fmr <= fmr),
        Err(e) => assert!(typed(&e), "{e}"),
    }
    match eval::threshold_at_fmr(&i, fmr) {
        Ok((_, achieved)) => assert!(rate(achieved) && achieved <= fmr),
        Err(e) => assert!(typed(&e), "{e}"),
    }
    match eval::unlinkability(&g, &i, usize::from(input.bins), None, 1.0) {
        Ok(u) => assert!(rate(u.d_sys) && u.d_local.iter().all(|&d| rate(d))),
        Err(e) => assert!(typed(&e), "{e}"),
    }
});
