//! `btp enroll`.

use std::path::Path;
use std::time::Duration;

use btp::store::{Context, Retention, Samples, Store};
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

/// Reads the whole input, then enrols it in one transaction
/// (`Store::enroll_batch`): every row (dimension, NaN, subject id rules, no
/// subject twice in the file) is checked before the first record is
/// written, and a failure while writing (a full disk) writes nothing, so a
/// rerun after fixing the input never duplicates records.
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
    if rows.dim != protector.dim() {
        return Err(CliError::input(format!(
            "{}: vectors of dimension {}, purpose `{purpose}` takes {}",
            input_path.display(),
            rows.dim,
            protector.dim()
        )));
    }
    let spinner = progress.spinner(&format!("enrolling {} record(s)", rows.rows()));
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let records = store
        .enroll_batch(
            purpose,
            &ids,
            Samples::Features(&rows.values),
            retention,
            &ctx,
        )
        .map_err(|e| match e {
            // A bad row: name it as the file does (line or row), nothing enrolled.
            btp::Error::Row { row, source } => CliError::from(*source).context(format!(
                "{} {} (nothing enrolled)",
                input_path.display(),
                rows.origin[row]
            )),
            e => CliError::from(e).context(format!("{} (nothing enrolled)", input_path.display())),
        })?;
    spinner.finish_and_clear();
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
