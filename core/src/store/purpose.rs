//! A purpose the store serves: its rules ([`Purpose`]), its protector
//! (`Served`), and its row in the `purposes` table (added on first use,
//! checked on every open; a policy change is audited).

use std::time::Duration;

use rusqlite::{params, OptionalExtension, Transaction};

use super::audit::{self, Action};
use super::{Sample, Timestamp};
use crate::error::{Error, Result};
use crate::keys::DerivedKey;
use crate::protector::Protector;
use crate::schemes::SchemeParams;
use crate::template::ProtectedTemplate;

/// A programme the store serves, and its rules.
#[derive(Clone, Debug, PartialEq)]
pub struct Purpose {
    /// Name, e.g. `border-entry`.
    pub name: String,
    /// Scheme and parameters of its templates.
    pub params: SchemeParams,
    /// Application id of its transform keys.
    pub application: String,
    /// Transform key version (bump to renew every template).
    pub transform_version: u32,
    /// Match threshold of verification and default of identification.
    pub threshold: f64,
    /// Longest retention a record of this purpose may have.
    pub max_retention: Duration,
}

impl Purpose {
    /// A purpose with transform key version 1.
    pub fn new(
        name: &str,
        params: SchemeParams,
        application: &str,
        threshold: f64,
        max_retention: Duration,
    ) -> Result<Self> {
        let p = Self {
            name: name.to_owned(),
            params,
            application: application.to_owned(),
            transform_version: 1,
            threshold,
            max_retention,
        };
        p.validate()?;
        Ok(p)
    }

    pub(super) fn validate(&self) -> Result<()> {
        if self.name.is_empty() || self.name.len() > 128 {
            return Err(Error::param("purpose", "name must be 1 to 128 bytes"));
        }
        if self.application.is_empty() {
            return Err(Error::param("application", "must not be empty"));
        }
        if !(0.0..=1.0).contains(&self.threshold) {
            return Err(Error::param("threshold", "must be a number in [0, 1]"));
        }
        if self.max_retention_secs() <= 0 {
            return Err(Error::param("max_retention", "must be at least one second"));
        }
        if self.max_retention > Self::MAX_RETENTION {
            return Err(Error::param(
                "max_retention",
                "must be at most 1000 years (365,000 days)",
            ));
        }
        Ok(())
    }

    /// The longest `max_retention` a purpose may have: 1000 years of 365
    /// days, so that every expiry stays a date the store can show (see
    /// [`crate::time::RANGE`]).
    pub const MAX_RETENTION: Duration = Duration::from_secs(1000 * 365 * 86_400);

    pub(super) fn max_retention_secs(&self) -> i64 {
        i64::try_from(self.max_retention.as_secs()).unwrap_or(i64::MAX)
    }
}

/// A purpose with its protector.
pub(super) struct Served {
    pub(super) purpose: Purpose,
    pub(super) protector: Protector,
}

impl Served {
    /// The template of a sample under this purpose: features are protected
    /// (and dropped), templates are checked to be of the purpose's key.
    pub(super) fn template_of(&self, sample: Sample<'_>) -> Result<ProtectedTemplate> {
        match sample {
            Sample::Features(x) => self.protector.protect(x),
            Sample::Template(t) => {
                self.protector.check(t)?;
                Ok(t.clone())
            }
        }
    }
}

/// Inserts a new purpose (with storage key version 1) or checks an existing one.
pub(super) fn register_purpose(
    tx: &Transaction<'_>,
    audit_key: &DerivedKey,
    now: Timestamp,
    p: &Purpose,
) -> Result<()> {
    let stored: Option<(Vec<u8>, String, i64, f64, i64)> = tx
        .query_row(
            "SELECT params, application, transform_version, threshold, max_retention FROM purposes NOT INDEXED WHERE name = ?1",
            [&p.name],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    let mut ev = audit::NewEvent::new(
        "btp",
        Action::PurposeAdded,
        "store opened with this purpose",
    );
    ev.purpose = Some(&p.name);
    ev.detail.insert("threshold".into(), p.threshold.into());
    ev.detail
        .insert("max_retention".into(), p.max_retention_secs().into());
    match stored {
        None => {
            tx.execute(
                "INSERT INTO purposes (name, params, application, transform_version, threshold, max_retention, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    p.name,
                    p.params.to_bytes(),
                    p.application,
                    i64::from(p.transform_version),
                    p.threshold,
                    p.max_retention_secs(),
                    now
                ],
            )?;
            tx.execute(
                "INSERT INTO storage_keys (purpose, version, state, created_at) VALUES (?1, 1, 'active', ?2)",
                params![p.name, now],
            )?;
            ev.detail
                .insert("scheme".into(), p.params.scheme_id().name().into());
            audit::append(tx, audit_key, now, &ev)?;
        }
        Some((params, application, version, threshold, max_retention)) => {
            if params != p.params.to_bytes()
                || application != p.application
                || version != i64::from(p.transform_version)
            {
                return Err(Error::param(
                    "purposes",
                    format!(
                        "purpose `{}` differs from the store's in scheme, parameters, application or transform version",
                        p.name
                    ),
                ));
            }
            if threshold != p.threshold || max_retention != p.max_retention_secs() {
                tx.execute(
                    "UPDATE purposes SET threshold = ?2, max_retention = ?3 WHERE name = ?1",
                    params![p.name, p.threshold, p.max_retention_secs()],
                )?;
                ev.reason = "purpose policy changed";
                ev.outcome = "updated";
                ev.detail
                    .insert("previous_threshold".into(), threshold.into());
                ev.detail
                    .insert("previous_max_retention".into(), max_retention.into());
                audit::append(tx, audit_key, now, &ev)?;
            }
        }
    }
    Ok(())
}
