//! The chain and its anchor: walking events in order (numbering, MACs,
//! audit-prune events), verifying the table or an exported run, checking a
//! held head, and pruning behind an anchor.

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde_json::Value;

use super::event::{check_text, detail_text, hex, unhex32};
use super::mac::{ct_eq, Fields};
use super::table::{append_event, decode_row_detail, head, read_anchor, u64_seq, COLUMNS};
use super::{broken, Action, AuditEvent, AuditHead, AuditReport, NewEvent, PruneReport, GENESIS};
use crate::error::{Error, Result};
use crate::keys::DerivedKey;

/// The anchor an audit-prune event states: `None` = nothing pruned yet.
fn stated_anchor(event: &AuditEvent) -> Result<Option<AuditHead>> {
    let bad = || {
        broken(
            event.seq,
            "audit-prune event does not state its anchor (pruned_through, anchor_mac)",
        )
    };
    match (
        event.detail.get("pruned_through"),
        event.detail.get("anchor_mac"),
    ) {
        (Some(Value::Null), Some(Value::Null)) => Ok(None),
        (Some(through), Some(Value::String(mac))) => Ok(Some(AuditHead {
            seq: through.as_u64().filter(|s| *s > 0).ok_or_else(bad)?,
            mac: unhex32(mac).ok_or_else(bad)?,
        })),
        _ => Err(bad()),
    }
}

/// Walks events in order, checking numbering, MACs and audit-prune events.
struct Chain<'k> {
    key: &'k DerivedKey,
    next_seq: u64,
    prev: [u8; 32],
    events: u64,
    first_seq: Option<u64>,
    last: Option<AuditHead>,
    /// What the latest audit-prune event seen states: `None` = none seen.
    stated: Option<Option<AuditHead>>,
}

impl<'k> Chain<'k> {
    fn new(key: &'k DerivedKey, start: Option<AuditHead>) -> Self {
        let start = start.unwrap_or(AuditHead {
            seq: 0,
            mac: GENESIS,
        });
        Self {
            key,
            next_seq: start.seq.saturating_add(1),
            prev: start.mac,
            events: 0,
            first_seq: None,
            last: None,
            stated: None,
        }
    }

    fn push(&mut self, event: &AuditEvent) -> Result<()> {
        let detail = detail_text(&event.detail)
            .map_err(|why| broken(event.seq, format!("detail has no canonical form: {why}")))?;
        self.push_with_detail(event, &detail)
    }

    /// [`Chain::push`] with the canonical text of `event.detail` at hand.
    fn push_with_detail(&mut self, event: &AuditEvent, detail: &str) -> Result<()> {
        if event.seq > self.next_seq {
            return Err(broken(
                self.next_seq,
                format!(
                    "event {} is missing (the log continues at {})",
                    self.next_seq, event.seq
                ),
            ));
        }
        if event.seq < self.next_seq {
            return Err(broken(
                event.seq,
                format!(
                    "event {} appears where {} was expected (replayed, reordered or \
                     before the prune anchor)",
                    event.seq, self.next_seq
                ),
            ));
        }
        let mac = Fields::of(event, detail)
            .mac(self.key, &self.prev)
            .ok_or_else(|| broken(event.seq, "a field is too long to encode"))?;
        if !ct_eq(&mac, &event.mac) {
            return Err(broken(
                event.seq,
                "MAC mismatch: the event was altered, inserted or reordered, or does not \
                 follow its predecessor (or the prune anchor)",
            ));
        }
        if event.action == Action::AuditPrune {
            let stated = stated_anchor(event)?;
            let through = stated.map_or(0, |a| a.seq);
            let earlier = self.stated.flatten().map_or(0, |a| a.seq);
            if through >= event.seq || through < earlier {
                return Err(broken(
                    event.seq,
                    format!("audit-prune event states an impossible anchor {through}"),
                ));
            }
            self.stated = Some(stated);
        }
        self.events += 1;
        self.first_seq.get_or_insert(event.seq);
        self.last = Some(event.head());
        self.prev = event.mac;
        self.next_seq = event.seq.saturating_add(1);
        Ok(())
    }

    /// Finishes a whole log whose chain started at `anchor`: the latest
    /// audit-prune event must state exactly that anchor.
    fn finish_whole(self, anchor: Option<AuditHead>) -> Result<AuditReport> {
        match self.stated {
            None => {
                if let Some(a) = anchor {
                    return Err(broken(
                        1,
                        format!(
                            "events 1..={} are missing and no audit-prune event records \
                             their pruning",
                            a.seq
                        ),
                    ));
                }
            }
            Some(stated) if stated == anchor => {}
            Some(stated) => {
                let s = stated.map_or(0, |a| a.seq);
                let a = anchor.map_or(0, |a| a.seq);
                return Err(broken(
                    s.min(a).saturating_add(1),
                    format!(
                        "the log starts after event {a} but its latest audit-prune event \
                         states it was pruned through {s}"
                    ),
                ));
            }
        }
        Ok(self.report())
    }

    fn report(self) -> AuditReport {
        AuditReport {
            events: self.events,
            first_seq: self.first_seq,
            head: self.last,
            pruned_through: self.stated.flatten().map(|a| a.seq),
        }
    }
}

/// Verifies the whole log: numbering, every MAC, the prune anchor. Returns
/// [`Error::AuditBroken`] naming the first sequence number proven wrong.
pub(crate) fn verify(conn: &Connection, key: &DerivedKey) -> Result<AuditReport> {
    let anchor = read_anchor(conn)?;
    let mut chain = Chain::new(key, anchor);
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM audit ORDER BY seq"))?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let (event, detail) = decode_row_detail(row)?;
        chain.push_with_detail(&event, &detail)?;
    }
    chain.finish_whole(anchor)
}

/// Checks that the log verifies and still holds `held` unchanged (a head
/// kept outside the store earlier): proves the log was neither truncated,
/// rolled back nor rewritten since. A head at or before the prune anchor
/// was legitimately pruned (the anchor is confirmed by a MAC'd audit-prune
/// event); it is accepted if it equals the anchor or precedes it.
pub(crate) fn check_head(conn: &Connection, key: &DerivedKey, held: &AuditHead) -> Result<()> {
    if held.seq == 0 {
        return Err(Error::param("head", "seq 0 is not an event"));
    }
    let report = verify(conn, key)?;
    let seq_sql = i64::try_from(held.seq).unwrap_or(i64::MAX);
    let stored: Option<Vec<u8>> = conn
        .prepare_cached("SELECT mac FROM audit WHERE seq = ?1")?
        .query_row([seq_sql], |r| r.get(0))
        .optional()?;
    if let Some(mac) = stored {
        // verify() has checked it is 32 bytes.
        return if mac.as_slice() == held.mac {
            Ok(())
        } else {
            Err(broken(
                held.seq,
                "differs from the held head: the log was rewritten",
            ))
        };
    }
    let end = report.head.map_or(0, |h| h.seq);
    if held.seq > end {
        return Err(broken(
            end.saturating_add(1),
            format!(
                "the log ends at {end} but held head {} was recorded: events were removed \
                 from the end or the file was rolled back",
                held.seq
            ),
        ));
    }
    match read_anchor(conn)? {
        Some(anchor) if anchor.seq == held.seq && anchor.mac != held.mac => Err(broken(
            held.seq,
            "differs from the held head: the log was rewritten",
        )),
        Some(anchor) if anchor.seq >= held.seq => Ok(()),
        // verify() guarantees every seq after the anchor up to the end exists.
        _ => Err(broken(held.seq, "event is missing")),
    }
}

/// Deletes the oldest events, those before the first with `time >= before`,
/// records the anchor and appends an audit-prune event (actor, reason,
/// detail `pruned_through`, `anchor_mac`, `count`, `before`). Verifies the
/// log first and refuses to prune a broken one. Must run inside the
/// caller's transaction.
pub(crate) fn prune(
    tx: &Transaction<'_>,
    key: &DerivedKey,
    now: i64,
    before: i64,
    actor: &str,
    reason: &str,
) -> Result<PruneReport> {
    if before > now {
        return Err(Error::param(
            "before",
            "is later than now: events from the future cannot be pruned",
        ));
    }
    check_text("actor", actor)?;
    check_text("reason", reason)?;
    verify(tx, key)?;
    let anchor = read_anchor(tx)?;
    let first_kept: Option<i64> = tx.query_row(
        "SELECT MIN(seq) FROM audit WHERE time >= ?1",
        [before],
        |r| r.get(0),
    )?;
    let through = match first_kept {
        Some(kept) => u64_seq(kept) - 1,
        None => head(tx)?.map_or(0, |h| h.seq),
    };
    let mut pruned = 0;
    let mut new_anchor = anchor;
    if through > anchor.map_or(0, |a| a.seq) {
        let through_sql =
            i64::try_from(through).map_err(|_| broken(through, "seq out of range"))?;
        let mac: Vec<u8> =
            tx.query_row("SELECT mac FROM audit WHERE seq = ?1", [through_sql], |r| {
                r.get(0)
            })?;
        let mac = <[u8; 32]>::try_from(mac.as_slice())
            .map_err(|_| broken(through, "column `mac` is not 32 bytes"))?;
        // The anchor first: the delete trigger allows only events up to it.
        tx.execute(
            "INSERT INTO audit_anchor (id, seq, mac) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, mac = excluded.mac",
            params![through_sql, &mac[..]],
        )?;
        pruned = tx.execute("DELETE FROM audit WHERE seq <= ?1", [through_sql])? as u64;
        new_anchor = Some(AuditHead { seq: through, mac });
    }
    let mut event = NewEvent::new(actor, Action::AuditPrune, reason)
        .detail("count", pruned)
        .detail("before", before);
    event.detail.insert(
        "pruned_through".into(),
        new_anchor.map_or(Value::Null, |a| a.seq.into()),
    );
    event.detail.insert(
        "anchor_mac".into(),
        new_anchor.map_or(Value::Null, |a| hex(&a.mac).into()),
    );
    append_event(tx, key, now, &event)?;
    Ok(PruneReport {
        pruned,
        pruned_through: new_anchor.map(|a| a.seq),
    })
}

/// Verifies a contiguous run of events (e.g. parsed from an export) as
/// `verify` verifies the table.
///
/// `anchor` is the `(seq, mac)` of the event before the first one, e.g. a
/// head kept from an earlier export. With `None` the events must be a whole
/// log: they start at 1 from [`GENESIS`], or, for a pruned log, at the anchor
/// its latest audit-prune event states (authenticated by that event's MAC
/// once the chain verifies), and that event must account for exactly the
/// missing prefix, as in `verify`.
pub fn verify_events(
    events: &[AuditEvent],
    key: &DerivedKey,
    anchor: Option<&AuditHead>,
) -> Result<AuditReport> {
    if let Some(anchor) = anchor {
        let mut chain = Chain::new(key, Some(*anchor));
        for event in events {
            chain.push(event)?;
        }
        if let Some(Some(stated)) = chain.stated {
            if stated.seq == anchor.seq && stated.mac != anchor.mac {
                return Err(broken(
                    anchor.seq.saturating_add(1),
                    "the given anchor differs from the one the audit-prune event states",
                ));
            }
        }
        return Ok(chain.report());
    }
    let start = match events.first() {
        Some(first) if first.seq > 1 => {
            let latest_prune = events.iter().rev().find(|e| e.action == Action::AuditPrune);
            match latest_prune.map(stated_anchor).transpose()?.flatten() {
                Some(stated) if stated.seq == first.seq - 1 => Some(stated),
                _ => {
                    return Err(broken(
                        1,
                        format!(
                            "events 1..={} are missing and no audit-prune event records \
                             their pruning",
                            first.seq - 1
                        ),
                    ))
                }
            }
        }
        _ => None,
    };
    let mut chain = Chain::new(key, start);
    for event in events {
        chain.push(event)?;
    }
    chain.finish_whole(start)
}
