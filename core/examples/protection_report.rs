//! The auditor's protocol (`btp::eval::protection_report`) on real
//! embeddings from `.npy` files, for every scheme, with the figures the
//! closing notes and `docs/measurements.md` quote.
//!
//! ```sh
//! cargo run --release -p btp --example protection_report -- \
//!     ../shared/data/orl-dlib128/embeddings.npy ../shared/data/orl-dlib128/labels.npy
//! ```
//!
//! Embeddings: float32 (or float64) `(n, dim)`; labels: integers `(n,)`.
//! The centring vector is fitted on the first half of the subjects and the
//! protocol runs on all of them (`--centre-all` fits on everybody), so the
//! figures do not flatter the scheme. Without arguments it runs on a
//! synthetic population.

use std::path::Path;

use btp::eval::{protection_report, ProtocolOptions};
use btp::synthetic::Population;
use btp::{fit_centre, MasterKey, SchemeParams};
use ndarray::{Array1, Array2};
use ndarray_npy::read_npy;

fn load(emb: &Path, labels: &Path) -> Result<(Vec<f32>, Vec<u32>, usize), String> {
    let x: Array2<f32> = match read_npy::<_, Array2<f32>>(emb) {
        Ok(x) => x,
        Err(_) => read_npy::<_, Array2<f64>>(emb)
            .map_err(|e| format!("{}: {e}", emb.display()))?
            .mapv(|v| v as f32),
    };
    let l: Array1<i64> = read_npy(labels).map_err(|e| format!("{}: {e}", labels.display()))?;
    let dim = x.ncols();
    if l.len() != x.nrows() {
        return Err("embeddings and labels differ in length".into());
    }
    let labels = l
        .iter()
        .map(|&v| {
            u32::try_from(v).map_err(|_| "labels must be small non-negative integers".to_string())
        })
        .collect::<Result<_, _>>()?;
    Ok((x.iter().copied().collect(), labels, dim))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let centre_all = args.iter().any(|a| a == "--centre-all");
    let paths: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let (rows, labels, dim, source) = match paths.as_slice() {
        [e, l] => {
            let (r, lab, d) = load(Path::new(e), Path::new(l))?;
            (r, lab, d, e.to_string())
        }
        [] => {
            let d = Population::default().generate()?;
            (
                d.rows,
                d.labels,
                d.dim,
                "synthetic (btp::synthetic::Population::default())".into(),
            )
        }
        _ => {
            return Err(
                "usage: protection_report [EMBEDDINGS.npy LABELS.npy] [--centre-all]".into(),
            )
        }
    };
    let n = labels.len();
    let mut subjects = labels.clone();
    subjects.sort_unstable();
    subjects.dedup();
    let half = subjects[subjects.len() / 2];
    let train: Vec<f32> = (0..n)
        .filter(|&i| centre_all || labels[i] < half)
        .flat_map(|i| rows[i * dim..(i + 1) * dim].iter().copied())
        .collect();
    let centre = fit_centre(&train, dim)?;
    let master = MasterKey::from_bytes(&[0x5a; 32])?; // fixed: the figures are reproducible
    let d = dim as u32;
    println!(
        "data: {source}: {n} vectors of {dim}-D, {} subjects",
        subjects.len()
    );
    println!(
        "centre fitted on {}; protocol: btp::eval::protection_report, target FMR 1e-3, 100 bins on [0,1]\n",
        if centre_all { "all subjects" } else { "the first half of the subjects" }
    );
    println!(
        "{:<24}{:>11}{:>12}{:>12}{:>13}{:>13}{:>9}",
        "scheme", "EER plain", "EER normal", "EER stolen", "FNMR@1e-3 pl", "FNMR@1e-3 st", "D_sys"
    );
    let schemes = [
        ("IoM-GRP m512 q16", SchemeParams::iom_grp(d, 512, 16)?),
        ("IoM-GRP m1024 q16", SchemeParams::iom_grp(d, 1024, 16)?),
        ("IoM-URP m512 k16 p2", SchemeParams::iom_urp(d, 512, 16, 2)?),
        ("BioHash L=dim", SchemeParams::biohash(d, d)?),
    ];
    let options = ProtocolOptions::default();
    for (name, params) in schemes {
        for centred in [false, true] {
            let params = if centred {
                params.clone().with_centre(centre.clone())?.with_l2(true)
            } else {
                params.clone()
            };
            let r = protection_report(&rows, &labels, &params, &master, &options)?;
            println!(
                "{:<24}{:>10.2}%{:>11.2}%{:>11.2}%{:>12.2}%{:>12.2}%{:>9.3}",
                format!("{name}{}", if centred { " +c" } else { "" }),
                100.0 * r.unprotected.eer.eer,
                100.0 * r.normal.eer.eer,
                100.0 * r.stolen_key.eer.eer,
                100.0 * r.unprotected.at_target_fmr.fnmr,
                100.0 * r.stolen_key.at_target_fmr.fnmr,
                r.unlinkability.d_sys,
            );
        }
    }
    println!(
        "\n+c: centred on the training subjects and L2-normalised. 'plain' is cosine similarity"
    );
    println!(
        "of the vectors after the same preprocessing; 'normal' gives each subject its own key;"
    );
    println!("'stolen' uses one key for everybody. D_sys: 0 unlinkable, 1 fully linkable.");
    Ok(())
}
