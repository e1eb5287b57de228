//! Crash safety of the store: the test binary runs itself again as a child
//! process (`child_process`, inert unless `BTP_CRASH_CHILD` is set) that
//! opens a prepared store and runs one operation: a store creation, a loop
//! of single enrolments, a loop of batch enrolments, a sweep, a loop of
//! erasures, a key rotation or a loop of audit prunings. The parent kills
//! it with SIGKILL at a seeded random moment, reopens the store and checks
//! what must hold after a crash (`harness::reopen` and each operation's own
//! checks), then lets the next child resume on the same file or completes
//! the operation itself and checks the end state.
//!
//! One kill is one trial. Most kills are drawn over the operation's
//! measured duration (from the child's `READY` line to its `DONE`); one in
//! ten is drawn over the child's start instead (while it opens the store).
//! A kill lands before `READY`, mid-operation, or after `DONE` (or the
//! child finished first); a trial whose checks fail is counted as lost or
//! wrong, and the campaign goes on with a fresh file.
//!
//! `BTP_CRASH_TRIALS` (per operation, default 12) and `BTP_CRASH_SEED`
//! (default `0x5eed`) set the campaign; each operation's test prints a
//! `CRASH-CAMPAIGN op=...` line (`cargo test --test store_crash --
//! --nocapture`). `scripts/crash-campaign N [SEED]` runs N trials in all
//! and prints the summary. `BTP_CRASH_TRACE=1` traces every child.
//!
//! Modules: `harness` (child processes, kill schedule, tally, the checks
//! every trial makes), `fixture` (purposes, people, the prepared store of
//! sweeps, erasures and rotations), one module per operation family.

#![cfg(unix)]

use std::path::PathBuf;

#[path = "../common/mod.rs"]
mod common;

mod create;
mod enroll;
mod erase;
mod fixture;
mod harness;
mod prune;
mod rotate;
mod sweep;

use harness::{ENV_DB, ENV_FROM, ENV_NOW, ENV_OP};

/// The child: inert unless the parent set `BTP_CRASH_CHILD`.
#[test]
fn child_process() {
    let Ok(op) = std::env::var(ENV_OP) else {
        return;
    };
    let path = PathBuf::from(std::env::var(ENV_DB).unwrap());
    let now: i64 = std::env::var(ENV_NOW).unwrap().parse().unwrap();
    let from: usize = std::env::var(ENV_FROM).unwrap().parse().unwrap();
    match op.as_str() {
        "create" => create::child(&path, now),
        "enroll" => enroll::child_single(&path, now, from),
        "enroll_batch" => enroll::child_batch(&path, now, from),
        "sweep" => sweep::child(&path, now),
        "rotate" => rotate::child(&path, now),
        "erase" => erase::child(&path, now, from),
        "prune" => prune::child(&path, now, from),
        other => panic!("unknown child operation {other}"),
    }
}
