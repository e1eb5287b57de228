//! In-memory galleries of live records, one per purpose, kept in step with
//! the file through the `gallery_changes` log.

use std::collections::HashMap;

use zeroize::Zeroizing;

use super::{RecordId, Timestamp};
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
