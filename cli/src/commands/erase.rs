//! `btp erase`, `btp hold`, `btp release`.

use btp::store::{Context, HoldTarget};
use serde_json::json;

use crate::args::{StoreArgs, Who};
use crate::error::{CliError, Result};
use crate::input;
use crate::output::Report;

/// Erases a subject's records (a held subject is refused, exit 7).
pub fn erase(store: &StoreArgs, who: &Who, subject: &str, purpose: Option<&str>) -> Result<Report> {
    let subject = input::subject_id(subject)?;
    let store = super::open(store)?;
    let ctx = Context::new(&who.actor, &who.reason);
    let r = store.erase(&subject, purpose, &ctx)?;
    let total: usize = r.erased.values().map(Vec::len).sum();
    let mut human = format!("erased {total} record(s) (audit event {})\n", r.event);
    for (p, ids) in &r.erased {
        human.push_str(&format!("  {p}: {}\n", ids.len()));
    }
    if !r.checkpointed {
        human.push_str("  note: the WAL checkpoint is pending (another handle was busy); the next sweep completes it\n");
    }
    Ok(Report::ok(
        human,
        json!({ "erased": r.erased, "total": total, "event": r.event, "checkpointed": r.checkpointed }),
    ))
}

/// Places a legal hold.
pub fn hold(
    store: &StoreArgs,
    who: &Who,
    subject: Option<&str>,
    record: Option<i64>,
) -> Result<Report> {
    let subject = subject.map(input::subject_id).transpose()?;
    let store = super::open(store)?;
    let ctx = Context::new(&who.actor, &who.reason);
    let (target, what) = match (subject.as_deref(), record) {
        (Some(s), _) => (HoldTarget::Subject(s), "the subject".to_owned()),
        (None, Some(r)) => (HoldTarget::Record(r), format!("record {r}")),
        // clap requires one of them; no panic if that ever changes.
        (None, None) => return Err(CliError::usage("give --subject or --record")),
    };
    let hold = store.hold(target, &ctx)?;
    Ok(Report::ok(
        format!("hold {hold} placed on {what}: release it with `btp release --hold {hold}`\n"),
        json!({ "hold": hold }),
    ))
}

/// Releases a legal hold.
pub fn release(store: &StoreArgs, who: &Who, hold: i64) -> Result<Report> {
    let store = super::open(store)?;
    let ctx = Context::new(&who.actor, &who.reason);
    store.release(hold, &ctx)?;
    Ok(Report::ok(
        format!("hold {hold} released\n"),
        json!({ "hold": hold, "released": true }),
    ))
}
