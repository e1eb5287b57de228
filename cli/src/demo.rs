//! `btp demo`: the whole job on generated identities, in a temporary (or
//! given) folder, with a short report of what happened and the figures.
//!
//! Synthetic identities only (`btp::synthetic`), never real data. The store
//! runs on a simulated clock so that a month of retention passes in an
//! instant; everything else is the real store in a real file.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use btp::eval::{protection_report, threshold_at_fmr, ProtocolOptions};
use btp::store::{
    Context, HoldTarget, Purpose, Retention, ReviewOutcome, Sample, Store, StoreOptions,
};
use btp::synthetic::Population;
use btp::{fit_centre, Error, SchemeParams};
use serde_json::json;

use crate::error::{CliError, Result};
use crate::files::{output_error, OutputFile};
use crate::keyfile;
use crate::output::Report;
use crate::progress::Progress;

const DAY: i64 = 86_400;

/// The working folder: removed on drop unless the user named it.
struct Workdir {
    path: PathBuf,
    keep: bool,
}

impl Workdir {
    fn new(dir: Option<&Path>) -> Result<Self> {
        match dir {
            Some(d) => {
                std::fs::create_dir_all(d).map_err(|e| output_error(d, &e))?;
                for name in ["master.key", "store.db", "audit.jsonl"] {
                    if d.join(name).exists() {
                        return Err(CliError::io(format!(
                            "{} already holds {name}: give an empty or new folder",
                            d.display()
                        )));
                    }
                }
                Ok(Self {
                    path: d.to_owned(),
                    keep: true,
                })
            }
            None => {
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.subsec_nanos());
                let path = std::env::temp_dir()
                    .join(format!("btp-demo-{}-{nanos:08x}", std::process::id()));
                std::fs::create_dir(&path).map_err(|e| output_error(&path, &e))?;
                Ok(Self { path, keep: false })
            }
        }
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

fn rate(n: usize, secs: f64) -> f64 {
    n as f64 / secs.max(1e-9)
}

/// Runs the demo.
pub fn run(dir: Option<&Path>, quick: bool, json_out: bool, progress: Progress) -> Result<Report> {
    let started = Instant::now();
    let work = Workdir::new(dir)?;
    let key_path = work.path.join("master.key");
    let store_path = work.path.join("store.db");
    let mut log: Vec<String> = Vec::new();
    let mut say = |line: String| {
        if !json_out {
            log.push(line);
        }
    };

    // 1. A key file, as `btp keygen` writes it, and read back as every command does.
    keyfile::generate(&key_path)?;
    let master = keyfile::read_file(&key_path)?;

    // 2. Generated people: one half is enrolled, the other half (never
    //    enrolled) fits the centring vector and calibrates the threshold.
    let population = Population {
        subjects: if quick { 40 } else { 100 },
        ..Population::default()
    };
    let n = population.subjects;
    let per = population.samples;
    let (data, training) = Population {
        subjects: 2 * n,
        ..population
    }
    .generate()?
    .split_subjects(n as u32);
    let dim = data.dim as u32;
    let centre = fit_centre(&training.rows, data.dim)?;
    let params = SchemeParams::iom_grp(dim, 512, 16)?
        .with_centre(centre)?
        .with_l2(true);
    say(format!(
        "btp demo: {n} enrolled + {n} other generated people x {per} samples, {dim}-D (seed {}); work folder {}",
        population.seed,
        work.path.display()
    ));

    // 3. Accuracy and unlinkability before anything is stored.
    let spinner = progress.spinner("measuring accuracy and unlinkability");
    let report = protection_report(
        &data.rows,
        &data.labels,
        &params,
        &master,
        &ProtocolOptions::default(),
    );
    spinner.finish_and_clear();
    let report = report?;

    // 4. Threshold for FMR 1e-3 from impostor scores of the training people.
    let calibration = btp::Protector::new(params.clone(), &master, "gate-A", 1, None)?;
    let train_t = calibration.protect_batch(&training.rows)?;
    let mut impostor = Vec::new();
    for i in 0..train_t.len() {
        for j in i + 1..train_t.len() {
            if training.labels[i] != training.labels[j] {
                impostor.push(train_t[i].similarity(&train_t[j])?);
            }
        }
    }
    let (threshold, achieved) = threshold_at_fmr(&impostor, 1e-3)?;

    // 5. The store: two purposes (different applications, hence unlinkable
    //    templates), on a simulated clock.
    let clock = Arc::new(AtomicI64::new(now_secs()));
    let options = || {
        let c = clock.clone();
        StoreOptions {
            clock: Some(Arc::new(move || c.load(Ordering::SeqCst))),
            ..StoreOptions::default()
        }
    };
    let border = Purpose::new(
        "border-entry",
        params.clone(),
        "gate-A",
        threshold,
        Duration::from_secs(5 * 365 * DAY as u64),
    )?;
    let access = Purpose::new(
        "building-access",
        params.clone(),
        "door-B",
        threshold,
        Duration::from_secs(90 * DAY as u64),
    )?;
    let store = Store::create_with(&store_path, &master, &[border.clone(), access], options())?;
    let officer = Context::new("officer-7", "demo: border control");
    let desk = Context::new("desk-2", "demo: building access");
    let subject = |s: usize| format!("P-{:06}", 100_000 + s);

    // Enrolment: sample 0 of everybody at the border (5 years), sample 0 of
    // the first half at the building (30 days).
    let half = n / 2;
    let bar = progress.bar((n + half) as u64, "enrolling");
    let t = Instant::now();
    for s in 0..n {
        store.enroll(
            "border-entry",
            &subject(s),
            Sample::Features(data.row(s * per)),
            Retention::Maximum,
            &officer,
        )?;
        bar.inc(1);
    }
    for s in 0..half {
        store.enroll(
            "building-access",
            &subject(s),
            Sample::Features(data.row(s * per)),
            Retention::For(Duration::from_secs(30 * DAY as u64)),
            &desk,
        )?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    let enrolled = n + half;
    let enrol_rate = rate(enrolled, t.elapsed().as_secs_f64());
    say(format!(
        "enrolled {n} people for border-entry (kept 5y) and {half} for building-access (kept 30d): {enrolled} encrypted records, {enrol_rate:.0}/s"
    ));

    // 6. Verification: every other sample of each person (genuine), and
    //    one false claim per person (impostor).
    let t = Instant::now();
    let (mut genuine_ok, mut genuine_n, mut false_ok) = (0, 0, 0);
    for s in 0..n {
        for j in 1..per {
            genuine_n += 1;
            let v = store.verify(
                "border-entry",
                &subject(s),
                Sample::Features(data.row(s * per + j)),
                &officer,
            )?;
            genuine_ok += usize::from(v.decision.matched);
        }
        let other = (s + 1) % n;
        let v = store.verify(
            "border-entry",
            &subject(s),
            Sample::Features(data.row(other * per + 1)),
            &officer,
        )?;
        false_ok += usize::from(v.decision.matched);
    }
    let verifications = genuine_n + n;
    let verify_rate = rate(verifications, t.elapsed().as_secs_f64());
    say(format!(
        "verified {verifications} claims at threshold {threshold:.4} (calibrated for FMR 1e-3 on the other people, achieved {achieved:.5}): \
         {genuine_ok}/{genuine_n} genuine accepted, {false_ok}/{n} false claims accepted; {verify_rate:.0}/s"
    ));

    // 7. Identification: a candidate list for human review, never an identity.
    let t = Instant::now();
    let (mut top1, mut first_event, mut first_record) = (0, None, None);
    for s in 0..n {
        let id = store.identify(
            "border-entry",
            Sample::Features(data.row(s * per + 1)),
            5,
            None,
            &officer,
        )?;
        if let Some(c) = id.candidates.first() {
            if c.subject == subject(s) {
                top1 += 1;
            }
            if first_event.is_none() {
                first_event = Some(id.event);
                first_record = Some(c.record);
            }
        }
    }
    let mut stranger_candidates = 0;
    for s in 0..n.min(20) {
        let id = store.identify(
            "border-entry",
            Sample::Features(training.row(s * per)),
            5,
            None,
            &officer,
        )?;
        stranger_candidates += usize::from(!id.candidates.is_empty());
    }
    let searches = n + n.min(20);
    let identify_rate = rate(searches, t.elapsed().as_secs_f64());
    if let (Some(event), Some(record)) = (first_event, first_record) {
        store.review(
            event,
            "supervisor-3",
            ReviewOutcome::Confirmed(record),
            &officer,
        )?;
    }
    say(format!(
        "identified {n} enrolled people: true person ranked first {top1}/{n}; {stranger_candidates}/{} never-enrolled people drew any candidate; \
         {identify_rate:.0} searches/s over {n} templates; one candidate list confirmed by a reviewer",
        n.min(20)
    ));

    // 8. Revocation: gate-A moves to transform version 2; templates made
    //    under version 1 are refused, not scored.
    drop(store);
    let renewed = Purpose {
        name: "border-entry-v2".into(),
        transform_version: 2,
        ..border.clone()
    };
    let store = Store::open_with(
        &store_path,
        &master,
        &[
            border,
            Purpose::new(
                "building-access",
                params.clone(),
                "door-B",
                threshold,
                Duration::from_secs(90 * DAY as u64),
            )?,
            renewed,
        ],
        options(),
    )?;
    store.enroll(
        "border-entry-v2",
        &subject(0),
        Sample::Features(data.row(0)),
        Retention::Maximum,
        &officer,
    )?;
    let old = store.protector("border-entry")?.protect(data.row(1))?;
    let new = store.protector("border-entry-v2")?.protect(data.row(1))?;
    let refused = matches!(
        store.verify(
            "border-entry-v2",
            &subject(0),
            Sample::Template(&old),
            &officer
        ),
        Err(Error::KeyMismatch)
    );
    // A genuine comparison under the new version: it matches unless this is
    // one of the genuine misses the FNMR allows (each run draws a new key),
    // so it is reported, not held as a guarantee.
    let renewed = store
        .verify(
            "border-entry-v2",
            &subject(0),
            Sample::Template(&new),
            &officer,
        )?
        .decision;
    let renewed_ok = renewed.matched;
    let layout = params.layout();
    let cross = layout.score(layout.mismatches(old.words(), new.words()));
    say(format!(
        "revoked version 1: a version-1 template presented to version 2 is {} (KeyMismatch, not a low score); \
         the same face re-enrolled under version 2 {}; raw code similarity across versions {cross:.3} \
         (impostor mean {:.3}, genuine mean {:.3})",
        if refused { "refused" } else { "NOT refused" },
        if renewed_ok {
            format!("matches (score {:.3})", renewed.score)
        } else {
            format!(
                "scores {:.3}, below the threshold: a genuine miss, as the FNMR allows",
                renewed.score
            )
        },
        report.stolen_key.impostor_mean,
        report.stolen_key.genuine_mean,
    ));

    // 9. Retention: a month passes; building-access records expire. A legal
    //    hold keeps one; the sweep deletes the rest.
    clock.fetch_add(31 * DAY, Ordering::SeqCst);
    let expired = matches!(
        store.verify(
            "building-access",
            &subject(1),
            Sample::Features(data.row(per + 1)),
            &desk
        ),
        Err(Error::Expired { .. })
    );
    let hold = store.hold(
        HoldTarget::Subject(&subject(1)),
        &Context::new("legal-1", "demo: court order 2026/17"),
    )?;
    let spinner = progress.spinner("sweeping");
    let sweep = store.sweep(None, &Context::new("cron", "retention sweep"));
    spinner.finish_and_clear();
    let sweep = sweep?;
    let held_refused = matches!(
        store.erase(
            &subject(1),
            None,
            &Context::new("dpo-1", "demo: erasure request")
        ),
        Err(Error::Held { .. })
    );
    store.release(hold, &Context::new("legal-1", "demo: case closed"))?;
    say(format!(
        "31 days later (simulated clock): building-access records {} before any sweep; \
         the sweep deleted {} expired record(s) and kept {} under legal hold; erasing the held person was {}",
        if expired { "no longer match" } else { "STILL match" },
        sweep.total(),
        sweep.held,
        if held_refused { "refused (hold)" } else { "NOT refused" },
    ));

    // 10. Erasure on request: every record of one person, in every purpose.
    let erasure = store.erase(
        &subject(0),
        None,
        &Context::new("dpo-1", "demo: erasure request"),
    )?;
    let erased: usize = erasure.erased.values().map(Vec::len).sum();
    let gone = matches!(
        store.verify(
            "border-entry",
            &subject(0),
            Sample::Features(data.row(1)),
            &officer
        ),
        Err(Error::Missing(_))
    );
    say(format!(
        "erased person {} on request: {erased} record(s) in {} purpose(s); a later verification says {}",
        subject(0),
        erasure.erased.len(),
        if gone { "\"not enrolled\"" } else { "SOMETHING ELSE" }
    ));

    // 11. Key rotation: every record re-encrypted under a new storage key;
    //    the same probe scores the same before and after.
    let probe = Sample::Features(data.row(2 * per + 1));
    let before = store
        .verify("border-entry", &subject(2), probe, &officer)?
        .decision
        .score;
    let spinner = progress.spinner("rotating storage keys");
    let rotation = store.rotate_key(None, &Context::new("ops-1", "demo: yearly key rotation"));
    spinner.finish_and_clear();
    let rotation = rotation?;
    let reencrypted: u64 = rotation.rotated.iter().map(|r| r.reencrypted).sum();
    let after = store
        .verify("border-entry", &subject(2), probe, &officer)?
        .decision
        .score;
    let still = before == after;
    say(format!(
        "rotated the storage keys of {} purposes: {reencrypted} record(s) re-encrypted; a probe scores {after:.3} {}",
        rotation.rotated.len(),
        if still { "as before" } else { "DIFFERENTLY from before" }
    ));

    // 12. Audit: the chain verifies; transparency figures; export.
    let audit = store.verify_audit()?;
    store.check_integrity()?;
    let stats = store.stats(0, store.now()? + 1)?;
    let searches_logged: u64 = stats
        .activity
        .iter()
        .filter_map(|a| a.counts.get("identify"))
        .sum();
    let exported = if dir.is_some() {
        let path = work.path.join("audit.jsonl");
        let mut f = OutputFile::create(&path)?;
        let n = match store.export_audit(&Default::default(), &mut f) {
            Ok(n) => n,
            Err(e) => return Err(f.take_failure().unwrap_or_else(|| e.into())),
        };
        f.finish()?;
        Some(n)
    } else {
        None
    };
    say(format!(
        "audit chain verified: {} events, head {}; the log counts {searches_logged} searches; file integrity check ok{}",
        audit.events,
        audit.head.map(|h| h.seq).unwrap_or(0),
        exported
            .map(|n| format!("; {n} events exported to audit.jsonl"))
            .unwrap_or_default()
    ));
    drop(store);

    let elapsed = started.elapsed().as_secs_f64();
    let (u, s) = (&report.unprotected, &report.stolen_key);
    let mut human = log.join("\n");
    human.push_str(&format!(
        "\n\nfigures (IoM-GRP m512 q16, centred, L2; {} genuine / {} impostor pairs)\n\
         EER unprotected (cosine)     {:>7.2}%\n\
         EER protected, stolen key    {:>7.2}%   (one key per subject: {:.2}%)\n\
         FNMR at FMR 1e-3             {:>7.2}% unprotected, {:.2}% protected (stolen key)\n\
         D_sys unlinkability          {:>7.3}    (0 = unlinkable, 1 = fully linkable)\n\
         throughput                   {enrol_rate:.0} enrolments/s, {verify_rate:.0} verifications/s, {identify_rate:.0} identifications/s (each one audited transaction)\n\
         total time                   {elapsed:.1} s{}\n",
        u.genuine_pairs,
        u.impostor_pairs,
        100.0 * u.eer.eer,
        100.0 * s.eer.eer,
        100.0 * report.normal.eer.eer,
        100.0 * u.at_target_fmr.fnmr,
        100.0 * s.at_target_fmr.fnmr,
        report.unlinkability.d_sys,
        if dir.is_some() {
            format!("\nkept in {}: master.key, store.db, audit.jsonl", work.path.display())
        } else {
            "; the temporary folder was removed".to_owned()
        }
    ));
    let json = json!({
        "population": { "enrolled": n, "others": n, "samples": per, "dim": dim, "seed": population.seed },
        "scheme": "iom-grp m512 q16 centred l2",
        "eer": { "unprotected": u.eer.eer, "stolen_key": s.eer.eer, "normal": report.normal.eer.eer },
        "fnmr_at_fmr_1e-3": { "unprotected": u.at_target_fmr.fnmr, "stolen_key": s.at_target_fmr.fnmr },
        "d_sys": report.unlinkability.d_sys,
        "threshold": { "value": threshold, "target_fmr": 1e-3, "achieved_fmr": achieved },
        "enrolment": { "records": enrolled, "per_second": enrol_rate },
        "verification": { "genuine": genuine_n, "genuine_accepted": genuine_ok, "false_claims": n, "false_accepted": false_ok, "per_second": verify_rate },
        "identification": { "searches": searches, "top1": top1, "strangers_with_candidates": stranger_candidates, "per_second": identify_rate },
        "revocation": { "old_version_refused": refused, "new_version_matches": renewed_ok, "cross_version_similarity": cross },
        "retention": { "expired_refused": expired, "swept": sweep.total(), "held": sweep.held, "held_erasure_refused": held_refused },
        "erasure": { "records": erased, "then_not_enrolled": gone },
        "rotation": { "reencrypted": reencrypted },
        "audit": { "events": audit.events, "verified": true, "exported": exported },
        "seconds": elapsed,
        "dir": if dir.is_some() { Some(&work.path) } else { None },
    });
    let all_good = refused && expired && held_refused && gone && still;
    let mut report = Report::ok(human, json);
    if !all_good {
        // The report says which guarantee failed (in capitals).
        report
            .human
            .push_str("FAILED: a guarantee did not hold (see above)\n");
        report.code = crate::error::code::INTEGRITY;
    }
    Ok(report)
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
