//! The versioned wire format of a protected template.
//!
//! ```text
//! offset size field
//!  0     4    magic "BTPT"
//!  4     1    format version (1)
//!  5     1    scheme id (1 IoM-GRP, 2 IoM-URP, 3 BioHash)
//!  6     2    reserved, zero
//!  8     8    parameters id: first 8 bytes of SHA-256 of the canonical scheme parameters
//! 16     8    key fingerprint (see `keys`)
//! 24     4    code length n (u32 LE): IoM hashes or BioHash bits
//! 28     2    alphabet (u16 LE): IoM window, or 2 for BioHash
//! 30     1    bits per element: 1, 4 or 8 (must agree with the alphabet)
//! 31     1    reserved, zero
//! 32     b    payload: the packed code (see `codes`), b = ceil(n * width / 8)
//! 32+b   4    checksum: first 4 bytes of SHA-256 of bytes 0 .. 32+b
//! ```
//!
//! Decoding is strict: wrong magic, unknown version or scheme, non-zero
//! reserved bytes, inconsistent widths, elements outside the alphabet,
//! non-zero padding, a bad checksum, truncation and trailing bytes are all
//! typed errors. The checksum catches accidental corruption; authenticity
//! at rest is the store's AES-GCM.

use crate::codes::CodeLayout;
use crate::error::{DecodeError, Error, Result};
use crate::keys::{KeyFingerprint, FINGERPRINT_LEN};
use crate::schemes::{append_checksum, Reader, SchemeId};

const MAGIC: &[u8; 4] = b"BTPT";
/// The template format version this build writes and reads.
pub const FORMAT_VERSION: u8 = 1;
/// Bytes before the payload.
pub const HEADER_LEN: usize = 32;
/// Bytes after the payload.
pub const CHECKSUM_LEN: usize = crate::schemes::CHECKSUM_LEN;

/// A protected (cancellable) template: a packed code plus what made it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProtectedTemplate {
    scheme: SchemeId,
    params_id: [u8; 8],
    fingerprint: KeyFingerprint,
    layout: CodeLayout,
    words: Vec<u64>,
}

/// A template's code is personal data (the store keeps it encrypted):
/// wiped when the template is dropped, as a [`crate::Gallery`] wipes its
/// codes.
impl Drop for ProtectedTemplate {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.words);
    }
}

impl ProtectedTemplate {
    pub(crate) fn new(
        scheme: SchemeId,
        params_id: [u8; 8],
        fingerprint: KeyFingerprint,
        layout: CodeLayout,
        words: Vec<u64>,
    ) -> Self {
        debug_assert_eq!(words.len(), layout.words());
        Self {
            scheme,
            params_id,
            fingerprint,
            layout,
            words,
        }
    }

    /// The scheme that made it.
    pub fn scheme(&self) -> SchemeId {
        self.scheme
    }

    /// The parameters id of the scheme that made it.
    pub fn params_id(&self) -> [u8; 8] {
        self.params_id
    }

    /// The fingerprint of the key that made it.
    pub fn fingerprint(&self) -> KeyFingerprint {
        self.fingerprint
    }

    /// Shape of its code.
    pub fn layout(&self) -> CodeLayout {
        self.layout
    }

    /// The packed code.
    pub fn words(&self) -> &[u64] {
        &self.words
    }

    /// The code elements (IoM indices or BioHash bits), one per byte.
    pub fn elements(&self) -> Vec<u8> {
        self.layout.unpack(&self.words)
    }

    /// The encoded length in bytes.
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN + self.layout.bytes() + CHECKSUM_LEN
    }

    /// The wire encoding (see the module documentation).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        out.extend_from_slice(MAGIC);
        out.push(FORMAT_VERSION);
        out.push(self.scheme as u8);
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&self.params_id);
        out.extend_from_slice(&self.fingerprint.0);
        out.extend_from_slice(&(self.layout.len() as u32).to_le_bytes());
        out.extend_from_slice(&self.layout.alphabet().to_le_bytes());
        out.push(self.layout.width());
        out.push(0);
        out.extend_from_slice(&self.layout.to_bytes(&self.words));
        append_checksum(&mut out);
        out
    }

    /// Decodes [`ProtectedTemplate::to_bytes`] strictly; never panics.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let err = |e| Error::decode("template", e);
        let mut r = Reader::new(bytes);
        let scheme = r.header(MAGIC, FORMAT_VERSION).map_err(err)?;
        if r.u16().map_err(err)? != 0 {
            return Err(err(DecodeError::Invalid("reserved bytes are not zero")));
        }
        let params_id: [u8; 8] = r.take(8).map_err(err)?.try_into().expect("8 bytes");
        let fp: [u8; FINGERPRINT_LEN] = r
            .take(FINGERPRINT_LEN)
            .map_err(err)?
            .try_into()
            .expect("fingerprint bytes");
        let len = r.u32().map_err(err)?;
        let alphabet = r.u16().map_err(err)?;
        let width = r.u8().map_err(err)?;
        if r.u8().map_err(err)? != 0 {
            return Err(err(DecodeError::Invalid("reserved byte is not zero")));
        }
        let layout = CodeLayout::new(len, alphabet)
            .map_err(|_| err(DecodeError::Invalid("code length or alphabet out of range")))?;
        if layout.width() != width {
            return Err(err(DecodeError::Invalid(
                "element width disagrees with the alphabet",
            )));
        }
        // BioHash codes are bits; IoM alphabets are the window, 2..=256
        // (a window of 2 is binary too).
        if scheme == SchemeId::BioHash && alphabet != 2 {
            return Err(err(DecodeError::Invalid(
                "alphabet does not suit the scheme",
            )));
        }
        let payload = r.take(layout.bytes()).map_err(err)?;
        r.finish_checksummed().map_err(err)?;
        let words = layout.from_bytes(payload).map_err(|e| match e {
            Error::Decode { source, .. } => err(source),
            other => other,
        })?;
        Ok(Self::new(
            scheme,
            params_id,
            KeyFingerprint(fp),
            layout,
            words,
        ))
    }

    /// What made it: scheme, parameters, code shape and key.
    pub fn origin(&self) -> Origin {
        Origin::of(self)
    }

    /// Checks that `other` was made by the same scheme, parameters and key.
    pub fn check_compatible(&self, other: &Self) -> Result<()> {
        Origin::of(self).check(other)
    }

    /// Similarity in [0, 1] with `other`, after [`Self::check_compatible`].
    pub fn similarity(&self, other: &Self) -> Result<f64> {
        self.check_compatible(other)?;
        Ok(self
            .layout
            .score(self.layout.mismatches(&self.words, &other.words)))
    }
}

/// What made a template: scheme, parameters, code shape and key. Templates
/// of different origins are never compared. A [`Protector`](crate::Protector)
/// has one ([`From<&Protector>`](crate::Protector)), and so has every
/// template ([`ProtectedTemplate::origin`]); a
/// [`Gallery`](crate::Gallery) holds the templates of one origin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Origin {
    pub(crate) scheme: SchemeId,
    pub(crate) params_id: [u8; 8],
    pub(crate) layout: CodeLayout,
    pub(crate) fingerprint: KeyFingerprint,
}

impl Origin {
    pub(crate) fn of(t: &ProtectedTemplate) -> Self {
        Self {
            scheme: t.scheme,
            params_id: t.params_id,
            layout: t.layout,
            fingerprint: t.fingerprint,
        }
    }

    /// The scheme.
    pub fn scheme(&self) -> SchemeId {
        self.scheme
    }

    /// The parameters id of the scheme.
    pub fn params_id(&self) -> [u8; 8] {
        self.params_id
    }

    /// Shape of the codes.
    pub fn layout(&self) -> CodeLayout {
        self.layout
    }

    /// The fingerprint of the transform key.
    pub fn fingerprint(&self) -> KeyFingerprint {
        self.fingerprint
    }

    /// The template of this origin holding `words`, a code this crate made
    /// or checked (`layout.check_words`).
    pub(crate) fn template(&self, words: Vec<u64>) -> ProtectedTemplate {
        ProtectedTemplate::new(
            self.scheme,
            self.params_id,
            self.fingerprint,
            self.layout,
            words,
        )
    }

    /// `SchemeMismatch` or `KeyMismatch` unless `t` has this origin.
    pub(crate) fn check(&self, t: &ProtectedTemplate) -> Result<()> {
        self.check_same(&Self::of(t))
    }

    /// `SchemeMismatch` or `KeyMismatch` unless `other` is this origin: the
    /// errors of [`Origin::check`] for a template of `other`.
    pub(crate) fn check_same(&self, other: &Origin) -> Result<()> {
        if other.scheme != self.scheme {
            return Err(Error::SchemeMismatch(
                "the template comes from a different scheme",
            ));
        }
        if other.params_id != self.params_id || other.layout != self.layout {
            return Err(Error::SchemeMismatch(
                "the template comes from different scheme parameters",
            ));
        }
        if other.fingerprint != self.fingerprint {
            return Err(Error::KeyMismatch);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> ProtectedTemplate {
        let layout = CodeLayout::new(5, 16).unwrap();
        let words = layout.pack(&[0, 15, 3, 7, 9]);
        ProtectedTemplate::new(
            SchemeId::IomGrp,
            [1; 8],
            KeyFingerprint([2; 8]),
            layout,
            words,
        )
    }

    #[test]
    fn known_bytes() {
        let b = sample().to_bytes();
        assert_eq!(b.len(), 32 + 3 + 4);
        assert_eq!(&b[..8], b"BTPT\x01\x01\x00\x00");
        assert_eq!(&b[24..32], &[5, 0, 0, 0, 16, 0, 4, 0]);
        assert_eq!(&b[32..35], &[0xF0, 0x73, 0x09]);
        assert_eq!(ProtectedTemplate::from_bytes(&b).unwrap(), sample());
    }

    /// IoM with a window of 2 (allowed by `SchemeParams`) makes binary
    /// codes: they decode (found by `tests/properties.rs`); a BioHash code
    /// that is not binary does not.
    #[test]
    fn binary_iom_codes_decode_and_non_binary_biohash_codes_do_not() {
        let layout = CodeLayout::new(3, 2).unwrap();
        for scheme in [SchemeId::IomGrp, SchemeId::IomUrp, SchemeId::BioHash] {
            let t = ProtectedTemplate::new(
                scheme,
                [1; 8],
                KeyFingerprint([2; 8]),
                layout,
                layout.pack(&[1, 0, 1]),
            );
            assert_eq!(ProtectedTemplate::from_bytes(&t.to_bytes()).unwrap(), t);
        }
        let mut t = sample();
        t.scheme = SchemeId::BioHash;
        assert_eq!(
            ProtectedTemplate::from_bytes(&t.to_bytes()).unwrap_err(),
            Error::decode(
                "template",
                DecodeError::Invalid("alphabet does not suit the scheme")
            )
        );
    }

    #[test]
    fn every_single_bit_flip_is_rejected() {
        let b = sample().to_bytes();
        for bit in 0..b.len() * 8 {
            let mut v = b.clone();
            v[bit / 8] ^= 1 << (bit % 8);
            assert!(ProtectedTemplate::from_bytes(&v).is_err(), "bit {bit}");
        }
        for cut in 0..b.len() {
            assert!(matches!(
                ProtectedTemplate::from_bytes(&b[..cut]),
                Err(Error::Decode { .. })
            ));
        }
    }

    #[test]
    fn mismatches_are_typed() {
        let a = sample();
        let mut b = sample();
        b.fingerprint = KeyFingerprint([3; 8]);
        assert_eq!(a.similarity(&b).unwrap_err(), Error::KeyMismatch);
        let mut c = sample();
        c.params_id = [9; 8];
        assert!(matches!(a.similarity(&c), Err(Error::SchemeMismatch(_))));
        assert_eq!(a.similarity(&a).unwrap(), 1.0);
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..120)) {
            let _ = ProtectedTemplate::from_bytes(&bytes);
        }

        #[test]
        fn decode_never_panics_on_mutated_headers(pos in 0usize..39, val in any::<u8>()) {
            let mut b = sample().to_bytes();
            b[pos] = val;
            let _ = ProtectedTemplate::from_bytes(&b);
        }
    }
}
