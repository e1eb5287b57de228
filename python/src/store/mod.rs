//! `btp.Store`: the encrypted template store, one class and its methods
//! (one `#[pymethods]` block, as PyO3 requires): each method converts its
//! arguments ([`inputs`]), calls the core without the GIL (SQLite I/O,
//! decryption, matching) and returns a typed result ([`reports`]). Every
//! operation takes the audit context (`actor`, `reason`) as keyword
//! arguments.

mod inputs;
mod reports;

use std::sync::{Arc, RwLock};

use btp::store::{Context, Samples, Store};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyType};

use crate::args::{count_or, id_arg, items, opt_float_arg, path_arg, text, Text};
use crate::arrays;
use crate::audit;
use crate::errors::OrRaise;
use crate::keys::PyMasterKey;
use crate::purpose::{purpose_list, PyPurpose};
use crate::pytypes::{datetime, timestamp};
use crate::results;
use crate::template::PyTemplate;
use inputs::{options, sample};

/// An open encrypted template store (one SQLite file). See `docs/store.md`.
/// Use it as a context manager, or call `close()`.
#[pyclass(frozen, module = "btp", name = "Store")]
pub struct PyStore {
    inner: RwLock<Option<Arc<Store>>>,
    path: String,
}

impl PyStore {
    fn wrap(store: Store, path: &std::path::Path) -> Self {
        Self {
            inner: RwLock::new(Some(Arc::new(store))),
            path: path.display().to_string(),
        }
    }

    fn store(&self) -> PyResult<Arc<Store>> {
        self.inner
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(crate::errors::store_closed)
    }
}

#[pymethods]
impl PyStore {
    /// Creates a new store at `path` (a path where nothing exists yet: an
    /// existing file is never overwritten or reinitialised, `StoreIOError`)
    /// with the master key and the purposes it serves. `busy_timeout` is
    /// how long to wait for another connection's lock (seconds; 10 if
    /// `None`).
    #[classmethod]
    #[pyo3(signature = (path, mk, purposes, *, busy_timeout = None, batch_size = None, max_encryptions_per_key = None))]
    #[allow(clippy::too_many_arguments)]
    fn create(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        path: &Bound<'_, PyAny>,
        mk: &PyMasterKey,
        purposes: &Bound<'_, PyAny>,
        busy_timeout: Option<&Bound<'_, PyAny>>,
        batch_size: Option<&Bound<'_, PyAny>>,
        max_encryptions_per_key: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let path = path_arg(path, "path")?;
        let options = options(busy_timeout, batch_size, max_encryptions_per_key)?;
        let purposes = purpose_list(purposes)?;
        let key = &mk.key;
        let p = path.clone();
        let store = py
            .detach(move || Store::create_with(&p, key, &purposes, options))
            .or_raise()?;
        Ok(Self::wrap(store, &path))
    }

    /// Opens the existing store at `path` with the master key (never
    /// creates one: a missing path is `NotFoundError`, an empty or foreign
    /// file `NotAStoreError`; a wrong key is `WrongKeyError`). With
    /// `purposes`, the handle serves those (a purpose the file lacks is
    /// added, changed thresholds and retention limits are audited);
    /// without, it serves every purpose the file holds, as stored.
    #[classmethod]
    #[pyo3(signature = (path, mk, purposes = None, *, busy_timeout = None, batch_size = None, max_encryptions_per_key = None))]
    #[allow(clippy::too_many_arguments)]
    fn open(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        path: &Bound<'_, PyAny>,
        mk: &PyMasterKey,
        purposes: Option<&Bound<'_, PyAny>>,
        busy_timeout: Option<&Bound<'_, PyAny>>,
        batch_size: Option<&Bound<'_, PyAny>>,
        max_encryptions_per_key: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let path = path_arg(path, "path")?;
        let options = options(busy_timeout, batch_size, max_encryptions_per_key)?;
        let purposes = purposes
            .filter(|p| !p.is_none())
            .map(purpose_list)
            .transpose()?;
        let key = &mk.key;
        let p = path.clone();
        let store = py
            .detach(move || match purposes {
                Some(purposes) => Store::open_with(&p, key, &purposes, options),
                None => Store::open_existing_with(&p, key, options),
            })
            .or_raise()?;
        Ok(Self::wrap(store, &path))
    }

    /// Closes the handle (the file stays); later calls raise
    /// `StoreClosedError`.
    fn close(&self) {
        self.inner.write().unwrap_or_else(|p| p.into_inner()).take();
    }

    /// A closed store is `StoreClosedError`, as a closed file is for
    /// Python's `with`.
    fn __enter__(slf: Bound<'_, Self>) -> PyResult<Bound<'_, Self>> {
        slf.get().store()?;
        Ok(slf)
    }

    fn __exit__(
        &self,
        _t: Option<&Bound<'_, PyAny>>,
        _v: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) {
        self.close();
    }

    /// Enrols `subject` for `purpose` from a feature vector (protected at
    /// once, never stored) or a `Template`; kept for `retention` (a
    /// `timedelta` or seconds) or until `expires_at` (an aware `datetime` or
    /// Unix seconds), by default the purpose's maximum. Returns the record id.
    #[pyo3(signature = (subject, x, purpose, *, retention = None, expires_at = None, actor, reason))]
    #[allow(clippy::too_many_arguments)]
    fn enroll(
        &self,
        py: Python<'_>,
        subject: Text,
        x: &Bound<'_, PyAny>,
        purpose: Text,
        retention: Option<&Bound<'_, PyAny>>,
        expires_at: Option<&Bound<'_, PyAny>>,
        actor: Text,
        reason: Text,
    ) -> PyResult<i64> {
        let store = self.store()?;
        let r = inputs::retention(retention, expires_at)?;
        let p = sample(x)?;
        let s = p.sample();
        py.detach(|| store.enroll(&purpose, &subject, s, r, &Context::new(&actor, &reason)))
            .or_raise()
    }

    /// Enrols many subjects at once, in one transaction: `subjects[i]` with
    /// row `i` of `x` (features `(n, dim)`, protected here and never
    /// stored) or `x[i]` (a list of `Template`). All or nothing: every id,
    /// row and the retention are checked before anything is written, a
    /// subject twice is refused, and a failure while writing writes
    /// nothing. One audit event per record. Returns the record ids
    /// (`int64`, input order).
    #[pyo3(signature = (subjects, x, purpose, *, retention = None, expires_at = None, actor, reason))]
    #[allow(clippy::too_many_arguments)]
    fn enroll_batch<'py>(
        &self,
        py: Python<'py>,
        subjects: &Bound<'py, PyAny>,
        x: &Bound<'py, PyAny>,
        purpose: Text,
        retention: Option<&Bound<'py, PyAny>>,
        expires_at: Option<&Bound<'py, PyAny>>,
        actor: Text,
        reason: Text,
    ) -> PyResult<Bound<'py, numpy::PyArrayDyn<i64>>> {
        let store = self.store()?;
        let r = inputs::retention(retention, expires_at)?;
        let subjects = items(subjects, "subjects", |s| text(s, "subjects"))?;
        let ids: Vec<&str> = subjects.iter().map(String::as_str).collect();
        let ctx = Context::new(&actor, &reason);
        let records = match inputs::template_list(x)? {
            Some(templates) => py
                .detach(|| {
                    store.enroll_batch(&purpose, &ids, Samples::Templates(&templates), r, &ctx)
                })
                .or_raise()?,
            None => {
                let rows = arrays::features(x, "x", &[2])?;
                let rows = rows.as_slice();
                py.detach(|| store.enroll_batch(&purpose, &ids, Samples::Features(rows), r, &ctx))
                    .or_raise()?
            }
        };
        Ok(arrays::vec1(py, records))
    }

    /// Retains a probe as evidence under a case reference (never matched).
    #[pyo3(signature = (case, x, purpose, *, retention = None, expires_at = None, actor, reason))]
    #[allow(clippy::too_many_arguments)]
    fn retain_probe(
        &self,
        py: Python<'_>,
        case: Text,
        x: &Bound<'_, PyAny>,
        purpose: Text,
        retention: Option<&Bound<'_, PyAny>>,
        expires_at: Option<&Bound<'_, PyAny>>,
        actor: Text,
        reason: Text,
    ) -> PyResult<i64> {
        let store = self.store()?;
        let r = inputs::retention(retention, expires_at)?;
        let p = sample(x)?;
        let s = p.sample();
        py.detach(|| store.retain_probe(&purpose, &case, s, r, &Context::new(&actor, &reason)))
            .or_raise()
    }

    /// A live retained probe: `(case, Template)`.
    fn retained_probe(
        &self,
        py: Python<'_>,
        record: &Bound<'_, PyAny>,
    ) -> PyResult<(String, PyTemplate)> {
        let record = id_arg(record, "record")?;
        let store = self.store()?;
        let (case, t) = py.detach(|| store.retained_probe(record)).or_raise()?;
        Ok((case, PyTemplate { t }))
    }

    /// 1:1 against the subject's live records of the purpose:
    /// `Verification(decision, record, event)`.
    #[pyo3(signature = (subject, x, purpose, *, actor, reason))]
    fn verify<'py>(
        &self,
        py: Python<'py>,
        subject: Text,
        x: &Bound<'py, PyAny>,
        purpose: Text,
        actor: Text,
        reason: Text,
    ) -> PyResult<Bound<'py, PyAny>> {
        let store = self.store()?;
        let p = sample(x)?;
        let s = p.sample();
        let v = py
            .detach(|| store.verify(&purpose, &subject, s, &Context::new(&actor, &reason)))
            .or_raise()?;
        reports::verification(py, v)
    }

    /// 1:N over the purpose's live records: `Identification(candidates,
    /// threshold, event)`, a candidate list for human review (`review`).
    #[pyo3(signature = (x, purpose, *, k = None, threshold = None, actor, reason))]
    #[allow(clippy::too_many_arguments)]
    fn identify<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        purpose: Text,
        k: Option<&Bound<'py, PyAny>>,
        threshold: Option<&Bound<'py, PyAny>>,
        actor: Text,
        reason: Text,
    ) -> PyResult<Bound<'py, PyAny>> {
        let k = count_or(k, "k", 1, 10)?;
        let threshold = opt_float_arg(threshold, "threshold")?;
        let store = self.store()?;
        let p = sample(x)?;
        let s = p.sample();
        let id = py
            .detach(|| store.identify(&purpose, s, k, threshold, &Context::new(&actor, &reason)))
            .or_raise()?;
        reports::identification(py, id)
    }

    /// Records a human review of an identification (its `event` number or
    /// the `Identification`): outcome `"confirmed"` (with the `record`
    /// confirmed), `"rejected"` or `"inconclusive"`. Returns the event number.
    #[pyo3(signature = (identification, outcome, *, record = None, reviewer, actor, reason))]
    #[allow(clippy::too_many_arguments)]
    fn review(
        &self,
        py: Python<'_>,
        identification: &Bound<'_, PyAny>,
        outcome: Text,
        record: Option<&Bound<'_, PyAny>>,
        reviewer: Text,
        actor: Text,
        reason: Text,
    ) -> PyResult<u64> {
        let store = self.store()?;
        let event = inputs::review_event(identification)?;
        let record = inputs::opt_record(record)?;
        let outcome = inputs::review_outcome(&outcome, record)?;
        py.detach(|| store.review(event, &reviewer, outcome, &Context::new(&actor, &reason)))
            .or_raise()
    }

    /// Erases every record of a subject (in one purpose, or all):
    /// `ErasureReport(erased, event, checkpointed)`. `HeldError` under a hold.
    #[pyo3(signature = (subject, purpose = None, *, actor, reason))]
    fn erase<'py>(
        &self,
        py: Python<'py>,
        subject: Text,
        purpose: Option<Text>,
        actor: Text,
        reason: Text,
    ) -> PyResult<Bound<'py, PyAny>> {
        let store = self.store()?;
        let r = py
            .detach(|| store.erase(&subject, purpose.as_deref(), &Context::new(&actor, &reason)))
            .or_raise()?;
        reports::erasure(py, r)
    }

    /// Places a legal hold on a `subject` (every record, every purpose) or
    /// one `record`; returns the hold id.
    #[pyo3(signature = (*, subject = None, record = None, actor, reason))]
    fn hold(
        &self,
        py: Python<'_>,
        subject: Option<Text>,
        record: Option<&Bound<'_, PyAny>>,
        actor: Text,
        reason: Text,
    ) -> PyResult<i64> {
        let record = inputs::opt_record(record)?;
        let store = self.store()?;
        let target = inputs::hold_target(subject.as_deref(), record)?;
        py.detach(|| store.hold(target, &Context::new(&actor, &reason)))
            .or_raise()
    }

    /// Releases a hold.
    #[pyo3(signature = (hold, *, actor, reason))]
    fn release(
        &self,
        py: Python<'_>,
        hold: &Bound<'_, PyAny>,
        actor: Text,
        reason: Text,
    ) -> PyResult<()> {
        let hold = id_arg(hold, "hold")?;
        let store = self.store()?;
        py.detach(|| store.release(hold, &Context::new(&actor, &reason)))
            .or_raise()
    }

    /// Deletes every record expired at `now` (an aware `datetime` or Unix
    /// seconds; the store's clock by default) that no hold keeps:
    /// `SweepReport(now, deleted, held, event, checkpointed)`.
    #[pyo3(signature = (now = None, *, actor = Text::from_static("btp"), reason = Text::from_static("retention sweep")))]
    fn sweep<'py>(
        &self,
        py: Python<'py>,
        now: Option<&Bound<'py, PyAny>>,
        actor: Text,
        reason: Text,
    ) -> PyResult<Bound<'py, PyAny>> {
        let store = self.store()?;
        let now = now.map(|t| timestamp(t, "now")).transpose()?;
        let r = py
            .detach(|| store.sweep(now, &Context::new(&actor, &reason)))
            .or_raise()?;
        reports::sweep(py, r)
    }

    /// Rotates the storage key of a purpose (or every purpose) and
    /// re-encrypts its records; resumes an interrupted rotation. Returns
    /// `[Rotation(purpose, old_version, new_version, reencrypted)]`.
    #[pyo3(signature = (purpose = None, *, actor = Text::from_static("btp"), reason = Text::from_static("storage key rotation")))]
    fn rotate_key<'py>(
        &self,
        py: Python<'py>,
        purpose: Option<Text>,
        actor: Text,
        reason: Text,
    ) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let store = self.store()?;
        let r = py
            .detach(|| store.rotate_key(purpose.as_deref(), &Context::new(&actor, &reason)))
            .or_raise()?;
        r.rotated
            .into_iter()
            .map(|rotated| reports::rotation(py, rotated))
            .collect()
    }

    /// Transparency figures: activity per purpose in `[start, end)` (every
    /// event by default) and live records per purpose now.
    #[pyo3(signature = (start = None, end = None))]
    fn stats<'py>(
        &self,
        py: Python<'py>,
        start: Option<&Bound<'py, PyAny>>,
        end: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let store = self.store()?;
        let from = start.map(|t| timestamp(t, "start")).transpose()?;
        let to = end.map(|t| timestamp(t, "end")).transpose()?;
        let s = py
            .detach(|| {
                let to = match to {
                    Some(t) => t,
                    None => store.now()?.saturating_add(1),
                };
                store.stats(from.unwrap_or(i64::MIN), to)
            })
            .or_raise()?;
        reports::stats(py, s)
    }

    /// Records (live or expired, not yet swept) per purpose.
    fn record_counts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let store = self.store()?;
        let c = py.detach(|| store.record_counts()).or_raise()?;
        reports::by_purpose(py, &c)
    }

    /// Verifies the whole audit chain (`AuditBrokenError` names the first
    /// bad event): `AuditReport(events, first_seq, head, pruned_through)`.
    fn verify_audit<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let store = self.store()?;
        let r = py.detach(|| store.verify_audit()).or_raise()?;
        reports::audit_report(py, r)
    }

    /// The newest event's `AuditHead(seq, mac)`: keep it elsewhere to detect
    /// later truncation or rewriting with `check_audit_head`.
    fn audit_head<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let store = self.store()?;
        let h = py.detach(|| store.audit_head()).or_raise()?;
        h.as_ref().map(|h| audit::head(py, h)).transpose()
    }

    /// Checks that the log still holds `head` unchanged.
    fn check_audit_head(&self, py: Python<'_>, head: &Bound<'_, PyAny>) -> PyResult<()> {
        let store = self.store()?;
        let head = audit::head_arg(head)?;
        py.detach(|| store.check_audit_head(&head)).or_raise()
    }

    /// Audit events, oldest first, matching every condition given.
    #[pyo3(signature = (*, start = None, end = None, purpose = None, action = None, after_seq = None, limit = None, record = None, subject_hash = None))]
    #[allow(clippy::too_many_arguments)]
    fn audit_events<'py>(
        &self,
        py: Python<'py>,
        start: Option<&Bound<'py, PyAny>>,
        end: Option<&Bound<'py, PyAny>>,
        purpose: Option<Text>,
        action: Option<Text>,
        after_seq: Option<&Bound<'py, PyAny>>,
        limit: Option<&Bound<'py, PyAny>>,
        record: Option<&Bound<'py, PyAny>>,
        subject_hash: Option<&[u8]>,
    ) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let f = audit::filter(
            start,
            end,
            purpose,
            action,
            after_seq,
            limit,
            record,
            subject_hash,
        )?;
        let store = self.store()?;
        let events = py.detach(|| store.audit_events(&f)).or_raise()?;
        events.iter().map(|e| audit::event(py, e)).collect()
    }

    /// Writes the audit events (all, or those of `purpose`) to a new file
    /// at `path` as JSON lines; returns the number written. An existing
    /// file is never overwritten (`IoError`).
    #[pyo3(signature = (path, *, purpose = None))]
    fn export_audit(
        &self,
        py: Python<'_>,
        path: &Bound<'_, PyAny>,
        purpose: Option<Text>,
    ) -> PyResult<u64> {
        let path = path_arg(path, "path")?;
        let store = self.store()?;
        let f = audit::filter(None, None, purpose, None, None, None, None, None)?;
        py.detach(|| store.export_audit_file(&f, &path)).or_raise()
    }

    /// Deletes audit events older than `before`, leaving the rest
    /// verifiable: `PruneReport(pruned, pruned_through)`.
    #[pyo3(signature = (before, *, actor, reason))]
    fn prune_audit<'py>(
        &self,
        py: Python<'py>,
        before: &Bound<'py, PyAny>,
        actor: Text,
        reason: Text,
    ) -> PyResult<Bound<'py, PyAny>> {
        let store = self.store()?;
        let before = timestamp(before, "before")?;
        let r = py
            .detach(|| store.prune_audit(before, &Context::new(&actor, &reason)))
            .or_raise()?;
        results::PruneReport::make(py, r.pruned, r.pruned_through)
    }

    /// SQLite's integrity check of the whole file (`CorruptError`), then
    /// every record authenticated (`IntegrityError`).
    fn check_integrity(&self, py: Python<'_>) -> PyResult<()> {
        let store = self.store()?;
        py.detach(|| store.check_integrity()).or_raise()
    }

    /// Checkpoints and truncates the WAL (`BusyError` if it cannot finish).
    fn checkpoint(&self, py: Python<'_>) -> PyResult<()> {
        let store = self.store()?;
        py.detach(|| store.checkpoint()).or_raise()
    }

    /// The store's random id (not secret).
    #[getter]
    fn store_id<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        Ok(PyBytes::new(py, &self.store()?.store_id()))
    }

    /// The purposes this handle serves.
    #[getter]
    fn purposes(&self) -> PyResult<Vec<PyPurpose>> {
        Ok(self
            .store()?
            .purposes()
            .map(|p| PyPurpose { purpose: p.clone() })
            .collect())
    }

    /// The current time by the store's clock (an aware UTC `datetime`).
    #[getter]
    fn now<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        datetime(py, self.store()?.now().or_raise()?)
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.inner
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .is_none()
    }

    fn __repr__(&self) -> String {
        let state = if self.closed() { ", closed" } else { "" };
        format!("Store({:?}{state})", self.path)
    }

    fn __reduce__(&self) -> PyResult<()> {
        Err(PyTypeError::new_err(
            "a Store holds the master key and cannot be pickled: open the file in each process with Store.open",
        ))
    }
}
