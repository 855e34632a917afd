"""A full disk never damages an earlier file: writes that fail half-way (here: the file-size limit,
RLIMIT_FSIZE, standing in for a full disk) leave the previous file byte-identical and no temporary
file behind, for checkpoints, ``mt.save`` and the compress CLI's float reference."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CHILD = r"""
import resource, signal, sys
import numpy as np
import minitorch_cnn as mt
from minitorch_cnn.checkpoint import save_checkpoint
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG, like ENOSPC
resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))
big = {"w": mt.tensor(np.ones((400, 400), dtype=np.float32))}  # 640 kB: more than the limit
try:
    if sys.argv[2] == "checkpoint":
        save_checkpoint(sys.argv[1], {"model": big, "epoch": 1})
    else:
        mt.save(big, sys.argv[1])
except OSError as exc:
    print("refused:", exc)
    sys.exit(3)
sys.exit(0)
"""


@pytest.mark.parametrize("how", ["checkpoint", "mt.save"])
def test_a_full_disk_keeps_the_previous_file(tmp_path: Path, how: str) -> None:
    import numpy as np

    import minitorch_cnn as mt

    path = tmp_path / "model.npz"
    mt.save({"w": mt.tensor(np.zeros(3, dtype=np.float32))}, path)
    before = path.read_bytes()
    proc = subprocess.run([sys.executable, "-c", CHILD, str(path), how], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]  # no temporary file left
