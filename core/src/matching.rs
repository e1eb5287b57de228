//! Matching in the protected domain: 1:1 decisions and 1:N galleries.
//!
//! A [`Gallery`] holds the packed codes of one scheme, parameters and key
//! contiguously (`len * words` `u64`s, see [`crate::codes`]), so a search is
//! one linear scan of memory: XOR, fold, popcount per word, with a bounded
//! heap keeping the best `k` (no sort of the whole gallery). Large galleries
//! are split across threads and the partial results merged. Results are
//! sorted by score descending, ties broken by ascending id, so a search is
//! deterministic whatever the thread count.

use std::collections::{BinaryHeap, HashMap};

use crate::codes::CodeLayout;
use crate::error::{Error, Result};
use crate::protector::Protector;
use crate::template::{Origin, ProtectedTemplate};

/// Threshold calibration: the smallest threshold whose false match rate on
/// a set of impostor scores is at most a target, with the rate achieved
/// (`eval::threshold_at_fmr`; `eval::threshold_at_fmr_from` for histograms).
pub use crate::eval::threshold_at_fmr as calibrate_threshold;

/// Bytes of packed codes a search must scan before it uses every core by
/// default: below it, starting threads costs more than it saves (a 1:N
/// scan reads about 20 GB/s on one core; a thread start costs tens of
/// microseconds).
pub const PARALLEL_FROM_BYTES: usize = 4 << 20;

/// Most threads a search starts: a thread count from a caller (say
/// `usize::MAX`) must not make it spawn threads until spawning fails.
pub const MAX_THREADS: usize = 256;

/// What a gallery's growth allocates ([`Error::OutOfMemory`]).
const GROWTH: &str = "the gallery's codes, ids and index";

/// Bytes of packed codes scanned for every probe of a batch before the next
/// block: a block stays in the L2 cache while each probe of the batch is
/// compared with it, so a batch reads the gallery from memory once.
const BATCH_BLOCK_BYTES: usize = 256 << 10;

/// The outcome of a 1:1 comparison: accept iff `score >= threshold`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Decision {
    /// Similarity in [0, 1].
    pub score: f64,
    /// The threshold the score was held against.
    pub threshold: f64,
    /// `score >= threshold`.
    pub matched: bool,
}

fn check_threshold(threshold: f64) -> Result<()> {
    if (0.0..=1.0).contains(&threshold) {
        Ok(())
    } else {
        Err(Error::param("threshold", "must be a number in [0, 1]"))
    }
}

/// 1:1 verification of a probe against a reference template.
pub fn verify(
    reference: &ProtectedTemplate,
    probe: &ProtectedTemplate,
    threshold: f64,
) -> Result<Decision> {
    check_threshold(threshold)?;
    let score = reference.similarity(probe)?;
    Ok(Decision {
        score,
        threshold,
        matched: score >= threshold,
    })
}

/// One entry of a search result.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Candidate {
    /// The caller's id of the gallery entry.
    pub id: u64,
    /// Similarity in [0, 1].
    pub score: f64,
}

/// A 1:N gallery of protected templates keyed by caller ids.
#[derive(Clone, Debug)]
pub struct Gallery {
    /// What made the templates this gallery accepts.
    identity: Origin,
    ids: Vec<u64>,
    codes: Vec<u64>,
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
    /// An empty gallery for the templates of `protector`.
    pub fn new(protector: &Protector) -> Self {
        Self::with_identity(protector.origin())
    }

    /// An empty gallery for templates made like `example` (same scheme,
    /// parameters and key).
    pub fn like(example: &ProtectedTemplate) -> Self {
        Self::with_identity(Origin::of(example))
    }

    fn with_identity(identity: Origin) -> Self {
        Self {
            identity,
            ids: Vec::new(),
            codes: Vec::new(),
            index: HashMap::new(),
            threads: 0,
        }
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

    /// Shape of the codes.
    pub fn layout(&self) -> CodeLayout {
        self.identity.layout
    }

    /// Bytes of memory per template in the scan buffer.
    pub fn bytes_per_template(&self) -> usize {
        self.identity.layout.words() * 8 + std::mem::size_of::<u64>()
    }

    /// Sets the number of search threads; 0 (the default) means one thread
    /// for scans below [`PARALLEL_FROM_BYTES`] of codes and every core above.
    /// A search starts at most [`MAX_THREADS`], whatever is asked.
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
        let t = match self.threads {
            0 if bytes < PARALLEL_FROM_BYTES => 1,
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            t => t,
        };
        t.min(parts.max(1)).min(MAX_THREADS)
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
            self.identity.check(t)?;
        }
        self.check_new_ids(ids)?;
        let words = self.identity.layout.words();
        self.reserve_wiped(crate::alloc::product(templates.len(), words, 8, GROWTH)?)?;
        for (&id, t) in ids.iter().zip(templates) {
            self.push(id, t.words());
        }
        Ok(())
    }

    /// Adds packed codes (`ids.len() * layout().words()` words, as made by
    /// [`Protector::protect_batch_packed`] of this gallery's protector).
    pub fn add_packed(&mut self, protector: &Protector, ids: &[u64], codes: &[u64]) -> Result<()> {
        if protector.origin() != self.identity {
            // Report the mismatch as for a template of that protector.
            self.identity
                .check(&protector.template_unchecked(vec![0; protector.layout().words()]))?;
        }
        let layout = self.identity.layout;
        let words = layout.words();
        if ids.len().checked_mul(words) != Some(codes.len()) {
            return Err(Error::param(
                "codes",
                "length differs from ids x words per code",
            ));
        }
        for (row, code) in codes.chunks_exact(words).enumerate() {
            layout.check_words(code).map_err(|e| Error::row(row, e))?;
        }
        self.check_new_ids(ids)?;
        self.reserve_wiped(codes.len())?;
        for (&id, code) in ids.iter().zip(codes.chunks_exact(words)) {
            self.push(id, code);
        }
        Ok(())
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
        let entries = more / self.identity.layout.words().max(1);
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
        let words = self.identity.layout.words();
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
        let words = self.identity.layout.words();
        let i = self.identity;
        Some(ProtectedTemplate::new(
            i.scheme,
            i.params_id,
            i.fingerprint,
            i.layout,
            self.codes[pos * words..(pos + 1) * words].to_vec(),
        ))
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
        self.identity.check(probe)?;
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
            top.heap.into_vec()
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
            self.identity.check(p)?;
        }
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
    fn search_blocked(
        &self,
        probes: &[ProtectedTemplate],
        k: usize,
        max_mis: u32,
    ) -> Vec<Vec<Candidate>> {
        let n = self.len();
        let words = self.identity.layout.words();
        let block = (BATCH_BLOCK_BYTES / (words * 8).max(1)).max(1);
        let codes: Vec<&[u64]> = probes.iter().map(|p| p.words()).collect();
        let mut tops: Vec<TopK> = probes
            .iter()
            .map(|_| TopK::new(k.min(n).max(1), max_mis))
            .collect();
        for start in (0..n).step_by(block) {
            self.scan(start, (start + block).min(n), &codes, &mut tops);
        }
        tops.into_iter()
            .map(|t| {
                let mut hits = t.heap.into_vec();
                hits.sort_unstable();
                self.candidates(hits)
            })
            .collect()
    }

    /// Similarity of `probe` with every entry, in storage order (see [`Gallery::ids`]).
    pub fn scores(&self, probe: &ProtectedTemplate) -> Result<Vec<f64>> {
        self.identity.check(probe)?;
        let layout = self.identity.layout;
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
        let layout = self.identity.layout;
        match threshold {
            None => Ok(Some(layout.len() as u32)),
            Some(t) => {
                check_threshold(t)?;
                Ok(layout.max_mismatches(t))
            }
        }
    }

    fn candidates(&self, hits: Vec<(u32, u64)>) -> Vec<Candidate> {
        let layout = self.identity.layout;
        hits.into_iter()
            .map(|(m, id)| Candidate {
                id,
                score: layout.score(m),
            })
            .collect()
    }

    /// Offers entries `start..end` to the top-k of each probe (`probes[i]`
    /// feeds `tops[i]`).
    fn scan(&self, start: usize, end: usize, probes: &[&[u64]], tops: &mut [TopK]) {
        match self.identity.layout.width() {
            1 => self.scan_width::<1>(start, end, probes, tops),
            4 => self.scan_width::<4>(start, end, probes, tops),
            _ => self.scan_width::<8>(start, end, probes, tops),
        }
    }

    /// The scan, compiled once more for AVX2 + POPCNT and chosen at run
    /// time: the portable x86-64 baseline has no popcount instruction, and
    /// with it the 1:N scan runs at about half the memory bandwidth.
    fn scan_width<const W: u8>(
        &self,
        start: usize,
        end: usize,
        probes: &[&[u64]],
        tops: &mut [TopK],
    ) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("popcnt")
        {
            #[allow(unsafe_code)]
            // SAFETY: the function only needs AVX2 and POPCNT, which this
            // CPU has (checked just above); it is otherwise the same safe code.
            unsafe {
                self.scan_width_avx2::<W>(start, end, probes, tops)
            };
            return;
        }
        self.scan_width_body::<W>(start, end, probes, tops);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,popcnt")]
    fn scan_width_avx2<const W: u8>(
        &self,
        start: usize,
        end: usize,
        probes: &[&[u64]],
        tops: &mut [TopK],
    ) {
        self.scan_width_body::<W>(start, end, probes, tops);
    }

    #[inline(always)]
    fn scan_width_body<const W: u8>(
        &self,
        start: usize,
        end: usize,
        probes: &[&[u64]],
        tops: &mut [TopK],
    ) {
        // Common code sizes get a loop with the word count known at compile
        // time (unrolled, no per-entry length logic): 2 words is 128-bit
        // BioHash, 32 words a 512-hash IoM code with 16-wide windows.
        for (probe, top) in probes.iter().zip(tops.iter_mut()) {
            match probe.len() {
                2 => self.scan_fixed::<W, 2>(start, end, probe, top),
                4 => self.scan_fixed::<W, 4>(start, end, probe, top),
                8 => self.scan_fixed::<W, 8>(start, end, probe, top),
                16 => self.scan_fixed::<W, 16>(start, end, probe, top),
                32 => self.scan_fixed::<W, 32>(start, end, probe, top),
                64 => self.scan_fixed::<W, 64>(start, end, probe, top),
                words => self.scan_with(start, end, words, top, |code| {
                    crate::codes::mismatches(W, code, probe)
                }),
            }
        }
    }

    #[inline(always)]
    fn scan_fixed<const W: u8, const N: usize>(
        &self,
        start: usize,
        end: usize,
        probe: &[u64],
        top: &mut TopK,
    ) {
        let probe: &[u64; N] = probe.try_into().expect("the probe has N words");
        self.scan_with(start, end, N, top, |code| {
            let code: &[u64; N] = code.try_into().expect("entries have N words");
            crate::codes::mismatches(W, code, probe)
        });
    }

    /// Offers entries `start..end`, scored by `distance`, to `top`.
    #[inline(always)]
    fn scan_with(
        &self,
        start: usize,
        end: usize,
        words: usize,
        top: &mut TopK,
        distance: impl Fn(&[u64]) -> u32,
    ) {
        let codes = &self.codes[start * words..end * words];
        for (code, &id) in codes.chunks_exact(words).zip(&self.ids[start..end]) {
            top.offer(distance(code), id);
        }
    }
}

/// The best `k` (mismatches, id) offered so far with at most `bound`
/// mismatches: a max-heap of `k` entries whose root tightens the bound, so
/// most entries are rejected by one comparison.
struct TopK {
    heap: BinaryHeap<(u32, u64)>,
    bound: u32,
    k: usize,
}

impl TopK {
    fn new(k: usize, max_mis: u32) -> Self {
        Self {
            heap: BinaryHeap::with_capacity(k.min(1 << 16) + 1),
            bound: max_mis,
            k,
        }
    }

    #[inline(always)]
    fn offer(&mut self, m: u32, id: u64) {
        if m > self.bound {
            return;
        }
        if self.heap.len() < self.k {
            self.heap.push((m, id));
            if self.heap.len() == self.k {
                self.bound = self.bound.min(self.heap.peek().expect("k >= 1").0);
            }
        } else if (m, id) < *self.heap.peek().expect("k >= 1") {
            self.heap.pop();
            self.heap.push((m, id));
            self.bound = self.bound.min(self.heap.peek().expect("k >= 1").0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MasterKey, SchemeParams};

    /// The CPU-specific scan and the portable one find the same entries.
    #[test]
    fn dispatched_and_portable_scans_agree() {
        let mk = MasterKey::from_bytes(&[7; 32]).unwrap();
        for params in [
            SchemeParams::iom_grp(16, 40, 16).unwrap(),
            SchemeParams::biohash(16, 16).unwrap(),
            SchemeParams::iom_grp(16, 30, 200).unwrap(),
        ] {
            let prot = Protector::new(params, &mk, "t", 1, None).unwrap();
            let mut state = 0x2545_f491_4f6c_dd1du64;
            let rows: Vec<f32> = (0..300 * 16)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state % 2001) as f32 / 1000.0 - 1.0
                })
                .collect();
            let codes = prot.protect_batch_packed(&rows).unwrap();
            let ids: Vec<u64> = (0..300).map(|i| 1000 - i).collect();
            let mut g = Gallery::new(&prot);
            g.add_packed(&prot, &ids, &codes).unwrap();
            let probe = prot.protect(&rows[..16]).unwrap();
            let width = prot.layout().width();
            for k in [1, 7, 300] {
                let mut a = [TopK::new(k, u32::MAX)];
                g.scan(0, 300, &[probe.words()], &mut a);
                let mut b = [TopK::new(k, u32::MAX)];
                match width {
                    1 => g.scan_width_body::<1>(0, 300, &[probe.words()], &mut b),
                    4 => g.scan_width_body::<4>(0, 300, &[probe.words()], &mut b),
                    _ => g.scan_width_body::<8>(0, 300, &[probe.words()], &mut b),
                };
                let [a] = a;
                let [b] = b;
                let (mut a, mut b) = (a.heap.into_vec(), b.heap.into_vec());
                a.sort_unstable();
                b.sort_unstable();
                assert_eq!(a, b);
                assert_eq!(a.len(), k);
            }
        }
    }
}
