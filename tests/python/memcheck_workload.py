"""A short run through the Python package for the memory check
(tests/python/memcheck: valgrind, no leak or invalid access may come from
btp's native module). Not a pytest module: run as a script, with the number
of rounds as its argument."""

import sys
import tempfile
from pathlib import Path

import numpy as np

import btp

def workload() -> None:
    rng = np.random.default_rng(3)
    X = rng.standard_normal((60, 32)).astype(np.float32)
    mk = btp.MasterKey.from_bytes(bytes(range(32)))
    for scheme in (btp.IoM(32, 64, 16), btp.IoM(32, 64, 8, method="urp"), btp.BioHash(32, 32)):
        prot = btp.Protector(scheme.with_centring(btp.fit_centre(X)).with_l2(), mk, application="m")
        codes = prot.protect_batch(X)
        t = prot.protect(X[0])
        assert prot.compare(t, btp.Template.from_bytes(bytes(t))) == 1.0
        prot.scores(codes[:5], codes[5:9])
        prot.paired_scores(codes[:5], codes[5:10])
        g = btp.Gallery(prot)
        g.add(np.arange(60), codes)
        g.search(t, k=5)
        g.search_batch(codes[:7], k=3)
        g.remove([1, 2, 3])
        for bad in (X[0, :5], np.full(32, np.nan, dtype=np.float32)):
            try:
                prot.protect(bad)
            except btp.BtpError:
                pass
    gen, imp = rng.random(200), rng.random(2000) * 0.7
    btp.eval.eer(gen, imp)
    btp.eval.det(gen, imp)
    btp.eval.unlinkability(gen, imp, bins=50)
    with tempfile.TemporaryDirectory() as d:
        purposes = [btp.Purpose("gate", btp.IoM(32, 64, 16), "m", 0.3, 3600)]
        with btp.Store.create(Path(d) / "s.db", mk, purposes) as store:
            ctx = dict(actor="memcheck", reason="memory check")
            for i in range(10):
                store.enroll(f"s{i}", X[i], "gate", retention=60, **ctx)
            store.verify("s1", X[1], "gate", **ctx)
            store.identify(X[2], "gate", k=3, **ctx)
            store.erase("s3", **ctx)
            store.sweep(now=10**10)
            store.rotate_key(**ctx)
            store.verify_audit()
            list(store.audit_events())


for _ in range(int(sys.argv[1]) if len(sys.argv) > 1 else 1):
    workload()
