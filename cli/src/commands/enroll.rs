//! `btp enroll`.

use std::path::Path;
use std::time::Duration;

use btp::store::{Context, Retention, Sample, Store};
use serde_json::json;

use crate::args::{RetentionArgs, StoreArgs, Who};
use crate::error::{CliError, Result};
use crate::input;
use crate::output::Report;
use crate::progress::Progress;
use crate::time::{format_time, parse_duration, parse_instant};

/// The retention asked for.
pub fn retention(args: &RetentionArgs) -> Result<Retention> {
    Ok(match (&args.retention, &args.until) {
        (Some(d), _) => Retention::For(Duration::from_secs(parse_duration(d)?)),
        (None, Some(u)) => Retention::Until(parse_instant(u)?.secs),
        (None, None) => Retention::Maximum,
    })
}

/// Validates every row, then enrols them one by one.
#[allow(clippy::too_many_arguments)]
pub fn run(
    store: &StoreArgs,
    who: &Who,
    purpose: &str,
    input_path: &Path,
    subjects: Option<&Path>,
    subject: Option<&str>,
    retention_args: &RetentionArgs,
    progress: Progress,
) -> Result<Report> {
    let retention = retention(retention_args)?;
    let (rows, ids) = input::read_enrolment(input_path, subjects, subject)?;
    let store: Store = super::open(store)?;
    let ctx = Context::new(&who.actor, &who.reason);
    let protector = store.protector(purpose)?;
    // The whole file is checked before the first record is written.
    if rows.dim != protector.dim() {
        return Err(CliError::input(format!(
            "{}: vectors of dimension {}, purpose `{purpose}` takes {}",
            input_path.display(),
            rows.dim,
            protector.dim()
        )));
    }
    for i in 0..rows.rows() {
        btp::features::validate(rows.row(i), rows.dim).map_err(|e| {
            CliError::from(e).context(format!("{} {}", input_path.display(), rows.origin[i]))
        })?;
    }
    let bar = progress.bar(rows.rows() as u64, "enrolling");
    let mut records = Vec::with_capacity(rows.rows());
    for (i, id) in ids.iter().enumerate() {
        let id = store
            .enroll(purpose, id, Sample::Features(rows.row(i)), retention, &ctx)
            .map_err(|e| {
                let done = records.len();
                CliError::from(e).context(format!(
                    "{} {} ({done} earlier row(s) enrolled)",
                    input_path.display(),
                    rows.origin[i]
                ))
            })?;
        records.push(id);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let first = records.first().copied().unwrap_or_default();
    let last = records.last().copied().unwrap_or_default();
    let until = retention_text(&store, purpose, retention)?;
    Ok(Report::ok(
        format!(
            "enrolled {} record(s) for purpose `{purpose}` (records {first}..={last}), kept {until}\n",
            records.len()
        ),
        json!({ "purpose": purpose, "enrolled": records.len(), "records": records }),
    ))
}

fn retention_text(store: &Store, purpose: &str, r: Retention) -> Result<String> {
    Ok(match r {
        Retention::Maximum => {
            let p = store
                .purposes()
                .find(|p| p.name == purpose)
                .ok_or_else(|| btp::Error::UnknownPurpose(purpose.into()))?;
            format!(
                "for the purpose's maximum ({})",
                crate::time::format_duration(p.max_retention.as_secs())
            )
        }
        Retention::For(d) => format!("for {}", crate::time::format_duration(d.as_secs())),
        Retention::Until(t) => format!("until {}", format_time(t)),
    })
}
