//! The README's exit-code table, row by row: for every code, real commands
//! that produce it and their one-line `btp: error: ...` message; and the
//! table itself against the one `btp --help` prints.
//!
//! Code 101 (a panic) cannot be reached without a bug: the panic hook's one
//! line is tested by `error::tests::a_panic_is_one_line_naming_the_bug` in
//! the binary's unit tests instead.

mod common;

use std::fs;

use assert_cmd::Command;
use common::{fails, Env};
use ndarray::Array1;

/// `(code, meaning)` of the README's table (section "Command line").
fn readme_rows() -> Vec<(String, String)> {
    let readme = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let section = readme
        .split("**Exit codes**")
        .nth(1)
        .expect("the README has an exit-code table");
    section
        .lines()
        .skip_while(|l| !l.starts_with("| code |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let (code, meaning) = l.trim_matches('|').split_once('|').expect("two cells");
            (code.trim().to_owned(), meaning.trim().to_owned())
        })
        .collect()
}

/// `(code, meaning)` of the "Exit codes:" part of `btp --help`.
fn help_rows() -> Vec<(String, String)> {
    let out = Command::cargo_bin("btp")
        .unwrap()
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8(out.stdout).unwrap();
    help.lines()
        .skip_while(|l| l.trim() != "Exit codes:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(|l| {
            let (code, meaning) = l.trim().split_once(' ').expect("code and meaning");
            (code.to_owned(), meaning.trim().to_owned())
        })
        .collect()
}

#[test]
fn the_readme_table_and_the_help_list_the_same_codes_and_meanings() {
    let readme = readme_rows();
    let codes: Vec<&str> = readme.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(
        codes,
        ["0", "1", "2", "3", "4", "5", "6", "7", "8", "101"],
        "{readme:?}"
    );
    assert_eq!(readme, help_rows());
}

/// The probe file of subject `s`, sample `j`, as a path string.
fn probe(env: &Env, s: usize, j: usize) -> String {
    env.probe(s, j).to_str().unwrap().to_owned()
}

fn verify(env: &Env, subject: &str, input: &str) -> Command {
    let mut cmd = env.btp();
    cmd.args([
        "verify",
        "--purpose",
        "border",
        "--reason",
        "r",
        "--subject",
        subject,
        "--input",
        input,
    ]);
    cmd
}

fn enroll(env: &Env, extra: &[&str]) -> Command {
    let mut cmd = env.btp();
    cmd.args(["enroll", "--purpose", "border", "--reason", "r"])
        .args(extra);
    cmd
}

#[test]
fn rows_0_and_1_an_answer_on_stdout_and_nothing_on_stderr() {
    let env = Env::new().init();
    env.enroll_csv(6);
    let p = probe(&env, 3, 1);
    for (subject, code, says) in [("S-003", 0, "match: score"), ("S-004", 1, "no match")] {
        let out = verify(&env, subject, &p).output().unwrap();
        assert_eq!(out.status.code(), Some(code), "{subject}");
        assert!(String::from_utf8_lossy(&out.stdout).starts_with(says));
        assert!(out.stderr.is_empty());
    }
}

#[test]
fn row_2_usage_errors_are_one_line() {
    let env = Env::new().init();
    ndarray_npy::write_npy(env.path("one.npy"), &Array1::from(vec![0.5f32; 16])).unwrap();
    let csv = env.csv("people.csv", 2);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec![], "a command is needed (see `btp --help`)"),
        (vec!["frobnicate"], "unknown command `frobnicate`"),
        (vec!["erse"], "did you mean `erase`?"),
        (vec!["sweep", "--key", "00ff"], "unknown option `--key`"),
        (vec!["verify", "--purpose", "border"], "--subject"),
        (
            vec!["hold", "--reason", "r", "--subject", "a", "--record", "1"],
            "cannot be used with",
        ),
        (
            vec![
                "identify",
                "--purpose",
                "border",
                "--reason",
                "r",
                "-k",
                "ten",
            ],
            "invalid value",
        ),
        (
            vec![
                "erase",
                "--subject",
                "S-1",
                "--reason",
                "case",
                "2026/114",
                "of",
                "Jane",
            ],
            "unexpected value",
        ),
        (
            vec![
                "enroll",
                "--purpose",
                "border",
                "--reason",
                "r",
                "--input",
                "one.npy",
            ],
            "needs its subject ids",
        ),
        (
            vec![
                "enroll",
                "--purpose",
                "border",
                "--reason",
                "r",
                "--subject",
                "x",
                "--input",
                csv.to_str().unwrap(),
            ],
            "drop --subjects/--subject",
        ),
        (vec!["keygen", "--out", "-"], "not to stdout"),
    ];
    for (args, needle) in cases {
        let mut cmd = env.btp();
        cmd.args(&args);
        fails(&mut cmd, 2, needle);
        let out = env.btp().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        // Free text typed without quotes is not repeated.
        assert!(
            !stderr.contains("Jane") && !stderr.contains("2026/114"),
            "{stderr}"
        );
    }
    assert!(!env.path("-").exists());
    // Help and version are not errors: stdout, exit 0.
    for args in [
        &["--help"][..],
        &["--version"],
        &["verify", "--help"],
        &["help"],
    ] {
        let out = env.btp().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(!out.stdout.is_empty() && out.stderr.is_empty(), "{args:?}");
    }
}

/// An `.npy` file whose header claims `shape` of float32 over `values` values.
fn lying_npy(shape: &str, values: usize) -> Vec<u8> {
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    out.extend(std::iter::repeat_n(0u8, 4 * values));
    out
}

#[test]
fn row_3_bad_input_names_the_file_and_writes_nothing() {
    let env = Env::new().init();
    ndarray_npy::write_npy(env.path("one.npy"), &Array1::from(vec![0.5f32; 16])).unwrap();
    // Missing files of every input option.
    fails(
        &mut verify(&env, "x", "nowhere.npy"),
        3,
        "nowhere.npy: no such file",
    );
    fails(
        &mut verify(&env, "x", "nowhere.txt"),
        3,
        "nowhere.txt: no such file",
    );
    fails(
        &mut enroll(&env, &["--input", "one.npy", "--subjects", "no-ids.txt"]),
        3,
        "no-ids.txt: no such file",
    );
    fails(
        env.btp().args(["init", "--update", "--config", "no.toml"]),
        3,
        "no.toml: no such file",
    );
    fails(
        env.bare()
            .args(["eval", "--genuine", "no-g.txt", "--impostor", "one.npy"]),
        3,
        "no-g.txt: no such file",
    );
    // A folder given as a file.
    fs::create_dir(env.path("folder.npy")).unwrap();
    fails(
        &mut verify(&env, "x", "folder.npy"),
        3,
        "folder.npy: a folder",
    );
    fails(
        env.btp().args(["init", "--update", "--config", "."]),
        3,
        "a folder",
    );
    // A header claiming 10^11 rows of 128 values: refused before allocating
    // (it aborted the process, exit 134).
    fs::write(env.path("lie.npy"), lying_npy("(100000000000, 128)", 128)).unwrap();
    fails(
        &mut enroll(&env, &["--input", "lie.npy", "--subject", "x"]),
        3,
        "lie.npy: the .npy header claims shape [100000000000, 128]",
    );
    fs::write(env.path("ids.txt"), "a\n").unwrap();
    fails(
        &mut enroll(&env, &["--input", "lie.npy", "--subjects", "ids.txt"]),
        3,
        "lie.npy",
    );
    fails(&mut verify(&env, "x", "lie.npy"), 3, "lie.npy");
    fails(
        env.bare()
            .args(["eval", "--genuine", "lie.npy", "--impostor", "lie.npy"]),
        3,
        "lie.npy",
    );
    // Truncated: two rows claimed, one present; and an overflowing shape.
    fs::write(env.path("cut.npy"), lying_npy("(2, 16)", 16)).unwrap();
    fails(
        &mut enroll(&env, &["--input", "cut.npy", "--subject", "x"]),
        3,
        "cut.npy",
    );
    fs::write(
        env.path("huge.npy"),
        lying_npy("(18446744073709551615, 3)", 3),
    )
    .unwrap();
    fails(&mut verify(&env, "x", "huge.npy"), 3, "huge.npy");
    // A centre file in a purposes file is read the same way.
    fs::write(
        env.path("p.toml"),
        common::PURPOSES.replace("l2 = true", "l2 = true\ncentre = \"lie.npy\""),
    )
    .unwrap();
    fails(
        env.btp().args(["init", "--update", "--config", "p.toml"]),
        3,
        "lie.npy",
    );
    // Ids that are not text, and an empty id.
    fs::write(env.path("bin-ids.txt"), b"a\xff\xfe\n").unwrap();
    fails(
        &mut enroll(&env, &["--input", "one.npy", "--subjects", "bin-ids.txt"]),
        3,
        "not UTF-8",
    );
    fails(
        &mut enroll(&env, &["--input", "one.npy", "--subject", "  "]),
        3,
        "empty subject id",
    );
    // Nothing was enrolled.
    let v = env.json(&["stats"]);
    assert!(v["purposes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["stored_records"] == 0));
}

#[test]
fn row_4_a_key_problem() {
    let env = Env::new().init();
    let p = probe(&env, 0, 0);
    let mut cmd = verify(&env, "S-000", &p);
    cmd.env_remove("BTP_KEY_FILE");
    fails(&mut cmd, 4, "no key");
    let mut cmd = verify(&env, "S-000", &p);
    cmd.env("BTP_KEY_FILE", env.path("missing.key"));
    fails(&mut cmd, 4, "cannot read key file");
}

#[test]
fn row_5_not_a_store() {
    let env = Env::new();
    fs::create_dir(env.store()).unwrap();
    fails(env.btp().arg("sweep"), 5, "not a btp store");
    fs::remove_dir(env.store()).unwrap();
    fs::write(env.store(), b"").unwrap();
    fails(env.btp().args(["audit", "verify"]), 5, "empty");
}

#[test]
fn row_6_not_found() {
    let env = Env::new().init();
    env.enroll_csv(2);
    let p = probe(&env, 0, 0);
    fails(&mut verify(&env, "S-009", &p), 6, "");
    let mut cmd = env.btp();
    cmd.args([
        "verify",
        "--purpose",
        "nope",
        "--reason",
        "r",
        "--subject",
        "S-000",
    ])
    .args(["--input", &p]);
    fails(&mut cmd, 6, "unknown purpose `nope`");
    let mut cmd = env.btp();
    cmd.env("BTP_STORE", env.path("elsewhere.db")).arg("sweep");
    fails(&mut cmd, 6, "no store at");
    fails(
        env.btp().args(["release", "--reason", "r", "--hold", "99"]),
        6,
        "",
    );
}

#[test]
fn row_7_refused_by_policy() {
    let env = Env::new().init();
    env.enroll_csv(2);
    env.btp()
        .args(["hold", "--reason", "litigation", "--subject", "S-001"])
        .assert()
        .success();
    fails(
        env.btp()
            .args(["erase", "--reason", "r", "--subject", "S-001"]),
        7,
        "legal hold",
    );
}

#[test]
fn row_8_outputs_are_new_files_in_existing_folders() {
    let env = Env::new().init();
    env.enroll_csv(2);
    fs::write(env.path("g.txt"), "0.9\n0.8\n0.7\n").unwrap();
    fs::write(env.path("i.txt"), "0.1\n0.2\n0.75\n").unwrap();
    let eval = |det: &str| {
        let mut cmd = env.bare();
        cmd.args([
            "eval",
            "--genuine",
            "g.txt",
            "--impostor",
            "i.txt",
            "--det",
            det,
        ]);
        cmd
    };
    // An existing file is never overwritten, by any output option.
    fs::write(env.path("det.svg"), "mine").unwrap();
    fails(&mut eval("det.svg"), 8, "det.svg: already exists");
    assert_eq!(fs::read_to_string(env.path("det.svg")).unwrap(), "mine");
    fs::write(env.path("events.jsonl"), "mine").unwrap();
    fails(
        env.btp().args(["audit", "export", "--out", "events.jsonl"]),
        8,
        "already exists",
    );
    assert_eq!(
        fs::read_to_string(env.path("events.jsonl")).unwrap(),
        "mine"
    );
    fails(
        env.bare().args(["keygen", "--out", "master.key"]),
        8,
        "already exists",
    );
    // A missing folder is exit 8 (it was 6, "not found").
    fails(
        &mut eval("no/det.svg"),
        8,
        "no/det.svg: its folder does not exist",
    );
    fails(
        env.btp()
            .args(["audit", "export", "--out", "no/events.jsonl"]),
        8,
        "folder does not exist",
    );
    fails(
        env.bare().args(["keygen", "--out", "no/k.key"]),
        8,
        "folder does not exist",
    );
    let mut cmd = env.btp();
    cmd.env("BTP_STORE", env.path("no/store.db"))
        .args(["init", "--config", "purposes.toml"]);
    fails(&mut cmd, 8, "no/store.db: No such file or directory");
    assert!(!env.path("no").exists());
    // A folder where the store file should be created.
    fs::create_dir(env.path("folder.db")).unwrap();
    let mut cmd = env.btp();
    cmd.env("BTP_STORE", env.path("folder.db"))
        .args(["init", "--config", "purposes.toml"]);
    fails(&mut cmd, 8, "folder.db: a folder");
}

/// `btp ARGS` under a file-size limit of one block, in `env`'s folder,
/// with stdout redirected to `stdout_file`.
fn limited(env: &Env, stdout_file: &str, args: &[&str]) -> std::process::Output {
    let mut cmd = std::process::Command::new("sh");
    cmd.current_dir(env.dir.path())
        .env_remove("BTP_KEY")
        .env("BTP_STORE", env.store())
        .env("BTP_KEY_FILE", env.key())
        .env("BTP_ACTOR", "tester")
        .arg("-c")
        .arg(format!("ulimit -f 1 && exec \"$0\" \"$@\" > {stdout_file}"))
        .arg(assert_cmd::cargo::cargo_bin("btp"))
        .args(args);
    cmd.output().unwrap()
}

fn one_error_line(out: &std::process::Output, code: i32, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{:?}: {stderr}", out.status);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("btp: error: "), "{stderr}");
    assert!(stderr.contains(needle), "`{needle}` not in {stderr}");
}

#[test]
fn row_8_a_file_size_limit_is_reported_not_a_silent_kill() {
    let env = Env::new().init();
    env.enroll_csv(12);
    let scores: String = (0..2000)
        .map(|i| format!("{}\n", i as f64 / 2000.0))
        .collect();
    fs::write(env.path("g.txt"), &scores).unwrap();
    fs::write(env.path("i.txt"), &scores).unwrap();
    // Writing a file: the process was killed by SIGXFSZ, without a word.
    let out = limited(
        &env,
        "/dev/null",
        &[
            "eval",
            "--genuine",
            "g.txt",
            "--impostor",
            "i.txt",
            "--det",
            "det.svg",
        ],
    );
    one_error_line(&out, 8, "det.svg: File too large");
    assert!(!env.path("det.svg").exists(), "the partial file is removed");
    // Writing stdout redirected to a file.
    let out = limited(
        &env,
        "out.svg",
        &[
            "eval",
            "--genuine",
            "g.txt",
            "--impostor",
            "i.txt",
            "--det",
            "-",
        ],
    );
    one_error_line(&out, 8, "writing to stdout: File too large");
    // The store's own files hit the limit first (SQLite's journal): exit 8
    // too, and the export file created before is removed.
    let out = limited(&env, "/dev/null", &["audit", "export", "--out", "a.jsonl"]);
    one_error_line(&out, 8, "");
    assert!(!env.path("a.jsonl").exists());
    env.btp().args(["audit", "verify"]).assert().success();
}
