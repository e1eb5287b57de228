//! `btp enroll` is all or nothing (issue 13): the whole file is checked
//! (dimension, NaN, id rules, an id twice) and written in one transaction,
//! so a bad last row or a repeated id enrols nothing, and a rerun after
//! fixing the file never duplicates records.

mod common;

use common::{fails, Env};

/// Subjects in the file (the fixture's data holds twelve people).
const N: usize = 12;

fn records(env: &Env) -> u64 {
    let v = env.json(&["stats"]);
    v["purposes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["purpose"] == "border")
        .map_or(0, |p| p["stored_records"].as_u64().unwrap())
}

fn enroll(env: &Env, file: &std::path::Path) -> assert_cmd::Command {
    let mut cmd = env.btp();
    cmd.args(["enroll", "--purpose", "border", "--reason", "r", "--input"])
        .arg(file);
    cmd
}

#[test]
fn a_bad_last_row_or_a_repeated_id_enrols_nothing() {
    let env = Env::new().init();
    let good = env.csv("people.csv", N);
    let text = std::fs::read_to_string(&good).unwrap();
    let lines: Vec<&str> = text.lines().collect();

    // A 70,000-byte subject id on the last row.
    let long = lines[N].replacen("S-011", &"x".repeat(70_000), 1);
    let bad = env.path("long-id.csv");
    std::fs::write(&bad, format!("{}\n{long}\n", lines[..N].join("\n"))).unwrap();
    fails(&mut enroll(&env, &bad), 3, "line 13 (nothing enrolled)");
    assert_eq!(records(&env), 0);

    // Every face under one id: the second row of an id is refused.
    let same: Vec<String> = lines[1..]
        .iter()
        .map(|l| l.replacen(&l[..5], "S-007", 1))
        .collect();
    let twice = env.path("one-id.csv");
    std::fs::write(&twice, same.join("\n")).unwrap();
    fails(&mut enroll(&env, &twice), 3, "repeats the subject of row 0");
    assert_eq!(records(&env), 0);

    // NaN on the last line: named, nothing enrolled.
    let nan = lines[N].rsplit_once(',').unwrap().0.to_owned() + ",NaN";
    let with_nan = env.path("nan.csv");
    std::fs::write(&with_nan, format!("{}\n{nan}\n", lines[..N].join("\n"))).unwrap();
    fails(
        &mut enroll(&env, &with_nan),
        3,
        "line 13 (nothing enrolled)",
    );
    assert_eq!(records(&env), 0);

    // The good file enrols them all at once.
    enroll(&env, &good).assert().success();
    assert_eq!(records(&env), N as u64);
}
