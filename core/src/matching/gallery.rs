//! The 1:N gallery: packed codes of one origin keyed by caller ids, added,
//! removed and searched.

use std::collections::HashMap;

use super::scan::TopK;
use super::{Candidate, PARALLEL_FROM_BYTES};
use crate::codes::CodeLayout;
use crate::decision::check_threshold;
use crate::error::{Error, Result};
use crate::protector::Protector;
use crate::template::{Origin, ProtectedTemplate};

/// What a gallery's growth allocates ([`Error::OutOfMemory`]).
const GROWTH: &str = "the gallery's codes, ids and index";

/// Bytes of packed codes scanned for every probe of a batch before the next
/// block: a block stays in the L2 cache while each probe of the batch is
/// compared with it, so a batch reads the gallery from memory once.
const BATCH_BLOCK_BYTES: usize = 256 << 10;

/// A 1:N gallery of protected templates keyed by caller ids.
#[derive(Clone, Debug)]
pub struct Gallery {
    /// What made the templates this gallery accepts.
    pub(super) origin: Origin,
    pub(super) ids: Vec<u64>,
    pub(super) codes: Vec<u64>,
    index: HashMap<u64, usize>,
    threads: usize,
}

impl Drop for Gallery {
    /// Protected codes are still personal data: wipe them, spare capacity
    /// included (removals leave old codes there).
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.codes);
    }
}

impl Gallery {
    /// An empty gallery for the templates of `origin`: a
    /// [`Protector`] (`Gallery::new(&protector)`) or its
    /// [`Protector::origin`].
    pub fn new(origin: impl Into<Origin>) -> Self {
        Self {
            origin: origin.into(),
            ids: Vec::new(),
            codes: Vec::new(),
            index: HashMap::new(),
            threads: 0,
        }
    }

    /// An empty gallery for templates made like `example` (same scheme,
    /// parameters and key).
    pub fn like(example: &ProtectedTemplate) -> Self {
        Self::new(example.origin())
    }

    /// What made the templates this gallery holds.
    pub fn origin(&self) -> Origin {
        self.origin
    }

    /// Number of templates.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when the gallery holds no template.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Whether `id` is present.
    pub fn contains(&self, id: u64) -> bool {
        self.index.contains_key(&id)
    }

    /// The ids, in storage order.
    pub fn ids(&self) -> &[u64] {
        &self.ids
    }

    /// The packed codes in storage order, one per id of [`Gallery::ids`]:
    /// with the ids, everything needed to rebuild the gallery with
    /// [`Gallery::add_packed`] under the same origin.
    pub fn codes(&self) -> &[u64] {
        &self.codes
    }

    /// Shape of the codes.
    pub fn layout(&self) -> CodeLayout {
        self.origin.layout
    }

    /// Bytes of memory per template in the scan buffer.
    pub fn bytes_per_template(&self) -> usize {
        self.origin.layout.words() * 8 + std::mem::size_of::<u64>()
    }

    /// Sets the number of search threads; 0 (the default) means one thread
    /// for scans below [`PARALLEL_FROM_BYTES`] of codes and every core above.
    /// A search starts at most [`MAX_THREADS`](super::MAX_THREADS), whatever
    /// is asked.
    pub fn set_threads(&mut self, threads: usize) {
        self.threads = threads;
    }

    /// The thread count setting (0 = automatic).
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Threads for a scan of `bytes` bytes of codes split into at most
    /// `parts` pieces.
    fn effective_threads(&self, bytes: usize, parts: usize) -> usize {
        crate::threads::for_search(self.threads, bytes, PARALLEL_FROM_BYTES, parts)
    }

    /// Adds a template under `id`.
    pub fn add(&mut self, id: u64, template: &ProtectedTemplate) -> Result<()> {
        self.add_batch(&[id], std::slice::from_ref(template))
    }

    /// Adds templates under ids; all or nothing (a duplicate id, within the
    /// batch or with the gallery, or a foreign template adds none).
    pub fn add_batch(&mut self, ids: &[u64], templates: &[ProtectedTemplate]) -> Result<()> {
        if ids.len() != templates.len() {
            return Err(Error::param("ids", "as many ids as templates are needed"));
        }
        for t in templates {
            self.origin.check(t)?;
        }
        self.check_new_ids(ids)?;
        let words = self.origin.layout.words();
        self.reserve_wiped(crate::alloc::product(templates.len(), words, 8, GROWTH)?)?;
        for (&id, t) in ids.iter().zip(templates) {
            self.push(id, t.words());
        }
        Ok(())
    }

    /// Adds packed codes (`ids.len() * layout().words()` words, as made by
    /// [`Protector::protect_batch_packed`]) of `origin`, this gallery's (a
    /// [`Protector`] or its origin; another is a
    /// [`Error::SchemeMismatch`] or [`Error::KeyMismatch`], as for its
    /// templates); all or nothing, each code checked
    /// ([`CodeLayout::check_batch`]).
    pub fn add_packed(
        &mut self,
        origin: impl Into<Origin>,
        ids: &[u64],
        codes: &[u64],
    ) -> Result<()> {
        self.origin.check_same(&origin.into())?;
        let layout = self.origin.layout;
        let words = layout.words();
        if ids.len().checked_mul(words) != Some(codes.len()) {
            return Err(Error::param(
                "codes",
                "length differs from ids x words per code",
            ));
        }
        layout.check_batch(codes)?;
        self.check_new_ids(ids)?;
        self.reserve_wiped(codes.len())?;
        for (&id, code) in ids.iter().zip(codes.chunks_exact(words)) {
            self.push(id, code);
        }
        Ok(())
    }

    /// Protects the row-major feature vectors `rows` (one row of
    /// `protector.dim()` floats per id) with `protector`, the gallery's, and
    /// adds their codes under `ids`: all or nothing, the shapes checked before
    /// any row is protected.
    ///
    /// # Errors
    /// [`Error::WrongDimension`] (in an [`Error::Row`] naming the last, partial
    /// row) when `rows.len()` is not a multiple of the dimension;
    /// [`Error::InvalidParameter`] naming `ids` when the rows and ids differ in
    /// number; then the errors of
    /// [`Protector::protect_batch_packed`] and [`Gallery::add_packed`].
    pub fn add_features(&mut self, protector: &Protector, ids: &[u64], rows: &[f32]) -> Result<()> {
        let dim = protector.dim();
        let n = rows.len() / dim;
        if !rows.len().is_multiple_of(dim) {
            let got = rows.len() % dim;
            return Err(Error::row(n, Error::WrongDimension { expected: dim, got }));
        }
        if n != ids.len() {
            return Err(Error::param(
                "ids",
                format!("{} ids for {n} rows: one id per row is needed", ids.len()),
            ));
        }
        let codes = zeroize::Zeroizing::new(protector.protect_batch_packed(rows)?);
        self.add_packed(protector, ids, &codes)
    }

    fn check_new_ids(&self, ids: &[u64]) -> Result<()> {
        let mut seen = std::collections::HashSet::with_capacity(ids.len());
        for &id in ids {
            if self.index.contains_key(&id) || !seen.insert(id) {
                return Err(Error::DuplicateId(id));
            }
        }
        Ok(())
    }

    /// Makes room for `more` code words and their ids, or
    /// [`Error::OutOfMemory`] with the gallery unchanged. A `Vec` that
    /// grows frees its old buffer unwiped, so growth is done here: a larger
    /// buffer, the codes copied over, the old buffer wiped (found by
    /// `tests/secrets.rs`).
    fn reserve_wiped(&mut self, more: usize) -> Result<()> {
        let entries = more / self.origin.layout.words().max(1);
        crate::alloc::reserve(&mut self.ids, entries, GROWTH)?;
        let oom = |bytes| Error::OutOfMemory {
            what: GROWTH,
            bytes,
        };
        self.index
            .try_reserve(entries)
            .map_err(|_| oom(entries as u128 * 16))?;
        let need = self.codes.len() as u128 + more as u128;
        if self.codes.capacity() as u128 >= need {
            return Ok(());
        }
        let need = usize::try_from(need).map_err(|_| oom(need * 8))?;
        let mut bigger = crate::alloc::with_capacity(need.max(2 * self.codes.capacity()), GROWTH)
            .or_else(|_| crate::alloc::with_capacity(need, GROWTH))?;
        bigger.extend_from_slice(&self.codes);
        let mut old = std::mem::replace(&mut self.codes, bigger);
        zeroize::Zeroize::zeroize(&mut old);
        Ok(())
    }

    fn push(&mut self, id: u64, code: &[u64]) {
        self.index.insert(id, self.ids.len());
        self.ids.push(id);
        self.codes.extend_from_slice(code);
    }

    /// Removes the template under `id`.
    pub fn remove(&mut self, id: u64) -> Result<()> {
        let pos = self.index.remove(&id).ok_or(Error::NotFound(id))?;
        let words = self.origin.layout.words();
        let last = self.ids.len() - 1;
        if pos != last {
            self.codes
                .copy_within(last * words..(last + 1) * words, pos * words);
            self.ids[pos] = self.ids[last];
            self.index.insert(self.ids[pos], pos);
        }
        self.ids.pop();
        self.codes.truncate(last * words);
        Ok(())
    }

    /// Removes every id present in `ids`; returns how many were removed.
    pub fn remove_batch(&mut self, ids: &[u64]) -> usize {
        ids.iter().filter(|&&id| self.remove(id).is_ok()).count()
    }

    /// The template stored under `id`.
    pub fn get(&self, id: u64) -> Option<ProtectedTemplate> {
        let pos = *self.index.get(&id)?;
        let words = self.origin.layout.words();
        Some(
            self.origin
                .template(self.codes[pos * words..(pos + 1) * words].to_vec()),
        )
    }

    /// The best `k` candidates for `probe`, restricted to scores
    /// `>= threshold` when one is given; sorted by score descending, ties by
    /// ascending id.
    pub fn search(
        &self,
        probe: &ProtectedTemplate,
        k: usize,
        threshold: Option<f64>,
    ) -> Result<Vec<Candidate>> {
        self.origin.check(probe)?;
        let max_mis = self.search_bounds(k, threshold)?;
        let Some(max_mis) = max_mis else {
            return Ok(Vec::new());
        };
        let n = self.len();
        let threads = self.effective_threads(self.codes.len() * 8, n);
        let per = n.div_ceil(threads).max(1);
        let one = |start: usize, end: usize| {
            let mut top = [TopK::new(k.min(n).max(1), max_mis)];
            self.scan(start, end, &[probe.words()], &mut top);
            let [top] = top;
            top.into_hits()
        };
        let mut hits: Vec<(u32, u64)> = if threads <= 1 {
            one(0, n)
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> = (0..n)
                    .step_by(per)
                    .map(|start| s.spawn(move || one(start, (start + per).min(n))))
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().expect("search worker panicked"))
                    .collect()
            })
        };
        hits.sort_unstable();
        hits.truncate(k);
        Ok(self.candidates(hits))
    }

    /// [`Gallery::search`] for many probes, spread over threads by probe.
    pub fn search_batch(
        &self,
        probes: &[ProtectedTemplate],
        k: usize,
        threshold: Option<f64>,
    ) -> Result<Vec<Vec<Candidate>>> {
        for p in probes {
            self.origin.check(p)?;
        }
        let codes: Vec<&[u64]> = probes.iter().map(|p| p.words()).collect();
        self.search_codes(&codes, k, threshold)
    }

    /// [`Gallery::search_batch`] for packed probe codes of `origin`, this
    /// gallery's (a [`Protector`] or its origin; another is a mismatch, as
    /// in [`Gallery::add_packed`]): `n * layout().words()` words, each code
    /// checked ([`CodeLayout::check_batch`]).
    pub fn search_packed(
        &self,
        origin: impl Into<Origin>,
        codes: &[u64],
        k: usize,
        threshold: Option<f64>,
    ) -> Result<Vec<Vec<Candidate>>> {
        self.origin.check_same(&origin.into())?;
        let layout = self.origin.layout;
        layout.check_batch(codes)?;
        let probes: Vec<&[u64]> = codes.chunks_exact(layout.words()).collect();
        self.search_codes(&probes, k, threshold)
    }

    /// The search of checked probe codes, spread over threads by probe.
    fn search_codes(
        &self,
        probes: &[&[u64]],
        k: usize,
        threshold: Option<f64>,
    ) -> Result<Vec<Vec<Candidate>>> {
        let Some(max_mis) = self.search_bounds(k, threshold)? else {
            return Ok(vec![Vec::new(); probes.len()]);
        };
        let bytes = (self.codes.len() * 8).saturating_mul(probes.len());
        let threads = self.effective_threads(bytes, probes.len());
        if threads <= 1 {
            return Ok(self.search_blocked(probes, k, max_mis));
        }
        let per = probes.len().div_ceil(threads);
        Ok(std::thread::scope(|s| {
            let handles: Vec<_> = probes
                .chunks(per)
                .map(|chunk| s.spawn(move || self.search_blocked(chunk, k, max_mis)))
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("search worker panicked"))
                .collect()
        }))
    }

    /// Searches for several probes on this thread, block by block: each
    /// block of the gallery is compared with every probe while it is in
    /// cache, so the gallery is read from memory once per call.
    fn search_blocked(&self, probes: &[&[u64]], k: usize, max_mis: u32) -> Vec<Vec<Candidate>> {
        let n = self.len();
        let words = self.origin.layout.words();
        let block = (BATCH_BLOCK_BYTES / (words * 8).max(1)).max(1);
        let mut tops: Vec<TopK> = probes
            .iter()
            .map(|_| TopK::new(k.min(n).max(1), max_mis))
            .collect();
        for start in (0..n).step_by(block) {
            self.scan(start, (start + block).min(n), probes, &mut tops);
        }
        tops.into_iter()
            .map(|t| {
                let mut hits = t.into_hits();
                hits.sort_unstable();
                self.candidates(hits)
            })
            .collect()
    }

    /// Similarity of `probe` with every entry, in storage order (see [`Gallery::ids`]).
    pub fn scores(&self, probe: &ProtectedTemplate) -> Result<Vec<f64>> {
        self.origin.check(probe)?;
        let layout = self.origin.layout;
        Ok(self
            .codes
            .chunks_exact(layout.words())
            .map(|c| layout.score(layout.mismatches(c, probe.words())))
            .collect())
    }

    fn search_bounds(&self, k: usize, threshold: Option<f64>) -> Result<Option<u32>> {
        if k == 0 {
            return Err(Error::param("k", "must be at least 1"));
        }
        let layout = self.origin.layout;
        match threshold {
            None => Ok(Some(layout.len() as u32)),
            Some(t) => {
                check_threshold(t)?;
                Ok(layout.max_mismatches(t))
            }
        }
    }

    fn candidates(&self, hits: Vec<(u32, u64)>) -> Vec<Candidate> {
        let layout = self.origin.layout;
        hits.into_iter()
            .map(|(m, id)| Candidate {
                id,
                score: layout.score(m),
            })
            .collect()
    }
}
