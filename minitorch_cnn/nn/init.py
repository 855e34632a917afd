"""Weight initialisation (``torch.nn.init``): fill a tensor in place, without recording a graph.

Why it matters: with ``fan_in`` inputs each of variance ``v``, a neuron's pre-activation has variance
``fan_in * Var(w) * v``. Choosing ``Var(w) = gain**2 / fan_in`` keeps signals from exploding or dying
as depth grows:

* **Kaiming/He** (ReLU nets): ``std = gain / sqrt(fan)``, ``gain = sqrt(2 / (1 + a**2))`` for
  leaky ReLU with slope ``a`` (``sqrt(2)`` for ReLU). Uniform version: ``U(-b, b)``,
  ``b = gain * sqrt(3 / fan)`` (a uniform on ``[-b, b]`` has variance ``b**2 / 3``).
* **Xavier/Glorot** (tanh/sigmoid nets): ``std = gain * sqrt(2 / (fan_in + fan_out))``.

PyTorch's default for ``Linear`` and ``Conv`` is ``kaiming_uniform_(w, a=sqrt(5))``, which works out
to ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``, and a bias ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``.

For a conv weight ``(C_out, C_in/groups, kH, kW)``: ``fan_in = C_in/groups * kH * kW`` and
``fan_out = C_out * kH * kW``.

Random numbers come from ``backend.random_state(device)``, so ``mt.manual_seed(s)`` makes model
construction reproducible.
"""

from __future__ import annotations

import math
from typing import Any

from .. import backend
from ..ops._checks import is_real
from ..tensors import Tensor

__all__ = [
    "calculate_gain",
    "uniform_",
    "normal_",
    "constant_",
    "zeros_",
    "ones_",
    "eye_",
    "kaiming_uniform_",
    "kaiming_normal_",
    "xavier_uniform_",
    "xavier_normal_",
    "trunc_normal_",
]


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for ``nonlinearity`` (torch's table): relu sqrt(2), tanh 5/3, selu 3/4, ..."""
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif is_real(param):
            negative_slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(
        f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; expected one of linear, conv*, "
        "sigmoid, tanh, relu, leaky_relu, selu"
    )


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight: ``(in * receptive field, out * receptive field)``."""
    if tensor.ndim < 2:
        raise ValueError(
            f"Fan in and fan out can not be computed for a tensor with fewer than 2 dimensions "
            f"(shape {tuple(tensor.shape)}); use uniform_/normal_/constant_ for biases"
        )
    num_output_fmaps, num_input_fmaps = tensor.shape[0], tensor.shape[1]
    receptive_field_size = 1
    for s in tensor.shape[2:]:
        receptive_field_size *= s
    return num_input_fmaps * receptive_field_size, num_output_fmaps * receptive_field_size


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode {mode!r} not supported, please use one of 'fan_in', 'fan_out'")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _check(tensor: Any, fn: str) -> None:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{fn}: expected a Tensor, got {type(tensor).__name__}")


def _fill(tensor: Tensor, arr: Any) -> Tensor:
    """Write generated numbers (already on the tensor's device) into ``tensor`` in place."""
    tensor._array[...] = arr.astype(tensor._array.dtype, copy=False)
    return tensor


def _generate(tensor: Tensor, kind: str, a: float, b: float) -> Any:
    """Uniform ``U(a, b)`` or normal ``N(a, b**2)`` numbers shaped like ``tensor`` from its device's generator."""
    dev = backend.device_of(tensor._array)
    rng = backend.random_state(dev)
    shape = tuple(tensor.shape)
    if kind == "uniform":
        arr = rng.uniform(a, b, size=shape)
    else:
        arr = rng.normal(a, b, size=shape)
    # the CPU generator also serves the "strict" device: move its numbers there
    return backend.to_device(arr, dev)


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill with ``U(a, b)``."""
    _check(tensor, "uniform_")
    if not a <= b:
        raise ValueError(f"uniform_: need a <= b, got a={a}, b={b}")
    return _fill(tensor, _generate(tensor, "uniform", a, b))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill with ``N(mean, std**2)``."""
    _check(tensor, "normal_")
    if std < 0:
        raise ValueError(f"normal_: std must be non-negative, got {std}")
    return _fill(tensor, _generate(tensor, "normal", mean, std))


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0) -> Tensor:
    """Fill with ``N(mean, std**2)`` redrawing values outside ``[a, b]`` (rejection sampling)."""
    _check(tensor, "trunc_normal_")
    if not a < b:
        raise ValueError(f"trunc_normal_: need a < b, got a={a}, b={b}")
    xp = backend.get_array_module(tensor._array)
    vals = _generate(tensor, "normal", mean, std)
    for _ in range(100):
        bad = (vals < a) | (vals > b)
        if not bool(bad.any()):
            break
        vals = xp.where(bad, _generate(tensor, "normal", mean, std), vals)
    vals = xp.clip(vals, a, b)
    return _fill(tensor, vals)


def constant_(tensor: Tensor, val: float) -> Tensor:
    _check(tensor, "constant_")
    tensor._array[...] = val
    return tensor


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity matrix (ones on the diagonal)."""
    _check(tensor, "eye_")
    if tensor.ndim != 2:
        raise ValueError(f"eye_: only 2-D tensors are supported, got shape {tuple(tensor.shape)}")
    xp = backend.get_array_module(tensor._array)
    tensor._array[...] = xp.eye(tensor.shape[0], tensor.shape[1], dtype=tensor._array.dtype)
    return tensor


def kaiming_uniform_(
    tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Tensor:
    """He uniform: ``U(-bound, bound)``, ``bound = gain * sqrt(3 / fan)``, ``gain = calculate_gain(nonlinearity, a)``."""
    _check(tensor, "kaiming_uniform_")
    if 0 in tuple(tensor.shape):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return _fill(tensor, _generate(tensor, "uniform", -bound, bound))



def default_layer_init_(weight: Tensor, bias: Tensor | None) -> None:
    """PyTorch's default for ``Linear`` and ``Conv*d``: ``kaiming_uniform_(w, a=sqrt(5))`` and a bias
    uniform in ``[-1/sqrt(fan_in), 1/sqrt(fan_in)]``.

    With ``a = sqrt(5)`` the weight bound ``gain * sqrt(3 / fan_in)`` is exactly ``1 / sqrt(fan_in)``.
    """
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound)

def kaiming_normal_(
    tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Tensor:
    """He normal: ``N(0, std**2)``, ``std = gain / sqrt(fan)``."""
    _check(tensor, "kaiming_normal_")
    if 0 in tuple(tensor.shape):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return _fill(tensor, _generate(tensor, "normal", 0.0, std))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot uniform: ``U(-b, b)``, ``b = gain * sqrt(6 / (fan_in + fan_out))``."""
    _check(tensor, "xavier_uniform_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    # BEGIN SOLUTION 4.4
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    # END SOLUTION
    return _fill(tensor, _generate(tensor, "uniform", -bound, bound))


def xavier_normal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot normal: ``N(0, std**2)``, ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    _check(tensor, "xavier_normal_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return _fill(tensor, _generate(tensor, "normal", 0.0, std))

