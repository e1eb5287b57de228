//! The btp demo: protect, match and evaluate a generated population, and
//! print what happened with the figures.
//!
//! `cargo run --release -p btp --example demo`
//!
//! Until the `btp` command line exists this is the project's main job. It
//! uses synthetic identities (`btp::synthetic`), never real data.

use std::time::Instant;

use btp::eval::{self, protection_report, ProtocolOptions, ScoreHistogram};
use btp::synthetic::Population;
use btp::{fit_centre, Error, Gallery, MasterKey, Protector, SchemeParams};

fn main() -> btp::Result<()> {
    let population = Population::default();
    // The centring vector is fitted on other people than those measured, as
    // a deployment would fit it once on a training sample.
    let (data, training) = Population {
        subjects: 2 * population.subjects,
        ..population
    }
    .generate()?
    .split_subjects(population.subjects as u32);
    let centre = fit_centre(&training.rows, training.dim)?;
    let dim = data.dim as u32;
    let master = MasterKey::generate()?;

    println!("btp demo");
    println!(
        "population: {} subjects x {} samples, {}-D, uncentred (seed {})\n",
        population.subjects, population.samples, population.dim, population.seed
    );

    let schemes = [
        ("IoM-GRP m512 q16", SchemeParams::iom_grp(dim, 512, 16)?),
        (
            "IoM-URP m512 k16 p2",
            SchemeParams::iom_urp(dim, 512, 16, 2)?,
        ),
        ("BioHash L128", SchemeParams::biohash(dim, 128)?),
    ];

    println!("1. Accuracy and unlinkability (auditor protocol, btp::eval::protection_report)");
    println!(
        "{:<22}{:>12}{:>12}{:>12}{:>18}{:>10}",
        "scheme", "EER plain", "EER normal", "EER stolen", "FNMR@FMR1e-3 st.", "D_sys"
    );
    let options = ProtocolOptions::default();
    for (name, params) in &schemes {
        let params = params.clone().with_centre(centre.clone())?.with_l2(true);
        let r = protection_report(&data.rows, &data.labels, &params, &master, &options)?;
        println!(
            "{:<22}{:>11.2}%{:>11.2}%{:>11.2}%{:>17.2}%{:>10.3}",
            name,
            100.0 * r.unprotected.eer.eer,
            100.0 * r.normal.eer.eer,
            100.0 * r.stolen_key.eer.eer,
            100.0 * r.stolen_key.at_target_fmr.fnmr,
            r.unlinkability.d_sys,
        );
    }

    // The rest uses IoM-GRP with centring and L2 normalisation.
    let params = schemes[0].1.clone().with_centre(centre)?.with_l2(true);
    let prot = Protector::new(params.clone(), &master, "gate-A", 1, None)?;
    let n = data.len();
    let per = population.samples;

    println!("\n2. Enrolment: first sample of each subject into a gallery");
    let start = Instant::now();
    let templates = prot.protect_batch(&data.rows)?;
    let protect_rate = n as f64 / start.elapsed().as_secs_f64();
    let mut gallery = Gallery::new(&prot);
    for s in 0..population.subjects {
        gallery.add(s as u64, &templates[s * per])?;
    }
    println!(
        "   {} templates protected ({:.0}/s), gallery of {} at {} bytes per template",
        n,
        protect_rate,
        gallery.len(),
        gallery.bytes_per_template()
    );

    println!("\n3. Threshold calibrated on impostor scores for a target FMR of 1e-3");
    let mut impostor = ScoreHistogram::for_codes(&prot.layout())?;
    let mut genuine = ScoreHistogram::for_codes(&prot.layout())?;
    for i in 0..n {
        for j in i + 1..n {
            let s = templates[i].similarity(&templates[j])?;
            if data.labels[i] == data.labels[j] {
                genuine.add_score(s)?;
            } else {
                impostor.add_score(s)?;
            }
        }
    }
    let (threshold, achieved) = eval::threshold_at_fmr_from(&impostor, 1e-3)?;
    let point = eval::operating_point_from(&genuine, &impostor, threshold)?;
    println!(
        "   threshold {:.4}: FMR {:.5} (target 1e-3), FNMR {:.4} over {} genuine / {} impostor pairs",
        threshold, achieved, point.fnmr, point.genuines, point.impostors
    );

    println!("\n4. Verification (1:1) and identification (1:N) of the other samples");
    let (mut accepted, mut probes, mut rank1) = (0, 0, 0);
    let start = Instant::now();
    for s in 0..population.subjects {
        for j in 1..per {
            let probe = &templates[s * per + j];
            probes += 1;
            if prot.verify(&templates[s * per], probe, threshold)?.matched {
                accepted += 1;
            }
            let candidates = gallery.search(probe, 5, Some(threshold))?;
            if candidates.first().map(|c| c.id) == Some(s as u64) {
                rank1 += 1;
            }
        }
    }
    let search_time = start.elapsed().as_secs_f64();
    println!(
        "   verification: {accepted}/{probes} genuine probes accepted; identification: {rank1}/{probes} \
         with the true subject as top candidate (a candidate list for human review)"
    );
    println!(
        "   {:.1} M comparisons/s in 1:N search",
        (probes * gallery.len()) as f64 / search_time / 1e6
    );

    println!("\n5. Revocation: gate-A moves to version 2");
    let renewed = Protector::new(params, &master, "gate-A", 2, None)?;
    let new_template = renewed.protect(data.row(0))?;
    match prot.verify(&templates[0], &new_template, threshold) {
        Err(Error::KeyMismatch) => {
            println!("   old template vs new: KeyMismatch (typed error, not a low score)")
        }
        other => println!("   unexpected: {other:?}"),
    }
    let layout = prot.layout();
    let cross = layout.score(layout.mismatches(templates[0].words(), new_template.words()));
    println!(
        "   raw code similarity across versions {:.3} vs genuine mean {:.3}, impostor mean {:.3}: \
         a stolen old template says nothing about the new one",
        cross,
        mean(&genuine),
        mean(&impostor)
    );
    println!("\ndone.");
    Ok(())
}

fn mean(h: &ScoreHistogram) -> f64 {
    use btp::eval::ScoreDistribution;
    let sum: f64 = h
        .levels()
        .iter()
        .zip(h.counts())
        .map(|(l, c)| l * *c as f64)
        .sum();
    sum / h.total() as f64
}
