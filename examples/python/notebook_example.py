# %% [markdown]
# # btp in a notebook: protect, match, evaluate, plot
#
# A data scientist's session with the `btp` wheel, one cell per step (the
# `# %%` markers open as cells in Jupyter with jupytext, VS Code or
# Spyder). It runs as a script too:
#
#     python examples/python/notebook_example.py [OUTPUT_DIR]
#
# and writes `det.png`, `scores.png` and `unlinkability.png` to OUTPUT_DIR
# (default: the current directory). Needs `pip install "btp[plot]"`.

# %%
from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; drop this line in a notebook

import numpy as np

import btp

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")
out.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## Data
# A seeded synthetic population stands in for real embeddings (128-D, far
# from centred, like dlib's). The first 50 people only serve to fit the
# centring vector; the other 150 are the evaluation set.

# %%
X, labels = btp.synthetic.population(subjects=200, samples=5, dim=128, seed=7)
train = labels < 50
centre = btp.fit_centre(X[train])
X_eval, y_eval = X[~train], labels[~train]
print(f"{len(X_eval)} feature vectors of {len(np.unique(y_eval))} people, dim {X.shape[1]}")

# %% [markdown]
# ## Protect
# One master key; IoM-GRP with 512 hashes of window 16, on centred,
# L2-normalised vectors. `protect_batch` gives packed codes, one row per
# template, computed on every core without the GIL.

# %%
mk = btp.MasterKey.generate()
scheme = btp.IoM(dim=128, hashes=512, window=16).with_centring(centre).with_l2()
prot = btp.Protector(scheme, mk, application="notebook", version=1)
codes = prot.protect_batch(X_eval)
print(prot, codes.shape, codes.dtype)

# %% [markdown]
# ## Match
# All pairs in the protected domain, and the unprotected baseline: cosine
# similarity after the same centring.

# %%
protected = prot.scores(codes, codes)
genuine, impostor = btp.eval.split_scores(protected, y_eval)

Z = X_eval.astype(np.float64) - centre
Z /= np.linalg.norm(Z, axis=1, keepdims=True)
raw_genuine, raw_impostor = btp.eval.split_scores(Z @ Z.T, y_eval)
print(f"{len(genuine)} genuine and {len(impostor)} impostor pairs")

# %% [markdown]
# ## Evaluate: verification

# %%
eer_raw = btp.eval.eer(raw_genuine, raw_impostor)
eer_prot = btp.eval.eer(genuine, impostor)
at = btp.eval.fnmr_at_fmr(genuine, impostor, 1e-3)
print(f"EER unprotected {100 * eer_raw.eer:.2f}%, protected {100 * eer_prot.eer:.2f}%")
print(f"protected FNMR {100 * at.fnmr:.2f}% at FMR {100 * at.achieved_fmr:.3f}% (threshold {at.threshold:.3f})")

# %% [markdown]
# ## Evaluate: identification
# Enrol each person's first sample; search with the others.

# %%
first = np.r_[True, y_eval[1:] != y_eval[:-1]]
gallery = btp.Gallery(prot)
gallery.add(np.flatnonzero(first), codes[first])
ids, top = gallery.search_batch(codes[~first], k=5)
rank1 = float(np.mean(y_eval[ids[:, 0]] == y_eval[~first]))
print(f"top candidate is the right person for {100 * rank1:.1f}% of the searches")

# The CMC of the same searches counts a non-mate tied with the mate as ahead
# of it (NIST FRVT), so its rank-1 rate can be a little lower than the
# search's, which breaks ties by id.
mates = btp.eval.mates(y_eval[~first], y_eval[first])
cmc = btp.eval.cmc(prot.scores(codes[~first], codes[first]), mates, max_rank=5)
print(f"CMC, ranks 1-5 (%): {np.round(100 * cmc, 1)}")

# %% [markdown]
# ## Evaluate: the auditor's protocol
# Normal (a key per person) and stolen-key accuracy, and unlinkability
# across two applications.

# %%
report = btp.eval.protection_report(X_eval, y_eval, scheme, mk, target_fmr=1e-3)
for name, s in [("unprotected", report.unprotected), ("normal", report.normal), ("stolen key", report.stolen_key)]:
    print(f"{name:>12}: EER {100 * s.eer:.2f}%")
print(f"D_sys across applications: {report.d_sys:.3f} (0 = unlinkable)")

# The same mated/non-mated linkage scores, for the plot: the samples under
# this application and under another one (Gomez-Barrero et al. 2018).
other = btp.Protector(scheme, mk, application="notebook-other")
mated, nonmated = btp.eval.linkage_scores(codes, other.protect_batch(X_eval), y_eval, prot, other)
print(f"D_sys of these linkage scores: {btp.eval.unlinkability(mated, nonmated).d_sys:.3f}")

# %% [markdown]
# ## Plot

# %%
ax = btp.plot.det([("unprotected (cosine)", raw_genuine, raw_impostor), ("IoM-GRP 512x16", genuine, impostor)])
btp.plot.save(ax, out / "det.png")
ax = btp.plot.score_histograms(genuine, impostor, threshold=at.threshold)
btp.plot.save(ax, out / "scores.png")
ax = btp.plot.unlinkability(mated, nonmated, bins=50)
btp.plot.save(ax, out / "unlinkability.png")
print(f"plots written to {out}")

# %%
assert eer_prot.eer < 0.05 and report.d_sys < 0.2, "unexpectedly poor protection figures"
