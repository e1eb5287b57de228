//! Shared fixtures of the `btp` command's tests: a folder with a key and a
//! store, generated people, and the one-line error assertion.

#![allow(dead_code)] // each test binary uses its own part

use std::fs;
use std::path::PathBuf;

use assert_cmd::Command;
use btp::synthetic::{Dataset, Population};
use ndarray::Array1;
use serde_json::Value;

pub const PURPOSES: &str = r#"
[[purpose]]
name = "border"
scheme = "iom-grp"
dim = 16
hashes = 128
window = 8
l2 = true
application = "gate-A"
threshold = 0.45
max_retention = "5y"

[[purpose]]
name = "access"
scheme = "biohash"
dim = 16
bits = 16
application = "door-B"
version = 2
threshold = 0.7
max_retention = "90d"
"#;

/// A folder with a key and (after `init`) a store.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub data: Dataset,
}

pub fn data() -> Dataset {
    Population {
        subjects: 12,
        samples: 3,
        dim: 16,
        offset: 0.0,
        between: 1.0,
        within: 0.3,
        seed: 7,
    }
    .generate()
    .unwrap()
}

impl Env {
    pub fn new() -> Self {
        let env = Self {
            dir: tempfile::tempdir().unwrap(),
            data: data(),
        };
        env.bare()
            .args(["keygen", "--out"])
            .arg(env.key())
            .assert()
            .success();
        env
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn key(&self) -> PathBuf {
        self.path("master.key")
    }

    pub fn store(&self) -> PathBuf {
        self.path("store.db")
    }

    /// `btp` with no BTP_* variables from the caller's environment.
    pub fn bare(&self) -> Command {
        let mut cmd = Command::cargo_bin("btp").unwrap();
        for var in ["BTP_KEY", "BTP_KEY_FILE", "BTP_STORE", "BTP_ACTOR"] {
            cmd.env_remove(var);
        }
        cmd.current_dir(self.dir.path());
        cmd
    }

    /// `btp` with the store, key file and actor set through the environment.
    pub fn btp(&self) -> Command {
        let mut cmd = self.bare();
        cmd.env("BTP_STORE", self.store())
            .env("BTP_KEY_FILE", self.key())
            .env("BTP_ACTOR", "tester");
        cmd
    }

    /// A store with the two purposes.
    pub fn init(self) -> Self {
        fs::write(self.path("purposes.toml"), PURPOSES).unwrap();
        self.btp()
            .args(["init", "--config", "purposes.toml"])
            .assert()
            .success();
        self
    }

    pub fn subject(s: usize) -> String {
        format!("S-{s:03}")
    }

    /// Sample 0 of subjects `0..n` as CSV.
    pub fn csv(&self, name: &str, n: usize) -> PathBuf {
        let mut text = String::from("# subject, features\n");
        for s in 0..n {
            let row = self.data.row(s * 3);
            let values: Vec<String> = row.iter().map(|v| v.to_string()).collect();
            text.push_str(&format!("{},{}\n", Self::subject(s), values.join(",")));
        }
        let path = self.path(name);
        fs::write(&path, text).unwrap();
        path
    }

    /// Sample `j` of subject `s` as a 1-D .npy.
    pub fn probe(&self, s: usize, j: usize) -> PathBuf {
        let path = self.path(&format!("probe-{s}-{j}.npy"));
        let row = Array1::from(self.data.row(s * 3 + j).to_vec());
        ndarray_npy::write_npy(&path, &row).unwrap();
        path
    }

    pub fn enroll_csv(&self, n: usize) {
        let csv = self.csv("people.csv", n);
        self.btp()
            .args([
                "enroll",
                "--purpose",
                "border",
                "--reason",
                "test",
                "--input",
            ])
            .arg(csv)
            .assert()
            .success();
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let out = self.btp().args(args).arg("--json").output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }
}

/// Asserts exit `code` and exactly one line `btp: error: ...` containing `needle`.
pub fn fails(cmd: &mut Command, code: i32, needle: &str) {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
    assert!(
        out.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(stderr.lines().count(), 1, "one line expected: {stderr}");
    assert!(stderr.starts_with("btp: error: "), "{stderr}");
    assert!(stderr.contains(needle), "`{needle}` not in: {stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("backtrace"));
}
