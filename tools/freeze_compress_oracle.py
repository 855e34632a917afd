"""Freeze PyTorch's quantization results into tests/compress/data/quant_oracle.npz.

Run with the oracle interpreter (torch is never a dependency of minitorch_cnn):

    $(../shared/tools/oracle-venv.sh) tools/freeze_compress_oracle.py
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch.ao.quantization import MinMaxObserver, MovingAverageMinMaxObserver, PerChannelMinMaxObserver

OUT = Path(__file__).resolve().parents[1] / "tests" / "compress" / "data" / "quant_oracle.npz"


def main() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(0, 2, (4, 6, 5)).astype(np.float32)
    scale, zp = 0.037, 113
    x.flat[:20] = ((np.arange(20) - 10 + 0.5) * scale).astype(np.float32)  # exact half-way cases
    t = torch.tensor(x, requires_grad=True)
    y = torch.fake_quantize_per_tensor_affine(t, scale, zp, 0, 255)
    y.sum().backward()
    pc_scale = rng.uniform(0.01, 0.2, 6).astype(np.float32)
    pc_zp = rng.integers(-5, 5, 6).astype(np.int32)
    t2 = torch.tensor(x, requires_grad=True)
    y2 = torch.fake_quantize_per_channel_affine(t2, torch.tensor(pc_scale), torch.tensor(pc_zp), 1, -128, 127)
    y2.sum().backward()
    batches = [rng.normal(0.5, 1.5, (8, 3)).astype(np.float32) for _ in range(3)]
    mm = MinMaxObserver(dtype=torch.quint8)
    ma = MovingAverageMinMaxObserver(dtype=torch.quint8)
    sym = PerChannelMinMaxObserver(ch_axis=0, dtype=torch.qint8, qscheme=torch.per_channel_symmetric)
    for b in batches:
        mm(torch.tensor(b))
        ma(torch.tensor(b))
        sym(torch.tensor(b))
    mm_s, mm_z = mm.calculate_qparams()
    ma_s, ma_z = ma.calculate_qparams()
    sym_s, sym_z = sym.calculate_qparams()
    arrays = dict(
        x=x, scale=np.float32(scale), zero_point=np.int32(zp), per_tensor=y.detach().numpy(),
        per_tensor_grad=t.grad.numpy(), pc_scale=pc_scale, pc_zero_point=pc_zp,
        per_channel=y2.detach().numpy(), per_channel_grad=t2.grad.numpy(), batches=np.stack(batches),
        minmax_scale=mm_s.numpy(), minmax_zero_point=mm_z.numpy().astype(np.int32),
        movavg_scale=ma_s.numpy(), movavg_zero_point=ma_z.numpy().astype(np.int32),
        sym_scale=sym_s.numpy(), sym_zero_point=sym_z.numpy().astype(np.int32),
        torch_version=np.array(torch.__version__),
    )
    fd, tmp = tempfile.mkstemp(dir=OUT.parent, suffix=".npz")
    os.close(fd)
    np.savez(tmp, **arrays)
    os.replace(tmp, OUT)
    print(f"wrote {OUT} (torch {torch.__version__})")


if __name__ == "__main__":
    main()
