# ruff: noqa: UP032 - "{}".format(t) is one of the idioms under test
"""PyTorch idioms of tests/test_tensor_torch_semantics.py, written once for both libraries.

Each case is a function of ``T``, the module (``torch`` or ``minitorch_cnn``), written as PyTorch
code would be. ``tools/oracle_tensor_semantics.py`` runs them with torch and freezes the answers in
``tests/oracle/tensor_semantics.json``; the tests run them with minitorch_cnn and compare.
A case returns a dict of results; ``encode`` turns tensors, tuples and numbers into JSON.
"""

from __future__ import annotations

from typing import Any

import numpy as np

X0 = [[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]]
OUT0 = [[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]


def encode(v: Any) -> Any:
    """JSON for a result: tensors as dtype/shape/values, tuples (max's result) as lists."""
    if hasattr(v, "shape") and hasattr(v, "requires_grad"):  # a tensor of either library
        return {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape),
                "values": v.detach().cpu().tolist(), "requires_grad": bool(v.requires_grad),
                "has_grad_fn": v.grad_fn is not None}
    if isinstance(v, (tuple, list)):
        return [encode(x) for x in v]
    if isinstance(v, dict):
        return {k: encode(x) for k, x in v.items()}
    if isinstance(v, (bool, int, float, str)) or v is None:
        return v
    if isinstance(v, BaseException):
        return {"error": type(v).__name__}
    if isinstance(v, (np.generic,)):
        return v.item()
    return {"shape": list(v)} if type(v).__name__ == "Size" else repr(v)


def attempt(fn: Any) -> Any:
    """The result of ``fn()``, or the exception it raised (encoded as its type's name)."""
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - the error's type is the answer
        return exc


# --------------------------------------------------------------------------------------------------
# 1. .data: a tensor sharing memory, outside the graph
# --------------------------------------------------------------------------------------------------
def data_shares_memory(T: Any) -> dict:
    w = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
    d = w.data
    d[0] = 10.0
    return {"w": w, "requires_grad": d.requires_grad, "no_grad_fn": d.grad_fn is None, "is_leaf": d.is_leaf,
            "w_version": w._version, "d_version": d._version}


def data_inplace_method(T: Any) -> dict:
    w = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w.data.mul_(2)
    w.data[1:] += 1
    return {"w": w, "w_version": w._version, "is_leaf": w.is_leaf}


def data_assign(T: Any) -> dict:
    w = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w.data = T.tensor([5.0, 6.0])
    return {"w": w, "shape": list(w.shape)}


def data_of_nonleaf(T: Any) -> dict:
    w = T.tensor([1.0, 2.0], requires_grad=True)
    y = w * 2
    return {"y_data": y.data, "y": y}


def data_manual_sgd_step(T: Any) -> dict:
    w = T.tensor([1.0, 2.0], requires_grad=True)
    for _ in range(2):
        loss = (w * w).sum()
        loss.backward()
        w.data -= 0.1 * w.grad.data
        w.grad.data.zero_()
    return {"w": w, "grad": w.grad, "version": w._version}


def data_change_is_not_tracked(T: Any) -> dict:
    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    x.data.add_(1)  # not seen by autograd: the gradient uses the new values, as in PyTorch
    y.sum().backward()
    return {"grad": x.grad, "version": x._version}


def data_classification_idioms(T: Any) -> dict:
    out = T.tensor(OUT0, requires_grad=True)
    target = T.tensor([1, 0, 0])
    _, predicted = T.max(out.data, 1)
    pred = out.data.max(1, keepdim=True)[1]
    correct = pred.eq(target.data.view_as(pred)).sum()
    return {"max_fn": T.max(out.data, 1), "predicted": predicted, "pred": pred, "correct": correct,
            "correct_item": correct.item(), "argmax": out.data.argmax(1)}


def weight_data_init(T: Any) -> dict:
    lin = T.nn.Linear(2, 1)
    v0 = lin.weight._version  # torch's init bumps it, ours writes the fresh array directly
    lin.weight.data.fill_(0.5)
    lin.bias.data.zero_()
    lin.weight.data[0, 1] = -1.0
    y = lin(T.tensor([[1.0, 2.0], [3.0, 4.0]]))
    return {"weight": lin.weight, "y": y, "version_change": lin.weight._version - v0}


# --------------------------------------------------------------------------------------------------
# 2. 0-d results are writable: accumulators
# --------------------------------------------------------------------------------------------------
def accumulate_loss_with_grad(T: Any) -> dict:
    w = T.tensor([1.0, 2.0], requires_grad=True)
    running_loss = 0.0
    for i in range(4):
        loss = (w * (i + 1)).sum()
        running_loss += loss
    running_loss.backward()
    return {"running_loss": running_loss, "grad": w.grad, "type": type(running_loss).__name__}


def accumulate_loss_no_grad(T: Any) -> dict:
    w = T.tensor([1.0, 2.0], requires_grad=True)
    with T.no_grad():
        running_loss = 0.0
        for i in range(4):
            running_loss += (w * (i + 1)).sum()
    epoch_loss = running_loss / 4
    return {"running_loss": running_loss, "epoch_loss": epoch_loss, "formatted": f"{epoch_loss:.4f}"}


def accumulate_corrects(T: Any) -> dict:
    running_corrects = 0
    running_loss = 0.0
    seen = 0
    for i in range(4):
        outputs = T.tensor(X0) * (i - 1.5)
        labels = T.tensor([1, 0])
        _, preds = T.max(outputs, 1)
        loss = (outputs**2).mean()
        running_loss += loss.item() * outputs.size(0)
        running_corrects += T.sum(preds == labels.data)
        seen += outputs.size(0)
    return {"running_corrects": running_corrects, "acc": running_corrects.double() / seen,
            "running_loss": running_loss, "item": running_corrects.item()}


def accumulate_corrects_method(T: Any) -> dict:
    correct = 0
    for i in range(3):
        pred = (T.tensor(X0) * (1 - i)).argmax(dim=1)
        correct += (pred == T.tensor([1, 0])).sum()
    total = T.tensor(0)
    for i in range(3):
        total += (T.tensor([True, False, True]) if i else T.tensor([False, False, True])).sum()
    return {"correct": correct, "total": total, "bool_sum": T.tensor([True, False, True]).sum()}


def zero_dim_inplace(T: Any) -> dict:
    x = T.tensor(X0)
    s = x.sum()
    s += 1
    s *= 2
    m = x.mean()
    m -= 1
    m /= 2
    z = 0.0 + T.tensor(2.0)
    z += 3
    mx = x.max()
    mx += 1
    return {"s": s, "m": m, "z": z, "mx": mx, "x": x}


def zero_dim_recorded_twice(T: Any) -> dict:
    w = T.tensor([1.0, 2.0], requires_grad=True)
    total = (w * 0).sum()
    for i in range(3):
        total += (w ** (i + 1)).sum()
    total.backward()
    return {"total": total, "grad": w.grad}


# --------------------------------------------------------------------------------------------------
# 3. formatting and the legacy constructors
# --------------------------------------------------------------------------------------------------
def formatting(T: Any) -> dict:
    t = T.tensor(0.737)
    i = T.tensor(3)
    b = T.tensor(True)
    g = T.tensor(1.5, requires_grad=True) * 2
    v = T.tensor([1.5, 2.0])
    d = T.tensor(0.737, dtype=T.float64)
    return {
        "fmt_4f": format(t, ".4f"), "str_format": "{}".format(t), "fstring": f"{t}", "str": str(t),
        "fstring_repr": f"{t!r}", "int_d": f"{i:d}", "int_plain": f"{i}", "int_width": f"{i:>5}",
        "int_2f": "{:.2f}".format(i), "bool": f"{b}", "bool_d": "{:d}".format(b),
        "grad_3f": format(g, ".3f"), "grad_plain": format(g), "vector_plain": "{}".format(v),
        "vector_spec": attempt(lambda: format(v, ".4f")), "float64_str": str(d).replace("torch.", ""),
        "float64_format": format(d),
        "loss_line": f"epoch {1}: loss {t:.3f}, acc {100 * i / 4:.1f}%",
    }


def legacy_tensor_constructor(T: Any) -> dict:
    a = np.array([1.0, 2.0], dtype=np.float32)
    shared = T.Tensor(a)
    a[0] = 9.0
    u = T.Tensor(2, 3)
    return {
        "list": T.Tensor([0, 0, 0]), "nested": T.Tensor([[1, 2], [3, 4]]), "bools": T.Tensor([True, False]),
        "empty": T.Tensor(), "empty_list": T.Tensor([]), "sizes": [list(u.shape), str(u.dtype).replace("torch.", "")],
        "size_zero": list(T.Tensor(2, 0).shape), "int_array": T.Tensor(np.array([1, 2])), "shared": shared,
        "int_tensor": T.Tensor(T.tensor([1, 2])), "float": attempt(lambda: T.Tensor(2.5)),
        "np_int_is_size": list(T.Tensor(np.int64(3)).shape), "requires_grad": T.Tensor([2.5]).requires_grad,
    }


def legacy_typed_constructors(T: Any) -> dict:
    out = {}
    for name in ("LongTensor", "FloatTensor", "IntTensor", "BoolTensor", "DoubleTensor", "ByteTensor"):
        c = getattr(T, name)
        a, b = c([1, 0, 2]), c(2, 3)
        out[name] = [a, list(b.shape), str(b.dtype).replace("torch.", ""), isinstance(a, c),
                     isinstance(T.randn(2), c)]
    out["long_trunc"] = T.LongTensor([1.7, 2.2])
    out["int_from_array"] = T.IntTensor(np.array([1.9, -1.9]))
    out["bool_nonzero"] = T.BoolTensor([0, 2])
    out["long_of_long_tensor"] = T.LongTensor(T.tensor([1, 2]))
    out["long_of_float_tensor"] = attempt(lambda: T.LongTensor(T.tensor([1.5])))
    return out


# --------------------------------------------------------------------------------------------------
# 4. keyword and function forms, in-place unary ops
# --------------------------------------------------------------------------------------------------
def size_keywords(T: Any) -> dict:
    return {
        "rand": list(T.rand(size=(2, 3)).shape), "randn": list(T.randn(size=(2,)).shape),
        "zeros": T.zeros(size=(2, 3)), "ones": T.ones(size=(1, 2)), "empty": list(T.empty(size=(2,)).shape),
        "full": T.full(size=(2,), fill_value=3.0), "zeros_int_size": T.zeros(size=[3], dtype=T.int64),
        "both": attempt(lambda: T.zeros(2, 3, size=(2, 3))),
    }


def axis_keywords(T: Any) -> dict:
    x = T.tensor(X0)
    return {
        "argmax": x.argmax(axis=1), "argmax_fn": T.argmax(x, axis=1), "sum": x.sum(axis=0),
        "sum_fn": T.sum(x, axis=1), "max": x.max(axis=1), "mean": x.mean(axis=0), "mean_fn": T.mean(x, axis=1),
        "min": x.min(axis=0), "argmin_fn": T.argmin(x, axis=0), "softmax": x.softmax(axis=0),
        "squeeze": list(T.zeros(1, 2, 1).squeeze(axis=0).shape), "keepdim": x.max(dim=1, keepdim=True)[0],
    }


def function_forms(T: Any) -> dict:
    x = T.tensor(X0)
    y = T.tensor([1.0, 0.0, 2.0])
    return {
        "unsqueeze": list(T.unsqueeze(x, 0).shape), "unsqueeze_kw": list(T.unsqueeze(x, dim=-1).shape),
        "squeeze": list(T.squeeze(T.zeros(1, 2, 1)).shape), "squeeze0": list(T.squeeze(T.zeros(1, 2, 1), 0).shape),
        "eq": T.eq(x, 5.0), "eq_t": T.eq(x, y), "ne": T.ne(x, 5), "lt": T.lt(x, 2), "gt": T.gt(x, 2),
        "le": T.le(x, y), "ge": T.ge(x, 2),
        "add": T.add(x, 1), "add_alpha": T.add(x, x, alpha=2), "add_scalar_alpha": T.add(x, 2, alpha=3),
        "mul": T.mul(x, 2), "sub": T.sub(x, 1), "sub_alpha": T.sub(x, x, alpha=2), "rsub": T.sub(2, x),
        "div": T.div(x, 2), "rdiv": T.div(7, T.tensor([2.0])), "neg": T.neg(x),
        "sqrt": T.sqrt(x), "exp": T.exp(T.tensor([0.0, 1.0])), "log": T.log(T.tensor([1.0, 4.0])),
        "abs": T.abs(T.tensor([-1.5, 2.0])), "flatten": list(T.flatten(T.zeros(2, 3, 4), 1).shape),
        "argmax_all": T.argmax(x), "argmax_keep": T.argmax(x, 1, keepdim=True), "max_all": T.max(x),
        "max_dim": T.max(x, dim=1), "max_pair": T.max(x, T.tensor(4.0)), "sum": T.sum(x), "mean": T.mean(x),
        "mean_keep": T.mean(x, 1, keepdim=True),
    }


def function_form_grads(T: Any) -> dict:
    w = T.tensor([1.0, 4.0], requires_grad=True)
    out = T.add(w, w, alpha=2) + T.mul(w, 3) + T.sub(1, w) + T.div(w, 2) + T.sqrt(w) + T.exp(w) + T.log(w)
    out = T.sum(out) + T.mean(T.abs(T.neg(w))) + T.max(w) + T.unsqueeze(w, 0).sum()
    out.backward()
    return {"out": out, "grad": w.grad}


UNARY = ("sqrt_", "exp_", "log_", "abs_", "neg_", "sigmoid_", "tanh_", "relu_")


def inplace_unary_values(T: Any) -> dict:
    out = {}
    for name in UNARY:
        t = T.tensor([-1.0, 0.25, 4.0])
        r = getattr(t, name)()
        out[name] = [t, t._version, r is t]
    t = T.tensor([-1.0, 0.25, 4.0])
    out["clamp_"] = t.clamp_(0, 1)
    t = T.tensor([-1.0, 0.25, 4.0])
    out["clamp_min"] = t.clamp_(min=0.5)
    out["int_abs_"] = T.tensor([-1, 2]).abs_()
    out["int_neg_"] = T.tensor([-1, 2]).neg_()
    return out


def inplace_unary_grads(T: Any) -> dict:
    out = {}
    for name in UNARY:
        a = T.tensor([-1.0, 0.5, 4.0] if name not in ("sqrt_", "log_") else [1.0, 0.5, 4.0], requires_grad=True)
        b = a * 1
        getattr(b, name)()
        (b * T.tensor([1.0, 2.0, 3.0])).sum().backward()
        out[name] = [b, a.grad]
    a = T.tensor([1.0, 4.0], requires_grad=True)
    b = a * 1
    b.clamp_(max=2.0)
    b.sum().backward()
    out["clamp_"] = [b, a.grad]
    return out


def inplace_unary_rules(T: Any) -> dict:
    a = T.tensor([1.0, 4.0], requires_grad=True)
    leaf = attempt(lambda: a.sqrt_())
    with T.no_grad():
        a.sqrt_()
    b = a * 1
    c = b * b  # saves b
    b.exp_()
    stale = attempt(lambda: c.sum().backward())
    d = T.tensor([1.0, 4.0]).sqrt_().exp_()
    return {"leaf": leaf, "a": a, "version": a._version, "stale": stale, "chained": d}


CASES = [
    data_shares_memory, data_inplace_method, data_assign, data_of_nonleaf, data_manual_sgd_step,
    data_change_is_not_tracked, data_classification_idioms, weight_data_init,
    accumulate_loss_with_grad, accumulate_loss_no_grad, accumulate_corrects, accumulate_corrects_method,
    zero_dim_inplace, zero_dim_recorded_twice,
    formatting, legacy_tensor_constructor, legacy_typed_constructors,
    size_keywords, axis_keywords, function_forms, function_form_grads,
    inplace_unary_values, inplace_unary_grads, inplace_unary_rules,
]


def run_all(T: Any) -> dict:
    return {fn.__name__: encode(fn(T)) for fn in CASES}
