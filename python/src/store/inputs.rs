//! The arguments of `btp.Store` calls as the core's types: samples
//! (features or a `Template`), retention, store options, a review's event
//! and outcome, a hold's target.

use std::time::Duration;

use btp::store::{HoldTarget, Retention, ReviewOutcome, Sample, StoreOptions, NONCE_LIMIT};
use btp::ProtectedTemplate;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::args::{count_or, id_arg, int_in, opt_float_arg};
use crate::arrays;
use crate::errors::param;
use crate::pytypes::{duration, timestamp};
use crate::template::PyTemplate;

/// A sample: a `Template` or a feature vector (borrowed from numpy).
pub enum SampleArg<'py> {
    Template(ProtectedTemplate),
    Features(arrays::Input<'py, f32>),
}

impl SampleArg<'_> {
    pub fn sample(&self) -> Sample<'_> {
        match self {
            SampleArg::Template(t) => Sample::Template(t),
            SampleArg::Features(f) => Sample::Features(f.as_slice()),
        }
    }
}

/// `x` of an enrolment or a lookup: a `Template` or one feature vector.
pub fn sample<'py>(x: &Bound<'py, PyAny>) -> PyResult<SampleArg<'py>> {
    if let Ok(t) = x.cast::<PyTemplate>() {
        return Ok(SampleArg::Template(t.get().t.clone()));
    }
    Ok(SampleArg::Features(arrays::features(x, "x", &[1])?))
}

/// The templates of `x` when it is a list of `Template` (judged by its
/// first item), or `None` (then `x` is a feature matrix).
pub fn template_list(x: &Bound<'_, PyAny>) -> PyResult<Option<Vec<ProtectedTemplate>>> {
    let Some(list) = x.cast::<PyList>().ok().filter(|l| {
        l.iter()
            .next()
            .is_some_and(|t| t.cast::<PyTemplate>().is_ok())
    }) else {
        return Ok(None);
    };
    list.iter()
        .map(|t| {
            t.cast::<PyTemplate>()
                .map(|t| t.get().t.clone())
                .map_err(|_| PyTypeError::new_err("a list of templates holds something else"))
        })
        .collect::<PyResult<Vec<_>>>()
        .map(Some)
}

/// `retention` (a `timedelta` or seconds) or `expires_at` (an aware
/// `datetime` or Unix seconds), not both; neither is the purpose's maximum.
pub fn retention(
    retention: Option<&Bound<'_, PyAny>>,
    expires_at: Option<&Bound<'_, PyAny>>,
) -> PyResult<Retention> {
    match (retention, expires_at) {
        (None, None) => Ok(Retention::Maximum),
        (Some(r), None) => {
            let secs = duration(r, "retention")?;
            let secs = u64::try_from(secs).map_err(|_| param("retention", "must be positive"))?;
            Ok(Retention::For(Duration::from_secs(secs)))
        }
        (None, Some(t)) => Ok(Retention::Until(timestamp(t, "expires_at")?)),
        (Some(_), Some(_)) => Err(param(
            "retention",
            "give either retention or expires_at, not both",
        )),
    }
}

/// Store options from the arguments of `Store.create` / `Store.open`.
pub fn options(
    busy_timeout: Option<&Bound<'_, PyAny>>,
    batch_size: Option<&Bound<'_, PyAny>>,
    max_encryptions_per_key: Option<&Bound<'_, PyAny>>,
) -> PyResult<StoreOptions> {
    let defaults = StoreOptions::default();
    let busy_timeout = match opt_float_arg(busy_timeout, "busy_timeout")? {
        Some(secs) => Duration::try_from_secs_f64(secs)
            .map_err(|_| param("busy_timeout", "must be a number of seconds >= 0"))?,
        None => defaults.busy_timeout,
    };
    Ok(StoreOptions {
        busy_timeout,
        batch_size: count_or(batch_size, "batch_size", 1, defaults.batch_size)?,
        max_encryptions_per_key: match max_encryptions_per_key {
            Some(m) if !m.is_none() => {
                int_in(m, "max_encryptions_per_key", 1, i128::from(NONCE_LIMIT))?
            }
            _ => NONCE_LIMIT,
        },
        clock: None,
    })
}

/// An optional record id (`None` as if not given).
pub fn opt_record(record: Option<&Bound<'_, PyAny>>) -> PyResult<Option<i64>> {
    record
        .filter(|r| !r.is_none())
        .map(|r| id_arg(r, "record"))
        .transpose()
}

/// The event number of the identification reviewed: an event number, or
/// an `Identification` (its `event`).
pub fn review_event(identification: &Bound<'_, PyAny>) -> PyResult<u64> {
    let event = if identification.is_instance_of::<pyo3::types::PyInt>() {
        identification.clone()
    } else {
        identification.getattr("event").map_err(|_| {
            PyTypeError::new_err("identification is an event number or an Identification")
        })?
    };
    int_in(&event, "identification", 1, i128::from(i64::MAX))
}

/// A review's `outcome`, with the `record` a confirmation names.
pub fn review_outcome(outcome: &str, record: Option<i64>) -> PyResult<ReviewOutcome> {
    match (outcome, record) {
        ("confirmed", Some(r)) => Ok(ReviewOutcome::Confirmed(r)),
        ("confirmed", None) => Err(param("record", "a confirmation names the record confirmed")),
        ("rejected", None) => Ok(ReviewOutcome::Rejected),
        ("inconclusive", None) => Ok(ReviewOutcome::Inconclusive),
        ("rejected" | "inconclusive", Some(_)) => {
            Err(param("record", "only a confirmation names a record"))
        }
        _ => Err(param(
            "outcome",
            "must be \"confirmed\", \"rejected\" or \"inconclusive\"",
        )),
    }
}

/// What a hold covers: exactly one of a subject and a record.
pub fn hold_target(subject: Option<&str>, record: Option<i64>) -> PyResult<HoldTarget<'_>> {
    match (subject, record) {
        (Some(s), None) => Ok(HoldTarget::Subject(s)),
        (None, Some(r)) => Ok(HoldTarget::Record(r)),
        _ => Err(param("subject", "give exactly one of subject and record")),
    }
}
