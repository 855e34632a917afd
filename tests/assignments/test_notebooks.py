"""Chapters as notebooks: every chapter converts, and chapters 05 and 08 execute in a real kernel with
their figures inline (CI installs the notebook tools through the dev extra)."""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import pytest

from minitorch_cnn.assignments.__main__ import main as assignments_main
from minitorch_cnn.assignments.notebooks import chapter_scripts, to_notebook

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_tutorials import pictures  # noqa: E402  (the chapter's own list of the pictures it draws)

REPO_ROOT = Path(__file__).resolve().parents[2]
for _module in ("jupytext", "nbclient", "ipykernel"):
    pytest.importorskip(_module, reason=f"{_module} is missing: install the notebook extra (pip install -e '.[notebook]')")


def test_every_chapter_converts(tmp_path: Path) -> None:
    assert assignments_main(["notebooks", "--out", str(tmp_path)]) == 0
    scripts = chapter_scripts(REPO_ROOT / "tutorials")
    assert sorted(p.name for p in tmp_path.iterdir()) == [s.stem + ".ipynb" for s in scripts]
    for script in scripts:
        nb = json.loads((tmp_path / (script.stem + ".ipynb")).read_text())
        code_cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert code_cells and any(c["cell_type"] == "markdown" for c in nb["cells"])


def test_unknown_chapter_is_one_line(capsys: pytest.CaptureFixture) -> None:
    assert assignments_main(["notebooks", "--chapters", "42"]) == 2
    assert "no tutorial for chapter(s) [42]" in capsys.readouterr().err


def test_chapter_08_runs_as_a_notebook_with_inline_figures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUTORIAL_OUT", str(tmp_path))
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "mpl"))
    nb = to_notebook(REPO_ROOT / "tutorials" / "08_beyond_classification.py", execute=True, cwd=REPO_ROOT)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 3, "the spectrograms, the U-Net masks and the Conv3d slices, each drawn inline once"
    if shutil.which("dot"):
        assert any("image/svg+xml" in o.get("data", {}) for o in outputs), "a graphviz.Digraph cell value drawn inline"
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "IoU on 64 new images" in text and "receptive field of the last output: 16 frames" in text
    assert sorted(p.name for p in (tmp_path / "08_beyond_classification").iterdir()) == [
        "conv3d_slices.png", "spectrograms.png", "unet_masks.png"]


def test_chapter_05_runs_as_a_notebook_with_every_figure_inline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each PNG/SVG chapter 05 writes is also drawn under its cell (plus the micrograd graph, inline only)."""
    chapter = REPO_ROOT / "tutorials" / "05_seeing_inside.py"
    written, _ = pictures(chapter)
    pngs, svgs = [n for n in written if n.endswith(".png")], [n for n in written if n.endswith(".svg")]
    assert len(pngs) >= 7
    monkeypatch.setenv("TUTORIAL_OUT", str(tmp_path / "out"))
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "mpl"))
    started = time.monotonic()
    nb = to_notebook(chapter, execute=True, cwd=REPO_ROOT)
    seconds = time.monotonic() - started
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    shown = [o for o in outputs if o.output_type == "display_data"]
    png = [o for o in shown if "image/png" in o.get("data", {})]
    assert len(png) == len(pngs), f"{len(png)} PNGs drawn inline, the chapter writes {len(pngs)}"
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert set(pngs) <= set(files)
    if shutil.which("dot"):
        svg = [o for o in shown if "image/svg+xml" in o.get("data", {})]
        assert len(svg) == len(svgs) + 1, "the written graphs and the micrograd one"
        assert set(svgs) <= set(files)
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "unit (5, 5) of features.7 sees rows" in text and "sum(gradient * pixel)" in text
    # the chapter's last section writes the explorer of a model it trains, shown inline
    last = next(c for c in nb.cells if c.cell_type == "code" and "explore.main" in c.source)
    assert any("text/html" in o.get("data", {}) and "<iframe" in o["data"]["text/html"] for o in last.outputs)
    assert (tmp_path / "out" / "explorer.html").stat().st_size > 100_000
    assert seconds < 180, f"chapter 05 took {seconds:.0f} s as a notebook"
