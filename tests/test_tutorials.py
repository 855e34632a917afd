"""Every tutorial runs, as a plain script, from the repository root.

Tutorials are jupytext "percent" files (``# %%`` cells); students may open them as notebooks, but
they must also run top to bottom with ``python tutorials/NN_name.py``. Each file is its own test,
run in a fresh interpreter so that one tutorial's state (seeds, default device) cannot help or
hurt another.
"""

from __future__ import annotations

import os
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
