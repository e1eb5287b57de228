"""Hostile sizes and types into every public entry point of the package
(issue 13), beyond ``btp.eval`` (``test_eval_fuzz.py``): keys, schemes,
protectors, templates, codes, galleries (int and str ids), descriptions,
``merge_results``, ``fit_centre``, purposes, a real store, synthetic data,
plots, the scikit-learn transformer and ``btp.hazmat``.

A seeded generator replaces one or two arguments of a valid call with a
hostile value: integers at every boundary (negative, 2**31, 2**63, 2**64,
10**12, 10**100, past a float), bools, NaN, infinities, -0.0, strings
(empty, 70,000 characters, control characters, a lone surrogate), bytes,
None, containers, btp objects of the wrong kind, wire formats cut short,
bit-flipped or of another type, files that are not stores, another master
key, and numpy arrays of every dtype, 0-d, empty, ragged, non-contiguous,
Fortran-ordered, unaligned, with strides of no whole element (a field of a
structured array), of the wrong dimension, and broadcast views of a few
elements shaped 10**6 x 10**6 or 10**12 rows, which must be refused
(``MemoryError``, or a ``BtpError`` about the shape) before anything is
allocated, never abort.

Only ``btp.BtpError``, ``MemoryError`` and ``TypeError`` may come out: a
``ValueError`` that is not a ``BtpError``, ``OverflowError``,
``AttributeError``, ``IndexError``, ``KeyError``, ``UnicodeError`` or pyo3's
``PanicException`` (a ``BaseException``) is a defect. The calls run in a
child process (``fuzz_entry_points_child.py``) with its address space
capped at 8 GiB, so that an abort is a failure of this test rather than of
the test run, and an allocation the operating system would grant lazily is
refused as it would be on a smaller machine. Every method of a store is
then called on a closed handle, which must refuse it with
``StoreClosedError``. The child also lists the package's public callables
by introspection: one that its table does not drive (or that is not
exempted below, with the reason), a parameter a table row leaves out, or a
public name a module leaves out of its ``__all__`` fails the test, so new
API cannot slip past.

The defects found are replayed one by one in ``test_fuzz_found.py``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

# Public callables this file does not drive, and why.
EXEMPT = {
    # scikit-learn's own protocol methods, inherited: their errors are
    # scikit-learn's, which its estimator checks expect (test_sklearn.py).
    "sklearn.ProtectTransformer.get_feature_names_out": "scikit-learn's",
    "sklearn.ProtectTransformer.get_params": "scikit-learn's",
    "sklearn.ProtectTransformer.get_metadata_routing": "scikit-learn's",
    "sklearn.ProtectTransformer.set_output": "scikit-learn's",
}

CHILD = Path(__file__).with_name("fuzz_entry_points_child.py")
EVAL_FUZZ = Path(__file__).with_name("test_eval_fuzz.py")


def run_child(tmp_path: Path, seed: int, cases: int, mode: str = "fuzz") -> dict:
    out = subprocess.run(
        [sys.executable, str(CHILD), str(seed), str(cases), mode],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert out.returncode == 0, (
        f"the interpreter died ({out.returncode}); its last cases:\n{out.stderr[-3000:]}"
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_every_public_callable_is_driven_and_its_valid_call_works(tmp_path):
    report = run_child(tmp_path, 0, 0, mode="valid")
    public, covered = set(report["public"]), set(report["covered"])
    # btp.eval's functions are driven by test_eval_fuzz.py: each must be
    # named in its table of calls.
    evals = {p for p in public if p.startswith("eval.")}
    text = EVAL_FUZZ.read_text()
    missing_eval = sorted(e for e in evals if not re.search(rf"\bev\.{re.escape(e[5:])}\b", text))
    assert not missing_eval, f"not driven by test_eval_fuzz.py: {missing_eval}"
    assert report["unlisted"] == [], "public names missing from their module's __all__"
    missing = sorted(public - evals - covered - set(EXEMPT))
    assert not missing, f"public callables no fuzz table drives (add them to the table of fuzz_entry_points_child.py): {missing}"
    stale = sorted(covered - public) + sorted(set(EXEMPT) - public)
    assert not stale, f"the table names callables that are not public: {stale}"
    # Each row names every parameter of its callable.
    assert report["unfuzzed"] == {}, report["unfuzzed"]
    # The table's valid calls succeed, so hostile values reach past the
    # first argument check.
    assert report["valid_failed"] == []
    assert len(covered) > 90


def test_hostile_arguments_only_raise_btp_memory_or_type_errors(tmp_path):
    report = run_child(tmp_path, 24, 4000)
    assert not report["bad"], "\n".join(report["bad"][:40]) + f"\n({len(report['bad'])} in all)"
    # Each argument of each entry point got every boundary value, then the
    # random cases ran.
    assert report["random"] == 4000
    assert report["calls"] > 4000 + 10 * len(report["covered"])
    # A closed store refuses every call but close() and the end of a with
    # block, with StoreClosedError (entering a closed store was allowed).
    closed = report["closed"]
    methods = {n for n in report["covered"] if n.startswith("Store.")} - {"Store.create", "Store.open"}
    assert set(closed) == methods
    assert closed.pop("Store.close") is None and closed.pop("Store.__exit__") is None
    assert set(closed.values()) == {"StoreClosedError"}, closed
    # The generator really reached the refusals.
    raised = report["raised"]
    assert raised.get("InvalidParameterError", 0) > 400, raised
    assert raised.get("DimensionError", 0) > 100, raised
    assert raised.get("OutOfMemoryError", 0) + raised.get("MemoryError", 0) > 20, raised


def test_any_memory_layout_and_integer_dtype_reads_the_values_it_shows():
    """An array is read as numpy shows it, whatever its memory layout: an
    unaligned view or a field of a structured array (strides of no whole
    element) gave wrong values (rust-numpy divides strides by the element
    size; reading unaligned memory is undefined behaviour). An integer numpy
    would wrap into another meaning (-1 as a code, 2**64 - 1 as "no mate")
    is refused."""
    import numpy as np

    import btp

    def unaligned(v):
        buf = np.zeros(v.nbytes + 1, np.uint8)
        buf[1:] = np.frombuffer(np.ascontiguousarray(v).tobytes(), np.uint8)
        return np.frombuffer(buf.data, v.dtype, count=v.size, offset=1).reshape(v.shape)

    def field(v):
        rec = np.zeros(v.shape, dtype=[("a", v.dtype), ("b", "u1")])
        rec["a"] = v
        return rec["a"]

    layouts = [unaligned, field, lambda v: v.astype(v.dtype.newbyteorder(">")), lambda v: np.asfortranarray(v)]
    mk = btp.MasterKey.from_bytes(bytes(range(32)))
    x, _ = btp.synthetic.population(subjects=4, samples=2, dim=16, seed=2)
    prot = btp.Protector(btp.IoM(dim=16, hashes=32, window=4), mk, "a")
    codes = np.asarray(prot.protect_batch(x))
    scores = np.array([[0.9, 0.1, 0.3], [0.2, 0.8, 0.4]])
    mates = np.array([0, 2])
    for layout in layouts:
        for dt in (np.float32, np.float64):
            v = layout(x.astype(dt))
            assert not np.shares_memory(v, x)
            assert np.array_equal(np.asarray(prot.protect_batch(v)), codes)
            assert np.allclose(btp.fit_centre(v), btp.fit_centre(x))
        assert np.array_equal(np.asarray(prot.as_codes(layout(codes))), codes)
        g = btp.Gallery(prot)
        g.add(layout(np.arange(8, dtype=np.int64) + 100), prot.as_codes(codes))
        assert list(np.asarray(g.ids)) == list(range(100, 108))
        assert btp.eval.eer(layout(scores[0]), scores[1]) == btp.eval.eer(scores[0], scores[1])
        assert np.array_equal(btp.eval.cmc(layout(scores), layout(mates)), btp.eval.cmc(scores, mates))
    cases = [
        (lambda: prot.as_codes(-codes.astype(np.int64)), "codes"),
        (lambda: btp.eval.cmc(scores, np.array([0, 2**64 - 1], np.uint64)), "mates"),
        (lambda: btp.Gallery(prot).add(np.array([2**63], np.uint64), prot.as_codes(codes[:1])), "ids"),
    ]
    for call, name in cases:
        try:
            call()
        except btp.InvalidParameterError as e:
            assert f"`{name}`" in str(e)
        else:
            raise AssertionError(f"accepted a wrapped integer as `{name}`")
