"""Hostile sizes and types into every entry point of btp.eval,
btp.synthetic, btp.plot and btp.hazmat (issue 13): a seeded generator
replaces one or two arguments of a valid call with hostile values (negative,
huge and non-integral numbers, NaN, strings, bools, None, ragged, empty,
object and complex arrays) and checks that only ``btp.BtpError``,
``MemoryError`` or ``TypeError`` ever comes out, and that the interpreter
survives (the calls run in a child process: an abort or a panic that
escapes is a failure of this test, not the end of the test run).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

CHILD = r'''
import json, random, sys, traceback, warnings
import numpy as np
# A warning numpy gives while converting (a complex number's imaginary part
# dropped) is a silent coercion: make it an error the test reports.
warnings.simplefilter("error", np.exceptions.ComplexWarning)
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import btp, btp.hazmat
from btp import eval as ev

mk = btp.MasterKey.from_bytes(bytes(range(32)))
x, y = btp.synthetic.population(subjects=6, samples=3, dim=16, seed=2)
scheme = btp.IoM(dim=16, hashes=32, window=4)
pa = btp.Protector(scheme, mk, application="a")
pb = btp.Protector(scheme, mk, application="b")
ca, cb = pa.protect_batch(x), pb.protect_batch(x)
g, i = np.array([0.9, 0.8, 0.7, 0.4]), np.array([0.1, 0.3, 0.5, 0.2, 0.6])
s = np.array([[0.9, 0.1, 0.5], [0.2, 0.8, 0.5], [0.3, 0.2, 0.1]])
m = np.array([0, 1, -1])

CALLS = {
    "det": (ev.det, [g, i], {}),
    "roc": (ev.roc, [g, i], {}),
    "eer": (ev.eer, [g, i], {}),
    "threshold_at_fmr": (ev.threshold_at_fmr, [i, 0.1], {}),
    "fnmr_at_fmr": (ev.fnmr_at_fmr, [g, i, 0.1], {}),
    "fnmr_at_fmrs": (ev.fnmr_at_fmr, [g, i, [0.1, 0.01]], {}),
    "operating_point": (ev.operating_point, [g, i, 0.5], {}),
    "clopper_pearson": (ev.clopper_pearson, [3, 10, 0.95], {}),
    "split_scores": (ev.split_scores, [s, [0, 0, 1]], {}),
    "split_scores_cross": (ev.split_scores, [s, [0, 1, 2], ["a", "b", "c"][:0] or [0, 1, 1]], {}),
    "split_pairs": (ev.split_scores, [s, [0, 0, 1]], {"return_indices": True}),
    "mates": (ev.mates, [[1, 2, 9], [2, 1]], {}),
    "linkage_scores": (ev.linkage_scores, [ca, cb, y, pa, pb], {"max_nonmated": 50}),
    "cmc": (ev.cmc, [s, m], {"max_rank": 2}),
    "fnir_at_fpir": (ev.fnir_at_fpir, [s, m, 0.5], {"rank": 1}),
    "identification_point": (ev.identification_point, [s, m, 0.5], {"rank": 1}),
    "fnir_fpir_curve": (ev.fnir_fpir_curve, [s, m], {"rank": 1}),
    "differentials": (ev.differentials, [g, [1, 1, 0, 0], ["a", "b", "a", "b"], 0.5],
                      {"confidence": 0.9, "garbe_alpha": 0.3}),
    "unlinkability": (ev.unlinkability, [g, i], {"bins": 10, "omega": 1.0, "range": (0.0, 1.0)}),
    "unlinkability_details": (ev.unlinkability_details, [g, i, 10, 1.0], {}),
    "protection_report": (ev.protection_report, [x, y, scheme, mk],
                          {"version": 1, "target_fmr": 0.1, "bins": 10, "range": (0.0, 1.0), "omega": 1.0,
                           "max_nonmated_linkage_pairs": 100}),
    "population": (btp.synthetic.population, [3, 2, 8],
                   {"offset": 1.0, "between": 1.0, "within": 1.0, "seed": 3}),
    "hazmat": (btp.hazmat.expose_transform, [pa], {}),
    "plot_det": (btp.plot.det, [g, i], {"xlim": (1e-3, 0.5)}),
    "plot_hist": (btp.plot.score_histograms, [g, i], {"threshold": 0.5, "bins": 10}),
    "plot_unlinkability": (btp.plot.unlinkability, [g, i], {"bins": 10, "omega": 1.0}),
}

HOSTILE = [
    -1, -(2**63) - 1, 2**64, 10**12, 10**30, 0, True, False, 2.5, float("nan"), float("inf"), -0.0,
    "3", "", b"x", None, object(), [], [[1, 2], [3]], {}, np.int64(-5), np.uint64(2**64 - 1),
    np.float64(1e300), np.float32("nan"), np.array([]), np.full(3, np.nan), np.ones((2, 2, 2)),
    np.array(["a", "b"]), np.array([1, "a"], dtype=object), np.array([True, False]),
    np.array([1 + 2j, 3j]), np.zeros((0, 0)), np.array([None, None]), np.arange(3, dtype=np.uint64) + 2**63,
    (0.0, 1.0, 2.0), (1.0, 0.0), range(10**12), pa, mk, scheme,
]

ALLOWED = (btp.BtpError, MemoryError, TypeError)
rng = random.Random(int(sys.argv[1]))
calls, raised, bad = 0, {}, []
names = sorted(CALLS)
for n in range(int(sys.argv[2])):
    name = names[n % len(names)]
    fn, args, kwargs = CALLS[name]
    args, kwargs = list(args), dict(kwargs)
    slots = [("a", k) for k in range(len(args))] + [("k", k) for k in kwargs]
    for kind, key in rng.sample(slots, min(len(slots), rng.choice([1, 1, 2]))):
        value = rng.choice(HOSTILE)
        if kind == "a":
            args[key] = value
        else:
            kwargs[key] = value
    calls += 1
    try:
        fn(*args, **kwargs)
    except ALLOWED as e:
        raised[type(e).__name__] = raised.get(type(e).__name__, 0) + 1
    except BaseException as e:  # noqa: BLE001 - the point of the test
        bad.append(f"{name}: {type(e).__name__}: {str(e)[:200]} <- args={[type(a).__name__ for a in args]} "
                   f"kwargs={ {k: type(v).__name__ for k, v in kwargs.items()} }")
    plt.close("all")
print(json.dumps({"calls": calls, "raised": raised, "bad": bad[:30], "n_bad": len(bad)}))
'''


def test_hostile_arguments_only_raise_btp_memory_or_type_errors():
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CHILD), "13", "3000"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, f"the interpreter died ({out.returncode}): {out.stderr[-3000:]}"
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["n_bad"] == 0, "\n".join(report["bad"])
    assert report["calls"] == 3000
    # The generator really reached the refusals.
    assert report["raised"].get("InvalidParameterError", 0) > 500, report["raised"]
    assert report["raised"].get("DimensionError", 0) > 50, report["raised"]
