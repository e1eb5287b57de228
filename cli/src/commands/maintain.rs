//! `btp sweep` and `btp rotate-key`: maintenance jobs for cron.

use btp::store::Context;
use serde_json::json;

use crate::args::{StoreArgs, WhoDefault};
use crate::error::Result;
use crate::output::Report;
use crate::progress::Progress;
use crate::time::format_time;

/// Deletes expired records. Prints nothing on success unless `verbose`
/// (or `--json`).
pub fn sweep(
    store: &StoreArgs,
    who: &WhoDefault,
    verbose: bool,
    check_integrity: bool,
    progress: Progress,
) -> Result<Report> {
    let store = super::open(store)?;
    let ctx = Context::new(
        &who.actor,
        who.reason.as_deref().unwrap_or("retention sweep"),
    );
    let spinner = progress.spinner("sweeping expired records");
    let r = store.sweep(None, &ctx);
    spinner.finish_and_clear();
    let r = r?;
    if check_integrity {
        let spinner = progress.spinner("checking the file's integrity");
        let checked = store.check_integrity();
        spinner.finish_and_clear();
        checked?;
    }
    let mut human = String::new();
    if verbose {
        human = format!(
            "swept {} expired record(s) as of {}; {} expired record(s) kept under legal hold (audit event {})\n",
            r.total(),
            format_time(r.now),
            r.held,
            r.event
        );
        for (p, ids) in &r.deleted {
            human.push_str(&format!("  {p}: {}\n", ids.len()));
        }
        if !r.checkpointed {
            human.push_str("  note: the WAL checkpoint is pending (another handle was busy)\n");
        }
        if check_integrity {
            human.push_str("  integrity check: ok\n");
        }
    }
    let per_purpose: serde_json::Map<_, _> = r
        .deleted
        .iter()
        .map(|(p, ids)| (p.clone(), json!(ids.len())))
        .collect();
    Ok(Report::ok(
        human,
        json!({
            "deleted": r.total(),
            "per_purpose": per_purpose,
            "held": r.held,
            "now": r.now,
            "event": r.event,
            "checkpointed": r.checkpointed,
            "integrity_checked": check_integrity,
        }),
    ))
}

/// Rotates storage keys (one purpose or all).
pub fn rotate(
    store: &StoreArgs,
    who: &WhoDefault,
    purpose: Option<&str>,
    progress: Progress,
) -> Result<Report> {
    let store = super::open(store)?;
    let ctx = Context::new(
        &who.actor,
        who.reason.as_deref().unwrap_or("storage key rotation"),
    );
    let spinner = progress.spinner("re-encrypting records under new storage keys");
    let r = store.rotate_key(purpose, &ctx);
    spinner.finish_and_clear();
    let r = r?;
    let mut human = String::new();
    let mut list = Vec::new();
    for rot in &r.rotated {
        let (p, from, to, n) = (&rot.purpose, rot.from, rot.to, rot.reencrypted);
        human.push_str(&format!(
            "{p}: storage key {from} -> {to}, {n} record(s) re-encrypted\n"
        ));
        list.push(json!({"purpose": p, "from": from, "to": to, "reencrypted": n}));
    }
    Ok(Report::ok(human, json!({ "rotated": list })))
}
