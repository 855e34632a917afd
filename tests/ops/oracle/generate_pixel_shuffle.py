"""Freezes PyTorch's pixel_shuffle / pixel_unshuffle values (and error messages) into pixel_shuffle.json.

Run with the oracle python (PyTorch 2.13 CPU, never a dependency; CI reads the JSON and needs no torch)::

    $(../shared/tools/oracle-venv.sh) tests/ops/oracle/generate_pixel_shuffle.py tests/ops/oracle/pixel_shuffle.json
"""


import json
import sys

import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.default_rng(2024)
cases = []
for op, shape, r in [("pixel_shuffle", (2, 8, 2, 3), 2), ("pixel_shuffle", (9, 2, 2), 3),
                     ("pixel_shuffle", (2, 1, 4, 1, 2), 2), ("pixel_unshuffle", (2, 2, 4, 6), 2),
                     ("pixel_unshuffle", (1, 6, 3), 3), ("pixel_shuffle", (1, 3, 2, 2), 1)]:
    x = rng.standard_normal(shape).round(4)
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = getattr(F, op)(xt, r)
    v = rng.standard_normal(tuple(y.shape)).round(4)
    (y * torch.tensor(v)).sum().backward()
    cases.append({"op": op, "factor": r, "input": x.tolist(), "output_shape": list(y.shape),
                  "output": y.detach().numpy().tolist(), "grad_output": v.tolist(),
                  "grad_input": xt.grad.numpy().tolist(), "grad_fn": type(y.grad_fn).__name__})
errors = {}
for op, shape, r in [("pixel_shuffle", (1, 7, 2, 2), 2), ("pixel_unshuffle", (1, 1, 5, 4), 2),
                     ("pixel_unshuffle", (1, 1, 4, 5), 2), ("pixel_shuffle", (4, 4), 2)]:
    try:
        getattr(F, op)(torch.zeros(shape), r)
    except RuntimeError as e:
        errors[f"{op}{shape}r{r}"] = str(e).splitlines()[0]
json.dump({"torch": torch.__version__, "cases": cases, "errors": errors}, open(sys.argv[1], "w"), indent=1)
