"""The notebook-style example runs end to end: protect, match, evaluate, plot
to PNG files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "python" / "notebook_example.py"


def test_notebook_example_runs(tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg")
    out = subprocess.run(
        [sys.executable, str(EXAMPLE), str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    for name in ("det.png", "scores.png", "unlinkability.png"):
        png = tmp_path / name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert png.stat().st_size > 10_000, name
    assert "EER" in out.stdout and "D_sys" in out.stdout


def test_plot_without_matplotlib_says_how_to_get_it(tmp_path):
    """btp imports without matplotlib; btp.plot then names the extra."""
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "import btp\n"
        "try:\n"
        "    btp.plot.score_histograms([0.9], [0.1])\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert 'pip install "btp[plot]"' in out.stdout


def test_readme_python_snippet_runs(tmp_path, monkeypatch):
    """The README's "Using btp from Python" example stays true."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Using btp from Python", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    assert (tmp_path / "store.db").exists()


def test_plots_draw_and_save(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import btp

    rng = np.random.default_rng(0)
    g, i = rng.normal(0.7, 0.1, 500), rng.normal(0.3, 0.1, 5000)
    ax = btp.plot.det(g, i, label="one")
    assert "one (EER" in ax.get_legend().get_texts()[0].get_text()
    btp.plot.save(ax, tmp_path / "one.png")
    ax = btp.plot.det([("a", g, i), ("b", g - 0.1, i)])
    assert len(ax.get_legend().get_texts()) == 2
    btp.plot.save(btp.plot.score_histograms(g, i, threshold=0.5), tmp_path / "h.png")
    btp.plot.save(btp.plot.unlinkability(g, i, bins=20), tmp_path / "u.png")
    for name in ("one.png", "h.png", "u.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
