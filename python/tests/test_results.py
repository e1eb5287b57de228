"""The result classes are defined once: the table of the native module
(`_native._results`, python/src/results.rs: class, module, fields) names
exactly the result and description classes of `btp._types` and
`btp._eval_types`, with their fields in order, and the native functions
return instances of those classes (no tuple or dict crosses unwrapped)."""

from __future__ import annotations

import dataclasses
import importlib

import numpy as np

import btp
from btp import _eval_types, _native, _types


def fields(cls) -> tuple:
    if dataclasses.is_dataclass(cls):
        return tuple(f.name for f in dataclasses.fields(cls))
    return tuple(cls._fields)


def test_table_names_every_result_class_once():
    python = {(m.__name__, n) for m in (_types, _eval_types) for n in m.__all__}
    native = {(module, name) for name, (module, _) in _native._results.items()}
    assert native == python
    assert len(_native._results) == len(python)


def test_table_fields_match_the_classes():
    for name, (module, names) in _native._results.items():
        cls = getattr(importlib.import_module(module), name)
        assert tuple(names) == fields(cls), name


def test_native_eval_returns_typed_results():
    g, i = np.array([0.9, 0.8, 0.4]), np.array([0.1, 0.5, 0.2])
    assert type(_native.eval.eer(g, i)) is btp.eval.Eer
    assert type(_native.eval.det(g, i)) is btp.eval.DetCurve
    assert type(_native.eval.roc(g, i)) is btp.eval.RocCurve
    assert type(_native.eval.fnmr_at_fmr(g, i, 0.1)) is btp.eval.FnmrAtFmr
    assert type(_native.eval.fnmr_at_fmrs(g, i, np.array([0.1, 0.5]))) is btp.eval.FnmrAtFmrs
    assert type(_native.eval.operating_point(g, i, 0.5)) is btp.eval.OperatingPoint
    assert type(_native.eval.unlinkability(g, i, 10, None, 1.0)) is btp.eval.Unlinkability
    assert type(_native.eval.unlinkability_details(g, i, 10, None, 1.0)) is btp.eval.UnlinkabilityDetails
    d = _native.eval.differentials(
        np.array([0.9, 0.2, 0.8, 0.3]), np.array([1, 0, 1, 0], np.uint8), np.array([0, 0, 1, 1], np.uint32),
        ["a", "b"], 0.5, 0.95, 0.25,
    )
    assert type(d) is btp.eval.Differentials
    assert list(d.groups) == ["a", "b"]
    assert type(d.groups["a"]) is btp.eval.GroupRates
    assert type(d.groups["a"].fmr) is btp.eval.RateEstimate
    assert type(d.fmr) is btp.eval.Disparity
