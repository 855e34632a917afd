"""The visible task checks: one or more probes per registered task (format: ``checks.py``).

Each ``probe_<chapter>_<number>__<name>`` calls the student's functions exactly as the task's
pytest tests in ``tests/tasks/`` do, on the same known inputs (plus random inputs drawn by
``inputs_...`` where a test used random data), and returns named arrays. The grader's verdict
compares them with the answers of the same probe on the reference code. This file is exec'd on
its own in the sandbox: it imports only NumPy at its top, ``minitorch_cnn`` inside the probes.
"""

from __future__ import annotations

import math

import numpy as np

# float32 paths (models, training, visualisation) and checks whose test is stricter than the default;
# (0, 0): the test compares exactly (assert_array_equal, ==) and every correct solution is exact there
TOLERANCE = {
    "2.4/out_first": (0.0, 0.0),
    "2.4/im2col": (0.0, 0.0),
    "2.5/dilate": (0.0, 0.0),
    "3.1/values_and_indices": (0.0, 0.0),
    "3.3/routes": (0.0, 0.0),
    "3.6/modes": (0.0, 0.0),
    "4.5/step_lr": (0.0, 0.0),
    "5.1/rf": (0.0, 0.0),
    "7.3/sign_ste": (0.0, 0.0),
    "1.7/backward": (1e-7, 1e-12),
    "2.3/known": (1e-7, 1e-10),
    "2.3/groups": (1e-7, 1e-10),
    "3.5/adjoint": (1e-7, 1e-10),
    "4.1/momentum": (1e-12, 0.0),
    "4.1/nesterov": (1e-12, 0.0),
    "4.2/steps": (1e-9, 0.0),
    "4.6/train_step": (1e-5, 1e-6),
    "5.2/gradcam": (1e-6, 1e-6),
    "5.3/occlusion": (1e-5, 1e-7),
    "5.4/saliency": (1e-6, 1e-7),
    "6.1/identity": (1e-5, 1e-6),
    "6.1/projection": (1e-5, 1e-6),
    "7.2/fake_quant": (1e-6, 1e-7),
    "8.1/causal": (1e-5, 1e-6),
}

X44 = np.array([[1.0, 5.0, 2.0, 0.0],
                [3.0, 4.0, 8.0, 1.0],
                [0.0, 2.0, 6.0, 6.0],
                [9.0, 1.0, 7.0, 3.0]]).reshape(1, 1, 4, 4)


def _ctx(*needs: bool):
    """A fresh autograd Context with ``needs_input_grad`` set, as the tests build it."""
    from minitorch_cnn.autograd import Context

    ctx = Context()
    ctx.needs_input_grad = needs
    return ctx


def _shape(a) -> np.ndarray:
    return np.array(np.shape(a), dtype=np.int64)


# -- chapter 1: tensors and autograd -------------------------------------------------------------

def probe_1_1__forward(x: dict) -> dict:
    """MulFunction.forward of two 2x2 arrays."""
    from minitorch_cnn.ops.elementwise import MulFunction

    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    b = np.array([[5.0, -1.0], [0.5, 2.0]])
    return {"y": np.asarray(MulFunction.forward(_ctx(True, True), a, b))}


def probe_1_1__backward(x: dict) -> dict:
    """MulFunction.backward, same shapes; no gradient for an input that needs none."""
    from minitorch_cnn.ops.elementwise import MulFunction

    a, b, g = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0]), np.array([1.0, 10.0, 100.0])
    ctx = _ctx(True, True)
    MulFunction.forward(ctx, a, b)
    ga, gb = MulFunction.backward(ctx, g)
    ctx = _ctx(False, True)
    MulFunction.forward(ctx, a, b)
    ga2, _ = MulFunction.backward(ctx, g)
    return {"grad_a": np.asarray(ga), "grad_b": np.asarray(gb), "grad_a_is_none": np.array(ga2 is None)}


def probe_1_2__exp(x: dict) -> dict:
    """ExpFunction.forward and backward on three values."""
    from minitorch_cnn.ops.elementwise import ExpFunction

    a = np.array([0.0, 1.0, -2.0])
    ctx = _ctx(True)
    y = np.asarray(ExpFunction.forward(ctx, a)).copy()
    g = ExpFunction.backward(ctx, np.array([1.0, 2.0, 3.0]))
    return {"y": y, "grad": np.asarray(g)}


def probe_1_3__all(x: dict) -> dict:
    """SumFunction.backward of a full sum: the scalar gradient copied everywhere."""
    from minitorch_cnn.ops.reduce import SumFunction

    ctx = _ctx(True)
    SumFunction.forward(ctx, np.ones((2, 3)), None, False)
    g = SumFunction.backward(ctx, np.array(5.0))
    return {"shape": _shape(g), "grad": np.asarray(g)}


def probe_1_3__dims(x: dict) -> dict:
    """SumFunction.backward over axis 1, and over axes (0, 2) with keepdim."""
    from minitorch_cnn.ops.reduce import SumFunction

    xa = np.arange(24.0).reshape(2, 3, 4)
    ctx = _ctx(True)
    SumFunction.forward(ctx, xa, (1,), False)
    g1 = SumFunction.backward(ctx, np.array([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]))
    ctx = _ctx(True)
    SumFunction.forward(ctx, xa, (0, 2), True)
    g2 = SumFunction.backward(ctx, np.array([[[1.0], [2.0], [3.0]]]))
    return {"shape_dim1": _shape(g1), "grad_dim1": np.asarray(g1), "grad_dims02_at_1_3": np.asarray(g2)[1, :, 3]}


def probe_1_4__leading(x: dict) -> dict:
    """unbroadcast summing leading axes: (2, 3, 4) -> (4,) and (3, 4)."""
    from minitorch_cnn.ops._util import unbroadcast

    g = np.arange(24.0).reshape(2, 3, 4)
    return {"to_4": np.asarray(unbroadcast(g, (4,))), "to_3_4": np.asarray(unbroadcast(g, (3, 4)))}


def probe_1_4__size_one(x: dict) -> dict:
    """unbroadcast to shapes with size-one axes: (2, 1, 4) and (3, 1)."""
    from minitorch_cnn.ops._util import unbroadcast

    g = np.arange(24.0).reshape(2, 3, 4)
    a, b = unbroadcast(g, (2, 1, 4)), unbroadcast(g, (3, 1))
    return {"shape_2_1_4": _shape(a), "to_2_1_4": np.asarray(a), "shape_3_1": _shape(b), "to_3_1": np.asarray(b)}


def _diamond():
    import minitorch_cnn as mt

    x = mt.tensor([1.0, 2.0], requires_grad=True)
    left = x + 1.0
    right = x - 3.0
    top = left + right
    return x, top + top


def probe_1_5__order(x: dict) -> dict:
    """Topological order of a diamond graph: root first, every node once, producers after consumers."""
    from minitorch_cnn.autograd import _topological_order

    _, out = _diamond()
    order = _topological_order(out.grad_fn)
    position = {id(node): i for i, node in enumerate(order)}
    after = all(position.get(id(t.grad_fn), -1) > position[id(node)]
                for node in order for t in node.inputs if t is not None and t.grad_fn is not None)
    return {"root_first": np.array(len(order) > 0 and order[0] is out.grad_fn), "n_nodes": np.array(len(order)),
            "n_distinct": np.array(len(position)), "producers_after_consumers": np.array(after)}


def probe_1_5__backward(x: dict) -> dict:
    """backward() through the diamond: d/dx 2(2x - 2) = 4."""
    import minitorch_cnn as mt

    xt, out = _diamond()
    out.backward(mt.tensor([1.0, 1.0]))
    return {"grad_x": xt.grad.numpy()}


def probe_1_6__relu(x: dict) -> dict:
    """ReLUFunction.forward and backward (the gradient at 0 is 0)."""
    from minitorch_cnn.ops.elementwise import ReLUFunction

    ctx = _ctx(True)
    y = np.asarray(ReLUFunction.forward(ctx, np.array([-2.0, 0.0, 3.0]))).copy()
    g = ReLUFunction.backward(ctx, np.array([5.0, 5.0, 5.0]))
    return {"y": y, "grad": np.asarray(g)}


def probe_1_7__backward(x: dict) -> dict:
    """SoftmaxFunction.backward (the Jacobian-vector product) on two rows."""
    from minitorch_cnn.ops.elementwise import SoftmaxFunction

    a = np.array([[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]])
    g = np.array([[1.0, 0.0, -1.0], [0.3, 0.2, 0.1]])
    ctx = _ctx(True)
    ctx.dim = -1
    SoftmaxFunction.forward(ctx, a, dim=-1)
    return {"grad": np.asarray(SoftmaxFunction.backward(ctx, g))}


# -- chapter 2: convolution ----------------------------------------------------------------------

def probe_2_1__known(x: dict) -> dict:
    """correlate2d_reference with a 2x2 diagonal kernel and a 1x3 shift kernel."""
    from minitorch_cnn.ops.conv_reference import correlate2d_reference

    xa = np.arange(16.0).reshape(4, 4)
    y1 = correlate2d_reference(xa, np.array([[1.0, 0.0], [0.0, -1.0]]))
    y2 = correlate2d_reference(xa, np.array([[0.0, 1.0, 0.0]]))
    return {"diag": np.asarray(y1), "shift": np.asarray(y2)}


def probe_2_2__formula(x: dict) -> dict:
    """out_size for same-padding, stride, dilation and ceil mode."""
    from minitorch_cnn.ops.windows import out_size

    got = [out_size(28, 3, 1, 1, 1, 1), out_size(28, 2, 2, 0, 0, 1), out_size(7, 3, 2, 0, 0, 1),
           out_size(10, 3, 1, 0, 0, 2), out_size(8, 3, 3, 0, 0, 1), out_size(8, 3, 3, 0, 0, 1, ceil=True)]
    return {"sizes": np.array(got, dtype=np.int64)}


def inputs_2_3__known(rng: np.random.Generator) -> dict:
    return {"x": rng.standard_normal((2, 3, 7, 7)), "w": rng.standard_normal((4, 3, 3, 3)), "b": rng.standard_normal(4)}


def probe_2_3__known(x: dict) -> dict:
    """conv_nd_reference with bias for (stride, padding, dilation) = (1,0,1), (2,1,1), (1,2,2)."""
    from minitorch_cnn.ops.conv_reference import conv_nd_reference

    out = {}
    for s, p, d in [(1, 0, 1), (2, 1, 1), (1, 2, 2)]:
        y = conv_nd_reference(x["x"], x["w"], x["b"], stride=(s, s), pads=((p, p), (p, p)), dilation=(d, d))
        out[f"s{s}_p{p}_d{d}"] = np.asarray(y)
    return out


def inputs_2_3__groups(rng: np.random.Generator) -> dict:
    return {"x": rng.standard_normal((1, 4, 5, 5)), "w": rng.standard_normal((6, 2, 3, 3))}


def probe_2_3__groups(x: dict) -> dict:
    """conv_nd_reference with groups=2 and no bias."""
    from minitorch_cnn.ops.conv_reference import conv_nd_reference

    return {"y": np.asarray(conv_nd_reference(x["x"], x["w"], None, groups=2))}


def probe_2_4__out_first(x: dict) -> dict:
    """window_view (N, C, *out, *kernel) with stride and dilation: values, shape, a view of x."""
    from minitorch_cnn.ops.windows import window_view

    xa = np.arange(2 * 1 * 5 * 6, dtype=np.float64).reshape(2, 1, 5, 6)
    v = window_view(xa, kernel=(2, 3), stride=(2, 1), dilation=(1, 2), out=(2, 2))
    return {"shape": _shape(v), "v": np.array(v), "is_view": np.array(np.shares_memory(v, xa))}


def probe_2_4__im2col(x: dict) -> dict:
    """window_view in im2col order (C, *kernel, N, *out)."""
    from minitorch_cnn.ops.windows import window_view

    xa = np.arange(2 * 3 * 4 * 4, dtype=np.float64).reshape(2, 3, 4, 4)
    v = window_view(xa, kernel=(3, 3), stride=(1, 1), dilation=(1, 1), out=(2, 2), order="im2col")
    return {"shape": _shape(v), "v": np.array(v)}


def probe_2_5__dilate(x: dict) -> dict:
    """dilate a 2x2 array by (2, 3), and the shape of a 3-d one dilated on its last axis."""
    from minitorch_cnn.ops.windows import dilate

    d = dilate(np.array([[1.0, 2.0], [3.0, 4.0]]), (2, 3))
    return {"shape": _shape(d), "dilated": np.asarray(d), "shape_3d": _shape(dilate(np.ones((2, 1, 3)), (2,)))}


def probe_2_6__scatter(x: dict) -> dict:
    """conv_transpose_nd_reference, stride 2, without and with padding / output padding / bias."""
    from minitorch_cnn.ops.conv_reference import conv_transpose_nd_reference

    xa = np.array([[[1.0, 2.0]]])
    w = np.array([[[1.0, 10.0, 100.0]]])
    y1 = conv_transpose_nd_reference(xa, w, None, stride=(2,), padding=(0,), output_padding=(0,), dilation=(1,))
    y2 = conv_transpose_nd_reference(xa, w, np.array([0.5]), stride=(2,), padding=(1,), output_padding=(1,),
                                     dilation=(1,))
    return {"plain": np.asarray(y1), "padded_bias": np.asarray(y2)}


# -- chapter 3: pooling and backprop -------------------------------------------------------------

def probe_3_1__values_and_indices(x: dict) -> dict:
    """max_pool_nd_reference 2x2/2 (values, flat arg-max) and 3x3/2 with padding 1."""
    from minitorch_cnn.ops.pool_reference import max_pool_nd_reference

    y1, i1 = max_pool_nd_reference(X44, kernel=(2, 2), stride=(2, 2), padding=(0, 0), dilation=(1, 1))
    y2, i2 = max_pool_nd_reference(X44, kernel=(3, 3), stride=(2, 2), padding=(1, 1), dilation=(1, 1))
    return {"y": np.asarray(y1), "idx": np.asarray(i1).astype(np.int64), "y_pad": np.asarray(y2),
            "idx_pad": np.asarray(i2).astype(np.int64)}


def probe_3_2__divisors(x: dict) -> dict:
    """avg_pool_nd_reference: count_include_pad True / False, and divisor_override."""
    from minitorch_cnn.ops.pool_reference import avg_pool_nd_reference

    ones = np.ones((1, 1, 3, 3))
    incl = avg_pool_nd_reference(ones, kernel=(3, 3), stride=(1, 1), padding=(1, 1), count_include_pad=True)
    excl = avg_pool_nd_reference(ones, kernel=(3, 3), stride=(1, 1), padding=(1, 1), count_include_pad=False)
    over = avg_pool_nd_reference(X44, kernel=(2, 2), stride=(2, 2), padding=(0, 0), divisor_override=1)
    return {"include_pad": np.asarray(incl), "exclude_pad": np.asarray(excl), "override": np.asarray(over)}


def probe_3_3__routes(x: dict) -> dict:
    """max_pool_backward_array: stride 2 routing, and stride 1 where one pixel wins four windows."""
    from minitorch_cnn.ops.pool import max_pool_backward_array, max_pool_forward_array

    kernel, stride, dilation, pads = (2, 2), (2, 2), (1, 1), ((0, 0), (0, 0))
    _, arg = max_pool_forward_array(X44, kernel, stride, dilation, pads, (2, 2), need_arg=True)
    gy = np.array([[10.0, 20.0], [30.0, 40.0]]).reshape(1, 1, 2, 2)
    gx = max_pool_backward_array(gy, arg, X44.shape, kernel, stride, dilation, pads, (2, 2))
    _, arg = max_pool_forward_array(X44, kernel, (1, 1), dilation, pads, (3, 3), need_arg=True)
    gx1 = max_pool_backward_array(np.ones((1, 1, 3, 3)), arg, X44.shape, kernel, (1, 1), dilation, pads, (3, 3))
    return {"grad_stride2": np.asarray(gx), "grad_stride1": np.asarray(gx1)}


def probe_3_4__spreads(x: dict) -> dict:
    """AvgPool2dFunction.backward with count_include_pad=False (Q = the real pixels of a window)."""
    from minitorch_cnn.ops.geometry import Window
    from minitorch_cnn.ops.pool import AvgPool2dFunction

    ctx = _ctx(True)
    window = Window((3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), out=(3, 3))
    AvgPool2dFunction.forward(ctx, np.ones((1, 1, 3, 3)), window=window,
                              count_include_pad=False)
    gx = AvgPool2dFunction.backward(ctx, np.arange(1.0, 10.0).reshape(1, 1, 3, 3))
    return {"grad": np.asarray(gx)}


def inputs_3_5__adjoint(rng: np.random.Generator) -> dict:
    out = {"w": rng.standard_normal((3, 2, 3, 3))}
    for size, s, p in [(5, 1, 0), (6, 2, 1), (7, 2, 0)]:
        ho = (size + 2 * p - 3) // s + 1
        out[f"gy_{size}_{s}_{p}"] = rng.standard_normal((2, 3, ho, ho))
    return out


def probe_3_5__adjoint(x: dict) -> dict:
    """conv_input_grad_array for (size, stride, padding) = (5,1,0), (6,2,1), (7,2,0)."""
    from minitorch_cnn.ops.conv import conv_input_grad_array

    out = {}
    for size, s, p in [(5, 1, 0), (6, 2, 1), (7, 2, 0)]:
        gy = x[f"gy_{size}_{s}_{p}"]
        gx = conv_input_grad_array(gy, x["w"], (2, 2, size, size), (s, s), ((p, p), (p, p)), (1, 1), 1)
        out[f"gx_{size}_{s}_{p}"] = np.asarray(gx)
    return out


def probe_3_6__modes(x: dict) -> dict:
    """pad_array in reflect, replicate and circular mode (1-d), and reflect on two axes."""
    from minitorch_cnn.ops.pad import pad_array

    v = np.array([1.0, 2.0, 3.0, 4.0])
    out = {mode: np.asarray(pad_array(v, [(2, 1)], mode)) for mode in ("reflect", "replicate", "circular")}
    out["reflect_2d"] = np.asarray(pad_array(np.arange(6.0).reshape(1, 2, 3), [(1, 0), (0, 1)], "reflect"))
    return out


def inputs_3_7__backward(rng: np.random.Generator) -> dict:
    xv = rng.standard_normal((3, 2, 2, 2))
    return {"x": xv, "g": rng.standard_normal(xv.shape)}


def probe_3_7__backward(x: dict) -> dict:
    """Textbook BatchNormFunction.backward to x in training mode (fast off); per-channel sums (zero)."""
    from minitorch_cnn import fast
    from minitorch_cnn.ops.batch_norm import BatchNormFunction

    gamma, beta = np.array([1.5, -0.5]), np.array([0.1, 0.2])
    ctx = _ctx(True, True, True, False, False)
    with fast.disabled():
        BatchNormFunction.forward(ctx, x["x"], gamma, beta)
        gx = np.asarray(BatchNormFunction.backward(ctx, x["g"])[0])
    return {"grad_x": gx, "channel_sums_vanish": np.array(abs(gx.sum(axis=(0, 2, 3))).max() < 1e-9)}


# -- chapter 4: training -------------------------------------------------------------------------

GRADS = [np.array([1.0, -2.0]), np.array([0.5, 0.5]), np.array([-1.0, 3.0])]


def _run(opt_cls, grads, **kwargs) -> np.ndarray:
    """A parameter [1, 1] stepped once per gradient by ``opt_cls``; the history of its values."""
    import minitorch_cnn as mt
    from minitorch_cnn import nn

    p = nn.Parameter(mt.tensor(np.array([1.0, 1.0], dtype=np.float64)))
    opt = opt_cls([p], **kwargs)
    history = []
    for g in grads:
        p.grad = mt.tensor(np.asarray(g, dtype=np.float64))
        opt.step()
        history.append(p.detach().numpy().copy())
    return np.array(history)


def probe_4_1__momentum(x: dict) -> dict:
    """SGD with momentum 0.9 and dampening 0.1: three steps."""
    from minitorch_cnn.optim import SGD

    return {"history": _run(SGD, GRADS, lr=0.1, momentum=0.9, dampening=0.1)}


def probe_4_1__nesterov(x: dict) -> dict:
    """SGD with Nesterov momentum and weight decay: two steps."""
    from minitorch_cnn.optim import SGD

    return {"history": _run(SGD, GRADS[:2], lr=0.1, momentum=0.5, nesterov=True, weight_decay=0.1)}


def probe_4_2__steps(x: dict) -> dict:
    """Adam (betas 0.9, 0.99): three steps with bias correction."""
    from minitorch_cnn.optim import Adam

    return {"history": _run(Adam, GRADS, lr=0.01, betas=(0.9, 0.99), eps=1e-8)}


def probe_4_3__clip(x: dict) -> dict:
    """clip_grad_norm_: clipping two params to norm 1, a norm below max left alone, the inf norm."""
    import minitorch_cnn as mt
    from minitorch_cnn import nn

    a = nn.Parameter(mt.tensor(np.array([0.0, 0.0])))
    b = nn.Parameter(mt.tensor(np.array([0.0, 0.0])))
    a.grad, b.grad = mt.tensor(np.array([3.0, 0.0])), mt.tensor(np.array([0.0, 4.0]))
    total = float(nn.utils.clip_grad_norm_([a, b], max_norm=1.0).item())
    clipped = np.concatenate([a.grad.numpy(), b.grad.numpy()])
    a.grad = mt.tensor(np.array([0.3, -0.4]))
    small = float(nn.utils.clip_grad_norm_([a], max_norm=1.0).item())
    untouched = a.grad.numpy().copy()
    a.grad = mt.tensor(np.array([0.3, -2.0]))
    inf = float(nn.utils.clip_grad_norm_([a], max_norm=10.0, norm_type=math.inf).item())
    return {"total": np.array(total), "clipped": clipped, "total_small": np.array(small), "untouched": untouched,
            "total_inf": np.array(inf)}


def probe_4_4__bound(x: dict) -> dict:
    """xavier_uniform_ on a 64x32x3x3 weight: all values within the bound, the largest near it; gain 2."""
    import minitorch_cnn as mt
    from minitorch_cnn import nn

    mt.manual_seed(0)
    w = mt.empty(64, 32, 3, 3)
    nn.init.xavier_uniform_(w)
    bound = math.sqrt(6.0 / (288 + 576))
    top = float(np.abs(w.detach().numpy()).max())
    nn.init.xavier_uniform_(w, gain=2.0)
    top2 = float(np.abs(w.detach().numpy()).max())
    return {"within_bound": np.array(top <= bound * (1 + 1e-6)), "reaches_bound": np.array(top > 0.99 * bound),
            "gain_within_bound": np.array(top2 <= 2 * bound * (1 + 1e-6)), "gain_reaches_bound": np.array(top2 > 1.98 * bound)}


def probe_4_5__step_lr(x: dict) -> dict:
    """StepLR(step_size=2, gamma=0.5): the learning rate over five epochs."""
    import minitorch_cnn as mt
    from minitorch_cnn import nn
    from minitorch_cnn.optim import SGD
    from minitorch_cnn.optim.lr_scheduler import StepLR

    opt = SGD([nn.Parameter(mt.tensor(np.array([0.0])))], lr=1.0)
    sched = StepLR(opt, step_size=2, gamma=0.5)
    lrs = [sched.get_last_lr()[0]]
    for _ in range(5):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    return {"lrs": np.array(lrs, dtype=np.float64)}


def inputs_4_6__train_step(rng: np.random.Generator) -> dict:
    return {"x": rng.standard_normal((8, 3)).astype(np.float32), "y": np.array([0, 1, 2, 0, 1, 2, 0, 1])}


def probe_4_6__train_step(x: dict) -> dict:
    """train_one_epoch: Linear(3, 3) after two SGD steps (batches of 4), and the samples seen."""
    import minitorch_cnn as mt
    from minitorch_cnn import nn
    from minitorch_cnn.data import DataLoader, TensorDataset
    from minitorch_cnn.optim import SGD
    from minitorch_cnn.train import train_one_epoch

    mt.manual_seed(0)
    model = nn.Linear(3, 3)
    loader = DataLoader(TensorDataset(x["x"], x["y"]), batch_size=4)
    stats = train_one_epoch(model, loader, nn.CrossEntropyLoss(), SGD(model.parameters(), lr=0.5))
    return {"weight": model.weight.detach().numpy().copy(), "bias": model.bias.detach().numpy().copy(),
            "seen": np.array(stats.seen, dtype=np.int64)}


# -- chapter 5: seeing inside the network --------------------------------------------------------

def probe_5_1__rf(x: dict) -> dict:
    """conv_rf through conv 3x3 pad 1, pool 2x2/2, dilated 3x3, and a strided 3x5 from the image."""
    from minitorch_cnn.viz.receptive_field import RFParams, conv_rf

    image = RFParams(n=(28, 28), jump=(1, 1), rf=(1, 1), start=(0.5, 0.5))
    conv = conv_rf(image, kernel=(3, 3), stride=(1, 1), padding=(1, 1))
    pool = conv_rf(conv, kernel=(2, 2), stride=(2, 2), padding=(0, 0))
    dil = conv_rf(pool, kernel=(3, 3), stride=(1, 1), padding=(2, 2), dilation=(2, 2))
    strided = conv_rf(image, kernel=(3, 5), stride=(2, 3), padding=(0, 0))
    out = {}
    for name, r in [("conv", conv), ("pool", pool), ("dil", dil), ("strided", strided)]:
        out[f"{name}_n"] = np.array(r.n, dtype=np.int64)
        out[f"{name}_jump"] = np.array(r.jump, dtype=np.int64)
        out[f"{name}_rf"] = np.array(r.rf, dtype=np.int64)
        out[f"{name}_start"] = np.array(r.start, dtype=np.float64)
    return out


def probe_5_2__gradcam(x: dict) -> dict:
    """GradCAM on a hand-weighted conv -> average -> linear model: channel gradients and the map."""
    import minitorch_cnn as mt
    from minitorch_cnn import nn
    from minitorch_cnn.viz.gradcam import GradCAM

    model = nn.Sequential(nn.Conv2d(1, 2, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 2, bias=False))
    model[0].weight._array[...] = np.array([1.0, -1.0], dtype=np.float32).reshape(2, 1, 1, 1)
    model[0].bias._array[...] = 0.0
    model[3].weight._array[...] = np.array([[1.0, 0.0], [0.0, 2.0]], dtype=np.float32)
    img = np.zeros((1, 1, 4, 4), dtype=np.float32)
    img[0, 0, 0, 0], img[0, 0, 2, 3], img[0, 0, 3, 0] = -2.0, -1.0, 3.0
    with GradCAM(model, "0") as cam:
        heat = np.asarray(cam(mt.tensor(img), target=1))
        alpha = np.asarray(cam.gradients).mean(axis=(2, 3))
    return {"alpha": alpha, "heat": heat[0]}


def probe_5_3__positions(x: dict) -> dict:
    """patch_positions: every stride from 0 plus the last patch that fits."""
    from minitorch_cnn.viz.occlusion import patch_positions

    return {"10_4_3": np.array(patch_positions(10, 4, 3), dtype=np.int64),
            "10_4_4": np.array(patch_positions(10, 4, 4), dtype=np.int64),
            "5_5_2": np.array(patch_positions(5, 5, 2), dtype=np.int64)}


def probe_5_3__occlusion(x: dict) -> dict:
    """occlusion_sensitivity (patch 4, stride 2) of a seeded model: positions and the averaged drop map."""
    import minitorch_cnn as mt
    from minitorch_cnn import nn
    from minitorch_cnn.viz.occlusion import occlusion_sensitivity

    mt.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 6 * 6, 4))
    img = mt.randn(1, 1, 8, 8)
    res = occlusion_sensitivity(model, img, target=2, patch_sizes=(4,), stride=2)[4]
    return {"rows": np.array(res.rows, dtype=np.int64), "cols": np.array(res.cols, dtype=np.int64),
            "probs": np.asarray(res.probs), "baseline": np.asarray(res.baseline), "heatmap": np.asarray(res.heatmap)}


def inputs_5_4__saliency(rng: np.random.Generator) -> dict:
    return {"w": rng.standard_normal((3, 18)).astype(np.float32),
            "x": rng.standard_normal((2, 2, 3, 3)).astype(np.float32)}


def probe_5_4__saliency(x: dict) -> dict:
    """saliency of class 1 for a linear model: max over channels of |W[1]|, for both images."""
    import minitorch_cnn as mt
    from minitorch_cnn import nn
    from minitorch_cnn.viz.saliency import saliency

    model = nn.Sequential(nn.Flatten(), nn.Linear(2 * 3 * 3, 3))
    model[1].weight._array[...] = x["w"]
    return {"saliency": np.asarray(saliency(model, mt.tensor(x["x"]), target=1))}


def probe_5_5__upsample(x: dict) -> dict:
    """upsample_bilinear 2x2 -> 4x4 (aligned centres), same size, and an odd output shape."""
    from minitorch_cnn.viz.gradcam import upsample_bilinear

    maps = np.array([[[0.0, 4.0], [8.0, 12.0]]])
    return {"up_4x4": np.asarray(upsample_bilinear(maps, (4, 4))),
            "same": np.asarray(upsample_bilinear(maps, (2, 2))),
            "shape_7x3": _shape(upsample_bilinear(np.ones((3, 2, 5)), (7, 3)))}


# -- chapter 6: common structures ----------------------------------------------------------------

def probe_6_1__identity(x: dict) -> dict:
    """BasicBlock(4, 4) in eval: output; with bn2 silenced, relu(x) and the gradient through the shortcut."""
    import minitorch_cnn as mt
    from minitorch_cnn.models.blocks import BasicBlock

    mt.manual_seed(0)
    block = BasicBlock(4, 4).eval()
    xt = mt.randn(2, 4, 5, 5, requires_grad=True)
    out = block(xt).detach().numpy().copy()
    with mt.no_grad():
        block.bn2.weight.zero_()
        block.bn2.bias.zero_()
    y = block(xt)
    y_np = y.detach().numpy().copy()
    y.sum().backward()
    return {"out": out, "silenced": y_np, "grad_x": xt.grad.numpy()}


def probe_6_1__projection(x: dict) -> dict:
    """BasicBlock(3, 6, stride=2) in eval: a 1x1 stride-2 projection shortcut."""
    import minitorch_cnn as mt
    from minitorch_cnn.models.blocks import BasicBlock

    mt.manual_seed(1)
    block = BasicBlock(3, 6, stride=2).eval()
    out = block(mt.randn(2, 3, 8, 8)).detach().numpy()
    return {"shape": _shape(out), "out": out}


def probe_6_2__shuffle(x: dict) -> dict:
    """channel_shuffle of six channels in 2, 3 and 1 groups."""
    import minitorch_cnn as mt
    from minitorch_cnn.models.blocks import channel_shuffle

    xt = mt.tensor(np.arange(6, dtype=np.float32).reshape(1, 6, 1, 1) * np.ones((1, 6, 2, 2), np.float32))
    return {f"groups_{g}": channel_shuffle(xt, g).numpy() for g in (2, 3, 1)}


# -- chapter 7: reduced complexity ---------------------------------------------------------------

def probe_7_1__smallest(x: dict) -> dict:
    """_smallest_mask: prune the 2 smallest alive scores, with one entry already pruned, and k = 0."""
    from minitorch_cnn.compress.prune import _smallest_mask

    scores = np.array([[3.0, 1.0, 0.5], [2.0, 0.1, 4.0]])
    alive = np.ones((2, 3), dtype=bool)
    m1 = np.asarray(_smallest_mask(scores, alive, 2)).astype(bool)
    alive[0, 0] = False
    m2 = np.asarray(_smallest_mask(scores, alive, 2)).astype(bool)
    m0 = np.asarray(_smallest_mask(scores, alive, 0)).astype(bool)
    return {"all_alive": m1, "one_dead": m2, "k0_kept": np.array(int(m0.sum()))}


def probe_7_2__fake_quant(x: dict) -> dict:
    """FakeQuantizeFunction forward (clamped codes) and straight-through backward; a zero point."""
    from minitorch_cnn.autograd import Context
    from minitorch_cnn.compress.quantize import FakeQuantizeFunction

    xa = np.array([-1.0, 0.04, 0.26, 3.0], dtype=np.float32)
    ctx = Context()
    y = np.asarray(FakeQuantizeFunction.forward(ctx, xa, scale=np.float32(0.1), zero_point=np.int32(0),
                                                quant_min=-8, quant_max=7)).copy()
    g = np.asarray(FakeQuantizeFunction.backward(ctx, np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32)))
    y2 = FakeQuantizeFunction.forward(Context(), xa, scale=np.float32(0.5), zero_point=np.int32(2), quant_min=0,
                                      quant_max=3)
    return {"y": y, "grad": g, "y_zero_point": np.asarray(y2)}


def probe_7_3__sign_ste(x: dict) -> dict:
    """SignSTE forward (sign, +1 at 0) and backward (gradient passed only where |x| <= 1)."""
    from minitorch_cnn.autograd import Context
    from minitorch_cnn.compress.binarize import SignSTE

    ctx = Context()
    y = np.asarray(SignSTE.forward(ctx, np.array([-2.0, -0.5, 0.0, 0.7, 1.5]))).copy()
    return {"y": y, "grad": np.asarray(SignSTE.backward(ctx, np.full(5, 3.0)))}


# -- chapter 8: beyond classification ------------------------------------------------------------

def probe_8_1__causal(x: dict) -> dict:
    """CausalConv1d(2, 3, k=3, dilation=2): output, and output after changing the input from t = 7 on."""
    import minitorch_cnn as mt
    from minitorch_cnn.models.beyond import CausalConv1d

    mt.manual_seed(0)
    conv = CausalConv1d(2, 3, kernel_size=3, dilation=2)
    xt = mt.randn(1, 2, 12)
    y = conv(xt).detach().numpy().copy()
    changed = xt.detach().numpy().copy()
    changed[..., 7:] += 10.0
    y2 = conv(mt.tensor(changed)).detach().numpy().copy()
    return {"y": y, "y_changed": y2}


def probe_8_2__rf(x: dict) -> dict:
    """dilated_stack_receptive_field for kernels 2, 3, 3, 5 and dilations [1 2 4 8], [1], []."""
    from minitorch_cnn.models.beyond import dilated_stack_receptive_field as rf

    return {"rf": np.array([rf(2, [1, 2, 4, 8]), rf(3, [1, 2, 4, 8]), rf(3, [1]), rf(5, [])], dtype=np.int64)}


def probe_8_3__iou(x: dict) -> dict:
    """mask_iou: overlapping squares, a mask with itself, with its complement, two empty masks."""
    from minitorch_cnn.models.beyond import mask_iou

    a = np.zeros((4, 4), dtype=bool)
    b = np.zeros((4, 4), dtype=bool)
    a[:2, :2] = True
    b[1:3, 1:3] = True
    got = [mask_iou(a, b), mask_iou(a, a), mask_iou(a, ~a), mask_iou(np.zeros((2, 2)), np.zeros((2, 2)))]
    return {"iou": np.array([float(v) for v in got])}
