"""Every tutorial runs, as a plain script, from the repository root.

Tutorials are jupytext "percent" files (``# %%`` cells); students may open them as notebooks, but
they must also run top to bottom with ``python tutorials/NN_name.py``. Each file is its own test,
run in a fresh interpreter so that one tutorial's state (seeds, default device) cannot help or
hurt another.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = sorted((REPO_ROOT / "tutorials").glob("*.py"))
TIMEOUT_S = 900  # a tutorial takes seconds to a couple of minutes alone; 900 s (the per-test guard) catches a hang, not a loaded machine


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.name for p in TUTORIALS])
def test_tutorial_runs_as_a_script(path: Path, tmp_path: Path) -> None:
    env = dict(os.environ)
    # find the package even when it is not installed, and never open plot windows
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["MPLBACKEND"] = "Agg"
    env["MPLCONFIGDIR"] = str(tmp_path / "mpl")
    # pictures into pytest's tmp_path, and anything a chapter puts in the temp dir there too, so
    # that a test run leaves nothing behind in tutorials/out/ or /tmp
    env["TUTORIAL_OUT"] = str(tmp_path / "out")
    (tmp_path / "tmp").mkdir()
    env["TMPDIR"] = str(tmp_path / "tmp")
    try:
        result = subprocess.run(
            [sys.executable, str(path)], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT_S
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{path.name} did not finish within {TIMEOUT_S} s; output so far:\n{exc.stdout}\n{exc.stderr}")
    assert result.returncode == 0, (
        f"{path.name} exited with {result.returncode}\n--- stdout (tail) ---\n{result.stdout[-3000:]}\n"
        f"--- stderr (tail) ---\n{result.stderr[-3000:]}"
    )


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.name for p in TUTORIALS])
def test_tutorial_is_a_jupytext_percent_notebook(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    code_cells = [ln for ln in lines if ln.strip() == "# %%" or (ln.startswith("# %%") and "[markdown]" not in ln)]
    markdown_cells = [ln for ln in lines if ln.startswith("# %% [markdown]")]
    assert code_cells, f"{path.name}: no '# %%' code cells"
    assert markdown_cells, f"{path.name}: no '# %% [markdown]' cells explaining the code"


def test_tutorial_chapter_1_exists() -> None:
    assert (REPO_ROOT / "tutorials" / "01_tensors_and_autograd.py") in TUTORIALS


PICTURE = re.compile(r"\.(png|svg)$")


def pictures(path: Path) -> tuple[list[str], list[str]]:
    """The picture file names (``.png``/``.svg`` string constants) a chapter's code mentions, and those
    that it passes as the ``path`` of a ``show(obj, path)`` call (``plotting.show`` or a chapter's own
    ``show``), which writes the file and, in a notebook, draws it under the cell."""
    tree = ast.parse(path.read_text(encoding="utf-8"))

    def names(node: ast.AST) -> list[str]:
        return [c.value for c in ast.walk(node)
                if isinstance(c, ast.Constant) and isinstance(c.value, str) and PICTURE.search(c.value)]

    shown = []
    for call in ast.walk(tree):
        if isinstance(call, ast.Call):
            func = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", None)
            if func == "show":
                for arg in call.args[1:2] + [kw.value for kw in call.keywords if kw.arg == "path"]:
                    shown += names(arg)
    return sorted(set(names(tree))), sorted(set(shown))


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.name for p in TUTORIALS])
def test_every_picture_a_chapter_writes_is_also_shown(path: Path) -> None:
    """A chapter writes its pictures only through ``show(obj, path)``, so a notebook shows them inline."""
    written, shown = pictures(path)
    assert written == shown, (f"{path.name} writes {sorted(set(written) - set(shown))} without displaying them: "
                              "use minitorch_cnn.viz.plotting.show(fig_or_graph, path)")
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"\.savefig\(|viz\.render\([^)]*\.(png|svg)", text), f"{path.name}: save through show()"


def test_chapter_05_draws_its_figures_through_show() -> None:
    written, _ = pictures(REPO_ROOT / "tutorials" / "05_seeing_inside.py")
    assert sum(n.endswith(".png") for n in written) >= 9, "7 figures of section 4 and 2 of the walk-through"
    assert sum(n.endswith(".svg") for n in written) == 3


def test_show_in_a_script_saves_and_never_imports_ipython(tmp_path: Path) -> None:
    """Outside a kernel ``show`` writes the file and displays nothing; IPython is not even imported."""
    code = (
        "import sys\n"
        "from matplotlib.figure import Figure\n"
        "import minitorch_cnn as mt\n"
        "from minitorch_cnn.viz import plotting\n"
        "fig = Figure(); fig.add_subplot(1, 1, 1).plot([0, 1], [1, 0])\n"
        f"out = {str(tmp_path)!r}\n"
        "assert plotting.show(fig, out + '/f.png') is None and plotting.show(None) is None\n"
        "plotting.show(out + '/f.png')\n"
        "plotting.show(mt.viz.draw_graph((mt.ones(2, requires_grad=True) * 2).sum()), out + '/g.dot')\n"
        "assert not plotting.in_notebook()\n"
        "assert 'IPython' not in sys.modules, 'imported IPython'\n"
    )
    env = dict(os.environ, MPLBACKEND="Agg", MPLCONFIGDIR=str(tmp_path / "mpl"),
               PYTHONPATH=os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout == ""
    assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "digraph" in (tmp_path / "g.dot").read_text()
