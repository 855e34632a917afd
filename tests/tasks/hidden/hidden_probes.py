"""The hidden task checks (instructor-only; format: ``minitorch_cnn/assignments/checks.py``).

They mirror ``test_hidden_tasks.py`` on inputs drawn per student: every ``inputs_...(rng)`` draws
its shapes and values from ``rng``, seeded from the student's id, so one student's answers are no
use to another. Exec'd on its own in the sandbox: NumPy at the top, ``minitorch_cnn`` inside.
"""

from __future__ import annotations

import numpy as np

TOLERANCE = {  # (0, 0): max pooling picks values, it computes none
    "3.1/ties": (0.0, 0.0),
    "3.1/negative": (0.0, 0.0),
    "2.1/random": (1e-7, 1e-12),
    "4.2/amsgrad": (1e-9, 0.0),
}


def _shape(a) -> np.ndarray:
    return np.array(np.shape(a), dtype=np.int64)


# -- 1.1: Mul with broadcasting ------------------------------------------------------------------

def _broadcast_pair(rng: np.random.Generator) -> tuple[tuple[int, ...], tuple[int, ...]]:
    d, r, c = (int(v) for v in rng.integers(2, 5, size=3))
    pairs = [((r, c), (c,)), ((d, r, c), (r, 1)), ((r, 1), (1, c)), ((d, 1, c), (r, c)), ((1,), (r, c)),
             ((c,), (d, r, c))]
    return pairs[int(rng.integers(len(pairs)))]


def inputs_1_1__broadcast(rng: np.random.Generator) -> dict:
    r, c = (int(v) for v in rng.integers(2, 5, size=2))
    out = {}
    for case, (sa, sb) in enumerate([((r, c), (c,)), _broadcast_pair(rng)]):  # first: the hidden test's pattern
        out[f"a{case}"] = rng.standard_normal(sa)
        out[f"b{case}"] = rng.standard_normal(sb)
        out[f"g{case}"] = rng.standard_normal(np.broadcast_shapes(sa, sb))
    return out


def probe_1_1__broadcast(x: dict) -> dict:
    """MulFunction forward and backward on broadcast shapes: each gradient has its input's shape."""
    from minitorch_cnn.autograd import Context
    from minitorch_cnn.ops.elementwise import MulFunction

    out = {}
    for case in range(2):
        ctx = Context()
        ctx.needs_input_grad = (True, True)
        y = np.asarray(MulFunction.forward(ctx, x[f"a{case}"], x[f"b{case}"])).copy()
        ga, gb = MulFunction.backward(ctx, x[f"g{case}"])
        out.update({f"y{case}": y, f"grad_a{case}": np.asarray(ga), f"grad_b{case}": np.asarray(gb),
                    f"shape_grad_a{case}": _shape(ga), f"shape_grad_b{case}": _shape(gb)})
    return out


# -- 2.1: correlate2d on random sizes ------------------------------------------------------------

def inputs_2_1__random(rng: np.random.Generator) -> dict:
    out = {}
    for case in range(3):
        kh, kw = (int(v) for v in rng.integers(1, 5, size=2))
        h, w = kh + int(rng.integers(0, 5)), kw + int(rng.integers(0, 5))
        out[f"x{case}"], out[f"k{case}"] = rng.standard_normal((h, w)), rng.standard_normal((kh, kw))
    return out


def probe_2_1__random(x: dict) -> dict:
    """correlate2d_reference on three random image / kernel sizes (kernel as large as the image included)."""
    from minitorch_cnn.ops.conv_reference import correlate2d_reference

    return {f"y{case}": np.asarray(correlate2d_reference(x[f"x{case}"], x[f"k{case}"])) for case in range(3)}


# -- 3.1: max pooling ties and padding -----------------------------------------------------------

def inputs_3_1__ties(rng: np.random.Generator) -> dict:
    n, c = (int(v) for v in rng.integers(1, 3, size=2))
    h, w = (int(v) for v in rng.integers(4, 7, size=2))
    return {"x": rng.integers(0, 3, size=(n, c, h, w)).astype(np.float64),  # three levels: many ties
            "stride": rng.integers(1, 3, size=2)}


def probe_3_1__ties(x: dict) -> dict:
    """max_pool_nd_reference on values with many ties: 2x2/2, and 3x3 with padding 1 and a random stride."""
    from minitorch_cnn.ops.pool_reference import max_pool_nd_reference

    s = tuple(int(v) for v in x["stride"])
    y1, i1 = max_pool_nd_reference(x["x"], kernel=(2, 2), stride=(2, 2), padding=(0, 0), dilation=(1, 1))
    y2, i2 = max_pool_nd_reference(x["x"], kernel=(3, 3), stride=s, padding=(1, 1), dilation=(1, 1))
    return {"y": np.asarray(y1), "idx": np.asarray(i1).astype(np.int64), "y_pad": np.asarray(y2),
            "idx_pad": np.asarray(i2).astype(np.int64)}


def inputs_3_1__negative(rng: np.random.Generator) -> dict:
    h, w = (int(v) for v in rng.integers(2, 6, size=2))
    return {"x": np.full((1, 1, h, w), -float(rng.integers(1, 10))) - rng.integers(0, 2, size=(1, 1, h, w))}


def probe_3_1__negative(x: dict) -> dict:
    """max_pool_nd_reference 2x2/2 with padding 1 on negative inputs: padding never wins."""
    from minitorch_cnn.ops.pool_reference import max_pool_nd_reference

    y, idx = max_pool_nd_reference(x["x"], kernel=(2, 2), stride=(2, 2), padding=(1, 1), dilation=(1, 1))
    return {"y": np.asarray(y), "idx": np.asarray(idx).astype(np.int64)}


# -- 4.2: Adam with amsgrad ----------------------------------------------------------------------

def inputs_4_2__amsgrad(rng: np.random.Generator) -> dict:
    n, steps = int(rng.integers(1, 4)), int(rng.integers(3, 6))
    grads = rng.standard_normal((steps, n)) * 0.1
    grads[0] = rng.uniform(2.0, 5.0, size=n) * rng.choice([-1.0, 1.0], size=n)  # a large first step: vmax matters
    return {"p0": rng.standard_normal(n), "grads": grads, "betas": rng.uniform(0.3, 0.95, size=2),
            "lr": np.array(rng.uniform(0.01, 0.2))}


def probe_4_2__amsgrad(x: dict) -> dict:
    """Adam(amsgrad=True) with random betas and lr: the parameter after every step."""
    import minitorch_cnn as mt
    from minitorch_cnn import nn
    from minitorch_cnn.optim import Adam

    p = nn.Parameter(mt.tensor(np.array(x["p0"], dtype=np.float64)))
    b1, b2 = (float(v) for v in x["betas"])
    opt = Adam([p], lr=float(x["lr"]), betas=(b1, b2), amsgrad=True)
    history = []
    for g in x["grads"]:
        p.grad = mt.tensor(np.array(g, dtype=np.float64))
        opt.step()
        history.append(p.detach().numpy().copy())
    return {"history": np.array(history)}
