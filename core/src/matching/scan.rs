//! The 1:N scan of a gallery's packed codes, built once more for AVX2 +
//! POPCNT and chosen at run time, and the bounded heap keeping the best `k`.

use super::Gallery;

impl Gallery {
    /// Offers entries `start..end` to the top-k of each probe (`probes[i]`
    /// feeds `tops[i]`).
    pub(super) fn scan(&self, start: usize, end: usize, probes: &[&[u64]], tops: &mut [TopK]) {
        match self.origin.layout.width() {
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
pub(super) struct TopK {
    heap: std::collections::BinaryHeap<(u32, u64)>,
    bound: u32,
    k: usize,
}

impl TopK {
    pub(super) fn new(k: usize, max_mis: u32) -> Self {
        Self {
            heap: std::collections::BinaryHeap::with_capacity(k.min(1 << 16) + 1),
            bound: max_mis,
            k,
        }
    }

    /// The entries kept, in no order.
    pub(super) fn into_hits(self) -> Vec<(u32, u64)> {
        self.heap.into_vec()
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
    use crate::{MasterKey, Protector, SchemeParams};

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
                let (mut a, mut b) = (a.into_hits(), b.into_hits());
                a.sort_unstable();
                b.sort_unstable();
                assert_eq!(a, b);
                assert_eq!(a.len(), k);
            }
        }
    }
}
