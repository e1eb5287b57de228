//! The result classes the native module returns, in one table: each class
//! (a named tuple or frozen dataclass of `btp/_types.py` or
//! `btp/_eval_types.py`) with its fields in order.
//!
//! The classes stay plain Python types, as cryptography keeps `x509.Name`
//! in Python and builds it from Rust through a table of lazily imported
//! classes: a named tuple unpacks, compares and pickles without the native
//! module, which a `#[pyclass]` cannot (PyO3 cannot subclass `tuple`).
//! Each entry here is a type with one constructor, `Name::make(py, field,
//! ...)`, one argument per field: the compiler checks every call against
//! the table, `_native._results` publishes the table, and
//! `python/tests/test_results.py` checks it against the Python classes
//! (names, fields and order), so the two sides cannot drift.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;

/// The class `name` of the module `module`.
fn class(py: Python<'_>, module: &str, name: &str) -> PyResult<Py<PyAny>> {
    Ok(py.import(module)?.getattr(name)?.unbind())
}

macro_rules! results {
    ($($module:literal { $($name:ident($($field:ident),+ $(,)?);)+ })+) => {
        $($(
            #[doc = concat!("`", $module, ".", stringify!($name), "`.")]
            pub struct $name;

            impl $name {
                #[doc = concat!("`", stringify!($name), "(", stringify!($($field),+), ")`.")]
                #[allow(clippy::too_many_arguments)]
                pub fn make<'py>(
                    py: Python<'py>,
                    $($field: impl IntoPyObject<'py>),+
                ) -> PyResult<Bound<'py, PyAny>> {
                    static CLASS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
                    CLASS
                        .get_or_try_init(py, || class(py, $module, stringify!($name)))?
                        .bind(py)
                        .call1(($($field,)+))
                }
            }
        )+)+

        /// `(module, class, fields)` of every result class.
        const TABLE: &[(&str, &str, &[&str])] = &[
            $($(($module, stringify!($name), &[$(stringify!($field)),+]),)+)+
        ];
    };
}

results! {
    "btp._types" {
        Decision(score, threshold, matched);
        Candidate(id, score);
        ProtectorDescription(scheme, application, version, subject, fingerprint);
        GalleryDescription(protector, ids, codes);
        Verification(decision, record, event);
        StoreCandidate(subject, record, score);
        Identification(candidates, threshold, event);
        ErasureReport(erased, event, checkpointed);
        SweepReport(now, deleted, held, event, checkpointed);
        Rotation(purpose, old_version, new_version, reencrypted);
        PurposeActivity(purpose, counts, swept_records, erased_records);
        StoreStats(activity, live);
        AuditHead(seq, mac);
        AuditReport(events, first_seq, head, pruned_through);
        AuditEvent(
            seq, time, actor, action, purpose, reason, records, subjects, outcome, detail, mac,
        );
        PruneReport(pruned, pruned_through);
    }
    "btp._eval_types" {
        DetCurve(fmr, fnmr, thresholds);
        RocCurve(fmr, fnmr, thresholds);
        Eer(eer, threshold, fmr, fnmr);
        FnmrAtFmr(fnmr, threshold, achieved_fmr);
        FnmrAtFmrs(target_fmr, fnmr, threshold, achieved_fmr);
        OperatingPoint(
            threshold, fmr, fnmr, false_matches, impostors, false_non_matches, genuines,
        );
        FnirAtFpir(fnir, threshold, achieved_fpir);
        IdentificationPoint(
            threshold, rank, fnir, fpir, misses, mated, false_positives, nonmated,
        );
        IdentificationCurve(thresholds, fpir, fnir);
        Unlinkability(d_sys, d_local, bin_centres);
        UnlinkabilityDetails(
            d_sys, d_local, bin_centres, bin_edges, mated_density, nonmated_density,
        );
        SplitScores(genuine, impostor, genuine_pairs, impostor_pairs);
        LinkageScores(mated, nonmated);
        RateEstimate(errors, trials, rate, interval);
        GroupRates(fmr, fnmr);
        Disparity(groups, min, max, max_min_ratio, max_geomean_ratio, gini);
        Differentials(threshold, groups, fmr, fnmr, garbe, garbe_alpha);
        ScenarioReport(
            eer, eer_threshold, at_target_fmr, genuine_pairs, impostor_pairs, genuine_mean,
            impostor_mean,
        );
        ProtectionReport(
            scheme, code_len, unprotected, normal, stolen_key, unlinkability,
            mated_linkage_pairs, nonmated_linkage_pairs,
        );
    }
}

/// Publishes the table as `_native._results`: `{class: (module, fields)}`
/// (private: for the test that checks it against the Python classes).
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let table = PyDict::new(m.py());
    for &(module, name, fields) in TABLE {
        table.set_item(name, (module, fields.to_vec()))?;
    }
    // `setattr`, not `add`: private, so not in `__all__`.
    m.setattr("_results", table)
}
