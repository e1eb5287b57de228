//! What a valid event is: the canonical text of each field, the checks on a
//! new event (`append`), and the one reader that builds an [`AuditEvent`]
//! from a stored event, whether a table row or an export line.

use serde_json::{Map, Value};

use super::{
    jcs, Action, AuditEvent, MAX_ARRAY_NUMBERS, MAX_DETAIL_DEPTH, MAX_DETAIL_INTEGER,
    MAX_DETAIL_LEN, MAX_DETAIL_NUMBERS, MAX_DETAIL_STRING, MAX_TEXT_LEN,
};
use crate::error::{Error, Result};

// ---------------------------------------------------------------------------
// Canonical text of the fields
// ---------------------------------------------------------------------------

/// Lowercase hex, as subject hashes and MACs are written.
pub(super) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(2 * bytes.len());
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// 64 lowercase hex digits to 32 bytes; anything else is `None`.
pub(super) fn unhex32(s: &str) -> Option<[u8; 32]> {
    fn digit(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    let s = s.as_bytes();
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in s.chunks_exact(2).enumerate() {
        out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

/// The canonical text of `records`: `[3,17]`.
pub(super) fn records_text(records: &[i64]) -> String {
    let mut s = String::with_capacity(2 + 8 * records.len());
    s.push('[');
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&r.to_string());
    }
    s.push(']');
    s
}

/// The canonical text of `subjects`: `["<64 hex digits>",...]`.
pub(super) fn subjects_text(subjects: &[[u8; 32]]) -> String {
    let mut s = String::with_capacity(2 + 67 * subjects.len());
    s.push('[');
    for (i, h) in subjects.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push('"');
        s.push_str(&hex(h));
        s.push('"');
    }
    s.push(']');
    s
}

/// The canonical (RFC 8785) text of a detail object: what the MAC covers
/// and what the table and the export hold.
pub(super) fn detail_text(detail: &Map<String, Value>) -> std::result::Result<String, jcs::Why> {
    jcs::canonical_object(detail)
}

/// An audit text field (`actor`, `reason`, ...): non-empty, at most
/// [`MAX_TEXT_LEN`] bytes.
pub(crate) fn check_text(name: &'static str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::param(name, "must not be empty"));
    }
    if value.len() > MAX_TEXT_LEN {
        return Err(Error::param(
            name,
            format!("is {} bytes; at most {MAX_TEXT_LEN}", value.len()),
        ));
    }
    Ok(())
}

/// The feature-data guard; returns the canonical text.
pub(super) fn check_detail(detail: &Map<String, Value>) -> Result<String> {
    fn walk(value: &Value, depth: usize, numbers: &mut usize) -> Result<()> {
        if depth > MAX_DETAIL_DEPTH {
            return Err(Error::param(
                "detail",
                format!("nested deeper than {MAX_DETAIL_DEPTH} levels"),
            ));
        }
        match value {
            Value::Number(n) => {
                *numbers += 1;
                let magnitude = n.as_u64().or_else(|| n.as_i64().map(i64::unsigned_abs));
                if magnitude.is_some_and(|m| m > MAX_DETAIL_INTEGER) {
                    return Err(Error::param(
                        "detail",
                        "an integer beyond ±2^53, which a JSON number cannot hold exactly",
                    ));
                }
            }
            Value::String(s) => check_string(s)?,
            Value::Array(items) => {
                let in_array = items.iter().filter(|v| v.is_number()).count();
                if in_array > MAX_ARRAY_NUMBERS {
                    return Err(Error::param(
                        "detail",
                        format!(
                            "an array of {in_array} numbers (at most {MAX_ARRAY_NUMBERS}): \
                             feature vectors must never be logged"
                        ),
                    ));
                }
                for item in items {
                    walk(item, depth + 1, numbers)?;
                }
            }
            Value::Object(map) => {
                for (name, item) in map {
                    check_string(name)?;
                    walk(item, depth + 1, numbers)?;
                }
            }
            Value::Null | Value::Bool(_) => {}
        }
        Ok(())
    }
    fn check_string(s: &str) -> Result<()> {
        if s.len() > MAX_DETAIL_STRING {
            return Err(Error::param(
                "detail",
                format!(
                    "a string of {} bytes (at most {MAX_DETAIL_STRING}): free text belongs in \
                     `reason`, and encoded feature data or templates must never be logged",
                    s.len()
                ),
            ));
        }
        Ok(())
    }
    let mut numbers = 0;
    for (name, value) in detail {
        check_string(name)?;
        walk(value, 1, &mut numbers)?;
    }
    if numbers > MAX_DETAIL_NUMBERS {
        return Err(Error::param(
            "detail",
            format!(
                "{numbers} numbers (at most {MAX_DETAIL_NUMBERS}): feature vectors must never \
                 be logged"
            ),
        ));
    }
    let text = detail_text(detail).map_err(|why| Error::param("detail", why))?;
    if text.len() > MAX_DETAIL_LEN {
        return Err(Error::param(
            "detail",
            format!(
                "{} bytes of canonical JSON; at most {MAX_DETAIL_LEN}",
                text.len()
            ),
        ));
    }
    Ok(text)
}

// ---------------------------------------------------------------------------
// The one reader of stored events
// ---------------------------------------------------------------------------

/// A field of a stored event: a column of the table, a member of an export
/// line, in that order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Field {
    Seq,
    Time,
    Actor,
    Action,
    Purpose,
    Reason,
    Records,
    Subjects,
    Outcome,
    Detail,
    Mac,
}

impl Field {
    /// Every field, in column and line order.
    pub(super) const ALL: [Field; 11] = [
        Field::Seq,
        Field::Time,
        Field::Actor,
        Field::Action,
        Field::Purpose,
        Field::Reason,
        Field::Records,
        Field::Subjects,
        Field::Outcome,
        Field::Detail,
        Field::Mac,
    ];

    /// The column and member name.
    pub(super) fn name(self) -> &'static str {
        match self {
            Field::Seq => "seq",
            Field::Time => "time",
            Field::Actor => "actor",
            Field::Action => "action",
            Field::Purpose => "purpose",
            Field::Reason => "reason",
            Field::Records => "records",
            Field::Subjects => "subjects",
            Field::Outcome => "outcome",
            Field::Detail => "detail",
            Field::Mac => "mac",
        }
    }
}

/// What is wrong with the content of a field. (A wrong type is the
/// source's own business: SQL types and JSON types differ.)
#[derive(Clone, Copy, Debug)]
pub(super) enum Fault {
    /// `action` names no action.
    UnknownAction,
    /// `records` or `subjects` is not an array, `detail` not an object.
    Shape,
    /// An element of `records` is not an integer, or of `subjects` not 64
    /// lowercase hex digits.
    Element,
    /// `detail` has no canonical (RFC 8785) text.
    NoCanonicalForm(jcs::Why),
    /// The source spells the field otherwise than its canonical text.
    NotCanonical,
}

/// Where a stored event is read from: a table row or an export line. A
/// source types each field its own way and words its own errors;
/// [`read_event`] decides, once for every source, what the fields mean.
pub(super) trait EventSource {
    /// `seq`, a positive integer.
    fn seq(&mut self) -> Result<u64>;
    /// `time`, an integer.
    fn time(&mut self) -> Result<i64>;
    /// A text field: `actor`, `action`, `reason` or `outcome`.
    fn text(&mut self, field: Field) -> Result<String>;
    /// `purpose`: a text or none.
    fn purpose(&mut self) -> Result<Option<String>>;
    /// A JSON field: `records`, `subjects` or `detail` (what is not JSON at
    /// all is a [`Fault::Shape`]).
    fn json(&mut self, field: Field) -> Result<Value>;
    /// Checks that the source spelled the JSON field it last returned as its
    /// canonical text (`Err` = the field has none). A source whose spelling
    /// is checked as a whole later accepts.
    fn spelled(
        &mut self,
        field: Field,
        canonical: std::result::Result<&str, jcs::Why>,
    ) -> Result<()>;
    /// `mac`, 32 bytes.
    fn mac(&mut self) -> Result<[u8; 32]>;
    /// The error for `field` having `fault`.
    fn fault(&self, field: Field, fault: Fault) -> Error;
}

/// Reads one stored event from `source`, field by field in order, and
/// checks it: `action` is a known action, `records` an array of integers,
/// `subjects` an array of 64 lowercase hex digits, `detail` an object with
/// a canonical text, each JSON field spelled canonically (where the source
/// keeps its spelling). The first problem found is the error. Returns the
/// event and the canonical text of its detail (what the MAC covers).
///
/// Lengths are not checked here: `append` refuses over-long and empty text,
/// and a stored event that breaks those rules is caught by its MAC.
pub(super) fn read_event(src: &mut impl EventSource) -> Result<(AuditEvent, String)> {
    let seq = src.seq()?;
    let time = src.time()?;
    let actor = src.text(Field::Actor)?;
    let action = Action::parse(&src.text(Field::Action)?)
        .ok_or_else(|| src.fault(Field::Action, Fault::UnknownAction))?;
    let purpose = src.purpose()?;
    let reason = src.text(Field::Reason)?;

    let records = match src.json(Field::Records)? {
        Value::Array(items) => items
            .iter()
            .map(Value::as_i64)
            .collect::<Option<Vec<i64>>>()
            .ok_or_else(|| src.fault(Field::Records, Fault::Element))?,
        _ => return Err(src.fault(Field::Records, Fault::Shape)),
    };
    src.spelled(Field::Records, Ok(&records_text(&records)))?;

    let subjects = match src.json(Field::Subjects)? {
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().and_then(unhex32))
            .collect::<Option<Vec<[u8; 32]>>>()
            .ok_or_else(|| src.fault(Field::Subjects, Fault::Element))?,
        _ => return Err(src.fault(Field::Subjects, Fault::Shape)),
    };
    src.spelled(Field::Subjects, Ok(&subjects_text(&subjects)))?;

    let outcome = src.text(Field::Outcome)?;

    let detail = match src.json(Field::Detail)? {
        Value::Object(map) => map,
        _ => return Err(src.fault(Field::Detail, Fault::Shape)),
    };
    let canonical = detail_text(&detail);
    src.spelled(Field::Detail, canonical.as_deref().map_err(|why| *why))?;

    let mac = src.mac()?;
    let canonical =
        canonical.map_err(|why| src.fault(Field::Detail, Fault::NoCanonicalForm(why)))?;

    let event = AuditEvent {
        seq,
        time,
        actor,
        action,
        purpose,
        reason,
        records,
        subjects,
        outcome,
        detail,
        mac,
    };
    Ok((event, canonical))
}
