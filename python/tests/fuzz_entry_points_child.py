"""The child process of test_fuzz_entry_points.py (run as a script, never
imported): ``python fuzz_entry_points_child.py SEED CASES MODE`` in an empty
working directory. It caps its address space, builds valid arguments for
every public callable of btp (the table below), and prints a JSON report
on its last line: the public callables found by introspection, those the
table covers, and, by MODE:

- ``valid``: the table's valid calls that failed, and parameters a row
  leaves out;
- ``fuzz``: every boundary value into every argument, then CASES seeded
  random cases, then every store method on a closed handle;
- ``rand``: the random cases only (for longer runs by hand).

The calls that raised something other than ``btp.BtpError``,
``MemoryError`` or ``TypeError`` are listed in ``bad``.
"""

import dataclasses, inspect, itertools, json, os, random, resource, sys, time, types, warnings
from datetime import datetime, timedelta, timezone
import numpy as np

resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30))
warnings.simplefilter("error", np.exceptions.ComplexWarning)
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import btp, btp.hazmat, btp.sklearn
from btp import eval as ev

SEED, CASES, MODE = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = random.Random(SEED)
ACT = {"actor": "fuzz", "reason": "fuzz"}
counter = itertools.count()


def fresh(suffix=".db"):
    return f"f{next(counter)}{suffix}"


mk = btp.MasterKey.from_bytes(bytes(range(32)))
x, y = btp.synthetic.population(subjects=6, samples=3, dim=16, seed=2)
centre = btp.fit_centre(x)
scheme = btp.IoM(dim=16, hashes=32, window=4)
prot = btp.Protector(scheme, mk, "a")
other = btp.Protector(scheme, mk, "b")
codes = prot.protect_batch(x)
plain = np.asarray(codes)
t0, t1, t_other = prot.protect(x[0]), prot.protect(x[1]), other.protect(x[0])
desc = prot.describe()
purpose = btp.Purpose("p", scheme, "a", 0.3, timedelta(days=30))
store = btp.Store.create("main.db", mk, [purpose])
store.enroll_batch([f"u{i}" for i in range(6)], x[::3], "p", **ACT)
ident = store.identify(x[1], "p", **ACT)
probe_record = store.retain_probe("case-1", x[2], "p", **ACT)
hold = store.hold(subject="u0", **ACT)
btp.Store.create("open.db", mk, [purpose]).close()
PT = btp.sklearn.ProtectTransformer
fitted = PT(hashes=32, window=4, random_state=0).fit(x)
fnmrs = ev.fnmr_at_fmr([0.9, 0.8, 0.4], [0.1, 0.5, 0.2], [0.1, 0.5])
ax = plt.subplots()[1]


def gallery(str_ids):
    g = btp.Gallery(prot)
    g.add([f"s{i}" for i in range(18)] if str_ids else np.arange(18), codes)
    return g


G_INT, G_STR = gallery(False), gallery(True)
gdesc = G_INT.describe()
parts = [g.search_batch(codes[:3], k=4) for g in (d.open(mk) for d in gdesc.split(2))]


def spare():
    return btp.Store.create(fresh(), mk, [purpose])


def gal(entry):
    """`entry(gallery, gid)` on a fresh gallery keyed by ints or by strings,
    `gid(i)` an id of its kind."""
    str_ids = rng.random() < 0.5
    return entry(gallery(str_ids), lambda i: f"s{i}" if str_ids else i)


def set_threads(v):
    gallery(rng.random() < 0.5).threads = v


def transformer(*args, **kwargs):
    return PT(*args, **kwargs).fit(x)


def set_params(**kwargs):
    return PT().set_params(**kwargs).fit(x)


# name -> () -> (callable, args, kwargs), made fresh for each call. The name
# is the public callable's:
# "Cls()" its constructor, "Cls.attr=" a property's setter.
def table():
    return {
        "MasterKey()": lambda: (btp.MasterKey, [], {}),
        "MasterKey.generate": lambda: (btp.MasterKey.generate, [], {}),
        "MasterKey.from_bytes": lambda: (btp.MasterKey.from_bytes, [bytes(32)], {}),
        "MasterKey.expose_secret": lambda: (mk.expose_secret, [], {}),
        "Scheme()": lambda: (btp.Scheme, [], {}),
        "Scheme.iom": lambda: (btp.Scheme.iom, [16, 32, 4, "grp", None], {"centre": None, "l2": False}),
        "Scheme.biohash": lambda: (btp.Scheme.biohash, [16, 8], {"centre": centre, "l2": True}),
        "Scheme.from_bytes": lambda: (btp.Scheme.from_bytes, [scheme.to_bytes()], {}),
        "Scheme.to_bytes": lambda: (scheme.to_bytes, [], {}),
        "Scheme.with_centring": lambda: (scheme.with_centring, [centre], {}),
        "Scheme.with_l2": lambda: (scheme.with_l2, [True], {}),
        "Scheme.__eq__": lambda: (scheme.__eq__, [scheme], {}),
        "IoM": lambda: (btp.IoM, [16, 32, 4, "urp", 2], {"centre": centre, "l2": True}),
        "BioHash": lambda: (btp.BioHash, [16, 8], {"centre": None, "l2": False}),
        "fit_centre": lambda: (btp.fit_centre, [x], {}),
        "Protector()": lambda: (btp.Protector, [scheme, mk, "a", 1, b"subject"], {}),
        "Protector.protect": lambda: (prot.protect, [x[0]], {}),
        "Protector.protect_batch": lambda: (prot.protect_batch, [x], {}),
        "Protector.as_codes": lambda: (prot.as_codes, [plain], {}),
        "Protector.protect_templates": lambda: (prot.protect_templates, [x[:3]], {}),
        "Protector.template": lambda: (prot.template, [codes[0]], {}),
        "Protector.templates": lambda: (prot.templates, [codes[:3]], {}),
        "Protector.codes": lambda: (prot.codes, [[t0, t1]], {}),
        "Protector.unpack": lambda: (prot.unpack, [codes], {}),
        "Protector.compare": lambda: (prot.compare, [t0, t1], {}),
        "Protector.verify": lambda: (prot.verify, [t0, t1, 0.5], {}),
        "Protector.scores": lambda: (prot.scores, [codes, codes[:4]], {}),
        "Protector.paired_scores": lambda: (prot.paired_scores, [codes, codes], {}),
        "Protector.describe": lambda: (prot.describe, [], {}),
        "Protector.reopen": lambda: (btp.Protector.reopen, [desc, mk], {}),
        "ProtectorDescription.open": lambda: (desc.open, [mk], {}),
        "Template()": lambda: (btp.Template, [], {}),
        "Template.from_bytes": lambda: (btp.Template.from_bytes, [bytes(t0)], {}),
        "Template.to_bytes": lambda: (t0.to_bytes, [], {}),
        "Template.elements": lambda: (t0.elements, [], {}),
        "Template.similarity": lambda: (t0.similarity, [t1], {}),
        "Template.__eq__": lambda: (t0.__eq__, [t1], {}),
        "Codes()": lambda: (btp.Codes, [plain, prot.fingerprint, scheme.id], {}),
        "Gallery()": lambda: (btp.Gallery, [prot], {}),
        "Gallery.add": lambda: gal(lambda g, gid: (g.add, [[gid(100), gid(101)], x[:2]], {})),
        "Gallery.remove": lambda: gal(lambda g, gid: (g.remove, [[gid(1), gid(2)]], {})),
        "Gallery.__contains__": lambda: gal(lambda g, gid: (g.__contains__, [gid(3)], {})),
        "Gallery.codes": lambda: gal(lambda g, gid: (g.codes, [], {})),
        "Gallery.get": lambda: gal(lambda g, gid: (g.get, [gid(4)], {})),
        "Gallery.search": lambda: gal(lambda g, gid: (g.search, [x[0]], {"k": 3, "threshold": 0.1})),
        "Gallery.search_batch": lambda: gal(lambda g, gid: (g.search_batch, [x[:3]], {"k": 3, "threshold": None})),
        "Gallery.scores": lambda: gal(lambda g, gid: (g.scores, [codes[0]], {})),
        "Gallery.threads=": lambda: (set_threads, [2], {}),
        "Gallery.describe": lambda: gal(lambda g, gid: (g.describe, [], {})),
        "Gallery.reopen": lambda: (btp.Gallery.reopen, [gdesc, mk], {}),
        "GalleryDescription.open": lambda: (gdesc.open, [mk], {}),
        "GalleryDescription.split": lambda: (gdesc.split, [2], {}),
        "merge_results": lambda: (btp.merge_results, [parts, 3], {}),
        "to_frame": lambda: (btp.to_frame, [[ident, ident]], {}),
        "FnmrAtFmrs.at": lambda: (fnmrs.at, [1], {}),
        "Purpose()": lambda: (btp.Purpose, ["q", scheme, "a", 0.3, timedelta(days=1), 1], {}),
        "Store()": lambda: (btp.Store, [], {}),
        "Store.create": lambda: (btp.Store.create, [fresh(), mk, [purpose]],
                         {"busy_timeout": 1.0, "batch_size": None, "max_encryptions_per_key": None}),
        "Store.open": lambda: (btp.Store.open, ["open.db", mk, None],
                       {"busy_timeout": 1.0, "batch_size": 10, "max_encryptions_per_key": 10**6}),
        "Store.close": lambda: (spare().close, [], {}),
        "Store.__enter__": lambda: (spare().__enter__, [], {}),
        "Store.__exit__": lambda: (spare().__exit__, [None, None, None], {}),
        "Store.enroll": lambda: (store.enroll, [f"e{next(counter)}", x[0], "p"],
                         {"retention": timedelta(days=1), "expires_at": None, **ACT}),
        "Store.enroll_batch": lambda: (store.enroll_batch, [[f"e{next(counter)}", f"e{next(counter)}"], x[:2], "p"],
                               {"retention": None, "expires_at": time.time() + 86400, **ACT}),
        "Store.retain_probe": lambda: (store.retain_probe, ["case-2", x[0], "p"],
                               {"retention": 3600, "expires_at": None, **ACT}),
        "Store.retained_probe": lambda: (store.retained_probe, [probe_record], {}),
        "Store.verify": lambda: (store.verify, ["u1", x[3], "p"], dict(ACT)),
        "Store.identify": lambda: (store.identify, [x[3], "p"], {"k": 3, "threshold": None, **ACT}),
        "Store.review": lambda: (store.review, [ident, "confirmed"],
                         {"record": 1, "reviewer": "r", **ACT}),
        "Store.erase": lambda: (store.erase, ["u5", "p"], dict(ACT)),
        "Store.hold": lambda: (store.hold, [], {"subject": "u2", "record": None, **ACT}),
        "Store.release": lambda: (store.release, [hold], dict(ACT)),
        "Store.sweep": lambda: (store.sweep, [None], {"actor": "a", "reason": "r"}),
        "Store.rotate_key": lambda: (store.rotate_key, ["p"], {"actor": "a", "reason": "r"}),
        "Store.stats": lambda: (store.stats, [None, datetime(2100, 1, 1, tzinfo=timezone.utc)], {}),
        "Store.record_counts": lambda: (store.record_counts, [], {}),
        "Store.verify_audit": lambda: (store.verify_audit, [], {}),
        "Store.audit_head": lambda: (store.audit_head, [], {}),
        "Store.check_audit_head": lambda: (store.check_audit_head, [store.audit_head()], {}),
        "Store.audit_events": lambda: (store.audit_events, [],
                               {"start": 0, "end": None, "purpose": "p", "action": "enroll", "after_seq": 0,
                                "limit": 5, "record": None, "subject_hash": None}),
        "Store.export_audit": lambda: (store.export_audit, [fresh(".jsonl")], {"purpose": None}),
        "Store.prune_audit": lambda: (store.prune_audit, [0], dict(ACT)),
        "Store.check_integrity": lambda: (store.check_integrity, [], {}),
        "Store.checkpoint": lambda: (store.checkpoint, [], {}),
        "synthetic.population": lambda: (btp.synthetic.population, [3, 2, 8],
                                 {"offset": 1.0, "between": 1.0, "within": 1.0, "seed": 3}),
        "plot.det": lambda: (btp.plot.det, [[0.9, 0.8, 0.4], [0.1, 0.5, 0.2]],
                     {"label": "s", "ax": plt.subplots()[1], "title": "t", "xlim": (1e-3, 0.5), "ylim": (0.1, 0.9)}),
        "plot.score_histograms": lambda: (btp.plot.score_histograms, [[0.9, 0.8], [0.1, 0.5]],
                                  {"threshold": 0.5, "bins": 10, "ax": plt.subplots()[1], "title": None}),
        "plot.unlinkability": lambda: (btp.plot.unlinkability, [[0.9, 0.8, 0.7], [0.1, 0.5, 0.2]],
                               {"bins": 10, "omega": 1.0, "ax": plt.subplots()[1], "title": "t"}),
        "plot.save": lambda: (btp.plot.save, [ax, fresh(".png")], {"dpi": 20}),
        "hazmat.expose_transform": lambda: (btp.hazmat.expose_transform, [prot], {}),
        "sklearn.ProtectTransformer()": lambda: (transformer, [mk],
                                         {"scheme": "iom-urp", "hashes": 32, "window": 4, "order": 2,
                                          "bits": None, "centre": True, "l2": True, "application": "s",
                                          "version": 3, "random_state": None, "output": "elements"}),
        "sklearn.ProtectTransformer.fit": lambda: (PT(hashes=32, window=4, random_state=0).fit, [x], {"y": y}),
        "sklearn.ProtectTransformer.transform": lambda: (fitted.transform, [x], {}),
        "sklearn.ProtectTransformer.fit_transform": lambda: (PT(hashes=32, window=4, random_state=1).fit_transform,
                                                     [x], {"y": None}),
        "sklearn.ProtectTransformer.set_params": lambda: (set_params, [], {"hashes": 32, "window": 4, "bits": 8}),
    }


# Calls that may not succeed even with their valid arguments.
NO_CONSTRUCTOR = {"MasterKey()", "Scheme()", "Template()", "Store()"}

# --------------------------------------------------------------------------
# Public callables, by introspection.

TABLE_METHODS = {"to_records", "to_frame"}  # of results: no arguments
ARG_DUNDERS = {"__contains__", "__eq__", "__exit__", "__enter__", "__getitem__", "__setitem__", "__call__"}
SAMPLES = {btp.Gallery: G_INT, btp.Store: store, btp.Protector: prot, btp.Scheme: scheme,
           btp.Template: t0, btp.MasterKey: mk, btp.Purpose: purpose, PT: fitted}


def is_result(cls):
    """A result type (a NamedTuple or a dataclass): the package builds it;
    its constructor checks nothing and its tables take no arguments."""
    return (issubclass(cls, tuple) and hasattr(cls, "_fields")) or dataclasses.is_dataclass(cls)


def members(qual, cls):
    result = is_result(cls)
    found = set() if result else {qual + "()"}
    foreign = set()
    for base in cls.__mro__[1:]:
        if not base.__module__.startswith("btp"):
            foreign |= set(vars(base))
    for m in dir(cls):
        if m.startswith("_") and (result or m not in ARG_DUNDERS or m not in vars(cls)):
            continue
        if m in foreign and not any(m in vars(c) for c in cls.__mro__ if c.__module__.startswith("btp")):
            if not issubclass(cls, PT):  # scikit-learn's protocol methods: listed, then exempted
                continue
        static = inspect.getattr_static(cls, m)
        if isinstance(static, (property, types.GetSetDescriptorType)):
            sample = SAMPLES.get(cls)
            settable = getattr(static, "fset", None) is not None
            if isinstance(static, types.GetSetDescriptorType) and sample is not None:
                try:
                    setattr(sample, m, getattr(sample, m))
                    settable = True
                except AttributeError:
                    settable = False
            if settable:
                found.add(f"{qual}.{m}=")
            continue
        if callable(getattr(cls, m)) and not (result and m in TABLE_METHODS):
            found.add(f"{qual}.{m}")
    return found


def public():
    found = set()
    spaces = [("", btp, btp.__all__)] + [
        (f"{n}.", mod, mod.__all__) for n, mod in
        (("eval", ev), ("plot", btp.plot), ("synthetic", btp.synthetic), ("hazmat", btp.hazmat),
         ("sklearn", btp.sklearn))
    ]
    for prefix, mod, names in spaces:
        for n in names:
            obj = getattr(mod, n)
            if isinstance(obj, types.ModuleType) or n == "__version__":
                continue
            if isinstance(obj, type):
                if issubclass(obj, BaseException):
                    continue
                found |= members(prefix + n if prefix != "eval." else n, obj)
            elif callable(obj):
                found.add(prefix + n)
    return found


def unlisted():
    """Public names a module defines (or, for the package, takes from its
    private modules) that its __all__ leaves out: API the table would miss."""
    out = []
    for mod in (btp, ev, btp.plot, btp.synthetic, btp.hazmat, btp.sklearn):
        for n, obj in vars(mod).items():
            home = getattr(obj, "__module__", None) or ""
            ours = home == mod.__name__ or (mod is btp and home.startswith("btp._"))
            if not n.startswith("_") and ours and callable(obj) and n not in mod.__all__:
                out.append(f"{mod.__name__}.{n}")
    return out


# --------------------------------------------------------------------------
# Hostile values.

NAN, INF = float("nan"), float("inf")
SCALARS = [
    -1, 0, 1, -(2**31) - 1, 2**31, 2**32, 2**63, -(2**63) - 1, 2**64, 10**12, 10**100, -(10**100), 2**1100,
    True, False, 2.5, NAN, INF, -INF, -0.0, 1e300, -1e300, 5e-324, 1j,
    "", "x" * 70_000, "a\x00b\n\x1b[2J\x7f", "\ud800", "p", "confirmed", b"", b"\xff\xfe", bytes(32), bytearray(3),
    None, [], (), {}, [1, 2], [[1, 2], [3]], ((0.5, 0.1),), {"a": 1}, {1, 2}, object(), range(10**12),
    np.int64(-5), np.uint64(2**64 - 1), np.int8(-1), np.float16(1), np.float32(NAN), np.float64(1e300),
    np.bool_(True), np.complex128(1j), np.str_("s"), np.datetime64("NaT"),
    timedelta.max, timedelta.min, timedelta(0), timedelta(seconds=-1), datetime(1, 1, 1), datetime.max,
    datetime.max.replace(tzinfo=timezone.utc), datetime(1970, 1, 1, tzinfo=timezone.utc),
    mk, scheme, prot, other, t0, t_other, codes, other.protect_batch(x[:2]), desc, gdesc, purpose, G_INT, ident,
    store.audit_head()._replace(seq=2**70), store.audit_head()._replace(mac=b"x" * 70_000),
    dataclasses.replace(desc, version=-1), dataclasses.replace(desc, version=2**64),
    dataclasses.replace(desc, scheme=b"junk"), dataclasses.replace(desc, application="\ud800"),
    dataclasses.replace(desc, subject=5), dataclasses.replace(desc, fingerprint=7),
    dataclasses.replace(gdesc, ids=np.arange(3)), dataclasses.replace(gdesc, protector=None),
    dataclasses.replace(gdesc, ids=np.broadcast_to(np.int64(1), (10**12,))),
    dataclasses.replace(gdesc, ids=np.arange(18) - 5),
    [(np.zeros((2, 3), np.int64), np.zeros((2, 4)))], [(np.zeros((10**12, 0), np.int64), np.zeros((10**12, 0)))],
    [(np.broadcast_to(np.int64(1), (10**6, 10**6)), np.broadcast_to(1.0, (10**6, 10**6)))],
    [(parts[0][0], parts[0][1].astype(object))], [(np.full((3, 4), 2**62), parts[0][1])], [(1, 2, 3)],
    [t0, "x"], [t0, t_other], [x[0], x[1]], ["a", "\ud800"], btp.Codes(plain, "\ud800", "x"),
]
DTYPES = [np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
          np.float16, np.float32, np.float64, np.longdouble, np.complex64, np.complex128, object, "U3", "S3",
          "datetime64[s]", "timedelta64[s]", [("a", "f4"), ("b", "f4")], ">f4", ">f8", ">u8", ">i8"]
# Broadcast views of a few bytes claiming 10**12 elements and more (-1: the
# valid value's last dimension, so that only the rows are absurd).
HUGE = [(10**6, 10**6), (10**12,), (10**12, -1), (2**58, -1), (10**12, 0), (10**4, -1)]
# scikit-learn's validation scans a view for NaN before btp sees it: at
# 10**12 elements that is minutes of work, not an allocation. Its entry
# points get views it scans at once (btp then refuses the copy or shape).
HUGE_SKLEARN = [(10**2, 10**4), (10**7,), (10**5, -1), (10**5, 0)]


def big(v, shape):
    """A broadcast view of one element of `v` (or of its rows) shaped `shape`."""
    v = np.asarray(v)
    shape = tuple((v.shape[-1] if v.ndim else 16) if n == -1 else n for n in shape)
    row = v.reshape(-1, v.shape[-1])[0] if v.ndim and v.size and v.shape[-1] == shape[-1] else None
    one = v.reshape(-1)[:1].reshape(()) if v.size else np.zeros((), v.dtype)
    try:
        return np.broadcast_to(one if row is None else row, shape)
    except ValueError:  # more bytes than numpy can address
        return np.broadcast_to(one, (10**6, 10**6))


def unaligned(v):
    """`v`'s values in a view one byte into a buffer (numpy: not aligned)."""
    buf = np.zeros(v.nbytes + 1, np.uint8)
    buf[1:] = np.frombuffer(np.ascontiguousarray(v).tobytes(), np.uint8)
    return np.frombuffer(buf.data, v.dtype, count=v.size, offset=1).reshape(v.shape)


def field(v):
    """`v`'s values as a field of a structured array: strides that are no
    whole number of elements."""
    rec = np.zeros(v.shape, dtype=[("a", v.dtype), ("b", "u1")])
    rec["a"] = v
    return rec["a"]


def mutate(v, huge):
    """An array variant of the valid value `v`: other dtype, layout, shape."""
    v = np.asarray(v)
    choice = rng.randrange(15)
    if choice == 0:
        dt = rng.choice(DTYPES)
        try:
            return v.astype(dt) if v.dtype.kind != "O" else np.asarray(v.tolist(), dtype=dt)
        except (TypeError, ValueError):
            return np.zeros(v.shape, dtype=dt)
    if choice == 1 and v.ndim:
        return np.asfortranarray(v) if v.ndim > 1 else v[::-1]
    if choice == 2 and v.ndim:
        return np.repeat(v, 2, axis=-1)[..., ::2]  # non-contiguous, same values
    if choice == 3:
        return v[..., :0] if v.ndim else v.reshape(1)[:0]
    if choice == 4 and v.ndim:
        return v[..., :-1]
    if choice == 5:
        return v[None]
    if choice == 6:
        return v.reshape(-1)[:1].reshape(()) if v.size else np.zeros(())
    if choice == 7 and v.ndim > 1:
        return v[0]
    if choice == 8 and v.ndim and v.dtype.kind in "fiu":
        w = v.astype(np.float64)
        w.reshape(-1)[rng.randrange(max(1, w.size))] = rng.choice([NAN, INF, -INF, 1e300])
        return w
    if choice == 9 and v.ndim > 1 and len(v) > 1:
        rows = v.tolist()
        rows[-1] = rows[-1][:-1]
        return rows  # ragged
    if choice == 10:
        return v.tolist()
    if choice == 11 and v.dtype.kind != "O":
        return unaligned(v)
    if choice == 12 and v.dtype.kind != "O":
        return field(v)
    return big(v, rng.choice(huge))


def is_array(valid):
    return isinstance(valid, np.ndarray) or (isinstance(valid, list) and valid and isinstance(valid[0], float))


def huge(name):
    return HUGE_SKLEARN if name.startswith("sklearn.") else HUGE


def hostile(name, valid):
    if is_array(valid) and rng.random() < 0.6:
        return mutate(valid, huge(name))
    return rng.choice(SCALARS)


# Every argument of every entry point gets each of these, and every array
# argument each huge view, before the random cases.
BOUNDARY = [-1, 2**64, 10**100, 2**1100, NAN, "\ud800", "x" * 70_000, None, range(10**12), [[1, 2], [3]]]



def damaged(blob, foreign):
    """A wire format cut short at several lengths, with a byte too many,
    another format's bytes, other buffer types, and single bit flips."""
    r = random.Random(len(blob))
    flips = []
    for _ in range(16):
        d = bytearray(blob)
        i = r.randrange(len(d))
        d[i] ^= 1 << r.randrange(8)
        flips.append(bytes(d))
    cuts = [blob[:n] for n in sorted({0, 1, 2, 4, 8, len(blob) // 2, len(blob) - 1})]
    return cuts + [blob + b"\0", foreign, bytearray(blob), memoryview(blob)] + flips


# Files that are not stores (empty, text, cut in half, a folder, missing,
# in a missing folder) and a key that is not the store's.
open("empty.db", "wb").close()
with open("text.db", "w") as f:
    f.write("not a store\n" * 100)
with open("open.db", "rb") as f, open("half.db", "wb") as h:
    h.write(f.read()[:8192])
os.mkdir("dir.db")
NOT_STORES = ["empty.db", "text.db", "half.db", "dir.db", "missing.db", "nodir/x.db", ""]
other_mk = btp.MasterKey.from_bytes(bytes(32))
EXTRA = {
    ("Template.from_bytes", ("a", 0)): damaged(bytes(t0), scheme.to_bytes()),
    ("Scheme.from_bytes", ("a", 0)): damaged(scheme.to_bytes(), bytes(t0)),
    ("MasterKey.from_bytes", ("a", 0)): [bytes(31), bytes(33), bytearray(32), memoryview(bytes(32))],
    ("Store.open", ("a", 0)): NOT_STORES,
    ("Store.open", ("a", 1)): [other_mk],
    ("Store.create", ("a", 0)): [f for f in NOT_STORES if f != "missing.db"] + ["open.db", "main.db"],
    ("Store.export_audit", ("a", 0)): ["dir.db", "nodir/x.jsonl", ""],
    ("Protector.reopen", ("a", 1)): [other_mk],
    ("Gallery.reopen", ("a", 1)): [other_mk],
    ("ProtectorDescription.open", ("a", 0)): [other_mk],
    ("GalleryDescription.open", ("a", 0)): [other_mk],
}


def systematic():
    for name in names:
        fn, args, kwargs = entries[name]()
        for slot in [("a", k) for k in range(len(args))] + [("k", k) for k in kwargs]:
            valid = args[slot[1]] if slot[0] == "a" else kwargs[slot[1]]
            views = [(lambda v, s=s: big(v, s)) for s in huge(name)] if is_array(valid) else []
            values = BOUNDARY + EXTRA.get((name, slot), [])
            for make in [(lambda v, b=b: b) for b in values] + views:
                yield name, (slot, make)


def randomly(name, args, kwargs):
    slots = [("a", k) for k in range(len(args))] + [("k", k) for k in kwargs]
    if not slots or rng.random() < 0.03:
        return {("a", len(args)): rng.choice(SCALARS)}  # one argument too many
    picked = rng.sample(slots, min(len(slots), rng.choice([1, 1, 1, 2])))
    return {s: hostile(name, args[s[1]] if s[0] == "a" else kwargs[s[1]]) for s in picked}


def describe(v):
    if isinstance(v, np.ndarray):
        flags = "" if v.flags.c_contiguous else (" F" if v.flags.f_contiguous else " strided")
        return f"ndarray{v.shape} {v.dtype}{flags}"
    r = repr(v).replace("\n", " ")
    return f"{type(v).__name__} {r[:60]}{'...' if len(r) > 60 else ''}"


ALLOWED = (btp.BtpError, MemoryError, TypeError)


def call(name, fn, args, kwargs):
    try:
        out = fn(*args, **kwargs)
        if isinstance(out, btp.Store):
            out.close()
        return None
    except ALLOWED as e:
        return type(e).__name__
    except BaseException as e:  # noqa: BLE001 - the point of the test
        return e
    finally:
        plt.close("all")


def unfuzzed():
    """Parameters of each entry point that its table row does not name:
    the generator would never make them hostile."""
    wrapped = {"transformer": PT, "set_threads": None, "set_params": None}  # a setter; **params
    out = {}
    for name, entry in table().items():
        fn, args, kwargs = entry()
        target = wrapped.get(getattr(fn, "__name__", ""), fn)
        if target is None or name in NO_CONSTRUCTOR:
            continue
        params = [p for p in inspect.signature(target).parameters.values()
                  if p.name not in ("self", "cls") and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        given = set(kwargs) | {p.name for p in params[:len(args)] if p.kind != p.KEYWORD_ONLY}
        missing = [p.name for p in params if p.name not in given]
        if missing:
            out[name] = missing
    return out


report = {"public": sorted(public()), "unlisted": unlisted(), "covered": sorted(table()), "calls": 0, "random": 0,
          "raised": {}, "bad": [], "valid_failed": [], "closed": {}}
if MODE == "valid":
    report["unfuzzed"] = unfuzzed()
    for name, entry in table().items():
        fn, args, kwargs = entry()
        out = call(name, fn, args, kwargs)
        if out is not None and name not in NO_CONSTRUCTOR:
            report["valid_failed"].append(f"{name}: {out if isinstance(out, str) else repr(out)[:300]}")
slow, entries = [], table()
names = sorted(entries)
plan = itertools.chain(systematic() if MODE == "fuzz" else (),
                       ((names[n % len(names)], None) for n in range(CASES)))
for n, (name, change) in enumerate(plan):
    fn, args, kwargs = entries[name]()
    args, kwargs = list(args), dict(kwargs)
    if change is None:
        changed = randomly(name, args, kwargs)
        report["random"] += 1
    else:
        (kind, key), make = change
        changed = {(kind, key): make(args[key] if kind == "a" else kwargs[key])}
    for (kind, key), value in changed.items():
        if kind == "k":
            kwargs[key] = value
        elif key < len(args):
            args[key] = value
        else:
            args.append(value)
    shown = ", ".join(f"{'arg ' if k == 'a' else ''}{key}={describe(v)}" for (k, key), v in changed.items())
    print(f"case {n} {name}({shown})", file=sys.stderr, flush=True)
    start = time.perf_counter()
    out = call(name, fn, args, kwargs)
    slow.append((time.perf_counter() - start, name, shown))
    report["calls"] += 1
    if isinstance(out, BaseException):
        print(f"BAD {type(out).__name__}: {str(out)[:200]}", file=sys.stderr, flush=True)
        report["bad"].append(f"{name}({shown}): {type(out).__module__}.{type(out).__name__}: {str(out)[:200]}")
    elif out is not None:
        report["raised"][out] = report["raised"].get(out, 0) + 1
# Every method of a store, with valid arguments, on a closed handle.
closed = btp.Store.open("open.db", mk)
closed.close()
for name in names if MODE == "fuzz" else ():
    fn, args, kwargs = entries[name]()
    if isinstance(getattr(fn, "__self__", None), btp.Store):
        out = call(name, getattr(closed, fn.__name__), args, kwargs)
        report["closed"][name] = out if not isinstance(out, BaseException) else f"{type(out).__name__}: {out}"
report["slowest"] = [f"{t:.2f}s {n}({c})" for t, n, c in sorted(slow, reverse=True)[:15]]
print(json.dumps(report))
