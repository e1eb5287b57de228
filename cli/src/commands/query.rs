//! `btp verify`, `btp identify`, `btp review`.

use std::path::Path;

use btp::store::{Context, ReviewOutcome, Sample};
use serde_json::json;

use crate::args::{StoreArgs, Who, WhoDefault};
use crate::error::{CliError, Result};
use crate::input;
use crate::output::Report;

/// 1:1 verification; a no-match is exit 1.
pub fn verify(
    store: &StoreArgs,
    who: &Who,
    purpose: &str,
    subject: &str,
    input_path: &Path,
) -> Result<Report> {
    let subject = input::subject_id(subject)?;
    let probe = input::read_probe(input_path)?;
    let store = super::open(store)?;
    let ctx = Context::new(&who.actor, &who.reason);
    let v = store.verify(purpose, &subject, Sample::Features(&probe), &ctx)?;
    let d = v.decision;
    Ok(Report::ok(
        format!(
            "{}: score {:.4} {} threshold {} (record {}, audit event {})\n",
            if d.matched { "match" } else { "no match" },
            d.score,
            if d.matched { ">=" } else { "<" },
            d.threshold,
            v.record,
            v.event
        ),
        json!({
            "match": d.matched,
            "score": d.score,
            "threshold": d.threshold,
            "record": v.record,
            "event": v.event,
        }),
    )
    .negative_if(!d.matched))
}

/// 1:N identification: a candidate list; none is exit 1.
pub fn identify(
    store: &StoreArgs,
    who: &Who,
    purpose: &str,
    input_path: &Path,
    k: usize,
    threshold: Option<f64>,
) -> Result<Report> {
    let probe = input::read_probe(input_path)?;
    let store = super::open(store)?;
    let ctx = Context::new(&who.actor, &who.reason);
    let id = store.identify(purpose, Sample::Features(&probe), k, threshold, &ctx)?;
    let mut human = format!(
        "{} candidate(s) at threshold {} (identification event {}; record a human review with \
         `btp review --event {}`)\n",
        id.candidates.len(),
        id.threshold,
        id.event,
        id.event
    );
    if !id.candidates.is_empty() {
        human.push_str(&format!(
            "{:>4}  {:>8}  {:>8}  subject\n",
            "rank", "score", "record"
        ));
    }
    for (i, c) in id.candidates.iter().enumerate() {
        human.push_str(&format!(
            "{:>4}  {:>8.4}  {:>8}  {}\n",
            i + 1,
            c.score,
            c.record,
            c.subject
        ));
    }
    let candidates: Vec<_> = id
        .candidates
        .iter()
        .enumerate()
        .map(|(i, c)| json!({"rank": i + 1, "subject": c.subject, "record": c.record, "score": c.score}))
        .collect();
    Ok(Report::ok(
        human,
        json!({ "event": id.event, "threshold": id.threshold, "candidates": candidates }),
    )
    .negative_if(id.candidates.is_empty()))
}

/// Parses `confirmed:RECORD`, `rejected` or `inconclusive`.
pub fn parse_outcome(text: &str) -> Result<ReviewOutcome> {
    match text {
        "rejected" => Ok(ReviewOutcome::Rejected),
        "inconclusive" => Ok(ReviewOutcome::Inconclusive),
        t => t
            .strip_prefix("confirmed:")
            .and_then(|r| r.parse().ok())
            .map(ReviewOutcome::Confirmed)
            .ok_or_else(|| {
                CliError::input(format!(
                    "invalid outcome `{t}`: use confirmed:RECORD, rejected or inconclusive"
                ))
            }),
    }
}

/// Records a human review of an identification event.
pub fn review(
    store: &StoreArgs,
    who: &WhoDefault,
    event: u64,
    outcome: &str,
    reviewer: &str,
) -> Result<Report> {
    let outcome = parse_outcome(outcome)?;
    let store = super::open(store)?;
    let default_reason = format!("human review of identification {event}");
    let ctx = Context::new(&who.actor, who.reason.as_deref().unwrap_or(&default_reason));
    let seq = store.review(event, reviewer, outcome, &ctx)?;
    let (text, record) = match outcome {
        ReviewOutcome::Confirmed(r) => (format!("confirmed record {r}"), Some(r)),
        ReviewOutcome::Rejected => ("rejected".to_owned(), None),
        ReviewOutcome::Inconclusive => ("inconclusive".to_owned(), None),
    };
    Ok(Report::ok(
        format!("review of identification {event} recorded: {text} (audit event {seq})\n"),
        json!({
            "identification": event,
            "outcome": match outcome {
                ReviewOutcome::Confirmed(_) => "confirmed",
                ReviewOutcome::Rejected => "rejected",
                ReviewOutcome::Inconclusive => "inconclusive",
            },
            "record": record,
            "event": seq,
        }),
    ))
}
