//! The audit log's types between Python and the core: events and heads
//! out, event filters and heads in.

use btp::store::{AuditEvent, AuditHead, EventFilter};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};
use serde_json::Value;

use crate::args::{count, id_arg, int_in, Text};
use crate::errors::param;
use crate::pytypes::{datetime, field, timestamp};
use crate::results;

fn json_to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => s.into_pyobject(py)?.into_any(),
        Value::Array(a) => {
            let items = a
                .iter()
                .map(|x| json_to_py(py, x))
                .collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, items)?.into_any()
        }
        Value::Object(o) => {
            let d = PyDict::new(py);
            for (k, x) in o {
                d.set_item(k, json_to_py(py, x)?)?;
            }
            d.into_any()
        }
    })
}

/// An `AuditHead`.
pub fn head<'py>(py: Python<'py>, h: &AuditHead) -> PyResult<Bound<'py, PyAny>> {
    results::AuditHead::make(py, h.seq, PyBytes::new(py, &h.mac))
}

/// An `AuditEvent`.
pub fn event<'py>(py: Python<'py>, e: &AuditEvent) -> PyResult<Bound<'py, PyAny>> {
    let subjects = e
        .subjects
        .iter()
        .map(|s| PyBytes::new(py, s))
        .collect::<Vec<_>>();
    let detail = PyDict::new(py);
    for (k, v) in &e.detail {
        detail.set_item(k, json_to_py(py, v)?)?;
    }
    results::AuditEvent::make(
        py,
        e.seq,
        datetime(py, e.time)?,
        &e.actor,
        e.action.as_str(),
        &e.purpose,
        &e.reason,
        &e.records,
        subjects,
        &e.outcome,
        detail,
        PyBytes::new(py, &e.mac),
    )
}

/// The events an `audit_events` (or `export_audit`) call asks for: every
/// argument optional, `None` as if not given.
#[allow(clippy::too_many_arguments)]
pub fn filter(
    start: Option<&Bound<'_, PyAny>>,
    end: Option<&Bound<'_, PyAny>>,
    purpose: Option<Text>,
    action: Option<Text>,
    after_seq: Option<&Bound<'_, PyAny>>,
    limit: Option<&Bound<'_, PyAny>>,
    record: Option<&Bound<'_, PyAny>>,
    subject_hash: Option<&[u8]>,
) -> PyResult<EventFilter> {
    fn given<'a, 'py>(o: Option<&'a Bound<'py, PyAny>>) -> Option<&'a Bound<'py, PyAny>> {
        o.filter(|v| !v.is_none())
    }
    let action = action
        .map(|a| {
            btp::store::Action::parse(&a)
                .ok_or_else(|| param("action", format!("unknown audit action {:?}", &*a)))
        })
        .transpose()?;
    let subject = subject_hash
        .map(|s| <[u8; 32]>::try_from(s).map_err(|_| param("subject_hash", "must be 32 bytes")))
        .transpose()?;
    Ok(EventFilter {
        from: given(start).map(|t| timestamp(t, "start")).transpose()?,
        to: given(end).map(|t| timestamp(t, "end")).transpose()?,
        purpose: purpose.map(Text::into_string),
        action,
        after_seq: given(after_seq)
            .map(|v| int_in::<u64>(v, "after_seq", 0, i128::from(i64::MAX)))
            .transpose()?,
        limit: given(limit).map(|v| count(v, "limit", 0)).transpose()?,
        record: given(record).map(|v| id_arg(v, "record")).transpose()?,
        subject,
    })
}

/// An `AuditHead` argument (or any object with its `seq` and `mac`).
pub fn head_arg(head: &Bound<'_, PyAny>) -> PyResult<AuditHead> {
    let seq: u64 = int_in(
        &field(head, "seq", "AuditHead")?,
        "head.seq",
        1,
        i128::from(i64::MAX),
    )?;
    let mac = field(head, "mac", "AuditHead")?;
    let mac: [u8; 32] = mac
        .cast::<PyBytes>()
        .map_err(|_| PyTypeError::new_err("an audit head's MAC is bytes"))?
        .as_bytes()
        .try_into()
        .map_err(|_| param("head", "the MAC is 32 bytes"))?;
    Ok(AuditHead { seq, mac })
}
