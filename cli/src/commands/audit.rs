//! `btp audit verify|head|export`.

use std::io::Write;
use std::path::Path;

use btp::store::{Action, AuditHead, EventFilter};
use serde_json::json;

use crate::args::StoreArgs;
use crate::error::{CliError, Result};
use crate::files::{is_stdout, OutputFile, Stdout};
use crate::output::Report;
use crate::progress::Progress;
use crate::time::parse_instant;

fn parse_head(text: &str) -> Result<AuditHead> {
    let bad = || {
        CliError::input(format!(
            "invalid head `{text}`: SEQ:MAC (64 hex digits) expected"
        ))
    };
    let (seq, mac) = text.split_once(':').ok_or_else(bad)?;
    let seq = seq.parse().map_err(|_| bad())?;
    if mac.len() != 64 {
        return Err(bad());
    }
    let mut bytes = [0u8; 32];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = u8::from_str_radix(mac.get(2 * i..2 * i + 2).ok_or_else(bad)?, 16)
            .map_err(|_| bad())?;
    }
    Ok(AuditHead { seq, mac: bytes })
}

/// Verifies the chain (and optionally a head kept elsewhere).
pub fn verify(store: &StoreArgs, expect_head: Option<&str>, progress: Progress) -> Result<Report> {
    let expected = expect_head.map(parse_head).transpose()?;
    let store = super::open(store)?;
    let spinner = progress.spinner("verifying the audit chain");
    let report = store.verify_audit();
    spinner.finish_and_clear();
    let report = report?;
    if let Some(h) = &expected {
        store.check_audit_head(h)?;
    }
    let head = report
        .head
        .map(|h| format!("{}:{}", h.seq, super::hex(&h.mac)));
    Ok(Report::ok(
        format!(
            "audit chain intact: {} event(s){}{}\n",
            report.events,
            report
                .first_seq
                .map(|s| format!(" from {s}"))
                .unwrap_or_default(),
            head.as_ref()
                .map(|h| format!(", head {h}"))
                .unwrap_or_default()
        ) + if expected.is_some() {
            "the expected head is in the log, unchanged\n"
        } else {
            ""
        },
        json!({
            "ok": true,
            "events": report.events,
            "first_seq": report.first_seq,
            "pruned_through": report.pruned_through,
            "head": head,
            "expected_head_checked": expected.is_some(),
        }),
    ))
}

/// Prints the newest event's head.
pub fn head(store: &StoreArgs) -> Result<Report> {
    let store = super::open(store)?;
    let head = store
        .audit_head()?
        .ok_or_else(|| CliError::new(crate::error::Class::NotFound, "the audit log is empty"))?;
    let text = format!("{}:{}", head.seq, super::hex(&head.mac));
    Ok(Report::ok(
        format!("{text}\n"),
        json!({
            "seq": head.seq,
            "mac": super::hex(&head.mac),
            "head": text,
            "store_id": super::hex(&store.store_id()),
        }),
    ))
}

/// Exports events as JSON lines to a new file or stdout.
pub fn export(
    store: &StoreArgs,
    out: Option<&Path>,
    from: Option<&str>,
    to: Option<&str>,
    purpose: Option<&str>,
    action: Option<&str>,
) -> Result<Option<Report>> {
    let filter = EventFilter {
        from: from.map(parse_instant).transpose()?.map(|i| i.secs),
        to: to.map(parse_instant).transpose()?.map(|i| i.secs),
        purpose: purpose.map(str::to_owned),
        action: action
            .map(|a| {
                Action::parse(a).ok_or_else(|| {
                    let names: Vec<_> = Action::ALL.iter().map(|a| a.as_str()).collect();
                    CliError::input(format!("unknown action `{a}`: one of {}", names.join(", ")))
                })
            })
            .transpose()?,
        ..EventFilter::default()
    };
    let out = out.filter(|p| !is_stdout(p));
    // Refuse an existing file before the store is opened.
    let file = out.map(OutputFile::create).transpose()?;
    let store = super::open(store)?;
    match (out, file) {
        (Some(path), Some(mut file)) => {
            let n = store.export_audit(&filter, &mut file);
            let n = match n {
                Ok(n) => n,
                Err(e) => return Err(file.take_failure().unwrap_or_else(|| e.into())),
            };
            file.finish()?;
            Ok(Some(Report::ok(
                format!("exported {n} event(s) to {}\n", path.display()),
                json!({ "exported": n, "out": path }),
            )))
        }
        _ => {
            // A reader that stops early (`| head`) is not an error; a full
            // disk or a file-size limit on a redirected stdout is.
            let mut out = Stdout::lock();
            let exported = store.export_audit(&filter, &mut out);
            let _ = out.flush();
            out.outcome()?;
            match exported {
                Err(_) if out.closed() => Ok(None),
                other => other.map(|_| None).map_err(Into::into),
            }
        }
    }
}
