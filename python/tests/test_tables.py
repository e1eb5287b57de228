"""Every evaluation result and store report converts to a table
(``to_records`` without dependencies, ``to_frame`` with pandas), reprs fit
on a screen, and pandas, scikit-learn and matplotlib stay optional."""

from __future__ import annotations

import pickle
import subprocess
import sys
from datetime import datetime, timezone

import numpy as np
import pytest

import btp
from btp import _types
from btp import eval as ev

pd = pytest.importorskip("pandas")


def results(population, scheme, mk):
    """One of every evaluation result type."""
    rng = np.random.default_rng(0)
    g, i = rng.normal(0.7, 0.1, 300), rng.normal(0.3, 0.1, 3000)
    s = rng.random((6, 4))
    mates = np.array([0, 1, 2, -1, 3, -1])
    x, labels = population
    d = ev.differentials(np.r_[g[:50], i[:50]], np.r_[np.ones(50), np.zeros(50)], ["a", "b"] * 50, 0.5)
    prot = btp.Protector(scheme, mk, application="t")
    codes = prot.protect_batch(x[:40])
    report = ev.protection_report(x, labels, scheme, mk)
    return {
        "det": ev.det(g, i),
        "roc": ev.roc(g, i),
        "eer": ev.eer(g, i),
        "fnmr_at_fmr": ev.fnmr_at_fmr(g, i, 0.01),
        "fnmr_at_fmrs": ev.fnmr_at_fmr(g, i, [0.01, 0.1]),
        "operating_point": ev.operating_point(g, i, 0.5),
        "fnir_at_fpir": ev.fnir_at_fpir(s, mates, 0.5),
        "identification_point": ev.identification_point(s, mates, 0.5),
        "fnir_fpir_curve": ev.fnir_fpir_curve(s, mates),
        "unlinkability": ev.unlinkability(g, i),
        "unlinkability_details": ev.unlinkability_details(g, i),
        "split": ev.split_scores(s[:4, :4], [0, 0, 1, 1], return_indices=True),
        "linkage": ev.linkage_scores(codes, codes, labels[:40], prot, prot),
        "rate": d.groups["a"].fmr,
        "group_rates": d.groups["a"],
        "disparity": d.fmr,
        "differentials": d,
        "protection_report": report,
        "scenario": report.stolen_key,
    }


def store_results():
    """One of every store report type, built by hand."""
    now = datetime(2030, 1, 2, tzinfo=timezone.utc)
    decision = _types.Decision(0.8, 0.3, True)
    head = _types.AuditHead(7, b"\x01" * 32)
    return {
        "decision": decision,
        "candidate": _types.Candidate(3, 0.9),
        "verification": _types.Verification(decision, 11, 12),
        "store_candidate": _types.StoreCandidate("P-1", 4, 0.7),
        "identification": _types.Identification(
            [_types.StoreCandidate(f"P-{k}", k, 1 - k / 100) for k in range(30)], 0.3, 5
        ),
        "erasure": _types.ErasureReport({"gate": [1, 2], "border": [3]}, 8, True),
        "sweep": _types.SweepReport(now, {"gate": list(range(500))}, 2, 9, True),
        "rotation": _types.Rotation("gate", 1, 2, 40),
        "activity": _types.PurposeActivity("gate", {"enroll": 3, "verify": 5}, 1, 0),
        "stats": _types.StoreStats(
            [_types.PurposeActivity("gate", {"enroll": 3}, 0, 0), _types.PurposeActivity("b", {"verify": 1}, 0, 2)],
            {"gate": 3, "c": 1},
        ),
        "audit_head": head,
        "audit_report": _types.AuditReport(10, 1, head, None),
        "audit_report_empty": _types.AuditReport(0, None, None, None),
        "audit_event": _types.AuditEvent(
            1, now, "officer", "enroll", "gate", "entry", list(range(100)), [b"h" * 32], "ok", {"k": 1}, b"m" * 32
        ),
        "prune": _types.PruneReport(4, 4),
    }


def check_table(name, r):
    records = r.to_records()
    assert isinstance(records, list) and all(isinstance(row, dict) for row in records), name
    frame = r.to_frame()
    assert isinstance(frame, pd.DataFrame), name
    assert len(frame) == len(records), name
    if records:
        assert list(frame.columns) == list(records[0]), name
        for row in records:
            assert all(not isinstance(v, np.ndarray) for v in row.values()), name
    assert len(repr(r)) < 1000, (name, len(repr(r)))
    return records, frame


def test_every_evaluation_result_is_a_table(population, scheme, mk):
    all_results = results(population, scheme, mk)
    assert {type(r) for r in all_results.values()} == set(btp._eval_types.ALL)
    for name, r in all_results.items():
        check_table(name, r)
        assert pickle.loads(pickle.dumps(r)) is not None
        assert type(r).__module__ == "btp.eval"
    det = all_results["det"]
    rows = det.to_records()
    assert len(rows) == len(det.thresholds) and rows[3] == dict(
        threshold=det.thresholds[3], fmr=det.fmr[3], fnmr=det.fnmr[3]
    )
    rep = all_results["protection_report"].to_frame()
    assert rep["scenario"].tolist() == ["unprotected", "normal", "stolen_key"]
    assert {"eer", "at_target_fmr_fnmr", "d_sys", "scheme"} <= set(rep.columns)
    diff = all_results["differentials"].to_frame()
    assert diff["group"].tolist() == ["a", "b"] and "fmr_interval_hi" in diff.columns
    u = all_results["unlinkability"].to_frame()
    assert len(u) == 100 and (u["d_sys"] == all_results["unlinkability"].d_sys).all()
    split = all_results["split"].to_frame()
    assert split["genuine"].sum() == 2 and len(split) == 6
    many = all_results["fnmr_at_fmrs"].to_frame()
    assert many["target_fmr"].tolist() == [0.01, 0.1]


def test_every_store_report_is_a_table():
    reports = store_results()
    covered = {type(r) for r in reports.values()}
    report_types = {
        getattr(_types, n) for n in _types.__all__ if n not in ("ProtectorDescription", "GalleryDescription")
    }
    assert covered == report_types
    for name, r in reports.items():
        check_table(name, r)
    assert len(reports["sweep"].to_records()) == 500
    assert reports["identification"].to_frame()["threshold"].unique().tolist() == [0.3]
    assert reports["erasure"].to_frame()[["purpose", "record"]].values.tolist() == [
        ["gate", 1], ["gate", 2], ["border", 3]
    ]
    stats = reports["stats"].to_frame().set_index("purpose")
    assert stats.loc["gate", "live"] == 3 and stats.loc["b", "verify"] == 1 and stats.loc["c", "enroll"] == 0
    assert reports["verification"].to_records() == [
        dict(score=0.8, threshold=0.3, matched=True, record=11, event=12)
    ]
    assert reports["audit_report_empty"].to_records()[0]["head_seq"] is None
    # Several reports in one table.
    events = [reports["audit_event"], reports["audit_event"]]
    assert len(btp.to_frame(events)) == 2
    assert list(btp.to_frame([]).columns) == []


def test_reprs_fit_on_a_screen(population, scheme, mk):
    r = ev.protection_report(*population, scheme, mk)
    text = repr(r)
    # The unlinkability arrays (100 bins) used to be printed whole.
    assert len(text) < 400 and "array" not in text, text
    assert "d_sys" in text and "stolen_key" in text
    u = repr(r.unlinkability)
    assert "100 x float64" in u and len(u) < 400, u
    sweep = repr(store_results()["sweep"])
    assert "(500 items)" in sweep and len(sweep) < 400, sweep


def test_optional_dependencies_stay_optional():
    code = (
        "import sys\n"
        "for m in ('pandas', 'sklearn', 'matplotlib'): sys.modules[m] = None\n"
        "import btp, btp.eval, btp.hazmat\n"
        "r = btp.eval.eer([0.9, 0.8], [0.1, 0.85])\n"
        "assert r.to_records()[0]['eer'] == r.eer\n"
        "try:\n"
        "    r.to_frame()\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert 'pip install "btp[pandas]"' in out.stdout
    out = subprocess.run(
        [sys.executable, "-c", "import btp, sys; print(sorted(m for m in ('pandas', 'sklearn') if m in sys.modules))"],
        capture_output=True, text=True, check=True,
    )
    assert out.stdout.strip() == "[]"
