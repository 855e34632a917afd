"""Figures that cannot go stale: every accuracy README states for the built-in data is re-run
here and must stay within the band or tolerance README states (a 2-epoch CNN run moves by several
points with the seed and with how the BLAS kernel rounds: README states the measured band); counts
README states (tasks, points, parameters) are compared with the code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
TRAINING = README[README.index("## Training: `python -m minitorch_cnn.train`"):README.index("### The Fashion-MNIST result")]


def _run(tmp_path: Path, *args: str) -> float:
    from minitorch_cnn.train import main

    out = tmp_path / "run"
    assert main([*args, "--out", str(out)]) == 0
    return 100 * json.loads((out / "metrics.json").read_text())["best_accuracy"]


@pytest.mark.slow
def test_the_default_run_lands_in_readmes_band(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    lo, hi = (float(v) for v in re.search(r"test accuracy \*\*between (\d+)% and (\d+)%\*\*", TRAINING).groups())
    measured = re.search(r"2026-12-07:\s+(\d+\.\d)-(\d+\.\d)%, median", TRAINING).groups()
    assert lo <= float(measured[0]) and float(measured[1]) <= hi  # the band holds what was measured
    got = _run(tmp_path)
    capsys.readouterr()
    assert lo <= got <= hi, f"`python -m minitorch_cnn.train` reached {got:.2f}%, README says {lo:.0f}-{hi:.0f}%"


def test_the_default_mlp_run_and_its_parameter_count(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from minitorch_cnn.models import build_model

    m = re.search(r"trains the ([\d,]+)-parameter MLP the same way: (\d+\.\d)%", TRAINING)
    count, want = int(m.group(1).replace(",", "")), float(m.group(2))
    assert sum(p.numel() for p in build_model("mlp").parameters()) == count
    got = _run(tmp_path, "--model", "mlp")
    capsys.readouterr()
    assert abs(got - want) <= 0.5, f"`--model mlp` reached {got:.2f}%, README says {want}%"


def test_task_and_point_counts_are_the_registrys() -> None:
    from minitorch_cnn.assignments.tasks import TASKS

    counts = {int(n) for n in re.findall(r"(\d+) (?:graded )?tasks\b", README) if int(n) > 4}
    assert counts == {len(TASKS)}, f"README names task counts {counts}; the registry has {len(TASKS)}"
    table_row = next(line for line in README.splitlines() if line.startswith("| assignments:"))
    assert f"{len(TASKS)} graded tasks" in table_row
