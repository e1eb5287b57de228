//! `btp.Gallery`: 1:N search over the templates of one protector, keyed by
//! integers or by strings.

use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use btp::labels::Labels;
use btp::matching::{padded, top_k};
use btp::{Candidate, Gallery};
use numpy::PyArrayDyn;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{IntoPyDict, PyList, PyType};

use crate::args::{count, count_or, items, opt_float_arg};
use crate::arrays;
use crate::errors::{param, OrRaise};
use crate::ids::{ids_of, lookup_id, Ids};
use crate::keys::PyMasterKey;
use crate::protector::{reduce_to, PyProtector};
use crate::pytypes::field;
use crate::results;
use crate::template::PyTemplate;

/// A 1:N gallery of templates keyed by integer ids in `[0, 2**63)` or by
/// strings (the first `add` decides). Searches run without the GIL, on
/// every core for large galleries.
#[pyclass(frozen, module = "btp", name = "Gallery")]
pub struct PyGallery {
    protector: Py<PyProtector>,
    inner: RwLock<State>,
}

/// The gallery and how its ids are given.
struct State {
    gallery: Gallery,
    keys: Keys,
}

/// What a gallery is keyed by: decided by its first `add`.
enum Keys {
    Unset,
    Ints,
    Strings(Labels),
}

/// The ids of the templates of a batch, in the gallery's keying: new ids
/// for new string labels (checked by `Labels::plan`, nothing recorded), or
/// the integers given.
fn resolve(keys: &Keys, ids: &Ids) -> btp::Result<Vec<u64>> {
    let plan = |labels: &Labels, v: &[String]| {
        let refs: Vec<&str> = v.iter().map(String::as_str).collect();
        labels.plan(&refs)
    };
    let keyed = |reason: &str| btp::Error::InvalidParameter {
        name: "ids",
        reason: reason.into(),
    };
    match (keys, ids) {
        (Keys::Strings(_), Ids::Ints(v)) if !v.is_empty() => {
            Err(keyed("this gallery is keyed by strings: give str ids"))
        }
        (Keys::Strings(_), Ids::Ints(_)) => Ok(Vec::new()),
        (Keys::Ints, Ids::Strings(_)) => {
            Err(keyed("this gallery is keyed by integers: give int ids"))
        }
        (Keys::Strings(labels), Ids::Strings(v)) => plan(labels, v),
        (Keys::Unset, Ids::Strings(v)) => plan(&Labels::new(), v),
        (Keys::Unset | Keys::Ints, Ids::Ints(v)) => Ok(v.clone()),
    }
}

/// The gallery ids of existing keys: `(ids, found)` where absent keys are
/// left out of `ids` and `found` says, per key, whether it was present.
fn lookup(state: &State, ids: &Ids) -> (Vec<u64>, Vec<bool>) {
    match (&state.keys, ids) {
        (Keys::Strings(labels), Ids::Strings(v)) => {
            let found: Vec<Option<u64>> = v.iter().map(|l| labels.id(l)).collect();
            (
                found.iter().flatten().copied().collect(),
                found.iter().map(Option::is_some).collect(),
            )
        }
        (Keys::Unset | Keys::Ints, Ids::Ints(v)) => (
            v.iter()
                .copied()
                .filter(|&i| state.gallery.contains(i))
                .collect(),
            v.iter().map(|&i| state.gallery.contains(i)).collect(),
        ),
        (_, ids) => (Vec::new(), vec![false; ids.len()]),
    }
}

/// Result ids as the gallery's keys, copied out of the lock: the lock is
/// never held while the GIL is taken back (a thread holding the GIL and
/// waiting for the lock would deadlock with it).
enum KeyedIds {
    Ints(Vec<i64>),
    Strings(Vec<Option<String>>),
}

fn keyed(keys: &Keys, ids: Vec<i64>) -> KeyedIds {
    match keys {
        Keys::Strings(labels) => KeyedIds::Strings(
            labels
                .labels_of(&ids)
                .into_iter()
                .map(|l| l.map(str::to_owned))
                .collect(),
        ),
        _ => KeyedIds::Ints(ids),
    }
}

/// `[Candidate(id, score), ...]`.
fn candidates<'py>(py: Python<'py>, ids: KeyedIds, scores: &[f64]) -> PyResult<Bound<'py, PyList>> {
    let items = match ids {
        KeyedIds::Strings(labels) => labels
            .into_iter()
            .zip(scores)
            .map(|(l, &s)| results::Candidate::make(py, l, s))
            .collect::<PyResult<Vec<_>>>()?,
        KeyedIds::Ints(ids) => ids
            .into_iter()
            .zip(scores)
            .map(|(i, &s)| results::Candidate::make(py, i, s))
            .collect::<PyResult<Vec<_>>>()?,
    };
    PyList::new(py, items)
}

/// `(ids, scores)` arrays of search results.
type Results<'py> = (Bound<'py, PyAny>, Bound<'py, PyArrayDyn<f64>>);

/// Ids as an `int64` array, or their labels as an object array (None where
/// there is no label), of shape `shape`.
fn ids_array<'py>(py: Python<'py>, ids: KeyedIds, shape: &[usize]) -> PyResult<Bound<'py, PyAny>> {
    let flat = match ids {
        KeyedIds::Strings(labels) => {
            let list = PyList::new(py, labels)?;
            py.import("numpy")?
                .getattr("array")?
                .call((list,), Some(&[("dtype", "object")].into_py_dict(py)?))?
        }
        KeyedIds::Ints(ids) => arrays::vec1(py, ids).into_any(),
    };
    flat.call_method1("reshape", (pyo3::types::PyTuple::new(py, shape)?,))
}

impl PyGallery {
    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }

    fn prot(&self) -> &PyProtector {
        self.protector.get()
    }

    fn description<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let (ids, codes, n) = {
            let st = self.read();
            let ids: Vec<i64> = st.gallery.ids().iter().map(|&i| i as i64).collect();
            let n = ids.len();
            (keyed(&st.keys, ids), st.gallery.codes().to_vec(), n)
        };
        let ids = ids_array(py, ids, &[n])?;
        let protector = self.prot().description(py)?;
        let codes = self.prot().wrap_codes(py, codes, n)?;
        results::GalleryDescription::make(py, protector, ids, codes)
    }

    /// Adds packed `codes` (checked by the core) under `ids`, all or
    /// nothing, without the GIL (the lock is taken and released inside).
    fn add_codes(&self, py: Python<'_>, ids: &Ids, codes: &[u64]) -> PyResult<()> {
        let prot = self.prot();
        let words = prot.words();
        py.detach(|| -> btp::Result<()> {
            let mut st = self.write();
            let gallery_ids = resolve(&st.keys, ids)?;
            if codes.len() != gallery_ids.len() * words {
                return Err(btp::Error::InvalidParameter {
                    name: "ids",
                    reason: format!(
                        "{} ids for {} templates",
                        gallery_ids.len(),
                        codes.len() / words
                    ),
                });
            }
            st.gallery.add_packed(&prot.inner, &gallery_ids, codes)?;
            match (&mut st.keys, ids) {
                (Keys::Strings(labels), Ids::Strings(v)) => {
                    let refs: Vec<&str> = v.iter().map(String::as_str).collect();
                    labels.commit(&refs, &gallery_ids);
                }
                (keys @ Keys::Unset, Ids::Strings(v)) => {
                    let mut labels = Labels::new();
                    let refs: Vec<&str> = v.iter().map(String::as_str).collect();
                    labels.commit(&refs, &gallery_ids);
                    *keys = Keys::Strings(labels);
                }
                (keys @ Keys::Unset, Ids::Ints(v)) if !v.is_empty() => *keys = Keys::Ints,
                _ => {}
            }
            Ok(())
        })
        .or_raise()
    }
}

#[pymethods]
impl PyGallery {
    /// An empty gallery for the templates of `protector`.
    #[new]
    fn new(protector: Bound<'_, PyProtector>) -> Self {
        let gallery = Gallery::new(&protector.get().inner);
        Self {
            protector: protector.unbind(),
            inner: RwLock::new(State {
                gallery,
                keys: Keys::Unset,
            }),
        }
    }

    /// Adds templates under `ids` (an int or str, or a sequence of ints or
    /// of strs: the first `add` decides which), all or nothing. `data`
    /// holds feature vectors (any numeric array `(n, dim)`, protected here),
    /// packed codes as `btp.Codes` (from `Protector.protect_batch`, checked
    /// to be this gallery's protector's), or templates (a list); with a
    /// single id, one vector, code or template.
    fn add(&self, py: Python<'_>, ids: &Bound<'_, PyAny>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let (ids, single) = ids_of(ids)?;
        let prot = self.prot();
        let templates = data.cast::<PyList>().is_ok_and(|l| {
            l.iter()
                .next()
                .is_some_and(|t| t.cast::<PyTemplate>().is_ok())
        });
        let codes = if single && !templates {
            zeroize::Zeroizing::new(prot.probe(py, data)?.words().to_vec())
        } else {
            prot.batch_codes(py, data)?.0
        };
        self.add_codes(py, &ids, &codes)
    }

    /// Removes `ids`: a single id that is absent raises `NotFoundError`; for
    /// a sequence, absent ids are skipped. Returns the number removed.
    fn remove(&self, ids: &Bound<'_, PyAny>) -> PyResult<usize> {
        let (ids, single) = ids_of(ids)?;
        let mut st = self.write();
        let (present, found) = lookup(&st, &ids);
        if single && !found[0] {
            // An integer id is named; a string id may be a person's: not.
            return Err(crate::errors::to_py(match ids {
                Ids::Ints(v) => btp::Error::NotFound(v[0]),
                Ids::Strings(_) => btp::Error::Missing("the id is not in the gallery".into()),
            }));
        }
        let n = st.gallery.remove_batch(&present);
        if let Keys::Strings(labels) = &mut st.keys {
            labels.forget(&present);
        }
        Ok(n)
    }

    fn __len__(&self) -> usize {
        self.read().gallery.len()
    }

    fn __contains__(&self, id: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(lookup_id(id)?.is_some_and(|ids| lookup(&self.read(), &ids).1[0]))
    }

    /// The ids in storage order: `int64`, or an object array of `str`.
    #[getter]
    fn ids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let (ids, n) = {
            let st = self.read();
            let ids: Vec<i64> = st.gallery.ids().iter().map(|&i| i as i64).collect();
            let n = ids.len();
            (keyed(&st.keys, ids), n)
        };
        ids_array(py, ids, &[n])
    }

    /// The packed codes in storage order, `(len, words)` (`btp.Codes`).
    fn codes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let (codes, n) = {
            let st = self.read();
            (st.gallery.codes().to_vec(), st.gallery.len())
        };
        self.prot().wrap_codes(py, codes, n)
    }

    /// The template under `id` (an int or a str), or None.
    fn get(&self, id: &Bound<'_, PyAny>) -> PyResult<Option<PyTemplate>> {
        let Some(ids) = lookup_id(id)? else {
            return Ok(None);
        };
        let st = self.read();
        let (present, _) = lookup(&st, &ids);
        let t = present.first().and_then(|&i| st.gallery.get(i));
        Ok(t.map(|t| PyTemplate { t }))
    }

    /// The best `k` candidates for one probe (a feature vector, a
    /// `btp.Codes` code or a `Template`), by score descending then id
    /// ascending, only scores `>= threshold` when one is given. A list for
    /// human review.
    #[pyo3(signature = (probe, k = None, threshold = None))]
    fn search<'py>(
        &self,
        py: Python<'py>,
        probe: &Bound<'py, PyAny>,
        k: Option<&Bound<'py, PyAny>>,
        threshold: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let k = count_or(k, "k", 1, 10)?;
        let threshold = opt_float_arg(threshold, "threshold")?;
        let t = self.prot().probe(py, probe)?;
        let (ids, scores) = py
            .detach(|| {
                let st = self.read();
                st.gallery.search(&t, k, threshold).map(|found| {
                    let ids = found.iter().map(|c| c.id as i64).collect();
                    let scores: Vec<f64> = found.iter().map(|c| c.score).collect();
                    (keyed(&st.keys, ids), scores)
                })
            })
            .or_raise()?;
        candidates(py, ids, &scores)
    }

    /// `search` for many probes (features `(n, dim)`, `btp.Codes` `(n,
    /// words)` or a list of templates): `(ids, scores)`, each `(n, width)`
    /// with `width = min(k, len(gallery))`; rows with fewer candidates are
    /// padded with id -1 (None for string ids) and score NaN.
    #[pyo3(signature = (probes, k = None, threshold = None))]
    fn search_batch<'py>(
        &self,
        py: Python<'py>,
        probes: &Bound<'py, PyAny>,
        k: Option<&Bound<'py, PyAny>>,
        threshold: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Results<'py>> {
        let k = count_or(k, "k", 1, 10)?;
        let threshold = opt_float_arg(threshold, "threshold")?;
        let prot = self.prot();
        let (codes, n) = prot.batch_codes(py, probes)?;
        let (ids, scores, width) = py
            .detach(|| {
                let st = self.read();
                let width = k.min(st.gallery.len());
                let found =
                    st.gallery
                        .search_packed(&prot.inner, &codes, width.max(1), threshold)?;
                let (ids, scores) = padded(&found, width)?;
                Ok::<_, btp::Error>((keyed(&st.keys, ids), scores, width))
            })
            .or_raise()?;
        Ok((
            ids_array(py, ids, &[n, width])?,
            arrays::vec2(py, scores, n, width),
        ))
    }

    /// Similarity of one probe with every entry: `(ids, scores)` in storage
    /// order.
    fn scores<'py>(&self, py: Python<'py>, probe: &Bound<'py, PyAny>) -> PyResult<Results<'py>> {
        let t = self.prot().probe(py, probe)?;
        let (ids, scores) = py
            .detach(|| {
                let st = self.read();
                st.gallery.scores(&t).map(|s| {
                    let ids = st.gallery.ids().iter().map(|&i| i as i64).collect();
                    (keyed(&st.keys, ids), s)
                })
            })
            .or_raise()?;
        let n = scores.len();
        Ok((ids_array(py, ids, &[n])?, arrays::vec1(py, scores)))
    }

    /// Search threads: 0 (default) means one below 4 MiB of codes and
    /// every core above.
    #[getter]
    fn threads(&self) -> usize {
        self.read().gallery.threads()
    }

    #[setter]
    fn set_threads(&self, threads: &Bound<'_, PyAny>) -> PyResult<()> {
        let threads = count(threads, "threads", 0)?;
        self.write().gallery.set_threads(threads);
        Ok(())
    }

    /// The protector whose templates this gallery holds.
    #[getter]
    fn protector(&self, py: Python<'_>) -> Py<PyProtector> {
        self.protector.clone_ref(py)
    }

    /// A `GalleryDescription`: the protector's description, the ids and the
    /// codes, no key. Pickling a gallery gives this; `description.open(mk)`
    /// or `Gallery.reopen(description, mk)` rebuilds the gallery.
    fn describe<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.description(py)
    }

    /// The gallery of a description, under `mk` (`KeyMismatchError` if
    /// `mk` is not the key the description was made with).
    #[classmethod]
    fn reopen(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        description: &Bound<'_, PyAny>,
        mk: &PyMasterKey,
    ) -> PyResult<Self> {
        const KIND: &str = "GalleryDescription";
        let prot = PyProtector::from_description(&field(description, "protector", KIND)?, mk)?;
        let prot = Bound::new(py, prot)?;
        let g = Self::new(prot);
        let (ids, _) = ids_of(&field(description, "ids", KIND)?)?;
        if ids.len() > 0 {
            // The description's protector was checked against `mk` above:
            // its codes are taken as that protector's.
            let codes = g
                .prot()
                .codes_arg(&field(description, "codes", KIND)?, "codes", &[2])?;
            g.add_codes(py, &ids, codes.as_slice())?;
        }
        Ok(g)
    }

    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        reduce_to(py, self.description(py)?)
    }

    fn __repr__(&self) -> String {
        let p = self.prot();
        let st = self.read();
        let keyed = match st.keys {
            Keys::Strings(_) => ", str ids",
            _ => "",
        };
        format!(
            "Gallery({} templates{keyed}, {}, key {})",
            st.gallery.len(),
            p.inner.params().scheme_id().name(),
            crate::scheme::hex(&p.inner.fingerprint().0)
        )
    }
}

/// Merges the `(ids, scores)` results of searches of disjoint shards (the
/// same probes, each shard's `search_batch`) into the best `k` per probe,
/// ordered as a single search would order them.
#[pyfunction]
pub fn merge_results<'py>(
    py: Python<'py>,
    parts: &Bound<'py, PyAny>,
    k: &Bound<'py, PyAny>,
) -> PyResult<Results<'py>> {
    let k = count(k, "k", 1)?;
    let parts: Vec<(Bound<'py, PyAny>, Bound<'py, PyAny>)> = items(parts, "parts", |p| {
        p.extract()
            .map_err(|_| PyTypeError::new_err("`parts` holds (ids, scores) tuples"))
    })?;
    let mut columns = 0usize;
    let mut rows: Option<usize> = None;
    let mut lists: Vec<Vec<Candidate>> = Vec::new();
    for (ids, scores) in &parts {
        let ids = arrays::int_matrix(ids, "ids")?;
        let scores = arrays::matrix(scores, "scores")?;
        if ids.shape() != scores.shape() {
            return Err(param("parts", "ids and scores of a part differ in shape"));
        }
        let (n, width) = (ids.shape()[0], ids.shape()[1]);
        columns = columns.saturating_add(width);
        if *rows.get_or_insert(n) != n {
            return Err(param("parts", "parts have different numbers of probes"));
        }
        if lists.is_empty() {
            // `n` is the caller's: a broadcast view can claim 10**12 rows.
            lists = btp::alloc::filled(n, Vec::new(), "the merged results").or_raise()?;
        }
        for (r, list) in lists.iter_mut().enumerate() {
            for c in 0..width {
                let id = ids.as_slice()[r * width + c];
                if id >= 0 {
                    list.push(Candidate {
                        id: id as u64,
                        score: scores.as_slice()[r * width + c],
                    });
                }
            }
        }
    }
    let merged = lists
        .into_iter()
        .map(|l| top_k(l, k))
        .collect::<btp::Result<Vec<_>>>()
        .or_raise()?;
    let width = k.min(columns);
    let (ids, scores) = padded(&merged, width).or_raise()?;
    let n = merged.len();
    Ok((
        ids_array(py, KeyedIds::Ints(ids), &[n, width])?,
        arrays::vec2(py, scores, n, width),
    ))
}
