//! The audit tables in SQLite: schema, append, reads by filter, statistics,
//! and the decoding of a row (its columns typed here, checked by
//! [`read_event`]).

use std::collections::BTreeMap;

use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row, Transaction};
use serde_json::Value;

use super::event::{
    check_detail, check_text, hex, read_event, records_text, subjects_text, EventSource, Fault,
    Field,
};
use super::mac::Fields;
use super::{
    broken, jcs, Action, AuditEvent, AuditHead, EventFilter, NewEvent, PurposeActivity, GENESIS,
};
use crate::error::{Error, Result};
use crate::keys::DerivedKey;

/// The audit tables, indexes and append-only triggers. Idempotent; run
/// inside the store's schema-creation transaction.
pub(crate) const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS audit (
    seq      INTEGER PRIMARY KEY CHECK (seq > 0),
    time     INTEGER NOT NULL,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    purpose  TEXT,
    reason   TEXT NOT NULL,
    records  TEXT NOT NULL,
    subjects TEXT NOT NULL,
    outcome  TEXT NOT NULL,
    detail   TEXT NOT NULL,
    mac      BLOB NOT NULL CHECK (length(mac) = 32)
) STRICT;
CREATE INDEX IF NOT EXISTS audit_time ON audit (time);
CREATE INDEX IF NOT EXISTS audit_purpose_time ON audit (purpose, time);
CREATE TABLE IF NOT EXISTS audit_anchor (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL CHECK (seq > 0),
    mac BLOB NOT NULL CHECK (length(mac) = 32)
) STRICT;
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit events cannot be changed');
END;
CREATE TRIGGER IF NOT EXISTS audit_prune_only BEFORE DELETE ON audit
WHEN OLD.seq > COALESCE((SELECT seq FROM audit_anchor WHERE id = 1), 0)
BEGIN
    SELECT RAISE(ABORT, 'audit events are deleted only by pruning');
END;
CREATE TRIGGER IF NOT EXISTS audit_anchor_forward BEFORE UPDATE ON audit_anchor
WHEN NEW.id IS NOT OLD.id OR NEW.seq <= OLD.seq
BEGIN
    SELECT RAISE(ABORT, 'the prune anchor only moves forward');
END;
CREATE TRIGGER IF NOT EXISTS audit_anchor_kept BEFORE DELETE ON audit_anchor
BEGIN
    SELECT RAISE(ABORT, 'the prune anchor cannot be deleted');
END;
"#;

/// The columns of the table, in [`Field`] order.
pub(super) const COLUMNS: &str =
    "seq, time, actor, action, purpose, reason, records, subjects, outcome, detail, mac";

/// A row's seq as a sequence number. Rows with seq <= 0 cannot be written by
/// `append`; they are reported at 1.
pub(super) fn u64_seq(seq: i64) -> u64 {
    u64::try_from(seq).ok().filter(|s| *s > 0).unwrap_or(1)
}

/// Decodes one stored row strictly: right types, valid UTF-8 and JSON, and
/// every JSON column exactly in its canonical form.
fn decode_row(row: &Row<'_>) -> Result<AuditEvent> {
    decode_row_detail(row).map(|(event, _)| event)
}

/// [`decode_row`], also returning the (canonical) detail text.
pub(super) fn decode_row_detail(row: &Row<'_>) -> Result<(AuditEvent, String)> {
    read_event(&mut RowSource {
        row,
        seq: 1,
        spelling: "",
    })
}

/// A row of `SELECT {COLUMNS}` as an [`EventSource`]; its errors are
/// [`Error::AuditBroken`] at the row's seq.
struct RowSource<'r, 's> {
    row: &'r Row<'s>,
    /// The row's seq, once read.
    seq: u64,
    /// The text of the JSON column last read, for [`EventSource::spelled`].
    spelling: &'r str,
}

impl<'r> RowSource<'r, '_> {
    fn bad(&self, field: Field, what: &str) -> Error {
        broken(self.seq, format!("column `{}` {what}", field.name()))
    }

    fn value(&self, field: Field) -> Result<ValueRef<'r>> {
        let row: &'r Row<'_> = self.row;
        Ok(row.get_ref(field as usize)?)
    }

    fn text_ref(&self, field: Field) -> Result<&'r str> {
        match self.value(field)? {
            ValueRef::Text(b) => {
                std::str::from_utf8(b).map_err(|_| self.bad(field, "is not UTF-8"))
            }
            _ => Err(self.bad(field, "is not text")),
        }
    }
}

impl EventSource for RowSource<'_, '_> {
    fn seq(&mut self) -> Result<u64> {
        let raw_seq = match self.value(Field::Seq)? {
            ValueRef::Integer(i) => i,
            _ => return Err(broken(1, "a row has a non-integer seq")),
        };
        if raw_seq <= 0 {
            return Err(broken(
                1,
                format!("a row has seq {raw_seq}; the log starts at 1"),
            ));
        }
        self.seq = u64_seq(raw_seq);
        Ok(self.seq)
    }

    fn time(&mut self) -> Result<i64> {
        match self.value(Field::Time)? {
            ValueRef::Integer(t) => Ok(t),
            _ => Err(self.bad(Field::Time, "is not an integer")),
        }
    }

    fn text(&mut self, field: Field) -> Result<String> {
        self.text_ref(field).map(str::to_owned)
    }

    fn purpose(&mut self) -> Result<Option<String>> {
        match self.value(Field::Purpose)? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(b) => Ok(Some(
                std::str::from_utf8(b)
                    .map_err(|_| self.bad(Field::Purpose, "is not UTF-8"))?
                    .to_owned(),
            )),
            _ => Err(self.bad(Field::Purpose, "is neither text nor NULL")),
        }
    }

    fn json(&mut self, field: Field) -> Result<Value> {
        self.spelling = self.text_ref(field)?;
        serde_json::from_str(self.spelling).map_err(|_| self.fault(field, Fault::Shape))
    }

    fn spelled(
        &mut self,
        field: Field,
        canonical: std::result::Result<&str, jcs::Why>,
    ) -> Result<()> {
        match canonical {
            Ok(c) if c == self.spelling => Ok(()),
            _ => Err(self.fault(field, Fault::NotCanonical)),
        }
    }

    fn mac(&mut self) -> Result<[u8; 32]> {
        match self.value(Field::Mac)? {
            ValueRef::Blob(b) => {
                <[u8; 32]>::try_from(b).map_err(|_| self.bad(Field::Mac, "is not 32 bytes"))
            }
            _ => Err(self.bad(Field::Mac, "is not a blob")),
        }
    }

    fn fault(&self, field: Field, fault: Fault) -> Error {
        let what = match (field, fault) {
            (_, Fault::UnknownAction) => "is unknown",
            (Field::Detail, Fault::Shape) => "is not a JSON object",
            (_, Fault::Shape) => "is not a JSON array",
            (Field::Records, Fault::Element) => "holds a non-integer",
            (_, Fault::Element) => "holds something other than 64 lowercase hex digits",
            (Field::Detail, Fault::NotCanonical | Fault::NoCanonicalForm(_)) => {
                "is not in canonical (RFC 8785) form"
            }
            (_, Fault::NotCanonical | Fault::NoCanonicalForm(_)) => "is not in canonical form",
        };
        self.bad(field, what)
    }
}

/// The prune anchor, if the log was ever pruned.
pub(super) fn read_anchor(conn: &Connection) -> Result<Option<AuditHead>> {
    let mut stmt = conn.prepare_cached("SELECT id, seq, mac FROM audit_anchor")?;
    let mut rows = stmt.query([])?;
    let Some(row) = rows.next()? else {
        return Ok(None);
    };
    let malformed = || broken(1, "the prune anchor row is malformed");
    let (ValueRef::Integer(1), ValueRef::Integer(seq), ValueRef::Blob(mac)) =
        (row.get_ref(0)?, row.get_ref(1)?, row.get_ref(2)?)
    else {
        return Err(malformed());
    };
    let anchor = AuditHead {
        seq: u64::try_from(seq)
            .ok()
            .filter(|s| *s > 0)
            .ok_or_else(malformed)?,
        mac: <[u8; 32]>::try_from(mac).map_err(|_| malformed())?,
    };
    if rows.next()?.is_some() {
        return Err(broken(1, "more than one prune anchor"));
    }
    Ok(Some(anchor))
}

/// The event a new one chains from: the last event, else the anchor, else genesis.
fn tail(conn: &Connection) -> Result<AuditHead> {
    if let Some(head) = head(conn)? {
        return Ok(head);
    }
    Ok(read_anchor(conn)?.unwrap_or(AuditHead {
        seq: 0,
        mac: GENESIS,
    }))
}

/// Appends `event` at time `now` and returns its `seq`. Must run inside the
/// caller's (immediate) transaction, with the other writes it records.
///
/// Refuses ([`Error::InvalidParameter`]) empty or over-long text fields,
/// detail beyond the feature-data guard, and [`Action::AuditPrune`] (written
/// by [`prune`](super::prune) only).
pub(crate) fn append(
    tx: &Transaction<'_>,
    key: &DerivedKey,
    now: i64,
    event: &NewEvent<'_>,
) -> Result<u64> {
    if event.action == Action::AuditPrune {
        return Err(Error::param(
            "action",
            "audit-prune events are written by prune() only",
        ));
    }
    append_event(tx, key, now, event)
}

/// [`append`] without the refusal of audit-prune events (which
/// [`prune`](super::prune) writes through it).
pub(super) fn append_event(
    conn: &Connection,
    key: &DerivedKey,
    now: i64,
    event: &NewEvent<'_>,
) -> Result<u64> {
    check_text("actor", event.actor)?;
    check_text("reason", event.reason)?;
    check_text("outcome", event.outcome)?;
    if let Some(p) = event.purpose {
        check_text("purpose", p)?;
    }
    let detail = check_detail(&event.detail)?;
    let prev = tail(conn)?;
    let seq = prev.seq + 1;
    let seq_sql = i64::try_from(seq).map_err(|_| Error::database("audit sequence exhausted"))?;
    let fields = Fields {
        seq,
        time: now,
        actor: event.actor,
        action: event.action,
        purpose: event.purpose,
        reason: event.reason,
        records: &event.records,
        subjects: &event.subjects,
        outcome: event.outcome,
        detail: &detail,
    };
    let mac = fields
        .mac(key, &prev.mac)
        .ok_or_else(|| Error::param("event", "a field is over 4 GiB"))?;
    conn.prepare_cached(&format!(
        "INSERT INTO audit ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
    ))?
    .execute(params![
        seq_sql,
        now,
        event.actor,
        event.action.as_str(),
        event.purpose,
        event.reason,
        records_text(&event.records),
        subjects_text(&event.subjects),
        event.outcome,
        detail,
        &mac[..],
    ])?;
    Ok(seq)
}

/// The last event's `(seq, mac)`; `None` for an empty log.
pub(crate) fn head(conn: &Connection) -> Result<Option<AuditHead>> {
    let row: Option<(i64, Vec<u8>)> = conn
        .prepare_cached("SELECT seq, mac FROM audit ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .map_err(|e| match e {
            rusqlite::Error::InvalidColumnType(..) => broken(1, "the last row is malformed"),
            e => e.into(),
        })?;
    row.map(|(seq, mac)| {
        let seq = u64_seq(seq);
        Ok(AuditHead {
            seq,
            mac: <[u8; 32]>::try_from(mac.as_slice())
                .map_err(|_| broken(seq, "column `mac` is not 32 bytes"))?,
        })
    })
    .transpose()
}

/// The WHERE ... ORDER BY ... LIMIT clause of a filter and its parameters.
fn filter_sql(filter: &EventFilter) -> (String, Vec<SqlValue>) {
    let mut conds: Vec<String> = Vec::new();
    let mut args: Vec<SqlValue> = Vec::new();
    let mut add = |template: &str, arg: SqlValue| {
        args.push(arg);
        conds.push(template.replace('?', &format!("?{}", args.len())));
    };
    if let Some(from) = filter.from {
        add("time >= ?", from.into());
    }
    if let Some(to) = filter.to {
        add("time < ?", to.into());
    }
    if let Some(purpose) = &filter.purpose {
        add("purpose = ?", purpose.clone().into());
    }
    if let Some(action) = filter.action {
        add("action = ?", action.as_str().to_owned().into());
    }
    if let Some(after) = filter.after_seq {
        add("seq > ?", i64::try_from(after).unwrap_or(i64::MAX).into());
    }
    if let Some(record) = filter.record {
        add(
            "EXISTS (SELECT 1 FROM json_each(audit.records) WHERE json_each.value = ?)",
            record.into(),
        );
    }
    if let Some(subject) = filter.subject {
        add(
            "EXISTS (SELECT 1 FROM json_each(audit.subjects) WHERE json_each.value = ?)",
            hex(&subject).into(),
        );
    }
    if let Some(limit) = filter.limit {
        args.push(i64::try_from(limit).unwrap_or(i64::MAX).into());
    }
    let mut sql = String::new();
    if !conds.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conds.join(" AND "));
    }
    sql.push_str(" ORDER BY seq");
    if filter.limit.is_some() {
        sql.push_str(&format!(" LIMIT ?{}", args.len()));
    }
    (sql, args)
}

/// Calls `each` on the events matching `filter`, in `seq` order.
pub(super) fn for_each_event(
    conn: &Connection,
    filter: &EventFilter,
    mut each: impl FnMut(AuditEvent) -> Result<()>,
) -> Result<()> {
    let (clause, args) = filter_sql(filter);
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM audit{clause}"))?;
    let mut rows = stmt.query(params_from_iter(args))?;
    while let Some(row) = rows.next()? {
        each(decode_row(row)?)?;
    }
    Ok(())
}

/// The events matching `filter`, in `seq` order. Does not verify the chain;
/// a row that does not decode is reported as [`Error::AuditBroken`].
pub(crate) fn events(conn: &Connection, filter: &EventFilter) -> Result<Vec<AuditEvent>> {
    let mut out = Vec::new();
    for_each_event(conn, filter, |e| {
        out.push(e);
        Ok(())
    })?;
    Ok(out)
}

/// Transparency statistics of `[from, to)`: per purpose (`""` for events
/// without one), the count of each action, the records swept by retention
/// and the records erased on request. Reads the table as it is; run
/// [`verify`](super::verify) to know it is intact.
pub(crate) fn stats(conn: &Connection, from: i64, to: i64) -> Result<Vec<PurposeActivity>> {
    if from > to {
        return Err(Error::param("from", "is after `to`"));
    }
    let mut stmt = conn.prepare(
        "SELECT COALESCE(purpose, ''), action, COUNT(*),
                SUM(CASE WHEN action = 'sweep'
                          AND json_type(detail, '$.per_purpose') IS NULL
                          AND json_type(detail, '$.deleted') = 'integer'
                          AND json_extract(detail, '$.deleted') > 0
                         THEN json_extract(detail, '$.deleted') ELSE 0 END),
                SUM(CASE WHEN action = 'erase' AND json_type(detail, '$.per_purpose') IS NULL
                         THEN json_array_length(records) ELSE 0 END)
         FROM audit WHERE time >= ?1 AND time < ?2
         GROUP BY 1, 2 ORDER BY 1, 2",
    )?;
    let mut rows = stmt.query([from, to])?;
    let mut out: Vec<PurposeActivity> = Vec::new();
    while let Some(row) = rows.next()? {
        let purpose: String = row.get(0)?;
        let action_name: String = row.get(1)?;
        let action = Action::parse(&action_name)
            .ok_or_else(|| Error::database("the audit table holds an unknown action"))?;
        let count = u64::try_from(row.get::<_, i64>(2)?).unwrap_or(0);
        let swept = u64::try_from(row.get::<_, i64>(3)?).unwrap_or(0);
        let erased = u64::try_from(row.get::<_, i64>(4)?).unwrap_or(0);
        if out.last().is_none_or(|p| p.purpose != purpose) {
            out.push(PurposeActivity {
                purpose,
                counts: BTreeMap::new(),
                swept_records: 0,
                erased_records: 0,
            });
        }
        let activity = out.last_mut().expect("pushed above");
        activity.counts.insert(action.as_str(), count);
        activity.swept_records += swept;
        activity.erased_records += erased;
    }
    drop(rows);
    // Sweeps and erasures across purposes split their counts in
    // `detail.per_purpose` ({purpose: records}).
    let mut stmt = conn.prepare(
        "SELECT p.key, a.action, SUM(p.value)
         FROM audit a, json_each(a.detail, '$.per_purpose') p
         WHERE a.action IN ('sweep', 'erase') AND a.time >= ?1 AND a.time < ?2
           AND json_type(a.detail, '$.per_purpose') = 'object' AND p.type = 'integer' AND p.value > 0
         GROUP BY 1, 2",
    )?;
    let split: Vec<(String, String, i64)> = stmt
        .query_map([from, to], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (purpose, action, n) in split {
        let i = match out.binary_search_by(|p| p.purpose.as_str().cmp(&purpose)) {
            Ok(i) => i,
            Err(i) => {
                out.insert(
                    i,
                    PurposeActivity {
                        purpose,
                        counts: BTreeMap::new(),
                        swept_records: 0,
                        erased_records: 0,
                    },
                );
                i
            }
        };
        let n = u64::try_from(n).unwrap_or(0);
        if action == "sweep" {
            out[i].swept_records += n;
        } else {
            out[i].erased_records += n;
        }
    }
    Ok(out)
}
