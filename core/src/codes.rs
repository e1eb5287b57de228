//! The packed memory layout of protected codes, and their comparison.
//!
//! A protected code is `len` elements, each an index below `alphabet`:
//! IoM hashes are indices in `0..window`, BioHash elements are bits. Elements
//! are packed into little-endian `u64` words at a fixed width:
//!
//! | alphabet | width | example |
//! |---|---|---|
//! | 2 | 1 bit | BioHash: 256 bits = 4 words |
//! | 3..=16 | 4 bits | IoM, window 16: 512 hashes = 256 bytes = 32 words |
//! | 17..=256 | 8 bits | IoM, window 64 |
//!
//! Element `i` occupies bits `(i * width) % 64 ..` of word `(i * width) / 64`;
//! bits past the last element are zero. On the wire (template payload) the
//! words are written little-endian and cut to `ceil(len * width / 8)` bytes.
//!
//! Comparison counts the elements that differ: XOR the words, fold each
//! element's bits into its lowest bit, mask, popcount. Padding is zero in
//! both codes, so it never counts. The similarity is
//! `1 - mismatches / len`: the fraction of equal IoM indices, or one minus
//! the normalised Hamming distance for BioHash.

use crate::error::{DecodeError, Error, Result};

/// Shape of a packed code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CodeLayout {
    len: u32,
    alphabet: u16,
    width: u8,
}

const LOW_BIT_1: u64 = u64::MAX;
const LOW_BIT_4: u64 = 0x1111_1111_1111_1111;
const LOW_BIT_8: u64 = 0x0101_0101_0101_0101;

impl CodeLayout {
    /// The layout of `len` elements below `alphabet` (2..=256).
    pub fn new(len: u32, alphabet: u16) -> Result<Self> {
        if len == 0 {
            return Err(Error::param("len", "a code needs at least one element"));
        }
        let width = match alphabet {
            2 => 1,
            3..=16 => 4,
            17..=256 => 8,
            _ => return Err(Error::param("alphabet", "must be in 2..=256")),
        };
        Ok(Self {
            len,
            alphabet,
            width,
        })
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Always false: a layout has at least one element.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Elements are below this.
    pub fn alphabet(&self) -> u16 {
        self.alphabet
    }

    /// Bits per element (1, 4 or 8).
    pub fn width(&self) -> u8 {
        self.width
    }

    /// `u64` words per packed code.
    pub fn words(&self) -> usize {
        (self.len as usize * self.width as usize).div_ceil(64)
    }

    /// Bytes of a packed code on the wire.
    pub fn bytes(&self) -> usize {
        (self.len as usize * self.width as usize).div_ceil(8)
    }

    /// Packs elements (each `< alphabet`) into `out` (`words()` long).
    pub fn pack_into(&self, elements: &[u8], out: &mut [u64]) {
        debug_assert_eq!(elements.len(), self.len());
        debug_assert_eq!(out.len(), self.words());
        debug_assert!(elements.iter().all(|&e| u16::from(e) < self.alphabet));
        // One word at a time (64 / width elements each), the width known
        // at compile time: no per-element indexing of `out`, constant
        // shifts, so the loop vectorises.
        out.fill(0);
        match self.width {
            1 => pack_words::<1>(elements, out),
            4 => pack_words::<4>(elements, out),
            8 => pack_words::<8>(elements, out),
            w => unreachable!("layouts have widths 1, 4 or 8, not {w}"),
        }
    }

    /// Packs elements into a new vector of words.
    pub fn pack(&self, elements: &[u8]) -> Vec<u64> {
        let mut out = vec![0; self.words()];
        self.pack_into(elements, &mut out);
        out
    }

    /// The elements of a packed code.
    pub fn unpack(&self, words: &[u64]) -> Vec<u8> {
        let w = self.width as usize;
        let mask = (1u64 << w) - 1;
        (0..self.len())
            .map(|i| {
                let bit = i * w;
                ((words[bit / 64] >> (bit % 64)) & mask) as u8
            })
            .collect()
    }

    /// Wire bytes of a packed code.
    pub fn to_bytes(&self, words: &[u64]) -> Vec<u8> {
        let mut out: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        out.truncate(self.bytes());
        out
    }

    /// Reads wire bytes, checking length, zero padding and every element.
    pub fn from_bytes(&self, bytes: &[u8]) -> Result<Vec<u64>> {
        let what = "code";
        if bytes.len() != self.bytes() {
            return Err(Error::decode(
                what,
                DecodeError::Truncated {
                    needed: self.bytes(),
                    got: bytes.len(),
                },
            ));
        }
        let mut words = vec![0u64; self.words()];
        for (i, chunk) in bytes.chunks(8).enumerate() {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            words[i] = u64::from_le_bytes(b);
        }
        self.check_words(&words)?;
        Ok(words)
    }

    /// Checks a packed code: word count, zero padding bits, every element
    /// inside the alphabet.
    pub fn check_words(&self, words: &[u64]) -> Result<()> {
        let what = "code";
        if words.len() != self.words() {
            return Err(Error::decode(
                what,
                DecodeError::Invalid("word count differs from the layout"),
            ));
        }
        let used = self.len() * self.width as usize;
        if !used.is_multiple_of(64) && words[used / 64] >> (used % 64) != 0 {
            return Err(Error::decode(
                what,
                DecodeError::Invalid("non-zero padding bits"),
            ));
        }
        if self.width > 1
            && self
                .unpack(words)
                .iter()
                .any(|&e| u16::from(e) >= self.alphabet)
        {
            return Err(Error::decode(
                what,
                DecodeError::Invalid("element outside the alphabet"),
            ));
        }
        Ok(())
    }

    /// Checks a batch of packed codes (`n * words()` words, row-major, as
    /// [`Protector::protect_batch_packed`](crate::Protector::protect_batch_packed)
    /// makes them) and returns `n`. A bad code is an [`Error::Row`] naming
    /// its row (see [`CodeLayout::check_words`]); a length that is not a
    /// multiple of the words of a code is an [`Error::InvalidParameter`]
    /// naming `codes`.
    pub fn check_batch(&self, codes: &[u64]) -> Result<usize> {
        let words = self.words();
        if !codes.len().is_multiple_of(words) {
            return Err(Error::param(
                "codes",
                format!(
                    "length {} is not a multiple of the {words} words of a code",
                    codes.len()
                ),
            ));
        }
        for (row, code) in codes.chunks_exact(words).enumerate() {
            self.check_words(code).map_err(|e| Error::row(row, e))?;
        }
        Ok(codes.len() / words)
    }

    /// The elements of each code of a batch (IoM indices or BioHash bits),
    /// one byte each: `n * len()` bytes, row-major; the codes are checked
    /// first ([`CodeLayout::check_batch`]).
    pub fn unpack_batch(&self, codes: &[u64]) -> Result<Vec<u8>> {
        let n = self.check_batch(codes)?;
        let mut out = Vec::with_capacity(n * self.len());
        for code in codes.chunks_exact(self.words()) {
            out.extend(self.unpack(code));
        }
        Ok(out)
    }

    /// Number of elements that differ between two packed codes.
    #[inline]
    pub fn mismatches(&self, a: &[u64], b: &[u64]) -> u32 {
        mismatches(self.width, a, b)
    }

    /// Similarity in [0, 1] from a mismatch count.
    #[inline]
    pub fn score(&self, mismatches: u32) -> f64 {
        1.0 - f64::from(mismatches) / f64::from(self.len)
    }

    /// Largest mismatch count whose score is still `>= threshold`, or `None`
    /// when no count reaches it (threshold above 1).
    pub fn max_mismatches(&self, threshold: f64) -> Option<u32> {
        (0..=self.len).rev().find(|&m| self.score(m) >= threshold)
    }
}

/// Folds each `width`-bit field of `x` onto its lowest bit and counts them.
#[inline(always)]
fn fold_count(width: u8, x: u64) -> u32 {
    match width {
        1 => (x & LOW_BIT_1).count_ones(),
        4 => {
            let y = x | (x >> 2);
            ((y | (y >> 1)) & LOW_BIT_4).count_ones()
        }
        _ => {
            let y = x | (x >> 4);
            let y = y | (y >> 2);
            ((y | (y >> 1)) & LOW_BIT_8).count_ones()
        }
    }
}

/// Mismatching elements between two packed codes of the same width.
#[inline(always)]
pub fn mismatches(width: u8, a: &[u64], b: &[u64]) -> u32 {
    debug_assert_eq!(a.len(), b.len());
    // Separate loops per width let the compiler specialise each one.
    match width {
        1 => a.iter().zip(b).map(|(x, y)| fold_count(1, x ^ y)).sum(),
        4 => a.iter().zip(b).map(|(x, y)| fold_count(4, x ^ y)).sum(),
        _ => a.iter().zip(b).map(|(x, y)| fold_count(8, x ^ y)).sum(),
    }
}

/// `W`-bit elements into words, `64 / W` per word, lowest bits first.
/// Eight elements (bytes) at a time become `8 W` bits by word arithmetic,
/// not a shift per element.
fn pack_words<const W: usize>(elements: &[u8], out: &mut [u64]) {
    let per_word = 64 / W;
    for (word, chunk) in out.iter_mut().zip(elements.chunks(per_word)) {
        let mut full = [0u8; 64];
        let chunk: &[u8] = if chunk.len() == per_word {
            chunk
        } else {
            full[..chunk.len()].copy_from_slice(chunk);
            &full[..per_word]
        };
        *word = chunk
            .chunks_exact(8)
            .enumerate()
            .fold(0u64, |acc, (k, eight)| {
                let v = u64::from_le_bytes(eight.try_into().expect("8 bytes"));
                acc | (pack8::<W>(v) << (k * 8 * W))
            });
    }
}

/// Eight bytes (little-endian in `v`, each below `2^W`) as `8 W` bits.
#[inline(always)]
fn pack8<const W: usize>(v: u64) -> u64 {
    match W {
        // Byte i (0 or 1) lands on bit 56 + i: the multiplier's terms
        // 2^(56 - 7 i) put every other product on a distinct lower or
        // higher bit, so nothing carries into the top byte.
        1 => v.wrapping_mul(0x0102_0408_1020_4080) >> 56,
        // Nibbles of neighbouring bytes, then bytes, then halves, merged.
        4 => {
            let x = (v | (v >> 4)) & 0x00ff_00ff_00ff_00ff;
            let x = (x | (x >> 8)) & 0x0000_ffff_0000_ffff;
            (x | (x >> 16)) & 0xffff_ffff
        }
        _ => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive(a: &[u8], b: &[u8]) -> u32 {
        a.iter().zip(b).filter(|(x, y)| x != y).count() as u32
    }

    #[test]
    fn widths_and_sizes() {
        let l = CodeLayout::new(512, 16).unwrap();
        assert_eq!((l.width(), l.words(), l.bytes()), (4, 32, 256));
        let l = CodeLayout::new(100, 2).unwrap();
        assert_eq!((l.width(), l.words(), l.bytes()), (1, 2, 13));
        let l = CodeLayout::new(3, 200).unwrap();
        assert_eq!((l.width(), l.words(), l.bytes()), (8, 1, 3));
        assert!(CodeLayout::new(0, 2).is_err());
        assert!(CodeLayout::new(1, 1).is_err());
        assert!(CodeLayout::new(1, 257).is_err());
    }

    #[test]
    fn known_packing() {
        let l = CodeLayout::new(3, 16).unwrap();
        assert_eq!(l.pack(&[1, 2, 15]), vec![0xF21]);
        assert_eq!(l.to_bytes(&[0xF21]), vec![0x21, 0x0F]);
        let l = CodeLayout::new(3, 2).unwrap();
        assert_eq!(l.pack(&[1, 0, 1]), vec![0b101]);
    }

    #[test]
    fn decoding_rejects_bad_padding_and_elements() {
        let l = CodeLayout::new(3, 16).unwrap();
        assert!(l.from_bytes(&[0x21, 0x0F]).is_ok());
        assert!(l.from_bytes(&[0x21, 0x1F]).is_err()); // padding nibble set
        assert!(l.from_bytes(&[0x21]).is_err());
        let l = CodeLayout::new(2, 10).unwrap();
        assert!(l.from_bytes(&[0xA1]).is_err()); // 10 is outside 0..10
        assert!(l.from_bytes(&[0x91]).is_ok());
    }

    fn layout_and_codes() -> impl Strategy<Value = (CodeLayout, Vec<u8>, Vec<u8>)> {
        (
            1u32..300,
            prop::sample::select(vec![2u16, 3, 16, 17, 100, 256]),
        )
            .prop_flat_map(|(len, alphabet)| {
                let max = (alphabet - 1) as u8;
                let elems = prop::collection::vec(0u8..=max, len as usize);
                (
                    Just(CodeLayout::new(len, alphabet).unwrap()),
                    elems.clone(),
                    elems,
                )
            })
    }

    proptest! {
        #[test]
        fn pack_round_trips_and_counts_match((l, a, b) in layout_and_codes()) {
            let pa = l.pack(&a);
            let pb = l.pack(&b);
            prop_assert_eq!(l.unpack(&pa), a.clone());
            prop_assert_eq!(l.from_bytes(&l.to_bytes(&pa)).unwrap(), pa.clone());
            let m = l.mismatches(&pa, &pb);
            prop_assert_eq!(m, naive(&a, &b));
            let s = l.score(m);
            prop_assert!((0.0..=1.0).contains(&s));
            prop_assert_eq!(l.mismatches(&pa, &pa), 0);
        }

        #[test]
        fn decode_never_panics(len in 1u32..100, alphabet in 2u16..=256, bytes in prop::collection::vec(any::<u8>(), 0..120)) {
            let l = CodeLayout::new(len, alphabet).unwrap();
            let _ = l.from_bytes(&bytes);
        }
    }

    #[test]
    fn bad_codes_of_a_batch_name_their_row() {
        let l = CodeLayout::new(20, 4).unwrap();
        let mut a: Vec<u64> = (0..3u8).flat_map(|r| l.pack(&[r % 4; 20])).collect();
        let words = l.words();
        assert_eq!(l.check_batch(&a).unwrap(), 3);
        assert_eq!(&l.unpack_batch(&a).unwrap()[20..40], &[1; 20]);
        a[words] = u64::MAX; // padding bits and elements out of the alphabet
        let e = l.check_batch(&a).unwrap_err();
        assert!(matches!(e, Error::Row { row: 1, .. }), "{e:?}");
        assert!(l.unpack_batch(&a).is_err());
        assert!(l.check_batch(&a[..words + 1]).is_err());
    }

    #[test]
    fn max_mismatches_matches_score() {
        let l = CodeLayout::new(10, 16).unwrap();
        assert_eq!(l.max_mismatches(0.0), Some(10));
        assert_eq!(l.max_mismatches(0.75), Some(2));
        assert_eq!(l.max_mismatches(0.8), Some(2));
        assert_eq!(l.max_mismatches(1.0), Some(0));
        assert_eq!(l.max_mismatches(1.01), None);
    }
}
