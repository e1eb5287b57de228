//! The `btp` binary run as a user runs it: every command, the exit codes,
//! `--json` output, and the bad-input paths.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use assert_cmd::Command;
use common::{fails, Env, PURPOSES};
use ndarray::Array1;
use predicates::prelude::*;
use serde_json::Value;

#[test]
fn help_documents_commands_and_exit_codes() {
    let env = Env::new();
    let out = env.bare().arg("--help").assert().success();
    let help = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    for word in [
        "demo",
        "keygen",
        "init",
        "enroll",
        "verify",
        "identify",
        "review",
        "erase",
        "hold",
        "release",
        "sweep",
        "rotate-key",
        "audit",
        "stats",
        "eval",
        "Exit codes",
        "BTP_KEY",
    ] {
        assert!(help.contains(word), "help lacks {word}");
    }
    env.bare().assert().code(2);
    env.bare()
        .args(["verify", "--purpose", "x"])
        .assert()
        .code(2);
    env.bare().arg("--version").assert().success();
}

#[test]
fn keygen_writes_an_owner_only_key_and_never_overwrites() {
    let env = Env::new();
    let meta = fs::metadata(env.key()).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let text = fs::read_to_string(env.key()).unwrap();
    assert_eq!(text.trim().len(), 64);
    assert!(text.trim().bytes().all(|b| b.is_ascii_hexdigit()));
    fails(
        env.bare().args(["keygen", "--out"]).arg(env.key()),
        8,
        "refusing to overwrite",
    );
    assert_eq!(fs::read_to_string(env.key()).unwrap(), text);
    let v: Value = serde_json::from_slice(
        &env.bare()
            .args(["keygen", "--json", "--out", "k2"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(v["format"], "hex");
}

#[test]
fn the_whole_workflow_with_json_output() {
    let env = Env::new().init();
    // init reported its purposes; a second init refuses, --update applies.
    fails(
        env.btp().args(["init", "--config", "purposes.toml"]),
        8,
        "already exists",
    );
    let v = env.json(&["init", "--config", "purposes.toml", "--update"]);
    assert_eq!(v["created"], false);
    assert_eq!(v["purposes"].as_array().unwrap().len(), 2);

    // Enrolment from CSV (progress stays off a terminal: stderr empty).
    let csv = env.csv("people.csv", 10);
    let out = env
        .btp()
        .args([
            "enroll",
            "--purpose",
            "border",
            "--reason",
            "enrolment",
            "--json",
            "--input",
        ])
        .arg(&csv)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(out.stderr.is_empty());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["enrolled"], 10);
    // Enrolment from .npy rows and a subjects file, with a retention.
    let rows = ndarray::Array2::from_shape_vec((2, 16), env.data.rows[..32].to_vec()).unwrap();
    ndarray_npy::write_npy(env.path("two.npy"), &rows).unwrap();
    fs::write(env.path("ids.txt"), "A-1\nA-2\n").unwrap();
    let v = env.json(&[
        "enroll",
        "--purpose",
        "access",
        "--reason",
        "badge",
        "--input",
        "two.npy",
        "--subjects",
        "ids.txt",
        "--retention",
        "30d",
    ]);
    assert_eq!(v["records"].as_array().unwrap().len(), 2);

    // Verify: a match is exit 0, a false claim exit 1.
    let p = env.probe(3, 1);
    let p = p.to_str().unwrap();
    let v = env.json(&[
        "verify",
        "--purpose",
        "border",
        "--subject",
        "S-003",
        "--reason",
        "check",
        "--input",
        p,
    ]);
    assert_eq!(v["match"], true);
    assert!(v["score"].as_f64().unwrap() >= 0.45);
    let out = env
        .btp()
        .args([
            "verify",
            "--purpose",
            "border",
            "--subject",
            "S-004",
            "--reason",
            "check",
            "--json",
            "--input",
            p,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["match"], false);

    // Identify: a candidate list and its event; review it.
    let v = env.json(&[
        "identify",
        "--purpose",
        "border",
        "--reason",
        "search",
        "-k",
        "3",
        "--input",
        p,
    ]);
    let top = &v["candidates"][0];
    assert_eq!(top["subject"], "S-003");
    let event = v["event"].as_u64().unwrap().to_string();
    let record = top["record"].as_i64().unwrap();
    let v = env.json(&[
        "review",
        "--event",
        &event,
        "--outcome",
        &format!("confirmed:{record}"),
        "--reviewer",
        "supervisor",
    ]);
    assert_eq!(v["outcome"], "confirmed");
    fails(
        env.btp().args([
            "review",
            "--event",
            &event,
            "--outcome",
            "maybe",
            "--reviewer",
            "x",
        ]),
        3,
        "invalid outcome",
    );
    // Nobody above a threshold of 1.0 for a stranger: exit 1.
    let stranger = env.probe(11, 0);
    env.btp()
        .args([
            "identify",
            "--purpose",
            "border",
            "--reason",
            "search",
            "--threshold",
            "1.0",
            "--input",
        ])
        .arg(&stranger)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("0 candidate(s)"));

    // Hold blocks erasure (exit 7) until released.
    let v = env.json(&["hold", "--subject", "S-003", "--reason", "court order"]);
    let hold = v["hold"].as_i64().unwrap().to_string();
    fails(
        env.btp()
            .args(["erase", "--subject", "S-003", "--reason", "request"]),
        7,
        "legal hold",
    );
    env.json(&["release", "--hold", &hold, "--reason", "case closed"]);
    fails(
        env.btp()
            .args(["release", "--hold", &hold, "--reason", "again"]),
        6,
        "not found",
    );
    let v = env.json(&["erase", "--subject", "S-003", "--reason", "request"]);
    assert_eq!(v["total"], 1);
    fails(
        env.btp().args([
            "verify",
            "--purpose",
            "border",
            "--subject",
            "S-003",
            "--reason",
            "check",
            "--input",
            p,
        ]),
        6,
        "no record of this subject",
    );
    // A record hold.
    let v = env.json(&["hold", "--record", "1", "--reason", "evidence"]);
    assert!(v["hold"].as_i64().unwrap() > 0);

    // Key rotation, audit, statistics.
    let v = env.json(&["rotate-key"]);
    let rotated = v["rotated"].as_array().unwrap();
    assert_eq!(rotated.len(), 2);
    let total: u64 = rotated
        .iter()
        .map(|r| r["reencrypted"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 11);
    env.btp()
        .args([
            "verify",
            "--purpose",
            "border",
            "--subject",
            "S-005",
            "--reason",
            "check",
            "--input",
        ])
        .arg(env.probe(5, 2))
        .assert()
        .success();
    let v = env.json(&["audit", "verify"]);
    assert_eq!(v["ok"], true);
    let head = env.json(&["audit", "head"]);
    let head_text = head["head"].as_str().unwrap().to_owned();
    let v = env.json(&["audit", "verify", "--expect-head", &head_text]);
    assert_eq!(v["expected_head_checked"], true);
    fails(
        env.btp().args([
            "audit",
            "verify",
            "--expect-head",
            &format!("{}:{}", head["seq"], "00".repeat(32)),
        ]),
        5,
        "audit",
    );
    let v = env.json(&["audit", "export", "--out", "audit.jsonl"]);
    let lines = fs::read_to_string(env.path("audit.jsonl")).unwrap();
    assert_eq!(
        lines.lines().count() as u64,
        v["exported"].as_u64().unwrap()
    );
    for line in lines.lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        assert!(e["seq"].as_u64().is_some());
    }
    fails(
        env.btp().args(["audit", "export", "--out", "audit.jsonl"]),
        8,
        "exists",
    );
    let out = env
        .btp()
        .args(["audit", "export", "--action", "identify"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
    fails(
        env.btp().args(["audit", "export", "--action", "nope"]),
        3,
        "unknown action",
    );

    let v = env.json(&["stats", "--from", "2020-01-01"]);
    let border = v["purposes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["purpose"] == "border")
        .unwrap()
        .clone();
    assert_eq!(border["events"]["enroll"], 10);
    assert_eq!(border["events"]["identify"], 2);
    assert_eq!(border["erased_records"], 1);
    assert_eq!(border["live_templates"], 9);
    env.btp()
        .args(["stats"])
        .assert()
        .success()
        .stdout(predicate::str::contains("border"));
    fails(
        env.btp().args(["stats", "--from", "2020-02-30"]),
        3,
        "invalid date",
    );

    // Sweep: silent on success; --json and --verbose report.
    env.btp()
        .args(["sweep"])
        .assert()
        .success()
        .stdout("")
        .stderr("");
    let v = env.json(&["sweep", "--check-integrity"]);
    assert_eq!(v["deleted"], 0);
    env.btp()
        .args(["sweep", "--verbose"])
        .assert()
        .success()
        .stdout(predicate::str::contains("swept 0 expired record(s)"));
}

#[test]
fn expired_records_are_refused_then_swept() {
    let env = Env::new().init();
    let csv = env.csv("people.csv", 2);
    env.btp()
        .args([
            "enroll",
            "--purpose",
            "border",
            "--reason",
            "r",
            "--retention",
            "1s",
            "--input",
        ])
        .arg(&csv)
        .assert()
        .success();
    fails(
        env.btp()
            .args([
                "enroll",
                "--purpose",
                "access",
                "--reason",
                "r",
                "--retention",
                "1y",
                "--subject",
                "x",
                "--input",
            ])
            .arg(env.probe(0, 0)),
        7,
        "outside the purpose's limit",
    );
    fails(
        env.btp()
            .args([
                "enroll",
                "--purpose",
                "border",
                "--reason",
                "r",
                "--until",
                "2001-01-01",
                "--subject",
                "x",
                "--input",
            ])
            .arg(env.probe(0, 0)),
        3,
        "expiry 2001-01-01T00:00:00Z is not after the present",
    );
    std::thread::sleep(std::time::Duration::from_millis(2100));
    fails(
        env.btp()
            .args([
                "verify",
                "--purpose",
                "border",
                "--subject",
                "S-000",
                "--reason",
                "r",
                "--input",
            ])
            .arg(env.probe(0, 1)),
        7,
        "expired",
    );
    let v = env.json(&["sweep"]);
    assert_eq!(v["deleted"], 2);
    assert_eq!(v["per_purpose"]["border"], 2);
    env.btp().args(["sweep"]).assert().success().stdout("");
}

#[test]
fn key_problems_exit_4() {
    let env = Env::new().init();
    let probe = env.probe(0, 0);
    let verify = |cmd: &mut Command| {
        cmd.args([
            "verify",
            "--purpose",
            "border",
            "--subject",
            "S-000",
            "--reason",
            "r",
            "--input",
        ])
        .arg(&probe);
    };
    // No key at all.
    let mut cmd = env.btp();
    cmd.env_remove("BTP_KEY_FILE");
    verify(&mut cmd);
    fails(&mut cmd, 4, "no key");
    // A key file that does not exist.
    let mut cmd = env.btp();
    cmd.env("BTP_KEY_FILE", env.path("missing.key"));
    verify(&mut cmd);
    fails(&mut cmd, 4, "cannot read key file");
    // Another key.
    env.bare()
        .args(["keygen", "--out", "other.key"])
        .assert()
        .success();
    let mut cmd = env.btp();
    cmd.env("BTP_KEY_FILE", env.path("other.key"));
    verify(&mut cmd);
    fails(&mut cmd, 4, "wrong master key");
    // A group-readable key file is refused, like ssh does.
    fs::set_permissions(env.key(), fs::Permissions::from_mode(0o640)).unwrap();
    let mut cmd = env.btp();
    verify(&mut cmd);
    fails(&mut cmd, 4, "chmod 600");
    fs::set_permissions(env.key(), fs::Permissions::from_mode(0o600)).unwrap();
    // A malformed key file.
    fs::write(env.path("bad.key"), "not a key\n").unwrap();
    fs::set_permissions(env.path("bad.key"), fs::Permissions::from_mode(0o600)).unwrap();
    let mut cmd = env.btp();
    cmd.env("BTP_KEY_FILE", env.path("bad.key"));
    verify(&mut cmd);
    fails(&mut cmd, 4, "64 hexadecimal characters");
    // The key in BTP_KEY (hex) works; a malformed one does not.
    let hex = fs::read_to_string(env.key()).unwrap();
    let mut cmd = env.btp();
    cmd.env_remove("BTP_KEY_FILE").env("BTP_KEY", hex.trim());
    verify(&mut cmd);
    cmd.assert().code(6); // opened: the subject is simply not enrolled
    let mut cmd = env.btp();
    cmd.env_remove("BTP_KEY_FILE").env("BTP_KEY", "abcd");
    verify(&mut cmd);
    fails(&mut cmd, 4, "BTP_KEY");
    // There is no option that takes a key value.
    env.btp().args(["sweep", "--key", &hex]).assert().code(2);
}

#[test]
fn bad_input_exits_3_and_writes_nothing() {
    let env = Env::new().init();
    // Malformed .npy: not one at all, and a truncated one.
    fs::write(env.path("junk.npy"), b"this is not numpy").unwrap();
    fails(
        env.btp().args([
            "enroll",
            "--purpose",
            "border",
            "--reason",
            "r",
            "--subject",
            "x",
            "--input",
            "junk.npy",
        ]),
        3,
        "not a valid .npy",
    );
    ndarray_npy::write_npy(env.path("whole.npy"), &Array1::from(vec![1.0f32; 16])).unwrap();
    let bytes = fs::read(env.path("whole.npy")).unwrap();
    fs::write(env.path("cut.npy"), &bytes[..bytes.len() - 8]).unwrap();
    fails(
        env.btp().args([
            "verify",
            "--purpose",
            "border",
            "--subject",
            "x",
            "--reason",
            "r",
            "--input",
            "cut.npy",
        ]),
        3,
        "cut.npy",
    );
    // Integer .npy.
    ndarray_npy::write_npy(env.path("int.npy"), &Array1::from(vec![1i64; 16])).unwrap();
    fails(
        env.btp().args([
            "verify",
            "--purpose",
            "border",
            "--subject",
            "x",
            "--reason",
            "r",
            "--input",
            "int.npy",
        ]),
        3,
        "float32 or float64",
    );
    // Wrong dimension.
    ndarray_npy::write_npy(env.path("short.npy"), &Array1::from(vec![1.0f32; 15])).unwrap();
    fails(
        env.btp().args([
            "verify",
            "--purpose",
            "border",
            "--subject",
            "x",
            "--reason",
            "r",
            "--input",
            "short.npy",
        ]),
        3,
        "wrong dimension",
    );
    fails(
        env.btp().args([
            "enroll",
            "--purpose",
            "border",
            "--reason",
            "r",
            "--subject",
            "x",
            "--input",
            "short.npy",
        ]),
        3,
        "dimension 15",
    );
    // NaN in a CSV: the line is named, the value is not, nothing is enrolled.
    let mut text = fs::read_to_string(env.csv("good.csv", 3)).unwrap();
    text = text.replacen(
        &format!("{},", Env::subject(2)),
        &format!("{},NaN,", Env::subject(2)),
        1,
    );
    let text: String = text
        .lines()
        .map(|l| {
            if l.starts_with("S-002") {
                let mut f: Vec<&str> = l.split(',').collect();
                f.pop();
                f.join(",")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    fs::write(env.path("nan.csv"), text).unwrap();
    fails(
        env.btp().args([
            "enroll",
            "--purpose",
            "border",
            "--reason",
            "r",
            "--input",
            "nan.csv",
        ]),
        3,
        "line 4",
    );
    fs::write(env.path("ragged.csv"), "a,1,2,3\nb,1,2\n").unwrap();
    fails(
        env.btp().args([
            "enroll",
            "--purpose",
            "border",
            "--reason",
            "r",
            "--input",
            "ragged.csv",
        ]),
        3,
        "line 2",
    );
    fs::write(env.path("word.csv"), "a,1,two,3\n").unwrap();
    fails(
        env.btp().args([
            "enroll",
            "--purpose",
            "border",
            "--reason",
            "r",
            "--input",
            "word.csv",
        ]),
        3,
        "feature 1 is not a number",
    );
    let v = env.json(&["stats"]);
    assert!(v["purposes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["stored_records"] == 0));
    // Subjects file that does not match the rows.
    fs::write(env.path("ids.txt"), "a\nb\n").unwrap();
    fails(
        env.btp().args([
            "enroll",
            "--purpose",
            "border",
            "--reason",
            "r",
            "--subjects",
            "ids.txt",
            "--input",
            "whole.npy",
        ]),
        3,
        "1 rows but 2 subject ids",
    );
    // Bad retention and empty reason.
    fails(
        env.btp().args([
            "enroll",
            "--purpose",
            "border",
            "--reason",
            "r",
            "--retention",
            "5 years",
            "--subject",
            "x",
            "--input",
            "whole.npy",
        ]),
        3,
        "invalid duration",
    );
    fails(
        env.btp().args([
            "enroll",
            "--purpose",
            "border",
            "--reason",
            " ",
            "--subject",
            "x",
            "--input",
            "whole.npy",
        ]),
        3,
        "reason",
    );
    // A missing input file.
    fails(
        env.btp().args([
            "verify",
            "--purpose",
            "border",
            "--subject",
            "x",
            "--reason",
            "r",
            "--input",
            "nowhere.npy",
        ]),
        3,
        "nowhere.npy: no such file",
    );
}

#[test]
fn unknown_purpose_and_missing_store_exit_6() {
    let env = Env::new().init();
    fails(
        env.btp()
            .args([
                "verify",
                "--purpose",
                "nope",
                "--subject",
                "x",
                "--reason",
                "r",
                "--input",
            ])
            .arg(env.probe(0, 0)),
        6,
        "unknown purpose `nope`",
    );
    fails(
        env.btp().args(["rotate-key", "--purpose", "nope"]),
        6,
        "unknown purpose",
    );
    let mut cmd = env.btp();
    cmd.env("BTP_STORE", env.path("elsewhere.db")).arg("sweep");
    fails(&mut cmd, 6, "no store at");
    assert!(!env.path("elsewhere.db").exists());
}

#[test]
fn bad_purpose_files_exit_3() {
    let env = Env::new();
    for (toml, needle) in [
        ("", "no [[purpose]]"),
        ("[[purpose]]\nname = \"a\"\n", "missing field"),
        (
            &PURPOSES.replace("iom-grp", "rot13") as &str,
            "unknown scheme `rot13`",
        ),
        (
            &PURPOSES.replace("bits = 16", "bits = 16\nhashes = 3") as &str,
            "takes no `hashes`",
        ),
        (
            &PURPOSES.replace("\"5y\"", "\"forever\"") as &str,
            "invalid duration",
        ),
        (&PURPOSES.replace("0.45", "1.5") as &str, "threshold"),
        (
            &PURPOSES.replace("l2 = true", "l2 = true\ncolour = 1") as &str,
            "unknown field",
        ),
    ] {
        fs::write(env.path("p.toml"), toml).unwrap();
        fails(env.btp().args(["init", "--config", "p.toml"]), 3, needle);
        assert!(!env.store().exists());
    }
    // A centre file is read relative to the purposes file.
    ndarray_npy::write_npy(env.path("centre.npy"), &Array1::from(vec![0.5f32; 16])).unwrap();
    fs::write(
        env.path("p.toml"),
        PURPOSES.replace("l2 = true", "l2 = true\ncentre = \"centre.npy\""),
    )
    .unwrap();
    env.btp()
        .args(["init", "--config", "p.toml"])
        .assert()
        .success();
    // Redefining a purpose's scheme is refused.
    fs::write(
        env.path("p.toml"),
        PURPOSES.replace("hashes = 128", "hashes = 64"),
    )
    .unwrap();
    fails(
        env.btp().args(["init", "--update", "--config", "p.toml"]),
        3,
        "differs from the store's",
    );
}

#[test]
fn corrupted_stores_exit_5() {
    let env = Env::new().init();
    env.enroll_csv(12);
    let probe = env.probe(1, 1);
    // Garbage in the middle of the file: the integrity check after a sweep fails.
    let original = fs::read(env.store()).unwrap();
    assert!(
        original.len() > 3 * 4096,
        "store of {} bytes",
        original.len()
    );
    let mut damaged = original.clone();
    for b in &mut damaged[4096 + 100..3 * 4096] {
        *b = 0x5a;
    }
    fs::write(env.store(), &damaged).unwrap();
    let out = env
        .btp()
        .args(["sweep", "--check-integrity"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
    // Garbage over the whole file: not a store.
    let junk: Vec<u8> = (0..original.len()).map(|i| (i * 7 + 3) as u8).collect();
    fs::write(env.store(), junk).unwrap();
    fails(
        env.btp()
            .args([
                "verify",
                "--purpose",
                "border",
                "--subject",
                "S-001",
                "--reason",
                "r",
                "--input",
            ])
            .arg(&probe),
        5,
        "not a btp store",
    );
    // An SQLite file of another application.
    fs::remove_file(env.store()).unwrap();
    let _ = fs::remove_file(env.path("store.db-wal"));
    let _ = fs::remove_file(env.path("store.db-shm"));
    fs::write(env.store(), b"").unwrap();
    fails(env.btp().args(["audit", "verify"]), 5, "empty");
}

#[test]
fn a_threshold_lowered_behind_the_stores_back_is_caught() {
    let env = Env::new().init();
    env.enroll_csv(2);
    // Edit the purposes table with SQLite's own format knowledge: find the
    // stored threshold 0.45 (big-endian double) and write 0.01 over it.
    let mut bytes = fs::read(env.store()).unwrap();
    let needle = 0.45f64.to_be_bytes();
    let at = bytes
        .windows(8)
        .position(|w| w == needle)
        .expect("the threshold is stored as a REAL");
    bytes[at..at + 8].copy_from_slice(&0.01f64.to_be_bytes());
    fs::write(env.store(), bytes).unwrap();
    let probe = env.probe(1, 0);
    fails(
        env.btp()
            .args([
                "verify",
                "--purpose",
                "border",
                "--subject",
                "S-000",
                "--reason",
                "r",
                "--input",
            ])
            .arg(&probe),
        5,
        "differs from the audited one",
    );
}

#[test]
fn eval_reports_the_core_figures_and_writes_a_det_plot() {
    let env = Env::new();
    let genuine: Vec<f64> = (0..200)
        .map(|i| 0.55 + 0.4 * ((i * 37 % 200) as f64 / 200.0))
        .collect();
    let impostor: Vec<f64> = (0..2000)
        .map(|i| 0.6 * ((i * 53 % 2000) as f64 / 2000.0))
        .collect();
    let text = |v: &[f64]| v.iter().map(|s| format!("{s}\n")).collect::<String>();
    fs::write(env.path("g.txt"), format!("# genuine\n{}", text(&genuine))).unwrap();
    ndarray_npy::write_npy(env.path("i.npy"), &Array1::from(impostor.clone())).unwrap();
    let v = env.json(&[
        "eval",
        "--genuine",
        "g.txt",
        "--impostor",
        "i.npy",
        "--fmr",
        "0.01",
        "--fmr",
        "0.001",
        "--det",
        "det.svg",
    ]);
    let e = btp::eval::eer(&genuine, &impostor).unwrap();
    assert_eq!(v["eer"]["eer"].as_f64().unwrap(), e.eer);
    assert_eq!(v["eer"]["threshold"].as_f64().unwrap(), e.threshold);
    let p = btp::eval::fnmr_at_fmr(&genuine, &impostor, 0.01).unwrap();
    assert_eq!(v["at_fmr"][0]["fnmr"].as_f64().unwrap(), p.fnmr);
    assert_eq!(v["at_fmr"][0]["threshold"].as_f64().unwrap(), p.threshold);
    assert!(v["at_fmr"][1]["fmr"].as_f64().unwrap() <= 0.001);
    let svg = fs::read_to_string(env.path("det.svg")).unwrap();
    assert!(svg.starts_with("<?xml") && svg.contains("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("<polyline"));
    env.bare()
        .args(["eval", "--genuine", "g.txt", "--impostor", "i.npy"])
        .assert()
        .success()
        .stdout(predicate::str::contains("EER"));
    fails(
        env.bare().args([
            "eval",
            "--genuine",
            "g.txt",
            "--impostor",
            "i.npy",
            "--det",
            "det.png",
        ]),
        3,
        "SVG",
    );
    fs::write(env.path("nan.txt"), "0.5\nNaN\n").unwrap();
    fails(
        env.bare()
            .args(["eval", "--genuine", "nan.txt", "--impostor", "i.npy"]),
        3,
        "nan.txt",
    );
    fs::write(env.path("empty.txt"), "# nothing\n").unwrap();
    fails(
        env.bare()
            .args(["eval", "--genuine", "g.txt", "--impostor", "empty.txt"]),
        3,
        "empty",
    );
    fs::write(env.path("word.txt"), "0.5\nhigh\n").unwrap();
    fails(
        env.bare()
            .args(["eval", "--genuine", "word.txt", "--impostor", "i.npy"]),
        3,
        "line 2",
    );
    fails(
        env.bare().args([
            "eval",
            "--genuine",
            "g.txt",
            "--impostor",
            "i.npy",
            "--fmr",
            "2",
        ]),
        3,
        "target_fmr",
    );
}

fn only_entries(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn demo_runs_and_leaves_nothing_behind() {
    let env = Env::new();
    let tmp = env.path("tmp");
    fs::create_dir(&tmp).unwrap();
    let out = env
        .bare()
        .env("TMPDIR", &tmp)
        .args(["demo", "--quick", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["revocation"]["old_version_refused"], true);
    assert_eq!(v["erasure"]["then_not_enrolled"], true);
    assert!(v["retention"]["swept"].as_u64().unwrap() > 0);
    assert!(v["eer"]["unprotected"].as_f64().unwrap() < 0.1);
    assert!(v["d_sys"].as_f64().unwrap() < 0.2);
    assert!(
        only_entries(&tmp).is_empty(),
        "left behind: {:?}",
        only_entries(&tmp)
    );
    // With --dir the key, store and audit export stay, and the human report is printed.
    env.bare()
        .args(["demo", "--quick", "--dir", "kept"])
        .assert()
        .success()
        .stdout(predicate::str::contains("EER unprotected"))
        .stdout(predicate::str::contains("D_sys"));
    let mut kept = only_entries(&env.path("kept"));
    kept.sort();
    assert!(
        kept.starts_with(&[
            "audit.jsonl".to_owned(),
            "master.key".to_owned(),
            "store.db".to_owned()
        ]),
        "{kept:?}"
    );
    // The kept store opens with the kept key.
    env.bare()
        .env("BTP_STORE", env.path("kept/store.db"))
        .env("BTP_KEY_FILE", env.path("kept/master.key"))
        .args(["audit", "verify"])
        .assert()
        .success();
    // A folder that already holds a demo is refused.
    fails(
        env.bare().args(["demo", "--quick", "--dir", "kept"]),
        8,
        "already holds",
    );
}

#[test]
fn audit_export_to_a_reader_that_stops_early_is_not_an_error() {
    let env = Env::new().init();
    env.enroll_csv(12);
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("btp"));
    cmd.current_dir(env.dir.path())
        .env_remove("BTP_KEY")
        .env("BTP_STORE", env.store())
        .env("BTP_KEY_FILE", env.key())
        .args(["audit", "export"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty());
}
