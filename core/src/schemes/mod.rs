//! Cancellable schemes: parameters, their canonical encoding, and the
//! transforms behind one trait.
//!
//! | scheme | id | parameters | code |
//! |---|---|---|---|
//! | IoM-GRP (Jin et al., IEEE TIFS 2018) | 1 | `hashes` m, `window` q | m indices in `0..q` |
//! | IoM-URP (Jin et al., IEEE TIFS 2018) | 2 | `hashes` m, `window` k, `order` p | m indices in `0..k` |
//! | BioHashing (Teoh et al. 2004) | 3 | `bits` L <= dim | L bits |
//!
//! Defaults, chosen for 128- to 512-D face embeddings: IoM-GRP m = 512,
//! q = 16 (256-byte codes; Jin et al. report m in the hundreds with q = 16 as
//! the accuracy/irreversibility sweet spot); IoM-URP m = 512, k = 16, p = 2;
//! BioHash L = dim (the orthonormal projection keeps every direction).
//!
//! Every transform is a pure function of (parameters, transform key, feature
//! vector). Its matrices and permutations are drawn from the ChaCha20 stream
//! seeded with the transform key (see `rng`), so the same key and parameters
//! give bit-identical templates everywhere.
//!
//! ## Canonical parameter encoding (`SchemeParams::to_bytes`)
//!
//! ```text
//! "BTPP" | version u8 = 1 | scheme id u8 | dim u32 LE | scheme fields (u32 LE each)
//!        | flags u8 (bit 0: L2 normalise, bit 1: centre present)
//!        | centre: dim x f32 LE, if present
//!        | checksum: first 4 bytes of SHA-256 of everything before
//! ```
//!
//! Scheme fields: IoM-GRP `hashes, window`; IoM-URP `hashes, window, order`;
//! BioHash `bits`. The SHA-256 of this encoding is the parameters digest
//! that keys are derived from; its first 8 bytes are the parameters id that
//! templates carry.

mod biohash;
mod gemm;
mod kernel;
pub(crate) use gemm::BLOCK_ROWS as BATCH_BLOCK_ROWS;
mod iom;
mod material;
pub(crate) mod rng;

pub use material::TransformMaterial;

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::codes::CodeLayout;
use crate::error::{DecodeError, Error, Result};
use crate::features::Preprocess;
use crate::keys::TransformKey;

/// Largest feature dimension accepted.
pub const MAX_DIM: u32 = 65_536;
/// Largest code length (IoM hashes, BioHash bits) accepted.
pub const MAX_CODE_LEN: u32 = 65_536;
/// Largest number of projection coefficients a transform may hold (256 MiB of f32).
pub const MAX_COEFFICIENTS: u64 = 1 << 26;

const MAGIC: &[u8; 4] = b"BTPP";
const FORMAT_VERSION: u8 = 1;
/// Bytes of the checksum that ends every encoded btp object: the first
/// bytes of the SHA-256 of everything before it.
pub(crate) const CHECKSUM_LEN: usize = 4;

/// Which scheme; the numbers are the wire ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum SchemeId {
    /// Index-of-Max hashing, Gaussian random projection.
    IomGrp = 1,
    /// Index-of-Max hashing, uniformly random permutation.
    IomUrp = 2,
    /// BioHashing.
    BioHash = 3,
}

impl SchemeId {
    /// The id from its wire byte.
    pub fn from_u8(b: u8) -> Option<Self> {
        match b {
            1 => Some(Self::IomGrp),
            2 => Some(Self::IomUrp),
            3 => Some(Self::BioHash),
            _ => None,
        }
    }

    /// Short name: `iom-grp`, `iom-urp`, `biohash`.
    pub fn name(self) -> &'static str {
        match self {
            Self::IomGrp => "iom-grp",
            Self::IomUrp => "iom-urp",
            Self::BioHash => "biohash",
        }
    }
}

/// The scheme and its own parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SchemeSpec {
    /// IoM-GRP: `hashes` indices, each the argmax over `window` Gaussian projections.
    IomGrp {
        /// Number of hashes m.
        hashes: u32,
        /// Projections per hash q (2..=256).
        window: u32,
    },
    /// IoM-URP: `hashes` indices, each the argmax over the first `window`
    /// entries of the elementwise product of `order` permuted copies.
    IomUrp {
        /// Number of hashes m.
        hashes: u32,
        /// Window k (2..=256, at most the dimension).
        window: u32,
        /// Permutations multiplied p (1..=16).
        order: u32,
    },
    /// BioHashing: `bits` signs of orthonormal Gaussian projections.
    BioHash {
        /// Number of bits L (at most the dimension).
        bits: u32,
    },
}

/// A scheme's complete parameters: dimension, scheme, preprocessing.
#[derive(Clone, Debug, PartialEq)]
pub struct SchemeParams {
    dim: u32,
    spec: SchemeSpec,
    preprocess: Preprocess,
}

impl SchemeParams {
    /// Parameters after validation.
    pub fn new(dim: u32, spec: SchemeSpec, preprocess: Preprocess) -> Result<Self> {
        let p = Self {
            dim,
            spec,
            preprocess,
        };
        p.validate()?;
        Ok(p)
    }

    /// IoM-GRP with `hashes` m and `window` q, no preprocessing.
    pub fn iom_grp(dim: u32, hashes: u32, window: u32) -> Result<Self> {
        Self::new(
            dim,
            SchemeSpec::IomGrp { hashes, window },
            Preprocess::default(),
        )
    }

    /// IoM-URP with `hashes` m, `window` k and `order` p, no preprocessing.
    pub fn iom_urp(dim: u32, hashes: u32, window: u32, order: u32) -> Result<Self> {
        Self::new(
            dim,
            SchemeSpec::IomUrp {
                hashes,
                window,
                order,
            },
            Preprocess::default(),
        )
    }

    /// BioHashing to `bits` bits, no preprocessing.
    pub fn biohash(dim: u32, bits: u32) -> Result<Self> {
        Self::new(dim, SchemeSpec::BioHash { bits }, Preprocess::default())
    }

    /// The same parameters with a centring vector (see [`crate::features::fit_centre`]).
    pub fn with_centre(mut self, centre: Vec<f32>) -> Result<Self> {
        self.preprocess.centre = Some(centre);
        self.validate()?;
        Ok(self)
    }

    /// The same parameters with L2 normalisation on or off.
    pub fn with_l2(mut self, l2: bool) -> Self {
        self.preprocess.l2 = l2;
        self
    }

    /// Feature dimension.
    pub fn dim(&self) -> usize {
        self.dim as usize
    }

    /// The scheme and its own parameters.
    pub fn spec(&self) -> SchemeSpec {
        self.spec
    }

    /// The scheme id.
    pub fn scheme_id(&self) -> SchemeId {
        match self.spec {
            SchemeSpec::IomGrp { .. } => SchemeId::IomGrp,
            SchemeSpec::IomUrp { .. } => SchemeId::IomUrp,
            SchemeSpec::BioHash { .. } => SchemeId::BioHash,
        }
    }

    /// The preprocessing.
    pub fn preprocess(&self) -> &Preprocess {
        &self.preprocess
    }

    /// Shape of the codes this scheme makes.
    pub fn layout(&self) -> CodeLayout {
        let (len, alphabet) = match self.spec {
            SchemeSpec::IomGrp { hashes, window } | SchemeSpec::IomUrp { hashes, window, .. } => {
                (hashes, window as u16)
            }
            SchemeSpec::BioHash { bits } => (bits, 2),
        };
        CodeLayout::new(len, alphabet).expect("validated parameters give a valid layout")
    }

    fn validate(&self) -> Result<()> {
        if self.dim == 0 || self.dim > MAX_DIM {
            return Err(Error::param("dim", format!("must be in 1..={MAX_DIM}")));
        }
        let len_ok = |name, v: u32| {
            if v == 0 || v > MAX_CODE_LEN {
                Err(Error::param(name, format!("must be in 1..={MAX_CODE_LEN}")))
            } else {
                Ok(())
            }
        };
        let window_ok = |w: u32| {
            if !(2..=256).contains(&w) {
                Err(Error::param("window", "must be in 2..=256"))
            } else {
                Ok(())
            }
        };
        let coefficients = match self.spec {
            SchemeSpec::IomGrp { hashes, window } => {
                len_ok("hashes", hashes)?;
                window_ok(window)?;
                u64::from(hashes) * u64::from(window) * u64::from(self.dim)
            }
            SchemeSpec::IomUrp {
                hashes,
                window,
                order,
            } => {
                len_ok("hashes", hashes)?;
                window_ok(window)?;
                if window > self.dim {
                    return Err(Error::param("window", "must not exceed the dimension"));
                }
                if !(1..=16).contains(&order) {
                    return Err(Error::param("order", "must be in 1..=16"));
                }
                u64::from(hashes) * u64::from(order) * u64::from(window)
            }
            SchemeSpec::BioHash { bits } => {
                len_ok("bits", bits)?;
                if bits > self.dim {
                    return Err(Error::param("bits", "must not exceed the dimension"));
                }
                u64::from(bits) * u64::from(self.dim)
            }
        };
        if coefficients > MAX_COEFFICIENTS {
            return Err(Error::param(
                "hashes",
                format!("the transform would need {coefficients} coefficients (limit {MAX_COEFFICIENTS})"),
            ));
        }
        self.preprocess.validate(self.dim())
    }

    /// The canonical encoding (see the module documentation).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(32 + 4 * self.dim());
        out.extend_from_slice(MAGIC);
        out.push(FORMAT_VERSION);
        out.push(self.scheme_id() as u8);
        out.extend_from_slice(&self.dim.to_le_bytes());
        let fields: &[u32] = match &self.spec {
            SchemeSpec::IomGrp { hashes, window } => &[*hashes, *window],
            SchemeSpec::IomUrp {
                hashes,
                window,
                order,
            } => &[*hashes, *window, *order],
            SchemeSpec::BioHash { bits } => &[*bits],
        };
        for f in fields {
            out.extend_from_slice(&f.to_le_bytes());
        }
        let centre = self.preprocess.centre.as_deref();
        out.push(u8::from(self.preprocess.l2) | (u8::from(centre.is_some()) << 1));
        for v in centre.unwrap_or(&[]) {
            out.extend_from_slice(&v.to_le_bytes());
        }
        append_checksum(&mut out);
        out
    }

    /// Decodes [`SchemeParams::to_bytes`] strictly: every malformed input is
    /// a typed error, never a panic.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let err = |e| Error::decode("scheme parameters", e);
        let mut r = Reader::new(bytes);
        let scheme = r.header(MAGIC, FORMAT_VERSION).map_err(err)?;
        let dim = r.u32().map_err(err)?;
        let spec = match scheme {
            SchemeId::IomGrp => SchemeSpec::IomGrp {
                hashes: r.u32().map_err(err)?,
                window: r.u32().map_err(err)?,
            },
            SchemeId::IomUrp => SchemeSpec::IomUrp {
                hashes: r.u32().map_err(err)?,
                window: r.u32().map_err(err)?,
                order: r.u32().map_err(err)?,
            },
            SchemeId::BioHash => SchemeSpec::BioHash {
                bits: r.u32().map_err(err)?,
            },
        };
        let flags = r.u8().map_err(err)?;
        if flags & !0b11 != 0 {
            return Err(err(DecodeError::Invalid("unknown preprocessing flags")));
        }
        if dim == 0 || dim > MAX_DIM {
            return Err(err(DecodeError::Invalid("dimension out of range")));
        }
        let centre = if flags & 0b10 != 0 {
            let raw = r.take(4 * dim as usize).map_err(err)?;
            Some(
                raw.chunks_exact(4)
                    .map(|c| f32::from_le_bytes(c.try_into().expect("4-byte chunk")))
                    .collect(),
            )
        } else {
            None
        };
        r.finish_checksummed().map_err(err)?;
        let preprocess = Preprocess {
            centre,
            l2: flags & 1 != 0,
        };
        Self::new(dim, spec, preprocess)
    }

    /// SHA-256 of the canonical encoding: the input of transform key derivation.
    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(self.to_bytes()).into()
    }

    /// The first 8 bytes of [`SchemeParams::digest`], carried by templates.
    pub fn id(&self) -> [u8; 8] {
        let d = self.digest();
        d[..8].try_into().expect("8 of 32 bytes")
    }

    /// Builds the transform of these parameters under `key`.
    pub(crate) fn build(&self, key: &TransformKey) -> Box<dyn Transform> {
        let mut rng = rng::KeyedRng::new(key.seed());
        match self.spec {
            SchemeSpec::IomGrp { hashes, window } => {
                Box::new(iom::Grp::new(&mut rng, self.dim(), hashes, window))
            }
            SchemeSpec::IomUrp {
                hashes,
                window,
                order,
            } => Box::new(iom::Urp::new(&mut rng, self.dim(), hashes, window, order)),
            SchemeSpec::BioHash { bits } => {
                Box::new(biohash::BioHash::new(&mut rng, self.dim(), bits))
            }
        }
    }
}

/// A keyed cancellable transform: a validated, preprocessed vector in,
/// code elements out. Its state (matrices, permutations) is secret, derived
/// from the transform key, and zeroized on drop.
pub(crate) trait Transform: Send + Sync {
    /// Writes the code elements of `x` (length = dimension) into `out`
    /// (length = code length), each below the layout's alphabet.
    fn apply(&self, x: &[f32], out: &mut [u8]);

    /// [`Transform::apply`] on each of the `rows.len() / dim` rows of a
    /// row-major block, into `rows x code length` elements: the same
    /// elements, bit for bit, but transforms with a matrix use one GEMM.
    /// `scratch` is the caller's buffer for projections, reused from block
    /// to block (and wiped when the caller drops it).
    fn apply_batch(&self, rows: &[f32], out: &mut [u8], _scratch: &mut Zeroizing<Vec<f32>>) {
        let dim = self.dim();
        let len = out.len() / (rows.len() / dim).max(1);
        for (x, o) in rows.chunks_exact(dim).zip(out.chunks_exact_mut(len)) {
            self.apply(x, o);
        }
    }

    /// The input dimension.
    fn dim(&self) -> usize;

    /// A copy of the secret material (see [`TransformMaterial`]).
    fn expose(&self) -> TransformMaterial;
}

/// Appends the checksum of `out` (see [`CHECKSUM_LEN`]).
pub(crate) fn append_checksum(out: &mut Vec<u8>) {
    let sum = Sha256::digest(&*out);
    out.extend_from_slice(&sum[..CHECKSUM_LEN]);
}

/// Bounds-checked reader for the decoders.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pub(crate) pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        match end {
            Some(end) => {
                let s = &self.bytes[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => Err(DecodeError::Truncated {
                needed: self.pos.saturating_add(n),
                got: self.bytes.len(),
            }),
        }
    }

    /// Reads the closing checksum: it must end the input and match
    /// everything before it.
    pub(crate) fn finish_checksummed(&mut self) -> Result<(), DecodeError> {
        let body = self.pos;
        let sum = self.take(CHECKSUM_LEN)?;
        if self.pos != self.bytes.len() {
            return Err(DecodeError::TrailingBytes(self.bytes.len() - self.pos));
        }
        if sum != &Sha256::digest(&self.bytes[..body])[..CHECKSUM_LEN] {
            return Err(DecodeError::ChecksumMismatch);
        }
        Ok(())
    }

    /// The common start of btp objects: magic, format version, scheme id.
    pub(crate) fn header(&mut self, magic: &[u8; 4], version: u8) -> Result<SchemeId, DecodeError> {
        if self.take(4)? != magic {
            return Err(DecodeError::BadMagic);
        }
        let v = self.u8()?;
        if v != version {
            return Err(DecodeError::UnsupportedVersion(v));
        }
        let id = self.u8()?;
        SchemeId::from_u8(id).ok_or(DecodeError::UnknownScheme(id))
    }

    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(
            self.take(2)?.try_into().expect("2 bytes"),
        ))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn validation() {
        assert!(SchemeParams::iom_grp(128, 512, 16).is_ok());
        assert!(SchemeParams::iom_grp(0, 512, 16).is_err());
        assert!(SchemeParams::iom_grp(128, 0, 16).is_err());
        assert!(SchemeParams::iom_grp(128, 512, 1).is_err());
        assert!(SchemeParams::iom_grp(128, 512, 257).is_err());
        assert!(SchemeParams::iom_grp(65_536, 65_536, 256).is_err()); // too many coefficients
        assert!(SchemeParams::iom_urp(8, 16, 16, 2).is_err()); // window > dim
        assert!(SchemeParams::iom_urp(128, 16, 16, 0).is_err());
        assert!(SchemeParams::biohash(128, 129).is_err());
        assert!(SchemeParams::biohash(128, 128)
            .unwrap()
            .with_centre(vec![0.0; 127])
            .is_err());
        assert!(SchemeParams::biohash(2, 2)
            .unwrap()
            .with_centre(vec![0.0, f32::NAN])
            .is_err());
    }

    #[test]
    fn encoding_round_trips_and_ids_differ() {
        let all = [
            SchemeParams::iom_grp(128, 512, 16).unwrap(),
            SchemeParams::iom_grp(128, 512, 16).unwrap().with_l2(true),
            SchemeParams::iom_grp(128, 512, 16)
                .unwrap()
                .with_centre(vec![0.5; 128])
                .unwrap(),
            SchemeParams::iom_urp(128, 512, 16, 2).unwrap(),
            SchemeParams::biohash(128, 64).unwrap(),
        ];
        for (i, p) in all.iter().enumerate() {
            assert_eq!(&SchemeParams::from_bytes(&p.to_bytes()).unwrap(), p);
            for q in &all[i + 1..] {
                assert_ne!(p.id(), q.id());
            }
        }
    }

    #[test]
    fn decoding_errors_are_typed() {
        let b = SchemeParams::iom_urp(128, 512, 16, 2).unwrap().to_bytes();
        let dec = |b: &[u8]| match SchemeParams::from_bytes(b) {
            Err(Error::Decode { source, .. }) => source,
            other => panic!("{other:?}"),
        };
        assert_eq!(dec(b"XXXX"), DecodeError::BadMagic);
        assert!(matches!(dec(&b[..10]), DecodeError::Truncated { .. }));
        let mut v = b.clone();
        v[4] = 9;
        assert_eq!(dec(&v), DecodeError::UnsupportedVersion(9));
        let mut v = b.clone();
        v[5] = 7;
        assert_eq!(dec(&v), DecodeError::UnknownScheme(7));
        let mut v = b.clone();
        v[12] ^= 1;
        assert_eq!(dec(&v), DecodeError::ChecksumMismatch);
        let mut v = b.clone();
        v.push(0);
        assert_eq!(dec(&v), DecodeError::TrailingBytes(1));
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = SchemeParams::from_bytes(&bytes);
        }

        #[test]
        fn any_single_bit_flip_is_detected(bit in 0usize..(8 * 43)) {
            let p = SchemeParams::iom_urp(4, 8, 4, 2).unwrap().with_centre(vec![1.0; 4]).unwrap();
            let mut b = p.to_bytes();
            prop_assume!(bit / 8 < b.len());
            b[bit / 8] ^= 1 << (bit % 8);
            prop_assert!(SchemeParams::from_bytes(&b).is_err());
        }
    }
}
