"""btp beside its peers, on the same data, in one run: prints a table of ratios.

    bench/run                 # full: galleries of 10^5 and 10^6, batches of 10^4 and 10^5
    bench/run --quick         # smoke: 10^4 / 10^5 galleries, small batches (the test command)

`bench/run` prepares the environment (a virtualenv with the btp wheel, numpy,
faiss-cpu; the C library and bench/c_bench) and calls this script. Peers:

* numpy, written the way a data scientist would: the projection by one BLAS
  matrix product (numpy's bundled OpenBLAS, every core) and argmax or sign;
  1:N search as element comparisons summed per row, then argpartition.
* faiss `IndexBinaryFlat` on exactly the same BioHash bit codes (Hamming
  distance = BioHash mismatches): btp and faiss answer the same query.

Every comparison first checks that both sides return the same answer, so
a fast wrong answer cannot win:

* protection: the numpy peer computes with the protector's own secret
  parameters (`btp.hazmat.expose_transform`: its Gaussian matrix or
  orthonormal basis), and the codes of every row of a sample (all rows of
  the quick run, 2,000 in the full one) are compared element by element. A
  BLAS product sums in another order than btp's fixed float32 order, so an
  element may differ where two projections (or a projection and 0) are
  closer than float32 rounding; each such element is checked to be one
  (float64 projections within the rounding bound) and counted;
* search: for every probe timed (20 quick, up to 50 full), btp's top-k
  mismatch counts equal numpy's (IoM-GRP, BioHash) and faiss's (BioHash),
  and the ids strictly inside the k-th distance are the same.

Machine references, measured in the same run by bench/c_bench: the streaming
read bandwidth (beside the 1:N scan's GB/s) and the f32 fused multiply-add
peak (beside batch protection's GFLOP/s).

    bench/run --only protect  # one section: protect, latency, search, store
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import btp
import btp.hazmat

HERE = Path(__file__).resolve().parent
K = 10
DIM = 128


def best_of(fn, repeat: int) -> float:
    """The shortest of `repeat` timed calls, in seconds.

    Starts with a pause: OpenBLAS's worker threads busy-wait for a while
    after each numpy product (about 0.1 s by default), and timing anything
    in that window measures two libraries sharing the cores.
    """
    time.sleep(0.3)
    best = float("inf")
    calls, start = 0, time.perf_counter()
    # At least `repeat` calls and half a second: short calls (a few ms)
    # need more samples to get past a scheduler hiccup.
    while calls < repeat or time.perf_counter() - start < 0.5:
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
        calls += 1
    return best


def median_call(fn, n: int) -> float:
    """Median seconds per call over n calls."""
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2]


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class Table:
    def __init__(self) -> None:
        self.rows: list[dict] = []

    def add(self, section: str, workload: str, btp_value: float, unit: str,
            peer: str | None = None, peer_value: float | None = None,
            higher_is_better: bool = True, note: str = "") -> None:
        ratio = None
        if peer_value:
            ratio = btp_value / peer_value if higher_is_better else peer_value / btp_value
        self.rows.append(dict(section=section, workload=workload, btp=btp_value, unit=unit,
                              peer=peer, peer_value=peer_value, ratio=ratio, note=note))
        peer_text = f"{peer} {fmt(peer_value)}" if peer else ""
        ratio_text = f"{ratio:7.2f}x" if ratio is not None else ""
        print(f"  {workload:<44} {fmt(btp_value):>10} {unit:<12} {peer_text:<22} {ratio_text:>8}  {note}",
              flush=True)


def fmt(v: float | None) -> str:
    if v is None:
        return ""
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


# --------------------------------------------------------------------------
# Data and the numpy reference transforms


def features(n: int, seed: int) -> np.ndarray:
    """Embedding-like rows: clustered, unit length, float32."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((max(n // 5, 1), DIM)).astype(np.float32)
    x = centres[rng.integers(0, len(centres), n)] + 0.5 * rng.standard_normal((n, DIM)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return np.ascontiguousarray(x, dtype=np.float32)


def numpy_iom(x: np.ndarray, w: np.ndarray, hashes: int, window: int) -> np.ndarray:
    """IoM-GRP as numpy code: one GEMM, then argmax per window."""
    p = x @ w.T
    return p.reshape(len(x), hashes, window).argmax(axis=2).astype(np.uint8)


def numpy_biohash(x: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """BioHash as numpy code: one GEMM, sign, packed bits."""
    return np.packbits((x @ basis.T) > 0, axis=1, bitorder="little")


def rounding_bound(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """A bound on |float32 dot - exact dot| for rows x and w, either
    summation order: 2 gamma_(dim + 8) sum |x w| (float64)."""
    return 2 * (x.shape[1] + 8) * 2.0**-24 * (np.abs(x.astype(np.float64)) @ np.abs(w.astype(np.float64)).T)


def check_same_codes(name: str, kind: str, x: np.ndarray, material: np.ndarray,
                     ours: np.ndarray, peer: np.ndarray) -> None:
    """btp's and numpy's code elements agree on every row of x, except at
    certified float32 near-ties (see the module docs); prints the count."""
    differ = np.argwhere(ours != peer)
    for i, h in differ:
        if kind == "iom":
            w = material[h]  # (window, dim)
            p = x[i].astype(np.float64) @ w.astype(np.float64).T
            bound = rounding_bound(x[i:i + 1], w)[0]
            a, b = int(ours[i, h]), int(peer[i, h])
            ok = abs(p[a] - p[b]) <= bound[a] + bound[b]
        else:
            p = x[i].astype(np.float64) @ material[h].astype(np.float64)
            ok = abs(p) <= rounding_bound(x[i:i + 1], material[h:h + 1])[0, 0]
        assert ok, f"{name}: btp and numpy disagree at row {i}, element {h}, beyond float32 rounding"
    assert len(differ) <= 1e-3 * ours.size, f"{name}: {len(differ)} near-ties is too many"
    print(f"  {'  same codes as numpy':<44} {len(x):>10,} rows, {ours.size:,} elements,"
          f" {len(differ)} at float32 near-ties (certified)", flush=True)


def check_same_top_k(name: str, ours: np.ndarray, ours_ids: np.ndarray,
                     peer: np.ndarray, peer_ids: np.ndarray) -> None:
    """Top-k mismatch counts (rows: probes) are equal, and the ids strictly
    closer than the k-th distance are the same sets (ties at the k-th may
    pick different ids)."""
    assert ours.shape == peer.shape, name
    for q in range(len(ours)):
        a, b = np.sort(ours[q]), np.sort(peer[q])
        assert np.array_equal(a, b), f"{name}: probe {q}: distances {a} != {b}"
        inside = a[-1]
        assert set(ours_ids[q][ours[q] < inside].tolist()) == set(peer_ids[q][peer[q] < inside].tolist()), \
            f"{name}: probe {q}: different ids"
    print(f"  {'  same top-' + str(ours.shape[1]) + ' as ' + name:<44} {len(ours):>10} probes", flush=True)


def numpy_top_k(distances: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distances, ids) of the k smallest distances of one probe."""
    top = np.argpartition(distances, K)[:K]
    top = top[np.argsort(distances[top], kind="stable")]
    return distances[top], top


# --------------------------------------------------------------------------


def bench_protection(t: Table, mk: btp.MasterKey, sizes: list[int], repeat: int, c_figures: dict) -> None:
    print("\nbatch protection (all cores; numpy: its BLAS matrix product + argmax/sign;"
          " GFLOP/s = 2 dim x projections per vector)")
    rng = np.random.default_rng(1)
    for name, scheme, outputs in [
        ("IoM-GRP m512 q16", btp.IoM(DIM, 512, 16), 512 * 16),
        ("BioHash 128", btp.BioHash(DIM, 128), 128),
    ]:
        prot = btp.Protector(scheme, mk, application="bench", version=1)
        # The protector's own secret parameters (see btp.hazmat's warning:
        # they stay in this process and are dropped with it).
        secret = btp.hazmat.expose_transform(prot)
        if scheme.kind.startswith("iom"):
            w = np.ascontiguousarray(secret.matrix.reshape(512 * 16, DIM))
            fn = lambda x, w=w: numpy_iom(x, w, 512, 16)  # noqa: E731
        else:
            basis = np.ascontiguousarray(secret.basis)
            fn = lambda x, b=basis: numpy_biohash(x, b)  # noqa: E731
        for n in sizes:
            x = features(n, 2)
            codes = prot.protect_batch(x)
            assert codes.shape == (n, prot.words)
            m = min(n, 2_000)
            if scheme.kind.startswith("iom"):
                check_same_codes(name, "iom", x[:m], secret.matrix, prot.unpack(codes[:m]), fn(x[:m]))
            else:
                ours = np.unpackbits(np.ascontiguousarray(codes[:m]).view(np.uint8), axis=1,
                                     bitorder="little")[:, :128]
                peer = np.unpackbits(fn(x[:m]), axis=1, bitorder="little")[:, :128]
                check_same_codes(name, "bio", x[:m], secret.basis, ours, peer)
            tb = best_of(lambda: prot.protect_batch(x), repeat)
            tn = best_of(lambda: fn(x), repeat)
            gflop = 2.0 * DIM * outputs * n / 1e9
            # Shares of the all-core FMA peak measured in this run (both
            # sides use every core).
            peak = c_figures.get(f"fma_gflops_{os.cpu_count()}") or c_figures.get("fma_gflops_2")
            share = f" ({100 * gflop / tb / peak:.0f}% vs {100 * gflop / tn / peak:.0f}% of the FMA peak)" if peak else ""
            t.add("protect", f"{name}, {n:,} vectors", n / tb, "vectors/s", "numpy", n / tn,
                  note=f"{gflop / tb:.0f} vs {gflop / tn:.0f} GFLOP/s{share}")


def print_fma_peak(c_figures: dict) -> None:
    if "fma_gflops_1" in c_figures:
        print(f"\n  f32 FMA peak (AVX2, C, same run): 1 thread {c_figures['fma_gflops_1']:.0f} GFLOP/s,"
              f" 2 threads {c_figures['fma_gflops_2']:.0f} GFLOP/s")


def bench_latency(t: Table, mk: btp.MasterKey, c_figures: dict, calls: int) -> None:
    print("\nsingle-template latency (median per call; IoM-GRP m512 q16)")
    prot = btp.Protector(btp.IoM(DIM, 512, 16), mk, application="bench", version=1)
    x = features(2, 3)
    a, b = prot.protect(x[0]), prot.protect(x[1])
    py_protect = median_call(lambda: prot.protect(x[0]), calls) * 1e6
    py_verify = median_call(lambda: prot.verify(a, b, 0.3), calls * 10) * 1e6
    t.add("latency", "protect, Python", py_protect, "us", higher_is_better=False)
    if "c_protect_us" in c_figures:
        t.add("latency", "protect, C ABI", c_figures["c_protect_us"], "us", higher_is_better=False)
    t.add("latency", "verify, Python", py_verify, "us", higher_is_better=False)
    if "c_verify_us" in c_figures:
        t.add("latency", "verify, C ABI", c_figures["c_verify_us"], "us", higher_is_better=False)


def bench_search(t: Table, mk: btp.MasterKey, sizes: list[int], stream: dict, queries: int) -> None:
    import faiss

    cores = os.cpu_count() or 1
    print(f"\n1:N search, k={K} (top-k by mismatches; btp threads=1 vs all {cores}; GB/s = gallery bytes scanned per second)")
    rng = np.random.default_rng(5)
    iom = btp.Protector(btp.IoM(DIM, 512, 16), mk, application="bench", version=1)
    bio = btp.Protector(btp.BioHash(DIM, 128), mk, application="bench", version=1)
    for n in sizes:
        x = features(n, 7)
        probes_x = x[rng.integers(0, n, queries)] + 0.05 * rng.standard_normal((queries, DIM)).astype(np.float32)
        ids = np.arange(n, dtype=np.uint64)

        # ---- IoM-GRP: btp vs numpy on unpacked indices
        codes = iom.protect_batch(x)
        before = rss_bytes()
        g = btp.Gallery(iom)
        g.add(ids, codes)
        per_template = (rss_bytes() - before) / n  # the gallery's own copy
        del codes
        probes = iom.protect_batch(probes_x)
        elements = iom.unpack(iom.protect_batch(x))  # (n, 512) uint8: what numpy code holds
        pe = iom.unpack(probes)
        # Same answer for every probe timed: btp's top-k equals numpy's.
        nq = min(queries, 3 if n >= 10**6 else 10)
        checked = min(queries, 50)
        ids_b, scores_b = g.search_batch(probes[:checked], k=K)
        peer = [numpy_top_k(np.count_nonzero(elements != p, axis=1)) for p in pe[:checked]]
        check_same_top_k("numpy (IoM-GRP)", np.rint((1 - scores_b) * 512).astype(np.int64), ids_b,
                         np.array([d for d, _ in peer]), np.array([i for _, i in peer]))

        def numpy_search():
            for p in pe[:nq]:
                dist = np.count_nonzero(elements != p, axis=1)
                top = np.argpartition(dist, K)[:K]
                top[np.argsort(dist[top], kind="stable")]

        tn = best_of(numpy_search, 2) / nq
        gbytes = n * 256 / 1e9
        for threads in (1, 0):
            g.threads = threads
            tb = best_of(lambda: [g.search(iom.template(p), k=K) for p in probes], 3) / queries
            # numpy's element comparison runs on one thread: only the
            # one-thread row has a peer (a ratio of 2 threads to 1 says
            # nothing about either).
            if threads == 1:
                t.add("search", f"IoM-GRP {n:,}, 1 thread", 1 / tb, "searches/s", "numpy 1 thr", 1 / tn,
                      note=f"{gbytes / tb:.1f} GB/s")
            else:
                t.add("search", f"IoM-GRP {n:,}, all cores", 1 / tb, "searches/s", note=f"{gbytes / tb:.1f} GB/s")
        t.add("memory", f"IoM-GRP gallery of {n:,}", per_template, "B/template",
              note="packed code 256 B + id 8 B + overhead")
        g.threads = 0
        tb = best_of(lambda: g.search_batch(probes, k=K), 3) / queries
        t.add("search", f"IoM-GRP {n:,}, search_batch {queries}", 1 / tb, "searches/s",
              note=f"{gbytes / tb:.1f} GB/s")
        del elements, g

        # ---- BioHash-128: btp vs faiss IndexBinaryFlat vs numpy, same bits
        g = btp.Gallery(bio)
        codes = bio.protect_batch(x)
        g.add(ids, codes)
        probes = bio.protect_batch(probes_x)
        as_bytes = np.ascontiguousarray(codes).view(np.uint8)  # (n, 16), same bits
        probe_bytes = np.ascontiguousarray(probes).view(np.uint8)
        index = faiss.IndexBinaryFlat(128)
        index.add(as_bytes)
        faiss.omp_set_num_threads(1)
        checked = min(queries, 50)
        fd, fi = index.search(probe_bytes[:checked], K)
        ids_b, scores_b = g.search_batch(probes[:checked], k=K)
        ours_d = np.rint((1 - scores_b) * 128).astype(np.int64)
        check_same_top_k("faiss (BioHash-128)", ours_d, ids_b, fd.astype(np.int64), fi.astype(np.int64))
        pop = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)
        peer = [numpy_top_k(pop[as_bytes ^ p].sum(axis=1, dtype=np.int64)) for p in probe_bytes[:checked]]
        check_same_top_k("numpy (BioHash-128)", ours_d, ids_b,
                         np.array([d for d, _ in peer]), np.array([i for _, i in peer]))
        gbytes = n * 16 / 1e9
        for threads in (1, 0):
            g.threads = threads
            faiss.omp_set_num_threads(1 if threads == 1 else cores)
            tb = best_of(lambda: [g.search(bio.template(p), k=K) for p in probes], 3) / queries
            tf = best_of(lambda: [index.search(probe_bytes[i:i + 1], K) for i in range(queries)], 3) / queries
            label = "1 thread" if threads == 1 else "all cores"
            t.add("search", f"BioHash-128 {n:,}, {label}", 1 / tb, "searches/s", "faiss", 1 / tf,
                  note=f"{gbytes / tb:.1f} GB/s")
        faiss.omp_set_num_threads(cores)
        g.threads = 0
        tb = best_of(lambda: g.search_batch(probes, k=K), 3) / queries
        tf = best_of(lambda: index.search(probe_bytes, K), 3) / queries
        t.add("search", f"BioHash-128 {n:,}, batch of {queries}", 1 / tb, "searches/s", "faiss", 1 / tf)
        nq = min(queries, 10)

        def numpy_bits():
            for p in probe_bytes[:nq]:
                dist = pop[as_bytes ^ p].sum(axis=1, dtype=np.uint32)
                np.argpartition(dist, K)[:K]

        tn = best_of(numpy_bits, 2) / nq
        print(f"  {'  numpy (1 thread, XOR + popcount table)':<44} {fmt(1 / tn):>10} searches/s")
        t.rows.append(dict(section="search", workload=f"BioHash-128 {n:,}, numpy 1 thread", btp=None,
                           unit="searches/s", peer="numpy", peer_value=1 / tn, ratio=None, note=""))
        del g, index, as_bytes

    print(f"\n  memory bandwidth (streaming u64 read, C, same run): 1 thread {stream.get('stream_gbs_1', 0):.1f} GB/s,"
          f" 2 threads {stream.get('stream_gbs_2', 0):.1f} GB/s")


def bench_store(t: Table, mk: btp.MasterKey, n: int) -> None:
    print("\nencrypted store (file on disk; every call one audited, fsynced transaction)")
    x = features(n, 11)
    scheme = btp.IoM(DIM, 512, 16)
    with tempfile.TemporaryDirectory() as d:
        purposes = [btp.Purpose("gate", scheme, "bench", 0.3, 86400 * 365)]
        store = btp.Store.create(Path(d) / "bench.db", mk, purposes)
        ctx = dict(actor="bench", reason="benchmark")
        start = time.perf_counter()
        for i in range(n):
            store.enroll(f"s{i}", x[i], "gate", retention=3600, **ctx)
        t.add("store", f"enrol ({n:,} subjects)", n / (time.perf_counter() - start), "records/s")
        m = min(n, 500)
        start = time.perf_counter()
        for i in range(m):
            store.verify(f"s{i}", x[i], "gate", **ctx)
        t.add("store", f"verify (gallery {n:,})", m / (time.perf_counter() - start), "verifies/s")
        store.identify(x[0], "gate", k=K, **ctx)  # warm the in-memory gallery
        q = min(n, 100)
        start = time.perf_counter()
        for i in range(q):
            store.identify(x[i], "gate", k=K, **ctx)
        t.add("store", f"identify (gallery {n:,}, warm)", q / (time.perf_counter() - start), "searches/s")
        start = time.perf_counter()
        report = store.sweep(now=time.time() + 7200)
        dt = time.perf_counter() - start
        assert report.total == n, report
        t.add("store", f"sweep ({n:,} expired)", n / dt, "records/s")
        store.close()


def c_bench(quick: bool) -> dict:
    exe = os.environ.get("BTP_C_BENCH")
    if not exe or not Path(exe).exists():
        print("(bench/c_bench not built: skipping C figures)")
        return {}
    out = subprocess.run([exe, "300" if quick else "3000"], check=True, capture_output=True, text=True).stdout
    return {k: float(v) for k, v in (line.split() for line in out.splitlines() if line and not line.startswith("#"))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes: a smoke run of every workload")
    ap.add_argument("--json", type=Path, help="also write the table as JSON")
    ap.add_argument("--only", choices=["protect", "latency", "search", "store"], action="append",
                    help="run only this section (repeatable); default: all")
    args = ap.parse_args()
    import faiss

    print(f"btp {btp.__version__} | numpy {np.__version__} | faiss {faiss.__version__} | "
          f"python {platform.python_version()} | {os.cpu_count()} cores | {platform.processor() or platform.machine()}")
    # OpenBLAS picks its kernels by CPU unless told otherwise: numpy's
    # figures depend on it (issue 19 measured both).
    blas = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
                                       "OMP_NUM_THREADS") if k in os.environ}
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} | BLAS environment: "
          f"{' '.join(f'{k}={v}' for k, v in blas.items()) or 'none set (OpenBLAS detects the CPU)'}")
    started = time.perf_counter()
    mk = btp.MasterKey.from_bytes(bytes(range(32)))
    t = Table()
    figures = c_bench(args.quick)
    sections = set(args.only or ["protect", "latency", "search", "store"])
    q = args.quick
    if "protect" in sections:
        bench_protection(t, mk, [2_000] if q else [10_000, 100_000], 2 if q else 3, figures)
        print_fma_peak(figures)
    if "latency" in sections:
        bench_latency(t, mk, figures, 200 if q else 2000)
    if "search" in sections:
        bench_search(t, mk, [10_000, 100_000] if q else [100_000, 1_000_000], figures, 20 if q else 100)
    if "store" in sections:
        bench_store(t, mk, 300 if q else 5_000)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(dict(rows=t.rows, c=figures), indent=1))


if __name__ == "__main__":
    sys.exit(main())
