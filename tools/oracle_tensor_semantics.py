"""Freeze PyTorch's answers for tests/test_tensor_torch_semantics.py.

Run with the oracle venv (a python with torch), from the repository root::

    $(../shared/tools/oracle-venv.sh) tools/oracle_tensor_semantics.py > tests/oracle/tensor_semantics.json

The cases live in tests/oracle/tensor_semantics_cases.py, written once against a module ``T``;
the tests run the same functions with ``T = minitorch_cnn`` and compare (CI has no torch).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import torch

CASES_FILE = Path(__file__).resolve().parents[1] / "tests" / "oracle" / "tensor_semantics_cases.py"


def main() -> None:
    spec = importlib.util.spec_from_file_location("tensor_semantics_cases", CASES_FILE)
    cases = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cases)
    torch.manual_seed(0)
    frozen = {"cases": cases.run_all(torch), "torch_version": torch.__version__}
    print(json.dumps(frozen, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
