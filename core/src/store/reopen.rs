//! Reopening an existing store with the purposes it holds.
//!
//! [`Store::open`] takes the purposes from the caller, which suits a service
//! that owns its configuration. Tools that come later to the same file (the
//! `btp` command line, maintenance jobs) should not need that configuration
//! again: [`Store::open_existing`] reads the purposes the file was set up
//! with.
//!
//! The `purposes` table is not encrypted or MAC'd itself. Scheme parameters,
//! application and transform version are covered by the records (a change
//! gives templates of another key, so every record read fails with
//! [`Error::Integrity`]); threshold and maximum retention are not. So
//! `open_existing` checks them against the newest `purpose-added` audit
//! event of the purpose, whose MAC it verifies against the event before it:
//! a threshold lowered in the file behind the store's back is
//! [`Error::AuditBroken`] naming that event. When audit pruning has removed
//! every `purpose-added` event of a purpose, its policy is taken from the
//! file as it is (run [`Store::verify_audit`] from maintenance jobs: deleting
//! events by hand breaks the chain).

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension};

use super::audit::{self, Action, AuditHead, EventFilter};
use super::{Purpose, Served, Store, StoreOptions};
use crate::error::{Error, Result};
use crate::keys::{DerivedKey, MasterKey};
use crate::protector::Protector;
use crate::schemes::SchemeParams;

impl Store {
    /// Opens an existing store with default options, serving every purpose
    /// it holds. See [`Store::open_existing_with`].
    pub fn open_existing(path: impl AsRef<Path>, master: &MasterKey) -> Result<Self> {
        Self::open_existing_with(path, master, StoreOptions::default())
    }

    /// Opens an existing store, serving every purpose it holds with the
    /// definition stored in the file (threshold and maximum retention
    /// checked against the audit log, see the module documentation).
    ///
    /// Never creates a file: a missing path is [`Error::Missing`], an empty
    /// file or a directory [`Error::NotAStore`]; otherwise the same checks
    /// as [`Store::open_with`] apply ([`Error::WrongKey`],
    /// [`Error::NotAStore`], [`Error::UnsupportedSchema`]).
    pub fn open_existing_with(
        path: impl AsRef<Path>,
        master: &MasterKey,
        options: StoreOptions,
    ) -> Result<Self> {
        let mut store = Self::open_with(path, master, &[], options)?;
        let purposes = {
            let conn = store.lock();
            let purposes = stored_purposes(&conn)?;
            for p in &purposes {
                check_policy(&conn, &store.audit_key, p)?;
            }
            purposes
        };
        for p in purposes {
            let protector = Protector::new(
                p.params.clone(),
                &store.master,
                &p.application,
                p.transform_version,
                None,
            )?;
            store.purposes.insert(
                p.name.clone(),
                Served {
                    purpose: p,
                    protector,
                },
            );
        }
        Ok(store)
    }
}

/// The purposes table, as `Purpose`s.
fn stored_purposes(conn: &Connection) -> Result<Vec<Purpose>> {
    let mut stmt = conn.prepare(
        "SELECT name, params, application, transform_version, threshold, max_retention
         FROM purposes NOT INDEXED ORDER BY name",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, f64>(4)?,
                r.get::<_, i64>(5)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(
            |(name, params, application, version, threshold, max_retention)| {
                let bad = |what: &str| Error::Corrupt(format!("purpose `{name}`: {what}"));
                let params = SchemeParams::from_bytes(&params)
                    .map_err(|_| bad("stored scheme parameters do not decode"))?;
                let transform_version =
                    u32::try_from(version).map_err(|_| bad("transform version out of range"))?;
                let secs =
                    u64::try_from(max_retention).map_err(|_| bad("maximum retention negative"))?;
                let p = Purpose {
                    name: name.clone(),
                    params,
                    application,
                    transform_version,
                    threshold,
                    max_retention: Duration::from_secs(secs),
                };
                p.validate().map_err(|e| bad(&e.to_string()))?;
                Ok(p)
            },
        )
        .collect()
}

/// Checks a stored purpose's threshold and maximum retention against its
/// newest `purpose-added` event, whose MAC is verified against the event
/// (or prune anchor) before it.
fn check_policy(conn: &Connection, key: &DerivedKey, p: &Purpose) -> Result<()> {
    let filter = EventFilter {
        purpose: Some(p.name.clone()),
        action: Some(Action::PurposeAdded),
        ..EventFilter::default()
    };
    let Some(event) = audit::events(conn, &filter)?.pop() else {
        return Ok(());
    };
    let broken = |reason: String| Error::AuditBroken {
        seq: event.seq,
        reason,
    };
    let previous = match event.seq.checked_sub(2) {
        None => None,
        Some(after) => {
            let before = EventFilter {
                after_seq: Some(after),
                limit: Some(1),
                ..EventFilter::default()
            };
            match audit::events(conn, &before)?.pop() {
                Some(e) if e.seq + 1 == event.seq => Some(e.head()),
                _ => Some(
                    anchor(conn)?
                        .filter(|a| a.seq + 1 == event.seq)
                        .ok_or_else(|| broken("the event before it is missing".into()))?,
                ),
            }
        }
    };
    audit::verify_events(std::slice::from_ref(&event), key, previous.as_ref())?;
    let threshold = event.detail.get("threshold").and_then(|v| v.as_f64());
    let retention = event.detail.get("max_retention").and_then(|v| v.as_i64());
    if threshold != Some(p.threshold) || retention != Some(p.max_retention_secs()) {
        return Err(broken(format!(
            "the stored policy of purpose `{}` (threshold, maximum retention) differs from the audited one",
            p.name
        )));
    }
    Ok(())
}

fn anchor(conn: &Connection) -> Result<Option<AuditHead>> {
    let row: Option<(i64, Vec<u8>)> = conn
        .query_row("SELECT seq, mac FROM audit_anchor WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    Ok(row.and_then(|(seq, mac)| {
        Some(AuditHead {
            seq: u64::try_from(seq).ok()?,
            mac: mac.try_into().ok()?,
        })
    }))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::store::{Context, Retention, Sample};

    fn purpose(name: &str, threshold: f64) -> Purpose {
        let params = SchemeParams::iom_grp(8, 16, 4).unwrap();
        Purpose::new(name, params, "app", threshold, Duration::from_secs(3600)).unwrap()
    }

    fn key(b: u8) -> MasterKey {
        MasterKey::from_bytes(&[b; 32]).unwrap()
    }

    #[test]
    fn reopens_with_the_stored_purposes_and_never_creates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        assert!(matches!(
            Store::open_existing(&path, &key(1)),
            Err(Error::Missing(_))
        ));
        assert!(!path.exists(), "open_existing must not create a file");
        std::fs::write(&path, b"").unwrap();
        assert!(matches!(
            Store::open_existing(&path, &key(1)),
            Err(Error::NotAStore(_))
        ));
        std::fs::remove_file(&path).unwrap();

        let a = purpose("a", 0.4);
        let b = purpose("b", 0.6);
        let ctx = Context::new("t", "test");
        let x: Vec<f32> = (0..8).map(|i| i as f32 - 3.5).collect();
        {
            let s = Store::create(&path, &key(1), &[a.clone(), b.clone()]).unwrap();
            s.enroll("a", "alice", Sample::Features(&x), Retention::Maximum, &ctx)
                .unwrap();
        }
        let s = Store::open_existing(&path, &key(1)).unwrap();
        assert_eq!(s.purposes().cloned().collect::<Vec<_>>(), vec![a, b]);
        let v = s.verify("a", "alice", Sample::Features(&x), &ctx).unwrap();
        assert!(v.decision.matched);
        assert_eq!(v.decision.threshold, 0.4);
        assert!(matches!(
            Store::open_existing(&path, &key(2)),
            Err(Error::WrongKey)
        ));
        s.verify_audit().unwrap();
    }

    #[test]
    fn a_pruned_log_still_opens() {
        use std::sync::atomic::{AtomicI64, Ordering};
        use std::sync::Arc;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let clock = Arc::new(AtomicI64::new(1_000));
        let options = || {
            let c = clock.clone();
            StoreOptions {
                clock: Some(Arc::new(move || c.load(Ordering::SeqCst))),
                ..StoreOptions::default()
            }
        };
        let ctx = Context::new("t", "test");
        // Events 1 (store created) and 2 (purpose added) at t = 1000.
        drop(Store::create_with(&path, &key(1), &[purpose("a", 0.4)], options()).unwrap());
        clock.store(2_000, Ordering::SeqCst);
        // Event 3 at t = 2000 changes the policy; pruning before 2000
        // leaves it chained from the prune anchor (event 2).
        let s = Store::open_with(&path, &key(1), &[purpose("a", 0.5)], options()).unwrap();
        assert_eq!(s.prune_audit(2_000, &ctx).unwrap().pruned_through, Some(2));
        drop(s);
        let s = Store::open_existing_with(&path, &key(1), options()).unwrap();
        assert_eq!(s.purposes().next().unwrap().threshold, 0.5);
        // Once every purpose-added event is pruned the stored policy is taken.
        clock.store(3_000, Ordering::SeqCst);
        s.prune_audit(3_000, &ctx).unwrap();
        drop(s);
        let s = Store::open_existing_with(&path, &key(1), options()).unwrap();
        assert_eq!(s.purposes().next().unwrap().threshold, 0.5);
        s.verify_audit().unwrap();
    }

    #[test]
    fn a_policy_changed_through_open_is_accepted_an_edited_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        drop(Store::create(&path, &key(1), &[purpose("a", 0.4)]).unwrap());
        // A policy change through the API is audited, so it is taken.
        drop(Store::open(&path, &key(1), &[purpose("a", 0.5)]).unwrap());
        let s = Store::open_existing(&path, &key(1)).unwrap();
        assert_eq!(s.purposes().next().unwrap().threshold, 0.5);
        drop(s);
        // An edit behind the store's back is not.
        let conn = Connection::open(&path).unwrap();
        conn.execute("UPDATE purposes SET threshold = 0.01", [])
            .unwrap();
        drop(conn);
        match Store::open_existing(&path, &key(1)) {
            Err(Error::AuditBroken { seq, .. }) => assert_eq!(seq, 3),
            other => panic!("expected AuditBroken, got {other:?}"),
        }
    }
}
