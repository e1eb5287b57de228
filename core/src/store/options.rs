//! The settings of a store handle, checked before any file is touched.

use std::sync::Arc;
use std::time::Duration;

use super::{Timestamp, NONCE_LIMIT};
use crate::error::{Error, Result};

/// Settings of a store handle.
#[derive(Clone)]
pub struct StoreOptions {
    /// How long to wait for another handle's lock.
    pub busy_timeout: Duration,
    /// Records per transaction in sweeps and rotations.
    pub batch_size: usize,
    /// Encryptions allowed per storage key (at most [`NONCE_LIMIT`]).
    pub max_encryptions_per_key: u64,
    /// The clock (Unix seconds); the system clock when `None`.
    pub clock: Option<Arc<dyn Fn() -> Timestamp + Send + Sync>>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            busy_timeout: Duration::from_secs(10),
            batch_size: 500,
            max_encryptions_per_key: NONCE_LIMIT,
            clock: None,
        }
    }
}

impl std::fmt::Debug for StoreOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreOptions")
            .field("busy_timeout", &self.busy_timeout)
            .field("batch_size", &self.batch_size)
            .field("max_encryptions_per_key", &self.max_encryptions_per_key)
            .field("clock", &self.clock.as_ref().map(|_| "custom"))
            .finish()
    }
}

/// Longest busy timeout SQLite takes (`i32::MAX` milliseconds).
const MAX_BUSY_TIMEOUT: Duration = Duration::from_millis(i32::MAX as u64);

impl StoreOptions {
    /// Checks every option (before any file is touched).
    pub(super) fn validate(&self) -> Result<()> {
        if self.busy_timeout > MAX_BUSY_TIMEOUT {
            return Err(Error::param(
                "busy_timeout",
                format!("must be at most {} s", MAX_BUSY_TIMEOUT.as_secs()),
            ));
        }
        if self.batch_size == 0 {
            return Err(Error::param("batch_size", "must be at least 1"));
        }
        if self.max_encryptions_per_key == 0 || self.max_encryptions_per_key > NONCE_LIMIT {
            return Err(Error::param(
                "max_encryptions_per_key",
                "must be in 1..=2^32",
            ));
        }
        Ok(())
    }
}
