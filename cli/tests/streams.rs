//! Where output goes and how ids are read: `-` is stdout for every output
//! path, a reader that closes stdout early is not an error, and a subject
//! id means the same from a CSV, a `--subjects` file or `--subject`.

mod common;

use std::fs;
use std::process::{Command, Stdio};

use common::{fails, Env};
use ndarray::{Array1, Array2};
use serde_json::Value;

#[test]
fn a_dash_means_stdout_for_every_output_path() {
    let env = Env::new().init();
    env.enroll_csv(3);
    // audit export --out - wrote a file named `-`.
    let out = env
        .btp()
        .args(["audit", "export", "--out", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().count() >= 3, "{text}");
    for line in text.lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        assert!(e["seq"].as_u64().is_some());
    }
    assert!(!env.path("-").exists());
    // eval --det -: the SVG on stdout, the report on stderr.
    fs::write(env.path("g.txt"), "0.9\n0.8\n0.6\n").unwrap();
    fs::write(env.path("i.txt"), "0.1\n0.2\n0.7\n").unwrap();
    let out = env
        .bare()
        .args([
            "eval",
            "--genuine",
            "g.txt",
            "--impostor",
            "i.txt",
            "--det",
            "-",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg = String::from_utf8(out.stdout).unwrap();
    assert!(svg.starts_with("<?xml") && svg.trim_end().ends_with("</svg>"));
    let report = String::from_utf8(out.stderr).unwrap();
    assert!(
        report.contains("EER") && report.contains("written to stdout"),
        "{report}"
    );
    assert!(!env.path("-").exists());
    // A file really named `-` is still reachable as `./-`.
    env.bare()
        .args([
            "eval",
            "--genuine",
            "g.txt",
            "--impostor",
            "i.txt",
            "--det",
            "./-",
        ])
        .assert()
        .failure()
        .code(3); // not *.svg
}

/// Runs `btp ARGS` with stdout a pipe whose reader is already gone.
fn closed_stdout(env: &Env, args: &[&str]) -> std::process::Output {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("btp"))
        .current_dir(env.dir.path())
        .env_remove("BTP_KEY")
        .env("BTP_STORE", env.store())
        .env("BTP_KEY_FILE", env.key())
        .env("BTP_ACTOR", "tester")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    let env = Env::new().init();
    env.enroll_csv(3);
    // A report printed to a closed pipe panicked (exit 101, "internal error").
    for args in [
        &["stats"][..],
        &["stats", "--json"],
        &["audit", "head"],
        &["audit", "export"],
    ] {
        let out = closed_stdout(&env, args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stderr.is_empty(), "{args:?}");
    }
    // A negative answer keeps its code.
    let p = env.probe(1, 1);
    let out = closed_stdout(
        &env,
        &[
            "verify",
            "--purpose",
            "border",
            "--reason",
            "r",
            "--subject",
            "S-002",
            "--input",
            p.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stderr.is_empty());
}

fn verify(env: &Env, subject: &str, s: usize) -> i32 {
    let p = env.probe(s, 1);
    let out = env
        .btp()
        .args(["verify", "--purpose", "border", "--reason", "r"])
        .args(["--subject", subject, "--input"])
        .arg(p)
        .output()
        .unwrap();
    out.status.code().unwrap()
}

#[test]
fn subject_ids_are_trimmed_the_same_from_every_source() {
    let env = Env::new().init();
    // A CSV whose ids have spaces around them, as people type them.
    let text = fs::read_to_string(env.csv("people.csv", 2)).unwrap();
    let text = text
        .replace("S-000,", "  S-000 ,")
        .replace("S-001,", "\"S-001 \",");
    fs::write(env.path("spaced.csv"), text).unwrap();
    env.btp()
        .args([
            "enroll",
            "--purpose",
            "border",
            "--reason",
            "r",
            "--input",
            "spaced.csv",
        ])
        .assert()
        .success();
    // --subject with spaces found nobody (exit 6): now the same id.
    assert_eq!(verify(&env, " S-000  ", 0), 0);
    assert_eq!(verify(&env, "S-001", 1), 0);
    assert_eq!(verify(&env, "\tS-001\n", 1), 0);
    // --subject and --subjects at enrolment follow the same rule.
    let row = |s: usize| env.data.row(s * 3).to_vec();
    ndarray_npy::write_npy(env.path("two.npy"), &Array1::from(row(2))).unwrap();
    env.btp()
        .args(["enroll", "--purpose", "border", "--reason", "r"])
        .args(["--input", "two.npy", "--subject", "  S-002\t"])
        .assert()
        .success();
    assert_eq!(verify(&env, "S-002", 2), 0);
    let rows = Array2::from_shape_vec((2, 16), [row(3), row(4)].concat()).unwrap();
    ndarray_npy::write_npy(env.path("pair.npy"), &rows).unwrap();
    fs::write(env.path("ids.txt"), "  S-003 \r\n\n\t S-004\n").unwrap();
    env.btp()
        .args(["enroll", "--purpose", "border", "--reason", "r"])
        .args(["--input", "pair.npy", "--subjects", "ids.txt"])
        .assert()
        .success();
    assert_eq!(verify(&env, "S-003", 3), 0);
    assert_eq!(verify(&env, " S-004", 4), 0);
    // Erasure and holds take the same ids.
    env.btp()
        .args(["hold", "--reason", "r", "--subject", " S-004 "])
        .assert()
        .success();
    fails(
        env.btp()
            .args(["erase", "--reason", "r", "--subject", "S-004"]),
        7,
        "legal hold",
    );
    let v = env.json(&["erase", "--reason", "r", "--subject", "  S-003 "]);
    assert_eq!(v["total"], 1);
    assert_eq!(verify(&env, "S-003", 3), 6);
    // An id that is only whitespace is refused wherever it comes from.
    fails(
        env.btp().args(["erase", "--reason", "r", "--subject", " "]),
        3,
        "empty subject id",
    );
    fs::write(env.path("blank.csv"), " ,1,2\n").unwrap();
    fails(
        env.btp().args([
            "enroll",
            "--purpose",
            "border",
            "--reason",
            "r",
            "--input",
            "blank.csv",
        ]),
        3,
        "blank.csv line 1: empty subject id",
    );
}
