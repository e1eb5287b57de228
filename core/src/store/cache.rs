//! In-memory galleries of live records, one per purpose, kept in step with
//! the file through the gallery change log (see `changes`), whoever wrote.

use std::collections::HashMap;

use rusqlite::{Connection, TransactionBehavior};
use zeroize::Zeroizing;

use super::records::{self, RecordKind, Row};
use super::{changes, RecordId, Served, Store, Timestamp};
use crate::error::{Error, Result};
use crate::matching::Gallery;
use crate::protector::Protector;

/// What identification returns about a gallery entry besides its score.
pub(crate) struct Entry {
    pub subject: Zeroizing<String>,
    pub expires_at: Timestamp,
}

/// A purpose's decrypted gallery. Codes are zeroized when the gallery is
/// dropped (see [`Gallery`]), subject ids through [`Zeroizing`].
pub(crate) struct GalleryCache {
    pub gallery: Gallery,
    pub entries: HashMap<RecordId, Entry>,
    /// Last `gallery_changes.seq` applied; `None` before the first load.
    pub last_change: Option<i64>,
}

impl GalleryCache {
    pub(crate) fn new(protector: &Protector) -> Self {
        Self {
            gallery: Gallery::new(protector),
            entries: HashMap::new(),
            last_change: None,
        }
    }

    pub(crate) fn clear(&mut self) {
        let ids: Vec<u64> = self.gallery.ids().to_vec();
        self.gallery.remove_batch(&ids);
        self.entries.clear();
        self.last_change = None;
    }

    pub(crate) fn remove(&mut self, id: RecordId) {
        if self.entries.remove(&id).is_some() {
            let _ = self.gallery.remove(id as u64);
        }
    }

    /// Drops entries whose retention has ended: they are never matched,
    /// even before a sweep deletes them from the file.
    pub(crate) fn drop_expired(&mut self, now: Timestamp) {
        let expired: Vec<RecordId> = self
            .entries
            .iter()
            .filter(|(_, e)| e.expires_at <= now)
            .map(|(&id, _)| id)
            .collect();
        for id in expired {
            self.remove(id);
        }
    }
}

impl Store {
    /// Brings a purpose's gallery in step with the file: a full load the
    /// first time (or after the change log was pruned past it), then only
    /// the changes since the last sync, whoever made them.
    pub(super) fn sync(
        &self,
        conn: &mut Connection,
        served: &Served,
        cache: &mut GalleryCache,
        now: Timestamp,
    ) -> Result<()> {
        let purpose = served.purpose.name.as_str();
        // One read transaction: a consistent snapshot of records and log.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        let newest = changes::newest(&tx)?;
        let floor = changes::floor(&tx)?;
        match cache.last_change {
            Some(last) if last >= floor => {
                for (id, added) in changes::since(&tx, purpose, last, newest)? {
                    if !added {
                        cache.remove(id);
                        continue;
                    }
                    if cache.entries.contains_key(&id) {
                        continue;
                    }
                    let found = records::by_id(&tx, id, RecordKind::Template)?;
                    for r in found.iter().filter(|r| r.expires_at > now) {
                        self.add_to_cache(served, cache, r)?;
                    }
                }
            }
            _ => {
                cache.clear();
                // Damaged rows must not be left out unnoticed (see `negative`).
                self.check_left_out(&tx, purpose, now)?;
                for r in &records::live_templates(&tx, purpose, now)? {
                    self.add_to_cache(served, cache, r)?;
                }
            }
        }
        cache.last_change = Some(newest);
        tx.commit()?;
        Ok(())
    }

    fn add_to_cache(&self, served: &Served, cache: &mut GalleryCache, row: &Row) -> Result<()> {
        if row.purpose != served.purpose.name {
            return Err(Error::Integrity { record: row.id });
        }
        let (subject, template) = self.open_row(served, row)?;
        cache.gallery.add(row.id as u64, &template)?;
        cache.entries.insert(
            row.id,
            Entry {
                subject,
                expires_at: row.expires_at,
            },
        );
        Ok(())
    }

    /// Drops deleted records from this handle's galleries at once.
    pub(super) fn forget(&self, deleted: &std::collections::BTreeMap<String, Vec<RecordId>>) {
        let mut caches = self.caches.lock().unwrap_or_else(|p| p.into_inner());
        for (purpose, ids) in deleted {
            if let Some(c) = caches.get_mut(purpose) {
                ids.iter().for_each(|&id| c.remove(id));
            }
        }
    }
}
