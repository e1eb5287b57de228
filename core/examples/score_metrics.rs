//! Verification metrics of score files, printed as JSON.
//!
//! ```text
//! score_metrics [--genuine FILE --impostor FILE] [--targets T1,T2,...]
//!               [--levels N]
//!               [--mated FILE --nonmated FILE] [--bins B] [--omega W]
//!               [--range LO,HI]
//!               [--cp ERRORS,TRIALS,CONFIDENCE]...
//! ```
//!
//! Score files hold one decimal `f64` per line (blank lines ignored).
//!
//! - With `--genuine` and `--impostor`: `det`, `roc`, `eer`, and for each
//!   target FMR (default `0.001,0.01,0.1`) `fnmr_at_fmr` and
//!   `threshold_at_fmr`, all computed on `SortedScores`.
//! - With `--levels N` as well: the same again under `histogram`, computed on
//!   `ScoreHistogram::fractions(N)` (every score must be some `k / N`).
//! - With `--mated` and `--nonmated`: `unlinkability` with `--bins`
//!   (default 100), `--omega` (default 1) and optional `--range`.
//! - Each `--cp` adds a Clopper–Pearson interval to `clopper_pearson`.
//!
//! Non-finite numbers are written as `Infinity`, `-Infinity` and `NaN`,
//! which Python's `json` module reads. The cross-check tests in
//! `tests/python/test_eval_crosscheck.py` drive this program.

use std::fmt::Write as _;
use std::process::ExitCode;

use btp::eval::{
    clopper_pearson, det_from, eer_from, fnmr_at_fmr_from, roc_from, threshold_at_fmr_from,
    unlinkability, Curve, ScoreDistribution, ScoreHistogram, SortedScores,
};

struct Args {
    genuine: Option<String>,
    impostor: Option<String>,
    targets: Vec<f64>,
    levels: Option<u32>,
    mated: Option<String>,
    nonmated: Option<String>,
    bins: usize,
    omega: f64,
    range: Option<(f64, f64)>,
    cp: Vec<(u64, u64, f64)>,
}

fn parse_list<T: std::str::FromStr>(s: &str, what: &str) -> Result<Vec<T>, String> {
    s.split(',')
        .map(|x| {
            x.trim()
                .parse::<T>()
                .map_err(|_| format!("bad {what}: {x}"))
        })
        .collect()
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        genuine: None,
        impostor: None,
        targets: vec![0.001, 0.01, 0.1],
        levels: None,
        mated: None,
        nonmated: None,
        bins: 100,
        omega: 1.0,
        range: None,
        cp: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--genuine" => args.genuine = Some(value()?),
            "--impostor" => args.impostor = Some(value()?),
            "--targets" => args.targets = parse_list(&value()?, "target")?,
            "--levels" => {
                args.levels = Some(value()?.parse().map_err(|_| "bad --levels".to_string())?)
            }
            "--mated" => args.mated = Some(value()?),
            "--nonmated" => args.nonmated = Some(value()?),
            "--bins" => args.bins = value()?.parse().map_err(|_| "bad --bins".to_string())?,
            "--omega" => args.omega = value()?.parse().map_err(|_| "bad --omega".to_string())?,
            "--range" => {
                let r: Vec<f64> = parse_list(&value()?, "range")?;
                if r.len() != 2 {
                    return Err("--range needs LO,HI".into());
                }
                args.range = Some((r[0], r[1]));
            }
            "--cp" => {
                let v = value()?;
                let parts: Vec<&str> = v.split(',').collect();
                let bad = || format!("bad --cp: {v}");
                if parts.len() != 3 {
                    return Err(bad());
                }
                args.cp.push((
                    parts[0].trim().parse().map_err(|_| bad())?,
                    parts[1].trim().parse().map_err(|_| bad())?,
                    parts[2].trim().parse().map_err(|_| bad())?,
                ));
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

fn read_scores(path: &str) -> Result<Vec<f64>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            l.trim()
                .parse::<f64>()
                .map_err(|_| format!("{path}:{}: not a number", i + 1))
        })
        .collect()
}

/// A JSON number, or the `Infinity`/`NaN` extension Python reads.
fn num(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x == f64::INFINITY {
        "Infinity".into()
    } else if x == f64::NEG_INFINITY {
        "-Infinity".into()
    } else {
        format!("{x:?}")
    }
}

fn array(xs: &[f64]) -> String {
    let items: Vec<String> = xs.iter().map(|&x| num(x)).collect();
    format!("[{}]", items.join(","))
}

fn curve(c: &Curve) -> String {
    format!(
        "{{\"fmr\":{},\"fnmr\":{},\"thresholds\":{}}}",
        array(&c.fmr),
        array(&c.fnmr),
        array(&c.thresholds)
    )
}

/// The verification section for one pair of score distributions.
fn verification<G: ScoreDistribution, I: ScoreDistribution>(
    genuine: &G,
    impostor: &I,
    targets: &[f64],
) -> Result<String, btp::Error> {
    let mut out = String::new();
    let det = det_from(genuine, impostor)?;
    let roc = roc_from(genuine, impostor)?;
    let e = eer_from(genuine, impostor)?;
    let _ = write!(
        out,
        "{{\"det\":{},\"roc\":{},\"eer\":{{\"eer\":{},\"threshold\":{},\"fmr\":{},\"fnmr\":{}}}",
        curve(&det),
        curve(&roc),
        num(e.eer),
        num(e.threshold),
        num(e.fmr),
        num(e.fnmr)
    );
    let mut ops = Vec::new();
    let mut thresholds = Vec::new();
    for &t in targets {
        let p = fnmr_at_fmr_from(genuine, impostor, t)?;
        ops.push(format!(
            "{{\"target\":{},\"threshold\":{},\"fmr\":{},\"fnmr\":{},\"false_matches\":{},\"false_non_matches\":{}}}",
            num(t),
            num(p.threshold),
            num(p.fmr),
            num(p.fnmr),
            p.false_matches,
            p.false_non_matches
        ));
        let (threshold, fmr) = threshold_at_fmr_from(impostor, t)?;
        thresholds.push(format!(
            "{{\"target\":{},\"threshold\":{},\"fmr\":{}}}",
            num(t),
            num(threshold),
            num(fmr)
        ));
    }
    let _ = write!(
        out,
        ",\"fnmr_at_fmr\":[{}],\"threshold_at_fmr\":[{}]}}",
        ops.join(","),
        thresholds.join(",")
    );
    Ok(out)
}

fn run(args: Args) -> Result<String, String> {
    let mut sections: Vec<String> = Vec::new();
    match (&args.genuine, &args.impostor) {
        (Some(g), Some(i)) => {
            let (g, i) = (read_scores(g)?, read_scores(i)?);
            let histograms = match args.levels {
                Some(n) => {
                    let mut hg = ScoreHistogram::fractions(n).map_err(|e| e.to_string())?;
                    let mut hi = ScoreHistogram::fractions(n).map_err(|e| e.to_string())?;
                    hg.add_scores(&g).map_err(|e| format!("genuine: {e}"))?;
                    hi.add_scores(&i).map_err(|e| format!("impostor: {e}"))?;
                    Some((hg, hi))
                }
                None => None,
            };
            let sg = SortedScores::new(g).map_err(|e| format!("genuine: {e}"))?;
            let si = SortedScores::new(i).map_err(|e| format!("impostor: {e}"))?;
            let v = verification(&sg, &si, &args.targets).map_err(|e| e.to_string())?;
            // Splice the sorted-scores section's members into the top level.
            sections.push(v[1..v.len() - 1].to_string());
            if let Some((hg, hi)) = histograms {
                let h = verification(&hg, &hi, &args.targets).map_err(|e| e.to_string())?;
                sections.push(format!("\"histogram\":{h}"));
            }
        }
        (None, None) => {}
        _ => return Err("--genuine and --impostor go together".into()),
    }
    match (&args.mated, &args.nonmated) {
        (Some(m), Some(n)) => {
            let (m, n) = (read_scores(m)?, read_scores(n)?);
            let u = unlinkability(&m, &n, args.bins, args.range, args.omega)
                .map_err(|e| e.to_string())?;
            sections.push(format!(
                "\"unlinkability\":{{\"d_sys\":{},\"d_local\":{},\"bin_centres\":{},\"bin_edges\":{}}}",
                num(u.d_sys),
                array(&u.d_local),
                array(&u.bin_centres),
                array(&u.bin_edges)
            ));
        }
        (None, None) => {}
        _ => return Err("--mated and --nonmated go together".into()),
    }
    if !args.cp.is_empty() {
        let mut items = Vec::new();
        for &(errors, trials, confidence) in &args.cp {
            let (lo, hi) =
                clopper_pearson(errors, trials, confidence).map_err(|e| e.to_string())?;
            items.push(format!(
                "{{\"errors\":{errors},\"trials\":{trials},\"confidence\":{},\"lo\":{},\"hi\":{}}}",
                num(confidence),
                num(lo),
                num(hi)
            ));
        }
        sections.push(format!("\"clopper_pearson\":[{}]", items.join(",")));
    }
    Ok(format!("{{{}}}", sections.join(",")))
}

fn main() -> ExitCode {
    match parse_args().and_then(run) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("score_metrics: {e}");
            ExitCode::from(2)
        }
    }
}
