//! `btp.Gallery`: 1:N search over the templates of one protector.

use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use btp::{batch, Candidate, Gallery};
use numpy::PyArrayDyn;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyType};

use crate::arrays;
use crate::errors::{param, OrRaise};
use crate::protector::{reduce_to, PyProtector, PyTemplate};
use crate::pytypes;
use crate::scheme::PyMasterKey;

/// Largest id: ids are non-negative `int64` values, so that batch results
/// can mark "no candidate" with -1.
const MAX_ID: u64 = i64::MAX as u64;

/// A 1:N gallery of templates keyed by integer ids in `[0, 2**63)`.
/// Searches run without the GIL, on every core for large galleries.
#[pyclass(frozen, module = "btp", name = "Gallery")]
pub struct PyGallery {
    protector: Py<PyProtector>,
    inner: RwLock<Gallery>,
}

fn check_id(id: u64) -> PyResult<u64> {
    if id > MAX_ID {
        Err(param("ids", "ids must be in [0, 2**63)"))
    } else {
        Ok(id)
    }
}

/// Ids from an int or a 1-D array-like of ints.
fn ids_of(obj: &Bound<'_, PyAny>) -> PyResult<(Vec<u64>, bool)> {
    if let Ok(id) = obj.extract::<i64>() {
        if id < 0 {
            return Err(param("ids", "ids must be in [0, 2**63)"));
        }
        return Ok((vec![id as u64], true));
    }
    let a = arrays::ints(obj, "ids")?;
    let ids = a
        .as_slice()
        .iter()
        .map(|&i| {
            if i < 0 {
                Err(param("ids", "ids must be in [0, 2**63)"))
            } else {
                Ok(i as u64)
            }
        })
        .collect::<PyResult<Vec<u64>>>()?;
    Ok((ids, false))
}

/// `[Candidate(id, score), ...]`.
fn candidates<'py>(py: Python<'py>, list: &[Candidate]) -> PyResult<Bound<'py, PyList>> {
    let items = list
        .iter()
        .map(|c| pytypes::make(py, "Candidate", (c.id, c.score)))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, items)
}

/// `(ids, scores)` arrays of search results.
type Results<'py> = (Bound<'py, PyArrayDyn<i64>>, Bound<'py, PyArrayDyn<f64>>);

/// `(ids, scores)`, `(rows, k)` each, padded with -1 and NaN.
pub(crate) fn padded<'py>(py: Python<'py>, lists: &[Vec<Candidate>], k: usize) -> Results<'py> {
    let mut ids = vec![-1i64; lists.len() * k];
    let mut scores = vec![f64::NAN; lists.len() * k];
    for (r, list) in lists.iter().enumerate() {
        for (c, cand) in list.iter().take(k).enumerate() {
            ids[r * k + c] = cand.id as i64;
            scores[r * k + c] = cand.score;
        }
    }
    (
        arrays::vec2(py, ids, lists.len(), k),
        arrays::vec2(py, scores, lists.len(), k),
    )
}

impl PyGallery {
    fn read(&self) -> RwLockReadGuard<'_, Gallery> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Gallery> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }

    fn prot(&self) -> &PyProtector {
        self.protector.get()
    }

    fn description<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let (ids, codes) = {
            let g = self.read();
            (
                g.ids().iter().map(|&i| i as i64).collect::<Vec<_>>(),
                batch::gallery_codes(&g),
            )
        };
        let n = ids.len();
        let kw = PyDict::new(py);
        kw.set_item("protector", self.prot().description(py)?)?;
        kw.set_item("ids", arrays::vec1(py, ids))?;
        kw.set_item("codes", arrays::vec2(py, codes, n, self.prot().words()))?;
        pytypes::make_kw(py, "GalleryDescription", &kw)
    }
}

#[pymethods]
impl PyGallery {
    /// An empty gallery for the templates of `protector`.
    #[new]
    fn new(protector: Bound<'_, PyProtector>) -> Self {
        let inner = Gallery::new(&protector.get().inner);
        Self {
            protector: protector.unbind(),
            inner: RwLock::new(inner),
        }
    }

    /// Adds templates under `ids` (an int or a sequence of ints), all or
    /// nothing. `data` holds feature vectors (a float array `(n, dim)`,
    /// protected here), packed codes (a `uint64` array `(n, words)`), or
    /// templates (a list); with a single id, one vector, code or template.
    fn add(&self, py: Python<'_>, ids: &Bound<'_, PyAny>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let (ids, single) = ids_of(ids)?;
        for &id in &ids {
            check_id(id)?;
        }
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
        if codes.len() != ids.len() * prot.words() {
            return Err(param(
                "ids",
                format!(
                    "{} ids for {} templates",
                    ids.len(),
                    codes.len() / prot.words()
                ),
            ));
        }
        py.detach(|| self.write().add_packed(&prot.inner, &ids, &codes))
            .or_raise()
    }

    /// Removes `ids`: a single id that is absent raises `NotFoundError`; for
    /// a sequence, absent ids are skipped. Returns the number removed.
    fn remove(&self, ids: &Bound<'_, PyAny>) -> PyResult<usize> {
        let (ids, single) = ids_of(ids)?;
        let mut g = self.write();
        if single {
            g.remove(ids[0]).or_raise()?;
            Ok(1)
        } else {
            Ok(g.remove_batch(&ids))
        }
    }

    fn __len__(&self) -> usize {
        self.read().len()
    }

    fn __contains__(&self, id: i64) -> bool {
        id >= 0 && self.read().contains(id as u64)
    }

    /// The ids in storage order (`int64`).
    #[getter]
    fn ids<'py>(&self, py: Python<'py>) -> Bound<'py, PyArrayDyn<i64>> {
        let ids = self.read().ids().iter().map(|&i| i as i64).collect();
        arrays::vec1(py, ids)
    }

    /// The packed codes in storage order, `(len, words)` `uint64`.
    fn codes<'py>(&self, py: Python<'py>) -> Bound<'py, PyArrayDyn<u64>> {
        let (codes, n) = {
            let g = self.read();
            (batch::gallery_codes(&g), g.len())
        };
        arrays::vec2(py, codes, n, self.prot().words())
    }

    /// The template under `id`, or None.
    fn get(&self, id: i64) -> Option<PyTemplate> {
        if id < 0 {
            return None;
        }
        self.read().get(id as u64).map(|t| PyTemplate { t })
    }

    /// The best `k` candidates for one probe (a feature vector, a packed
    /// code or a `Template`), by score descending then id ascending, only
    /// scores `>= threshold` when one is given. A list for human review.
    #[pyo3(signature = (probe, k = 10, threshold = None))]
    fn search<'py>(
        &self,
        py: Python<'py>,
        probe: &Bound<'py, PyAny>,
        k: usize,
        threshold: Option<f64>,
    ) -> PyResult<Bound<'py, PyList>> {
        let t = self.prot().probe(py, probe)?;
        let found = py
            .detach(|| self.read().search(&t, k, threshold))
            .or_raise()?;
        candidates(py, &found)
    }

    /// `search` for many probes (features `(n, dim)`, codes `(n, words)` or
    /// a list of templates): `(ids, scores)`, each `(n, k)`; rows with fewer
    /// than `k` candidates are padded with id -1 and score NaN.
    #[pyo3(signature = (probes, k = 10, threshold = None))]
    fn search_batch<'py>(
        &self,
        py: Python<'py>,
        probes: &Bound<'py, PyAny>,
        k: usize,
        threshold: Option<f64>,
    ) -> PyResult<Results<'py>> {
        let prot = self.prot();
        let (codes, _) = prot.batch_codes(py, probes)?;
        let found = py
            .detach(|| batch::search_packed(&self.read(), &prot.inner, &codes, k, threshold))
            .or_raise()?;
        Ok(padded(py, &found, k))
    }

    /// Similarity of one probe with every entry: `(ids, scores)` in storage
    /// order.
    fn scores<'py>(&self, py: Python<'py>, probe: &Bound<'py, PyAny>) -> PyResult<Results<'py>> {
        let t = self.prot().probe(py, probe)?;
        let (ids, scores) = py
            .detach(|| {
                let g = self.read();
                g.scores(&t)
                    .map(|s| (g.ids().iter().map(|&i| i as i64).collect::<Vec<_>>(), s))
            })
            .or_raise()?;
        Ok((arrays::vec1(py, ids), arrays::vec1(py, scores)))
    }

    /// Search threads: 0 (default) means one below 20,000 templates and
    /// every core above.
    #[getter]
    fn threads(&self) -> usize {
        self.read().threads()
    }

    #[setter]
    fn set_threads(&self, threads: usize) {
        self.write().set_threads(threads);
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

    /// The gallery of a description, under `mk`.
    #[classmethod]
    fn reopen(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        description: &Bound<'_, PyAny>,
        mk: &PyMasterKey,
    ) -> PyResult<Self> {
        let prot = PyProtector::from_description(&description.getattr("protector")?, mk)?;
        let prot = Bound::new(py, prot)?;
        let g = Self::new(prot);
        let ids = description.getattr("ids")?;
        if ids.len()? > 0 {
            g.add(py, &ids, &description.getattr("codes")?)?;
        }
        Ok(g)
    }

    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        reduce_to(py, self.description(py)?)
    }

    fn __repr__(&self) -> String {
        let p = self.prot();
        format!(
            "Gallery({} templates, {}, key {})",
            self.read().len(),
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
    parts: Vec<(Bound<'py, PyAny>, Bound<'py, PyAny>)>,
    k: usize,
) -> PyResult<Results<'py>> {
    let mut rows: Option<usize> = None;
    let mut lists: Vec<Vec<Candidate>> = Vec::new();
    for (ids, scores) in &parts {
        let ids = arrays::int_matrix(ids, "ids")?;
        let scores = arrays::matrix(scores, "scores")?;
        if ids.shape() != scores.shape() {
            return Err(param("parts", "ids and scores of a part differ in shape"));
        }
        let (n, width) = (ids.shape()[0], ids.shape()[1]);
        if *rows.get_or_insert(n) != n {
            return Err(param("parts", "parts have different numbers of probes"));
        }
        if lists.is_empty() {
            lists = vec![Vec::new(); n];
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
        .map(|l| batch::top_k(l, k))
        .collect::<btp::Result<Vec<_>>>()
        .or_raise()?;
    Ok(padded(py, &merged, k))
}
