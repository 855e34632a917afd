"""Scripts in the style of the common PyTorch examples (written for this project, in
``tests/pytorch_scripts/``) run with nothing changed but the imports (``import minitorch_cnn as
torch``, ``from minitorch_cnn.vision import ...``, ``from minitorch_cnn.utils.data import ...``) and
the data source (random tensors in place of the downloads)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).with_name("pytorch_scripts")
EXPECT = {
    "mnist_style.py": (["--dry-run", "--save-model"], ["Train Epoch: 1", "Test set: Average loss:"], "mnist_cnn.pt"),
    "blitz_style.py": ([], ["loss:", "Accuracy of the network on the test images:", "Accuracy for class: plane"],
                       "cifar_net.pth"),
    "introyt_style.py": ([], ["Training set has 96 instances", "LOSS train", "reloaded model_"], None),
    "transfer_style.py": ([], ["train Loss:", "val Loss:", "Training complete in"], None),
}


@pytest.mark.parametrize("script", sorted(EXPECT))
def test_a_pytorch_style_script_runs_with_only_its_imports_changed(script: str, tmp_path: Path) -> None:
    args, lines, saved = EXPECT[script]
    proc = subprocess.run([sys.executable, str(SCRIPTS / script), *args], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    for line in lines:
        assert line in proc.stdout, (line, proc.stdout[-2000:])
    if saved is not None:
        assert (tmp_path / saved).stat().st_size > 0
    text = (SCRIPTS / script).read_text()
    assert "import torch" not in text and "torchvision" not in text
