"""Tutorial chapters as Jupyter notebooks.

The chapters are jupytext "percent" scripts (``# %%`` cells). ``write_notebooks`` converts each to
``.ipynb`` and, with ``execute=True``, runs it in a fresh kernel from the repository root so that
its outputs (printed numbers, inline matplotlib figures, and every picture a chapter passes to
``minitorch_cnn.viz.plotting.show``: figures as PNG, autograd graphs as SVG when Graphviz's ``dot``
is installed) are stored in the notebook. Needs the ``notebook`` extra: ``pip install -e ".[notebook]"``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from ..data.fileio import atomic_write_text

__all__ = ["chapter_scripts", "to_notebook", "write_notebooks"]

INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


def _need(module: str):
    try:
        return __import__(module)
    except ImportError:
        raise ImportError(f"notebooks need {module}; install the notebook extra: "
                          '.venv/bin/pip install -e ".[notebook]"') from None


def chapter_scripts(tutorials: Path, chapters: Sequence[int] | None = None) -> list[Path]:
    """``tutorials/NN_*.py`` in chapter order (only ``chapters`` when given; unknown ones: ValueError)."""
    found = {int(p.name[:2]): p for p in sorted(tutorials.glob("[0-9][0-9]_*.py"))}
    if chapters is None:
        return list(found.values())
    missing = [c for c in chapters if c not in found]
    if missing:
        raise ValueError(f"no tutorial for chapter(s) {missing}; chapters: {sorted(found)}")
    return [found[c] for c in chapters]


@contextmanager
def _inline_figures() -> Iterator[None]:
    """A kernel inherits our environment: make matplotlib draw inline there (not to Agg files only)."""
    old = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = INLINE_BACKEND
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = old


def to_notebook(script: Path, execute: bool = False, cwd: Path | None = None, timeout: int = 600):
    """The ``nbformat`` notebook of one chapter script, executed in ``cwd`` if ``execute``."""
    jupytext = _need("jupytext")
    nb = jupytext.read(script)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    if execute:
        from nbclient import NotebookClient

        _need("ipykernel")
        with _inline_figures():
            NotebookClient(nb, timeout=timeout, kernel_name="python3",
                           resources={"metadata": {"path": str(cwd or script.parent)}}).execute()
    return nb


def write_notebooks(tutorials: Path, out: Path, chapters: Sequence[int] | None = None,
                    execute: bool = False) -> list[Path]:
    """Write ``out/NN_name.ipynb`` for each chapter; returns the paths written."""
    nbformat = _need("nbformat")
    scripts = chapter_scripts(tutorials, chapters)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for script in scripts:
        nb = to_notebook(script, execute=execute, cwd=tutorials.parent)
        path = out / (script.stem + ".ipynb")
        atomic_write_text(path, nbformat.writes(nb) + "\n")
        written.append(path)
    return written
