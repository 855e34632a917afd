"""Freeze PyTorch's answers for the tensor idioms of tests/test_tensor_idioms.py.

Run with the oracle venv (a python with torch), from the repository root::

    $(../shared/tools/oracle-venv.sh) tools/oracle_tensor_idioms.py > tests/oracle/tensor_idioms.json

The same cases run against minitorch_cnn in the tests, which compare with the frozen file (CI has
no torch). Each case records the values, the indices (for ops that return them) and the gradient
of sum(out * w) for w = 1, 2, 3, ... (so every output element weighs differently).
"""

from __future__ import annotations

import json

import numpy as np
import torch

X0 = [[3.0, -1.0, 2.0, 0.5], [0.0, 4.0, -2.0, 1.5], [1.0, 1.25, -3.0, 2.5]]  # distinct: no ties
CASES = {
    "topk2": lambda x: x.topk(2),
    "topk2_dim0_smallest": lambda x: x.topk(2, dim=0, largest=False),
    "topk3_fn": lambda x: torch.topk(x, 3, dim=1),
    "sort": lambda x: x.sort(),
    "sort_desc_dim0": lambda x: x.sort(dim=0, descending=True),
    "masked_fill": lambda x: x.masked_fill(x > 1, -5.0),
    "masked_fill_row_mask": lambda x: x.masked_fill(torch.tensor([True, False, False, True]), 0.0),
    "repeat": lambda x: x.repeat(2, 1, 2),
    "norm": lambda x: x.norm(),
    "norm_dim1": lambda x: x.norm(dim=1),
    "norm_p1_keepdim": lambda x: x.norm(p=1, dim=0, keepdim=True),
    "norm_p3": lambda x: x.norm(p=3),
    "norm_inf_dim1": lambda x: x.norm(p=float("inf"), dim=1),
    "cumsum1": lambda x: x.cumsum(1),
    "cumsum0_fn": lambda x: torch.cumsum(x, dim=0),
    "prod": lambda x: x.prod(),
    "prod1": lambda x: x.prod(1),
    "prod0_keepdim": lambda x: x.prod(0, keepdim=True),
    "max_fn_dim1": lambda x: torch.max(x, 1),
    "min_fn_dim0": lambda x: torch.min(x, 0),
    "max_dim1_keepdim": lambda x: x.max(1, keepdim=True),
    "gather": lambda x: x.gather(1, torch.tensor([[0, 0], [1, 3], [2, 1]])),
}


def record(fn):
    x = torch.tensor(X0, dtype=torch.float64, requires_grad=True)
    out = fn(x)
    values, indices = (out[0], out[1].tolist()) if isinstance(out, tuple) else (out, None)
    w = torch.arange(1, values.numel() + 1, dtype=torch.float64).reshape(values.shape)
    (values * w).sum().backward()
    return {"values": values.detach().numpy().tolist(), "indices": indices, "grad": x.grad.numpy().tolist()}


def main() -> None:
    frozen = {"x": X0, "cases": {name: record(fn) for name, fn in CASES.items()}}
    x = torch.tensor(X0)
    frozen["nonzero"] = x.nonzero().tolist()
    frozen["nonzero_as_tuple"] = [t.tolist() for t in x.nonzero(as_tuple=True)]
    frozen["torch_version"] = torch.__version__
    print(json.dumps(frozen, indent=1))


if __name__ == "__main__":
    np.set_printoptions(precision=17)
    main()
