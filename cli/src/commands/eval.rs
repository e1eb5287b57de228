//! `btp eval`: genuine and impostor score files to EER, FNMR at FMR,
//! thresholds and a DET plot.

use std::io::Write;
use std::path::Path;

use btp::eval::{self, SortedScores};
use serde_json::json;

use crate::error::{CliError, Result};
use crate::files::{is_stdout, OutputFile, Stdout};
use crate::input;
use crate::output::Report;
use crate::plot;
use crate::progress::Progress;

fn load(path: &Path) -> Result<SortedScores> {
    let scores = input::read_scores(path)?;
    SortedScores::new(scores).map_err(|e| CliError::from(e).context(path.display()))
}

/// Evaluates the score files.
pub fn run(
    genuine_path: &Path,
    impostor_path: &Path,
    fmrs: &[f64],
    det: Option<&Path>,
    progress: Progress,
) -> Result<Report> {
    let det = det.map(|p| (p, is_stdout(p)));
    if let Some((path, false)) = det {
        if !path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("svg"))
        {
            return Err(CliError::input(format!(
                "{}: the DET plot is written as SVG: name the file *.svg",
                path.display()
            )));
        }
    }
    // Refuse an existing file before any work (it is removed again if a
    // later step fails).
    let mut file = match det {
        Some((path, false)) => Some(OutputFile::create(path)?),
        _ => None,
    };
    let spinner = progress.spinner("reading and sorting scores");
    let genuine = load(genuine_path);
    let impostor = load(impostor_path);
    spinner.finish_and_clear();
    let (genuine, impostor) = (genuine?, impostor?);
    let e = eval::eer_from(&genuine, &impostor)?;
    let mut human = format!(
        "{} genuine and {} impostor scores (accept iff score >= threshold)\n\
         EER {:.4}% at threshold {:.6} (FMR {:.4}%, FNMR {:.4}%)\n",
        genuine.len(),
        impostor.len(),
        100.0 * e.eer,
        e.threshold,
        100.0 * e.fmr,
        100.0 * e.fnmr
    );
    let mut points = Vec::new();
    for &target in fmrs {
        let p = eval::fnmr_at_fmr_from(&genuine, &impostor, target)?;
        human.push_str(&format!(
            "at target FMR {target}: threshold {:.6}, achieved FMR {:.6} ({}/{}), FNMR {:.4}% ({}/{})\n",
            p.threshold,
            p.fmr,
            p.false_matches,
            p.impostors,
            100.0 * p.fnmr,
            p.false_non_matches,
            p.genuines
        ));
        points.push(json!({
            "target_fmr": target,
            "threshold": finite_or_null(p.threshold),
            "fmr": p.fmr,
            "fnmr": p.fnmr,
            "false_matches": p.false_matches,
            "impostors": p.impostors,
            "false_non_matches": p.false_non_matches,
            "genuines": p.genuines,
        }));
    }
    if let Some((path, to_stdout)) = det {
        let curve = eval::det_from(&genuine, &impostor)?;
        let svg = plot::det_svg(&curve, &e, "DET curve");
        match file.take() {
            Some(mut file) => {
                file.write_bytes(svg.as_bytes())?;
                file.finish()?;
            }
            None => {
                let mut out = Stdout::lock();
                let _ = out.write_all(svg.as_bytes()).and_then(|()| out.flush());
                out.outcome()?;
            }
        }
        human.push_str(&format!(
            "DET curve ({} points, probit axes) written to {}\n",
            curve.len(),
            if to_stdout {
                "stdout".into()
            } else {
                path.display().to_string()
            }
        ));
    }
    let on_stderr = matches!(det, Some((_, true)));
    let report = Report::ok(
        human,
        json!({
            "genuine": genuine.len(),
            "impostor": impostor.len(),
            "eer": { "eer": e.eer, "threshold": finite_or_null(e.threshold), "fmr": e.fmr, "fnmr": e.fnmr },
            "at_fmr": points,
            "det": det.map(|(p, _)| p),
        }),
    );
    // With `--det -` stdout carries the SVG: the report goes to stderr.
    Ok(if on_stderr {
        report.on_stderr()
    } else {
        report
    })
}
/// JSON has no infinity: a "reject everybody" threshold is `null`.
fn finite_or_null(t: f64) -> serde_json::Value {
    if t.is_finite() {
        json!(t)
    } else {
        serde_json::Value::Null
    }
}
