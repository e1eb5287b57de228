//! String labels for gallery ids.
//!
//! A [`Gallery`](crate::Gallery) keys its templates by `u64` ids; real
//! subject ids are strings. [`Labels`] maps each label to an id of its own
//! and back, so that a binding can offer a gallery keyed by strings whose
//! results give back what was put in. Adding is two steps, so that a batch
//! the gallery refuses leaves the labels as they were: [`Labels::plan`]
//! checks a batch and names the ids it would get, [`Labels::commit`]
//! records them once the gallery took the templates.
//!
//! Errors name positions (`ids[3]`), never the labels: a label is often a
//! person's id.

use std::collections::HashMap;

use crate::error::{Error, Result};

/// A two-way map between string labels and gallery ids.
#[derive(Debug, Default, Clone)]
pub struct Labels {
    by_label: HashMap<String, u64>,
    by_id: HashMap<u64, String>,
    next: u64,
}

impl Labels {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.by_label.len()
    }

    /// True when no label is held.
    pub fn is_empty(&self) -> bool {
        self.by_label.is_empty()
    }

    /// The ids new `labels` would get, in order. [`Error::DuplicateLabel`]
    /// for a label already present or given twice.
    pub fn plan(&self, labels: &[&str]) -> Result<Vec<u64>> {
        let mut seen = HashMap::with_capacity(labels.len());
        let mut ids = crate::alloc::with_capacity(labels.len(), "the gallery ids")?;
        for (i, label) in labels.iter().enumerate() {
            if self.by_label.contains_key(*label) || seen.insert(*label, i).is_some() {
                return Err(Error::DuplicateLabel(i));
            }
            ids.push(self.next + i as u64);
        }
        Ok(ids)
    }

    /// Records `labels` under the ids [`Labels::plan`] gave for them.
    pub fn commit(&mut self, labels: &[&str], ids: &[u64]) {
        for (label, &id) in labels.iter().zip(ids) {
            self.by_label.insert((*label).to_owned(), id);
            self.by_id.insert(id, (*label).to_owned());
            self.next = self.next.max(id + 1);
        }
    }

    /// The id of each label; [`Error::Missing`] naming the position of the
    /// first absent one.
    pub fn ids_of(&self, labels: &[&str]) -> Result<Vec<u64>> {
        labels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                self.by_label
                    .get(*l)
                    .copied()
                    .ok_or_else(|| Error::Missing(format!("ids[{i}] is not in the gallery")))
            })
            .collect()
    }

    /// The ids of the labels present (absent ones skipped).
    pub fn present(&self, labels: &[&str]) -> Vec<u64> {
        labels
            .iter()
            .filter_map(|l| self.by_label.get(*l).copied())
            .collect()
    }

    /// The id of one label, if present.
    pub fn id(&self, label: &str) -> Option<u64> {
        self.by_label.get(label).copied()
    }

    /// The label of an id, if present.
    pub fn label(&self, id: u64) -> Option<&str> {
        self.by_id.get(&id).map(String::as_str)
    }

    /// The labels of `ids` (`None` where an id has no label, such as the
    /// padding of a batch search).
    pub fn labels_of(&self, ids: &[i64]) -> Vec<Option<&str>> {
        ids.iter()
            .map(|&id| u64::try_from(id).ok().and_then(|id| self.label(id)))
            .collect()
    }

    /// Forgets the labels of `ids` (removed from the gallery).
    pub fn forget(&mut self, ids: &[u64]) {
        for id in ids {
            if let Some(label) = self.by_id.remove(id) {
                self.by_label.remove(&label);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip_and_a_refused_batch_changes_nothing() {
        let mut l = Labels::new();
        let ids = l.plan(&["alice", "bob"]).unwrap();
        l.commit(&["alice", "bob"], &ids);
        assert_eq!(l.ids_of(&["bob", "alice"]).unwrap(), vec![ids[1], ids[0]]);
        assert_eq!(l.plan(&["carol", "alice"]), Err(Error::DuplicateLabel(1)));
        assert_eq!(l.plan(&["dave", "dave"]), Err(Error::DuplicateLabel(1)));
        assert_eq!(l.len(), 2);
        let more = l.plan(&["carol"]).unwrap();
        assert!(!ids.contains(&more[0]));
        l.forget(&[ids[0]]);
        assert_eq!(l.id("alice"), None);
        assert_eq!(
            l.labels_of(&[ids[1] as i64, -1, 999]),
            vec![Some("bob"), None, None]
        );
        let e = l.ids_of(&["bob", "zed"]).unwrap_err();
        assert!(!e.to_string().contains("zed"), "{e}");
        // A forgotten label may come back, under a new id.
        let again = l.plan(&["alice"]).unwrap();
        assert!(again[0] > ids[1]);
    }
}
