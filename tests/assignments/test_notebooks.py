"""Chapters as notebooks: every chapter converts, and chapter 08 executes in a real kernel with its
figures inline (CI installs the notebook tools through the dev extra)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from minitorch_cnn.assignments.__main__ import main as assignments_main
from minitorch_cnn.assignments.notebooks import chapter_scripts, to_notebook

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
    assert len(images) >= 3, "the spectrograms, the U-Net masks and the Conv3d slices, drawn inline"
    if shutil.which("dot"):
        assert any("image/svg+xml" in o.get("data", {}) for o in outputs), "a graphviz.Digraph cell value drawn inline"
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "IoU on 64 new images" in text and "receptive field of the last output: 16 frames" in text
    assert sorted(p.name for p in (tmp_path / "08_beyond_classification").iterdir()) == [
        "conv3d_slices.png", "spectrograms.png", "unet_masks.png"]
