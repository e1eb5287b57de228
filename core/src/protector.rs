//! A scheme bound to a key: the object that protects feature vectors and
//! compares the templates it made.

use std::fmt;

use zeroize::Zeroizing;

use crate::codes::CodeLayout;
use crate::decision::Decision;
use crate::error::{Error, Result};
use crate::features;
use crate::keys::{KeyFingerprint, MasterKey, TransformKey};
use crate::schemes::{SchemeParams, Transform, TransformMaterial};
use crate::template::{Origin, ProtectedTemplate};

/// Rows per thread of batch protection (see [`crate::threads::for_work`]).
const ROWS_PER_THREAD: usize = 64;

/// Protects feature vectors under one transform key.
///
/// Holds the transform's secret matrices (zeroized on drop); `Send + Sync`,
/// so one protector can serve many threads.
pub struct Protector {
    params: SchemeParams,
    params_id: [u8; 8],
    layout: CodeLayout,
    fingerprint: KeyFingerprint,
    transform: Box<dyn Transform>,
}

impl Protector {
    /// The protector of `params` for an application, a version and
    /// optionally a subject, under keys derived from `master`.
    ///
    /// Bumping `version` renews the templates of an application: templates
    /// made under the old version no longer match (and comparing them with
    /// new ones is a [`Error::KeyMismatch`]).
    pub fn new(
        params: SchemeParams,
        master: &MasterKey,
        application: &str,
        version: u32,
        subject: Option<&[u8]>,
    ) -> Result<Self> {
        if application.is_empty() {
            return Err(Error::param("application", "must not be empty"));
        }
        let key = master.transform_key(&params.digest(), application, version, subject);
        Ok(Self::with_transform_key(params, &key))
    }

    /// The protector of `params` under an explicit transform key.
    pub fn with_transform_key(params: SchemeParams, key: &TransformKey) -> Self {
        let transform = params.build(key);
        Self {
            params_id: params.id(),
            layout: params.layout(),
            fingerprint: key.fingerprint(),
            params,
            transform,
        }
    }

    /// The scheme parameters.
    pub fn params(&self) -> &SchemeParams {
        &self.params
    }

    /// Feature dimension.
    pub fn dim(&self) -> usize {
        self.params.dim()
    }

    /// Shape of the codes.
    pub fn layout(&self) -> CodeLayout {
        self.layout
    }

    /// Fingerprint of the transform key.
    pub fn fingerprint(&self) -> KeyFingerprint {
        self.fingerprint
    }

    /// **Hazardous**: a copy of this protector's secret transform (its
    /// Gaussian matrix, permutations or BioHash basis), for checking an
    /// independent implementation against btp code for code. With it,
    /// anyone can compute this key's templates and invert much of a
    /// template to the features: never store, log or send it, and drop it
    /// as soon as the check is done (its buffers are wiped on drop). See
    /// [`TransformMaterial`] for how each code element follows from it and
    /// [`SchemeParams::preprocess`] for the preprocessing applied first.
    pub fn expose_transform(&self) -> TransformMaterial {
        self.transform.expose()
    }

    /// Protects one feature vector.
    pub fn protect(&self, x: &[f32]) -> Result<ProtectedTemplate> {
        let mut words = vec![0u64; self.layout.words()];
        self.protect_packed(x, &mut words)?;
        Ok(self.template_unchecked(words))
    }

    /// Protects one feature vector into a packed code (`layout().words()` long).
    pub fn protect_packed(&self, x: &[f32], out: &mut [u64]) -> Result<()> {
        if out.len() != self.layout.words() {
            return Err(Error::param(
                "out",
                "length differs from the code's word count",
            ));
        }
        let y = self.params.preprocess().apply(x, self.dim())?;
        let mut elements = Zeroizing::new(vec![0u8; self.layout.len()]);
        self.transform.apply(&y, &mut elements);
        self.layout.pack_into(&elements, out);
        Ok(())
    }

    /// Protects a row-major batch (`rows.len() = n * dim`) into `n * words`
    /// packed words, on several threads for large batches. Either every row
    /// is protected or the error of the first bad row is returned as
    /// [`Error::Row`] with its row index; a length that is not a multiple
    /// of the dimension is a [`Error::WrongDimension`] of the last, partial
    /// row.
    pub fn protect_batch_packed(&self, rows: &[f32]) -> Result<Vec<u64>> {
        let dim = self.dim();
        let n = rows.len() / dim;
        if !rows.len().is_multiple_of(dim) {
            let got = rows.len() % dim;
            return Err(Error::row(n, Error::WrongDimension { expected: dim, got }));
        }
        let words = self.layout.words();
        let size = crate::alloc::product(n, words, 8, "the packed codes of a batch")?;
        let mut out = crate::alloc::filled(size, 0u64, "the packed codes of a batch")?;
        let threads = crate::threads::for_work(n, ROWS_PER_THREAD, n);
        if threads == 1 {
            self.protect_rows(rows, &mut out, 0)?;
            return Ok(out);
        }
        let per = n.div_ceil(threads).max(1);
        let results: Vec<Result<()>> = std::thread::scope(|s| {
            let handles: Vec<_> = rows
                .chunks(per * dim)
                .zip(out.chunks_mut(per * words))
                .enumerate()
                .map(|(chunk, (r, o))| s.spawn(move || self.protect_rows(r, o, chunk * per)))
                .collect();
            // Every worker is joined, also after an error: a thread left to
            // the scope's end may still be exiting when the call returns
            // (LeakSanitizer in `protect_floats` saw its state as leaked).
            handles
                .into_iter()
                .map(|h| h.join().expect("protect worker panicked"))
                .collect()
        });
        // The first error in row order: chunks are in row order.
        results.into_iter().collect::<Result<()>>()?;
        Ok(out)
    }

    /// Protects consecutive rows (the first is row `first` of the caller's
    /// batch) into packed codes, a block at a time: validation and
    /// preprocessing of the block's rows (while they are in cache: a
    /// separate validation pass over the whole batch read it from memory
    /// twice), then one batch transform per block (a GEMM for matrix
    /// schemes, bit-identical to [`Protector::protect_packed`]). Rows are
    /// checked in order, so the error is that of the first bad row,
    /// whatever is wrong with it.
    fn protect_rows(&self, rows: &[f32], out: &mut [u64], first: usize) -> Result<()> {
        let (dim, len, words) = (self.dim(), self.layout.len(), self.layout.words());
        let block = crate::schemes::BATCH_BLOCK_ROWS;
        let mut pre = Zeroizing::new(Vec::with_capacity(block * dim));
        let mut elements = Zeroizing::new(vec![0u8; block * len]);
        let mut scratch = Zeroizing::new(Vec::new());
        for (b, (rows, out)) in rows
            .chunks(block * dim)
            .zip(out.chunks_mut(block * words))
            .enumerate()
        {
            let at = first + b * block;
            features::validate_batch(rows, dim).map_err(|e| match e {
                Error::Row { row, source } => Error::Row {
                    row: at + row,
                    source,
                },
                other => other,
            })?;
            let in_row = |(i, e)| Error::row(at + i, e);
            let preprocess = self.params.preprocess();
            let y: &[f32] = if preprocess.is_identity() {
                // Nothing to change: the rows are read where they are.
                features::check_norms(rows, dim).map_err(in_row)?;
                rows
            } else {
                // Into the block buffer (wiped on drop): no allocation per
                // row.
                pre.clear();
                pre.extend_from_slice(rows);
                preprocess
                    .apply_rows_in_place(&mut pre, dim)
                    .map_err(in_row)?;
                &pre
            };
            let n = rows.len() / dim;
            self.transform
                .apply_batch(y, &mut elements[..n * len], &mut scratch);
            for (e, w) in elements.chunks_exact(len).zip(out.chunks_exact_mut(words)) {
                self.layout.pack_into(e, w);
            }
        }
        Ok(())
    }

    /// Protects a row-major batch into templates.
    pub fn protect_batch(&self, rows: &[f32]) -> Result<Vec<ProtectedTemplate>> {
        let packed = self.protect_batch_packed(rows)?;
        Ok(packed
            .chunks_exact(self.layout.words())
            .map(|w| self.template_unchecked(w.to_vec()))
            .collect())
    }

    /// A template of this protector from a packed code (as made by
    /// [`Protector::protect_batch_packed`]); the code is checked: word count,
    /// zero padding and every element inside the alphabet.
    pub fn template(&self, words: Vec<u64>) -> Result<ProtectedTemplate> {
        self.layout.check_words(&words)?;
        Ok(self.template_unchecked(words))
    }

    /// The templates of this protector from a batch of packed codes
    /// (`n * layout().words()` words, as made by
    /// [`Protector::protect_batch_packed`]), each checked: a bad code is an
    /// [`Error::Row`] naming its row (see [`CodeLayout::check_batch`]).
    pub fn templates_from_codes(&self, codes: &[u64]) -> Result<Vec<ProtectedTemplate>> {
        self.layout.check_batch(codes)?;
        let origin = self.origin();
        Ok(codes
            .chunks_exact(self.layout.words())
            .map(|c| origin.template(c.to_vec()))
            .collect())
    }

    /// A template from a code this crate made.
    fn template_unchecked(&self, words: Vec<u64>) -> ProtectedTemplate {
        self.origin().template(words)
    }

    /// Checks that `t` was made by this protector's scheme, parameters and key.
    pub fn check(&self, t: &ProtectedTemplate) -> Result<()> {
        self.origin().check(t)
    }

    /// What this protector's templates carry: the origin of its galleries.
    pub fn origin(&self) -> Origin {
        Origin {
            scheme: self.params.scheme_id(),
            params_id: self.params_id,
            layout: self.layout,
            fingerprint: self.fingerprint,
        }
    }

    /// Similarity in [0, 1] of two templates of this protector.
    pub fn compare(&self, a: &ProtectedTemplate, b: &ProtectedTemplate) -> Result<f64> {
        self.check(a)?;
        self.check(b)?;
        a.similarity(b)
    }

    /// 1:1 decision: accept iff the similarity is `>= threshold`.
    pub fn verify(
        &self,
        reference: &ProtectedTemplate,
        probe: &ProtectedTemplate,
        threshold: f64,
    ) -> Result<Decision> {
        self.check(reference)?;
        crate::decision::verify(reference, probe, threshold)
    }
}

/// A protector's [`Protector::origin`]: what a
/// [`Gallery`](crate::Gallery) of its templates is built from.
impl From<&Protector> for Origin {
    fn from(p: &Protector) -> Self {
        p.origin()
    }
}

impl fmt::Debug for Protector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Protector")
            .field("scheme", &self.params.scheme_id().name())
            .field("dim", &self.params.dim())
            .field("code_len", &self.layout.len())
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}
