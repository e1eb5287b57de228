"""The frozen known-answer vectors (tests/vectors, see its README) give the
same bytes from Python as from Rust, through every input path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import btp

VECTORS = sorted((Path(__file__).resolve().parents[2] / "tests" / "vectors").glob("*.txt"))


def load(path: Path) -> dict:
    out = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        out[key.strip()] = value.strip()
    return out


def floats(hexs: str) -> np.ndarray:
    return np.frombuffer(bytes.fromhex(hexs), dtype="<f4")


def test_there_are_vectors():
    assert len(VECTORS) >= 5


@pytest.fixture(params=VECTORS, ids=lambda p: p.stem)
def vector(request):
    v = load(request.param)
    scheme = btp.Scheme.from_bytes(bytes.fromhex(v["params"]))
    subject = None if v["subject"] == "-" else bytes.fromhex(v["subject"])
    mk = btp.MasterKey.from_bytes(bytes.fromhex(v["master_key"]))
    prot = btp.Protector(scheme, mk, v["application"], int(v["version"]), subject)
    return v, scheme, prot


def test_parameters_and_fingerprint(vector):
    v, scheme, prot = vector
    assert scheme.to_bytes().hex() == v["params"]
    assert bytes(scheme).hex() == v["params"]
    assert prot.fingerprint == v["fingerprint"]


def test_templates_are_byte_identical(vector):
    v, _, prot = vector
    x, probe = floats(v["input"]), floats(v["probe"])
    t, tp = prot.protect(x), prot.protect(probe)
    assert bytes(t).hex() == v["template"]
    assert t.to_bytes().hex() == v["template"]
    assert bytes(tp).hex() == v["probe_template"]
    assert t.fingerprint == v["fingerprint"]


def test_every_input_path_gives_the_same_bytes(vector):
    v, _, prot = vector
    x, probe = floats(v["input"]), floats(v["probe"])
    rows = np.stack([x, probe])
    expected = [v["template"], v["probe_template"]]
    # float32 read in place, float64 converted, a non-contiguous view copied.
    wide = np.zeros((2, 2 * rows.shape[1]), dtype=np.float32)
    wide[:, ::2] = rows
    for batch in (rows, rows.astype(np.float64), wide[:, ::2], rows.tolist()):
        codes = prot.protect_batch(batch)
        assert [bytes(t).hex() for t in prot.templates(codes)] == expected
    assert [bytes(t).hex() for t in prot.protect_templates(rows)] == expected
    assert bytes(prot.protect(x.astype(np.float64))).hex() == v["template"]


def test_decoding_and_scores(vector):
    v, _, prot = vector
    t = btp.Template.from_bytes(bytes.fromhex(v["template"]))
    tp = btp.Template.from_bytes(bytes.fromhex(v["probe_template"]))
    assert prot.compare(t, tp) == float(v["score"])
    assert t.similarity(tp) == float(v["score"])
    assert int((t.elements() != tp.elements()).sum()) == int(v["mismatches"])
    codes = prot.codes([t, tp])
    assert prot.paired_scores(codes[:1], codes[1:])[0] == np.float32(float(v["score"]))
    assert prot.scores(codes, codes)[0, 1] == np.float32(float(v["score"]))
    unpacked = prot.unpack(codes)
    assert int((unpacked[0] != unpacked[1]).sum()) == int(v["mismatches"])
    assert (prot.unpack(codes[0]) == t.elements()).all()
