"""Batch calls and searches release the GIL: Python threads run while they
work, and calls from several threads at once give the serial results."""

from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import btp


def python_progress_during(call) -> int:
    """How many times a Python thread went round its loop while `call` ran.

    The switch interval is raised to 0.2 s (and a first hand-over makes the
    spinning thread wait with it), so a thread waiting for the GIL gets it
    only when the holder releases it: if `call` kept the GIL and returns
    within 0.2 s, the count is exactly 0.
    """
    count = 0
    stop = threading.Event()
    started = threading.Event()

    def spin():
        nonlocal count
        started.set()
        while not stop.is_set():
            count += 1

    old = sys.getswitchinterval()
    t = threading.Thread(target=spin)
    t.start()
    started.wait()
    sys.setswitchinterval(0.2)
    try:
        time.sleep(0.001)  # hand the GIL over once: the next wait uses 0.2 s
        before = count
        call()
        after = count
    finally:
        sys.setswitchinterval(old)
        stop.set()
        t.join()
    return after - before


# Calls long enough (0.1 s or more on this machine) that the spinning thread
# is scheduled during them even while the core's own threads use every core.
@pytest.fixture(scope="module")
def big(prot):
    x, _ = btp.synthetic.population(subjects=1000, samples=4, seed=8)
    return x


@pytest.fixture(scope="module")
def big_codes(prot, big):
    return prot.protect_batch(big)


def test_protect_batch_releases_the_gil(prot, big):
    assert python_progress_during(lambda: prot.protect_batch(big)) > 0


def test_scores_release_the_gil(prot, big_codes):
    c = big_codes[:3000]
    assert python_progress_during(lambda: prot.scores(c, c)) > 0


def test_search_batch_releases_the_gil(prot, big_codes):
    g = btp.Gallery(prot)
    g.add(np.arange(10 * len(big_codes)), np.tile(big_codes, (10, 1)))
    assert python_progress_during(lambda: g.search_batch(big_codes[:400], k=5)) > 0


def test_eval_releases_the_gil():
    rng = np.random.default_rng(0)
    g, i = rng.random(200_000), rng.random(2_000_000)
    assert python_progress_during(lambda: btp.eval.eer(g, i)) > 0


def test_a_call_that_keeps_the_gil_is_detected():
    """The probe itself can fail: pure Python work under the GIL shows no
    progress of the other thread."""
    assert python_progress_during(lambda: sum(range(200_000))) == 0


def test_threads_get_the_serial_results(prot, big, big_codes):
    serial = big_codes
    chunks = np.array_split(big, 8)
    with ThreadPoolExecutor(4) as pool:
        parallel = np.concatenate(list(pool.map(prot.protect_batch, chunks)))
    assert np.array_equal(parallel, serial)
    g = btp.Gallery(prot)
    g.add(np.arange(len(big)), serial)
    want = g.search_batch(serial, k=3)
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda c: g.search_batch(c, k=3), np.array_split(serial, 8)))
    assert np.array_equal(np.concatenate([ids for ids, _ in got]), want[0])
    assert np.array_equal(np.concatenate([s for _, s in got]), want[1])


def test_gallery_changes_while_searched_from_threads(prot, big_codes):
    """Adds and searches from several threads at once never corrupt the
    gallery: every search sees whole templates."""
    codes = big_codes
    g = btp.Gallery(prot)
    g.add(np.arange(100), codes[:100])

    def add(start):
        g.add(np.arange(start, start + 50), codes[start : start + 50])

    def search(_):
        ids, scores = g.search_batch(codes[:20], k=1)
        assert np.array_equal(ids[:, 0], np.arange(20)) and (scores[:, 0] == 1.0).all()

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(add, s) for s in range(100, 400, 50)]
        futures += [pool.submit(search, i) for i in range(20)]
        for f in futures:
            f.result()
    assert len(g) == 400
