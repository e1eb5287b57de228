"""1:N galleries: adding, removing, searching, pickling to descriptions,
shards searched in worker processes."""

from __future__ import annotations

import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

import btp


def test_add_remove_get(prot, population, codes):
    x, _ = population
    g = btp.Gallery(prot)
    g.add(np.arange(10), codes[:10])  # codes
    g.add([10, 11], x[10:12])  # features
    g.add(12, x[12])  # one vector
    g.add(13, prot.protect(x[13]))  # one template
    g.add([14, 15], prot.templates(codes[14:16]))  # templates
    g.add(16, codes[16])  # one code
    g.add(np.int64(17), x[17].tolist())  # a list, a numpy integer id
    g.remove(17)
    assert len(g) == 17 and 5 in g and 99 not in g and -1 not in g
    assert np.array_equal(g.ids, np.arange(17))
    assert np.array_equal(g.codes(), codes[:17])
    assert g.get(3) == prot.template(codes[3]) and g.get(99) is None
    assert g.remove(3) == 1 and 3 not in g
    assert g.remove([1, 2, 99]) == 2
    assert len(g) == 14
    assert g.protector.fingerprint == prot.fingerprint
    assert "14 templates" in repr(g)


def test_search(prot, population, codes):
    x, labels = population
    g = btp.Gallery(prot)
    g.add(np.arange(len(x)), codes)
    found = g.search(x[5], k=4)
    assert [type(c) for c in found] == [btp.Candidate] * 4
    assert found[0] == (5, 1.0)
    same = {int(i) for i in np.flatnonzero(labels == labels[5])}
    assert {c.id for c in found} == same  # the 4 samples of the subject
    assert [c.score for c in found] == sorted((c.score for c in found), reverse=True)
    assert g.search(prot.protect(x[5]), k=1) == g.search(codes[5], k=1) == found[:1]
    assert all(c.score >= 0.5 for c in g.search(x[5], k=10, threshold=0.5))
    ids, scores = g.search_batch(x[:6], k=3)
    assert ids.shape == scores.shape == (6, 3) and ids.dtype == np.int64
    assert np.array_equal(ids[:, 0], np.arange(6))
    for r in range(6):
        assert [btp.Candidate(int(i), float(s)) for i, s in zip(ids[r], scores[r])] == g.search(x[r], k=3)
    ids2, scores2 = g.search_batch(codes[:6], k=3)
    assert np.array_equal(ids, ids2) and np.array_equal(scores, scores2)
    ids3, _ = g.search_batch(prot.templates(codes[:6]), k=3)
    assert np.array_equal(ids, ids3)
    # Padding: fewer candidates than k.
    ids, scores = g.search_batch(x[:2], k=5, threshold=0.99)
    assert np.array_equal(ids[:, 0], [0, 1]) and (ids[:, 1:] == -1).all() and np.isnan(scores[:, 1:]).all()
    all_ids, all_scores = g.scores(x[0])
    assert len(all_ids) == len(x) and all_scores[list(all_ids).index(0)] == 1.0
    g.threads = 2
    assert g.threads == 2 and g.search(x[5], k=4) == found


def test_gallery_pickles_to_a_description(prot, mk, population, codes):
    x, _ = population
    g = btp.Gallery(prot)
    g.add(np.arange(100, 100 + len(x)), codes)
    g.remove([100, 150])
    blob = pickle.dumps(g)
    assert mk.expose_secret() not in blob
    d = pickle.loads(blob)
    assert isinstance(d, btp.GalleryDescription) and len(d) == len(g)
    assert np.array_equal(d.ids, g.ids) and np.array_equal(d.codes, g.codes())
    g2 = d.open(mk)
    assert np.array_equal(g2.ids, g.ids)
    assert g2.search_batch(x[:20], k=5)[0].tolist() == g.search_batch(x[:20], k=5)[0].tolist()
    with pytest.raises(btp.KeyMismatchError):
        d.open(btp.MasterKey.generate())
    empty = btp.Gallery(prot).describe().open(mk)
    assert len(empty) == 0


def test_shards_merge_like_one_search(prot, mk, population, codes):
    x, _ = population
    g = btp.Gallery(prot)
    g.add(np.arange(len(x)), codes)
    whole = g.search_batch(x[::7], k=6)
    shards = [s.open(mk) for s in g.describe().split(3)]
    assert sum(len(s) for s in shards) == len(g)
    merged = btp.merge_results([s.search_batch(x[::7], k=6) for s in shards], k=6)
    assert np.array_equal(merged[0], whole[0]) and np.array_equal(merged[1], whole[1])


# Worker processes: each gets the key once (its initializer) and a pickled
# gallery shard, which arrives as a description without the key.
_KEY = None


def _init(key: bytes) -> None:
    global _KEY
    _KEY = btp.MasterKey.from_bytes(key)


def _search_shard(shard, probes, k):
    assert isinstance(shard, btp.GalleryDescription)
    return shard.open(_KEY).search_batch(probes, k=k)


def test_worker_processes_search_shards(prot, mk, population, codes):
    x, _ = population
    g = btp.Gallery(prot)
    g.add(np.arange(len(x)), codes)
    shards = g.describe().split(2)
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=ctx, initializer=_init, initargs=(mk.expose_secret(),)) as pool:
        parts = list(pool.map(_search_shard, shards, [x[:30]] * 2, [5] * 2))
    merged = btp.merge_results(parts, k=5)
    whole = g.search_batch(x[:30], k=5)
    assert np.array_equal(merged[0], whole[0]) and np.array_equal(merged[1], whole[1])
