//! The core's store reports as the package's typed results
//! ([`crate::results`]): maps by purpose become dicts, times aware
//! `datetime`s.

use std::collections::BTreeMap;

use btp::store::{
    AuditReport, ErasureReport, Identification, Rotation, StoreStats, SweepReport, Verification,
};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::audit;
use crate::protector::decision;
use crate::pytypes::datetime;
use crate::results;

type Obj<'py> = PyResult<Bound<'py, PyAny>>;

/// `{purpose: value}`.
pub fn by_purpose<'py, V: IntoPyObject<'py> + Clone>(
    py: Python<'py>,
    map: &BTreeMap<String, V>,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (k, v) in map {
        d.set_item(k, v.clone())?;
    }
    Ok(d)
}

/// `Verification(decision, record, event)`.
pub fn verification(py: Python<'_>, v: Verification) -> Obj<'_> {
    results::Verification::make(py, decision(py, v.decision)?, v.record, v.event)
}

/// `Identification(candidates, threshold, event)`.
pub fn identification(py: Python<'_>, id: Identification) -> Obj<'_> {
    let candidates = id
        .candidates
        .iter()
        .map(|c| results::StoreCandidate::make(py, &c.subject, c.record, c.score))
        .collect::<PyResult<Vec<_>>>()?;
    results::Identification::make(py, candidates, id.threshold, id.event)
}

/// `ErasureReport(erased, event, checkpointed)`.
pub fn erasure(py: Python<'_>, r: ErasureReport) -> Obj<'_> {
    results::ErasureReport::make(py, by_purpose(py, &r.erased)?, r.event, r.checkpointed)
}

/// `SweepReport(now, deleted, held, event, checkpointed)`.
pub fn sweep(py: Python<'_>, r: SweepReport) -> Obj<'_> {
    results::SweepReport::make(
        py,
        datetime(py, r.now)?,
        by_purpose(py, &r.deleted)?,
        r.held,
        r.event,
        r.checkpointed,
    )
}

/// `Rotation(purpose, old_version, new_version, reencrypted)`.
pub fn rotation(py: Python<'_>, r: Rotation) -> Obj<'_> {
    results::Rotation::make(py, r.purpose, r.from, r.to, r.reencrypted)
}

/// `StoreStats(activity, live)`, one `PurposeActivity` per purpose.
pub fn stats(py: Python<'_>, s: StoreStats) -> Obj<'_> {
    let activity = s
        .activity
        .iter()
        .map(|a| {
            let counts = PyDict::new(py);
            for (k, v) in &a.counts {
                counts.set_item(*k, *v)?;
            }
            results::PurposeActivity::make(
                py,
                &a.purpose,
                counts,
                a.swept_records,
                a.erased_records,
            )
        })
        .collect::<PyResult<Vec<_>>>()?;
    results::StoreStats::make(py, activity, by_purpose(py, &s.live)?)
}

/// `AuditReport(events, first_seq, head, pruned_through)`.
pub fn audit_report(py: Python<'_>, r: AuditReport) -> Obj<'_> {
    let head = r.head.as_ref().map(|h| audit::head(py, h)).transpose()?;
    results::AuditReport::make(py, r.events, r.first_seq, head, r.pruned_through)
}
