"""Each defect the hostile-input test (test_fuzz_entry_points.py) found in
the package, replayed as the call that showed it, with the class it raises
now (issue 13). Run in a child process, since on the old code several of
these calls killed the interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

# Each defect the fuzzing found, as the call that showed it and the class it
# raises now. Before: an abort of the interpreter (allocation or pyo3's
# reservation for a sequence's claimed length), a numpy or pyo3 ValueError,
# OverflowError, UnicodeEncodeError, AttributeError, IndexError, a
# matplotlib RuntimeError, a ComplexWarning with the imaginary part dropped,
# or a scikit-learn ValueError quoting the features. Run in a child, since
# on the old code several killed the process.
FOUND = r'''
import dataclasses, json, sys
from datetime import timedelta
import numpy as np
import matplotlib
matplotlib.use("Agg")
import btp, btp.sklearn
mk = btp.MasterKey.from_bytes(bytes(range(32)))
x, _ = btp.synthetic.population(subjects=4, samples=2, dim=16, seed=2)
scheme = btp.IoM(dim=16, hashes=32, window=4)
prot = btp.Protector(scheme, mk, "a")
codes = prot.protect_batch(x)
t0, t1 = prot.protect(x[0]), prot.protect(x[1])
desc, purpose = prot.describe(), btp.Purpose("p", scheme, "a", 0.3, timedelta(days=1))
g = btp.Gallery(prot)
g.add(np.arange(8), codes)
gdesc = g.describe()
store = btp.Store.create("s.db", mk, [purpose])
store.enroll("u0", x[0], "p", actor="a", reason="r")
head = store.audit_head()
fnmrs = btp.eval.fnmr_at_fmr([0.9, 0.8], [0.1, 0.5], [0.1, 0.5])
ax = btp.plot.det([0.9, 0.8], [0.1, 0.5])
PT = btp.sklearn.ProtectTransformer


def closed_store():
    s = btp.Store.open("s.db", mk)
    s.close()
    return s


huge32 = np.broadcast_to(np.float32(1), (10**6, 10**6))
huge64 = np.broadcast_to(np.float64(1), (10**6, 10**6))
CASES = [
    # Allocations sized by a broadcast view: aborted, now refused.
    ("prot.protect_batch(huge32)", "OutOfMemoryError"),
    ("prot.protect_batch(huge64)", "OutOfMemoryError"),
    ("prot.protect_batch(np.broadcast_to(x[0], (10**12, 16)))", "OutOfMemoryError"),
    ("prot.template(np.broadcast_to(np.uint64(0), (10**12,)))", "OutOfMemoryError"),
    ("g.remove(np.broadcast_to(np.int64(1), (10**12,)))", "OutOfMemoryError"),
    ("btp.merge_results([(np.zeros((10**12, 0), np.int64), np.zeros((10**12, 0)))], 3)", "OutOfMemoryError"),
    # pyo3 reserved a sequence's claimed length before reading it: aborted.
    ("prot.codes(range(10**12))", "TypeError"),
    ("btp.Store.create('t.db', mk, range(10**12))", "TypeError"),
    ("store.enroll_batch(range(10**12), x, 'p', actor='a', reason='r')", "TypeError"),
    ("btp.merge_results(range(10**12), 3)", "TypeError"),
    ("btp.Protector.reopen(dataclasses.replace(desc, scheme=range(10**12)), mk)", "TypeError"),
    ("store.check_audit_head(head._replace(mac=range(10**12)))", "TypeError"),
    # Ragged nesting: numpy's ValueError.
    ("prot.protect_batch([[1.0] * 16, [1.0] * 15])", "DimensionError"),
    ("btp.fit_centre([[1.0, 2.0], [3.0]])", "DimensionError"),
    ("scheme.with_centring([[1.0], [2.0, 3.0]])", "DimensionError"),
    ("g.remove([[1, 2], [3]])", "DimensionError"),
    # A str holding a lone surrogate: UnicodeEncodeError.
    ("btp.Protector(scheme, mk, '\\ud800')", "InvalidParameterError"),
    ("btp.Protector(scheme, mk, 'a', subject='\\ud800')", "InvalidParameterError"),
    ("btp.IoM(16, method='\\ud800')", "InvalidParameterError"),
    ("btp.Purpose('\\ud800', scheme, 'a', 0.3, 86400)", "InvalidParameterError"),
    ("btp.Store.create('\\ud800.db', mk, [purpose])", "InvalidParameterError"),
    ("store.enroll('\\ud800', x[1], 'p', actor='a', reason='r')", "InvalidParameterError"),
    ("store.enroll_batch(['b', '\\ud800'], x[:2], 'p', actor='a', reason='r')", "InvalidParameterError"),
    ("store.hold(subject='u0', actor='\\ud800', reason='r')", "InvalidParameterError"),
    ("store.audit_events(purpose='\\ud800')", "InvalidParameterError"),
    ("store.export_audit('\\ud800')", "InvalidParameterError"),
    ("g.get(0) and btp.Gallery(prot).add('\\ud800', x[0])", "InvalidParameterError"),
    ("g.add([9], btp.Codes(np.asarray(codes[:1]), '\\ud800', 'x'))", "InvalidParameterError"),
    # Reals through pyo3's float conversion: OverflowError, a complex
    # number's imaginary part dropped, True taken as 1.0.
    ("prot.verify(t0, t1, 2**1100)", "InvalidParameterError"),
    ("g.search(x[0], threshold=np.complex128(1j))", "InvalidParameterError"),
    ("store.identify(x[0], 'p', threshold=True, actor='a', reason='r')", "InvalidParameterError"),
    ("btp.Purpose('q', scheme, 'a', 2**1100, 86400)", "InvalidParameterError"),
    ("btp.Store.create('u.db', mk, [purpose], busy_timeout=2**1100)", "InvalidParameterError"),
    # Objects of the wrong kind: AttributeError; integers: OverflowError.
    ("store.check_audit_head(None)", "TypeError"),
    ("btp.Protector.reopen(None, mk)", "TypeError"),
    ("btp.Gallery.reopen(desc, mk)", "TypeError"),
    ("btp.Protector.reopen(dataclasses.replace(desc, version=2**64), mk)", "InvalidParameterError"),
    ("btp.merge_results([(1, 2, 3)], 3)", "TypeError"),
    ("btp.to_frame([1])", "TypeError"),
    ("fnmrs.at(5)", "InvalidParameterError"),
    ("fnmrs.at(2**63)", "InvalidParameterError"),
    ("fnmrs.at('a')", "InvalidParameterError"),
    ("gdesc.split(0)", "InvalidParameterError"),
    ("gdesc.split(10**100)", "InvalidParameterError"),
    ("gdesc.split(10**9)", "InvalidParameterError"),
    ("store.sweep(now=True, actor='a', reason='r')", "InvalidParameterError"),
    ("btp.Codes([-1], 'f', 'p')", "InvalidParameterError"),
    ("btp.Codes([2.5], 'f', 'p')", "InvalidParameterError"),
    ("btp.Codes([[1], [2, 3]], 'f', 'p')", "DimensionError"),
    # Gallery ids of mixed kinds: numpy made [1, "a"] strings, [1, True]
    # integers (removed nothing, or added "1" as a string id); get() and
    # `in` swallowed every error, MemoryError included, as "absent".
    ("g.remove([1, 'a'])", "TypeError"),
    ("g.remove([1, True])", "TypeError"),
    ("btp.Gallery(prot).add(['a', 1], codes[:2])", "TypeError"),
    ("btp.Gallery(prot).add([1, 'a'], codes[:2])", "TypeError"),
    ("btp.Gallery(prot).add([1, '1'], codes[:2])", "TypeError"),
    ("g.get([1, 2])", "TypeError"),
    ("g.get(range(10**12))", "TypeError"),
    ("[1] in g", "TypeError"),
    # A closed store entered a with block.
    ("closed_store().__enter__()", "StoreClosedError"),
    # Plots: matplotlib's AttributeError, ValueError, RuntimeError.
    ("btp.plot.save(None, 'a.png')", "TypeError"),
    ("btp.plot.save(ax, 'a.png', dpi=1)", "InvalidParameterError"),
    ("btp.plot.save(btp.plot.det([0.9, 0.8], [0.1, 0.5]), 'a.xyz')", "InvalidParameterError"),
    ("btp.plot.score_histograms([0.9], [0.1], threshold=2**1100)", "InvalidParameterError"),
    ("btp.plot.det([0.9], [0.1], xlim=(2**1100, 0.5))", "InvalidParameterError"),
    # Plots' axes and titles, unchecked: AttributeError, numpy's ValueError
    # (the truth of an array), or a title that fails only when saved.
    ("btp.plot.det([0.9], [0.1], ax=5)", "TypeError"),
    ("btp.plot.unlinkability([0.9, 0.8], [0.1, 0.5], ax='a')", "TypeError"),
    ("btp.plot.score_histograms([0.9], [0.1], title=np.ones((2, 2)))", "TypeError"),
    ("btp.plot.det([0.9], [0.1], label='\\ud800')", "InvalidParameterError"),
    # scikit-learn's ValueErrors (quoting the features).
    ("PT(random_state=0).fit(x[0])", "DimensionError"),
    ("PT(random_state=0).fit(np.where(x > 0, x, np.nan))", "NonFiniteError"),
    ("PT(random_state=0).fit(np.full((4, 16), 'a'))", "InvalidParameterError"),
    ("PT(random_state=0).fit(2**1100)", "InvalidParameterError"),
    ("PT(random_state=2.5).fit(x)", "InvalidParameterError"),
    ("PT(centre=np.ones(2)).fit(x)", "InvalidParameterError"),
    ("PT(random_state=0).fit(x).transform(x[:, :8])", "DimensionError"),
]
out = []
for src, expected in CASES:
    print(src, file=sys.stderr, flush=True)
    try:
        eval(src)
        got, message = "nothing", ""
    except BaseException as e:  # noqa: BLE001
        got, message = type(e).__name__, str(e)
    out.append([src, expected, got, message[:300]])
print(json.dumps(out))
'''


def test_each_defect_found_raises_its_class_now(tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(FOUND)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert out.returncode == 0, f"the interpreter died ({out.returncode}) at:\n{out.stderr[-2000:]}"
    wrong = [
        f"{src}: expected {expected}, got {got}: {message}"
        for src, expected, got, message in json.loads(out.stdout.strip().splitlines()[-1])
        if got != expected
    ]
    assert not wrong, "\n".join(wrong)
    # No message quotes the features (scikit-learn's did).
    assert "1.66" not in out.stdout
