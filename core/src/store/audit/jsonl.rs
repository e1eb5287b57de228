//! The JSON-lines export: the one line of an event, the export of the
//! table, and the strict parser of a line (its members typed here, checked
//! by [`read_event`]).

use rusqlite::Connection;
use serde_json::{Map, Value};

use super::event::{
    detail_text, hex, read_event, records_text, subjects_text, unhex32, EventSource, Fault, Field,
};
use super::table::for_each_event;
use super::{broken, jcs, AuditEvent, EventFilter};
use crate::error::{Error, Result};

/// The one export line of an event (without the newline).
pub(super) fn jsonl_line(event: &AuditEvent) -> std::result::Result<String, jcs::Why> {
    Ok(line_with_detail(event, &detail_text(&event.detail)?))
}

/// [`jsonl_line`] with the canonical text of `event.detail` at hand.
fn line_with_detail(event: &AuditEvent, detail: &str) -> String {
    let mut s = String::with_capacity(256 + detail.len());
    s.push_str("{\"seq\":");
    s.push_str(&event.seq.to_string());
    s.push_str(",\"time\":");
    s.push_str(&event.time.to_string());
    s.push_str(",\"actor\":");
    jcs::write_string(&event.actor, &mut s);
    s.push_str(",\"action\":");
    jcs::write_string(event.action.as_str(), &mut s);
    s.push_str(",\"purpose\":");
    match &event.purpose {
        None => s.push_str("null"),
        Some(p) => jcs::write_string(p, &mut s),
    }
    s.push_str(",\"reason\":");
    jcs::write_string(&event.reason, &mut s);
    s.push_str(",\"records\":");
    s.push_str(&records_text(&event.records));
    s.push_str(",\"subjects\":");
    s.push_str(&subjects_text(&event.subjects));
    s.push_str(",\"outcome\":");
    jcs::write_string(&event.outcome, &mut s);
    s.push_str(",\"detail\":");
    s.push_str(detail);
    s.push_str(",\"mac\":\"");
    s.push_str(&hex(&event.mac));
    s.push_str("\"}");
    s
}

/// Writes the events matching `filter` as JSON lines (see [`parse_jsonl_line`]
/// for the format), in `seq` order; returns the number of lines.
pub(crate) fn export_jsonl(
    conn: &Connection,
    filter: &EventFilter,
    out: &mut dyn std::io::Write,
) -> Result<u64> {
    let mut lines = 0u64;
    for_each_event(conn, filter, |event| {
        let line = jsonl_line(&event)
            .map_err(|why| broken(event.seq, format!("detail has no canonical form: {why}")))?;
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
        lines += 1;
        Ok(())
    })?;
    out.flush()?;
    Ok(lines)
}

/// Parses one exported line (an optional trailing `\n` or `\r\n` allowed).
///
/// The line must be exactly what `export_jsonl` writes: an object with the
/// fields of [`AuditEvent`] in order, `action` as its name, `subjects` and
/// `mac` as lowercase hex, `detail` in RFC 8785 form, no whitespace. Anything
/// else, including another spelling of the same data or a duplicated key,
/// is an [`Error::InvalidParameter`] naming the problem (never the content).
/// Does not check the MAC: see [`verify_events`](super::verify_events).
pub fn parse_jsonl_line(line: &str) -> Result<AuditEvent> {
    let body = match line.strip_suffix('\n') {
        Some(l) => l.strip_suffix('\r').unwrap_or(l),
        None => line,
    };
    let value: Value =
        serde_json::from_str(body).map_err(|e| bad(format!("not valid JSON: {e}")))?;
    let Value::Object(obj) = value else {
        return Err(bad("not a JSON object".into()));
    };
    if obj
        .keys()
        .any(|k| !Field::ALL.iter().any(|f| f.name() == k.as_str()))
    {
        return Err(bad("has an unknown field".into()));
    }
    let (event, detail) = read_event(&mut LineSource { obj })?;
    if line_with_detail(&event, &detail) != body {
        return Err(bad(NOT_CANONICAL.into()));
    }
    Ok(event)
}

const NOT_CANONICAL: &str = "is not in the canonical export form (field order, spacing, escapes, \
                             number format or a duplicated key differ)";

fn bad(reason: String) -> Error {
    Error::param("line", reason)
}

fn wrong(field: Field, what: &str) -> Error {
    bad(format!("field `{}` is not {what}", field.name()))
}

/// The members of a line as an [`EventSource`]; its errors are
/// [`Error::InvalidParameter`] naming the problem, never the content.
struct LineSource {
    obj: Map<String, Value>,
}

impl LineSource {
    fn take(&mut self, field: Field) -> Result<Value> {
        self.obj
            .remove(field.name())
            .ok_or_else(|| bad(format!("missing field `{}`", field.name())))
    }
}

impl EventSource for LineSource {
    fn seq(&mut self) -> Result<u64> {
        self.take(Field::Seq)?
            .as_u64()
            .filter(|s| *s > 0)
            .ok_or_else(|| wrong(Field::Seq, "a positive integer"))
    }

    fn time(&mut self) -> Result<i64> {
        let time = self.take(Field::Time)?;
        time.as_i64()
            .filter(|_| !time.is_f64())
            .ok_or_else(|| wrong(Field::Time, "an integer"))
    }

    fn text(&mut self, field: Field) -> Result<String> {
        match self.take(field)? {
            Value::String(s) => Ok(s),
            _ => Err(wrong(field, "a string")),
        }
    }

    fn purpose(&mut self) -> Result<Option<String>> {
        match self.take(Field::Purpose)? {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s)),
            _ => Err(wrong(Field::Purpose, "a string or null")),
        }
    }

    fn json(&mut self, field: Field) -> Result<Value> {
        self.take(field)
    }

    /// The spelling of the whole line is compared with the canonical line
    /// once the event is read.
    fn spelled(&mut self, _: Field, _: std::result::Result<&str, jcs::Why>) -> Result<()> {
        Ok(())
    }

    fn mac(&mut self) -> Result<[u8; 32]> {
        self.take(Field::Mac)?
            .as_str()
            .and_then(unhex32)
            .ok_or_else(|| wrong(Field::Mac, "64 lowercase hex digits"))
    }

    fn fault(&self, field: Field, fault: Fault) -> Error {
        match (field, fault) {
            (_, Fault::UnknownAction) => wrong(field, "a known action"),
            (Field::Records, Fault::Shape | Fault::Element) => wrong(field, "an array of integers"),
            (Field::Detail, Fault::Shape) => wrong(field, "an object"),
            (_, Fault::Shape) => wrong(field, "an array"),
            (_, Fault::Element) => wrong(field, "64 lowercase hex digits"),
            (_, Fault::NoCanonicalForm(why)) => {
                bad(format!("{} has no canonical form: {why}", field.name()))
            }
            (_, Fault::NotCanonical) => bad(NOT_CANONICAL.into()),
        }
    }
}
