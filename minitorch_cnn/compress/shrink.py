"""Structured pruning that really shrinks: remove dead filters and get a smaller dense model.

A masked zero still costs its multiply. Removing a whole output channel of a convolution removes
a filter ``(C_in, k, k)``, the matching BatchNorm entries, and the matching input channel of the
next layer: ``C_in * k * k`` plus ``C_out_next * k * k`` weights and all their mult-adds.

``prune_filters(model, amount)`` makes channels *dead* (exactly zero at every position for every
input): it prunes the ``amount`` filters with the smallest L1 norm in every Conv2d
(``ln_structured(dim=0)``) and masks the filter's bias and the following BatchNorm's ``gamma``
and ``beta`` too. Why BatchNorm: here it comes after the ReLU, and ``BN(0) = beta - gamma *
mean / sqrt(var + eps)`` is not 0; only ``gamma = beta = 0`` makes the channel output 0.

``shrink(model)`` returns a copy in which every dead channel is gone. It works on chains (the
layers run in the order they are defined, as in ``nn.Sequential`` models such as the unit's
CNN): Conv2d -> [ReLU, BatchNorm2d, MaxPool2d, Dropout, Identity ...] -> Conv2d or Flatten ->
Linear. Residual networks (ResNet's ``BasicBlock`` / ``Bottleneck``): only the convolutions inside
a block are chains; a conv whose output is added to a shortcut is never pruned or sliced, so the
channels of every residual sum stay consistent. The shrunk model computes the same function (up to float32 summation order: the zero
terms it drops were exact zeros).
"""

from __future__ import annotations

import copy
from typing import Any

from ..backend import get_array_module
from ..nn import BatchNorm2d, Conv2d, Dropout, Flatten, Identity, Linear, MaxPool2d, Module, ReLU, Sequential
from ..nn.dropout import Dropout2d
from ..nn.pooling import AvgPool2d
from . import masks, prune
from .checks import check_finite_weights

__all__ = ["prune_filters", "shrink", "dead_channels"]

_CHANNELWISE = (ReLU, MaxPool2d, AvgPool2d, Dropout, Dropout2d, Identity)
"""Layers that act on each channel alone and keep an all-zero channel all zero."""


def _leaves(model: Module) -> list[tuple[str, Module]]:
    return [(p, m) for p, m in model.named_modules() if not m._modules]


def _known_chains() -> dict[type, set[tuple[str, str]]]:
    """Children of residual blocks that feed each other directly (in ``named_modules`` order, which
    lists a shared ``relu`` once): only these steps of a block are a chain; the block's last conv
    feeds the residual sum and is never sliced."""
    from ..models.resnet import BasicBlock, Bottleneck

    return {BasicBlock: {("conv1", "bn1"), ("bn1", "relu"), ("relu", "conv2")},
            Bottleneck: {("conv1", "bn1"), ("bn1", "conv2"), ("conv2", "bn2"), ("bn2", "conv3")}}


def _trusted_step(model: Module, a: str, b: str) -> bool:
    """Whether leaf ``b`` takes exactly the output of leaf ``a``, as far as the structure shows.

    Trusted: consecutive children of an ``nn.Sequential`` (also across nested Sequentials, leaving
    one at its last child and entering one at its first), the known steps inside ResNet blocks, and
    consecutive children of the model itself (whose ``forward`` is taken to run its children in the
    order they are defined, as the unit's CNN does). Anything else (a step out of or into another
    custom module, e.g. from a residual block's last layer to the next block) may hide a residual
    sum or a second use of the tensor, so its channels are left alone.
    """
    pa, pb = a.split("."), b.split(".")
    k = 0
    while k < min(len(pa), len(pb)) - 1 and pa[k] == pb[k]:
        k += 1
    if pa[:k] != pb[:k] or pa[k] == pb[k]:
        return False
    parent = model.get_submodule(".".join(pa[:k]))
    for path, last in ((pa, True), (pb, False)):
        for d in range(k + 1, len(path)):
            inner = model.get_submodule(".".join(path[:d]))
            names = list(inner._modules)
            if not isinstance(inner, Sequential) or path[d] != (names[-1] if last else names[0]):
                return False
    if isinstance(parent, Sequential):
        names = list(parent._modules)
        return names.index(pb[k]) == names.index(pa[k]) + 1
    known = _known_chains().get(type(parent))
    if known is not None:
        return (pa[k], pb[k]) in known
    return parent is model


def _chain_after(leaves: list, i: int, model: Module | None = None) -> tuple[list[Module], Any]:
    """The channel-wise layers after leaf ``i`` and the layer that consumes its channels (or None).

    With ``model``, every step of the chain must be a trusted one (``_trusted_step``)."""
    between: list[Module] = []
    path = [leaves[i][0]]
    consumer = None
    for j in range(i + 1, len(leaves)):
        m = leaves[j][1]
        if isinstance(m, (*_CHANNELWISE, BatchNorm2d)):
            between.append(m)
            path.append(leaves[j][0])
            continue
        if isinstance(m, Conv2d) and m.groups == 1:
            consumer = m
            path.append(leaves[j][0])
        elif isinstance(m, Flatten) and j + 1 < len(leaves) and isinstance(leaves[j + 1][1], Linear):
            consumer = leaves[j + 1][1]
            path += [leaves[j][0], leaves[j + 1][0]]
        break
    if consumer is None:
        return between, None
    if model is not None and not all(_trusted_step(model, a, b) for a, b in zip(path, path[1:])):
        return between, None
    return between, consumer


def _shrinkable(model: Module) -> list[tuple[str, Conv2d, list[Module], Module]]:
    """``(path, conv, between, consumer)`` for every Conv2d whose output channels ``shrink`` can remove."""
    leaves = _leaves(model)
    out = []
    for i, (path, conv) in enumerate(leaves):
        if not isinstance(conv, Conv2d) or conv.groups != 1:
            continue
        between, consumer = _chain_after(leaves, i, model)
        if consumer is not None:
            out.append((path, conv, between, consumer))
    return out


def prune_filters(model: Module, amount: float | int, n: int | float = 1) -> Module:
    """Kill the ``amount`` weakest filters (L``n`` norm) of every Conv2d whose channels feed a layer
    ``shrink`` can slice; also masks their bias and the next BatchNorm's gamma and beta.

    Only convolutions in a chain (see ``_trusted_step``) are pruned: in a ResNet the first conv of
    each block (and the middle one of a bottleneck); the convolutions whose output is added to a
    residual keep all their channels, so the sums stay consistent. ``amount`` (as in
    ``ln_structured``) must leave at least one filter alive in every pruned layer: a layer without
    channels cannot be built, and ``ValueError`` names the layer before anything is pruned.
    """
    check_finite_weights(model, "prune_filters")
    chains = _shrinkable(model)
    for path, conv, _, _ in chains:
        alive = int(prune._alive(conv, "weight").reshape(conv.out_channels, -1).any(axis=1).sum())
        k = prune._count(amount, alive, "prune_filters")
        if k >= alive:
            raise ValueError(f"prune_filters: amount={amount!r} would prune all {alive} remaining filters of {path} "
                             f"({type(conv).__name__}({conv.in_channels}, {conv.out_channels})); keep at least one: "
                             f"a fraction below 1 or a count below {alive}")
    for _, conv, between, _ in chains:
        prune.ln_structured(conv, "weight", amount, n=n, dim=0)
        xp = get_array_module(conv.weight._array)
        alive = masks.get_mask(conv, "weight")._array.reshape(conv.out_channels, -1).any(axis=1)
        if conv.bias is not None:
            masks.apply_mask(conv, "bias", alive)
        for bn in (m for m in between if isinstance(m, BatchNorm2d)):
            masks.apply_mask(bn, "weight", xp.asarray(alive))
            masks.apply_mask(bn, "bias", xp.asarray(alive))
    return model


def dead_channels(conv: Conv2d, between: list[Module]) -> Any:
    """Bool array over ``conv``'s output channels: True where the channel is 0 after ``between``."""
    xp = get_array_module(conv.weight._array)
    dead = ~xp.any(conv.weight._array.reshape(conv.out_channels, -1) != 0, axis=1)
    if conv.bias is not None:
        dead &= conv.bias._array == 0
    for m in between:
        if isinstance(m, BatchNorm2d):
            zeroed = (m.weight._array == 0) & (m.bias._array == 0) if m.affine else xp.zeros_like(dead)
            dead = zeroed | (dead & (m.running_mean._array == 0) & (m.bias._array == 0 if m.affine else True))
    return dead


def _slice_conv(conv: Conv2d, out_keep: Any = None, in_keep: Any = None) -> Conv2d:
    w = conv.weight._array
    w = w[out_keep] if out_keep is not None else w
    w = w[:, in_keep] if in_keep is not None else w
    new = Conv2d(w.shape[1], w.shape[0], conv.kernel_size, conv.stride, conv.padding, conv.dilation,
                 bias=conv.bias is not None, padding_mode=conv.padding_mode, dtype=w.dtype)
    new.to(conv.weight.device)
    new.weight._array[...] = w
    if conv.bias is not None:
        new.bias._array[...] = conv.bias._array if out_keep is None else conv.bias._array[out_keep]
    return new


def _slice_bn(bn: BatchNorm2d, keep: Any) -> BatchNorm2d:
    new = BatchNorm2d(int(keep.sum()), bn.eps, bn.momentum, bn.affine, bn.track_running_stats,
                      dtype=bn.running_mean.dtype if bn.track_running_stats else None)
    new.to(bn.running_mean.device if bn.track_running_stats else bn.weight.device)
    for store in ("_parameters", "_buffers"):
        for key, value in getattr(bn, store).items():
            if value is not None and value.ndim == 1:
                getattr(new, store)[key]._array[...] = value._array[keep]
    new.num_batches_tracked._array[...] = bn.num_batches_tracked._array
    new.train(bn.training)
    return new


def _slice_linear_inputs(lin: Linear, keep: Any) -> Linear:
    xp = get_array_module(lin.weight._array)
    per_channel = lin.in_features // keep.shape[0]
    cols = xp.repeat(keep, per_channel)  # Flatten of (C, H, W): channel c owns a block of H*W columns
    w = lin.weight._array[:, cols]
    new = Linear(w.shape[1], lin.out_features, bias=lin.bias is not None, dtype=w.dtype).to(lin.weight.device)
    new.weight._array[...] = w
    if lin.bias is not None:
        new.bias._array[...] = lin.bias._array
    return new


def shrink(model: Module) -> Module:
    """A copy of ``model`` without its dead channels (see the module docstring); masks are folded in."""
    model = copy.deepcopy(model)
    for _, module, name in masks.masked_parameters(model):
        masks.remove_mask(module, name)
    replace: dict[int, Module] = {}
    leaves = _leaves(model)
    for path, original, between, consumer in _shrinkable(model):
        keep = ~dead_channels(original, between)
        if not bool(keep.any()):
            raise ValueError(f"shrink: every one of the {keep.shape[0]} output channels of {path} is dead, and a "
                             "layer without channels cannot be built (the network's output would not depend on "
                             "its input); prune fewer filters of it")
        if bool(keep.all()):
            continue
        conv = replace.get(id(original), original)
        replace[id(original)] = _slice_conv(conv, out_keep=keep)
        for bn in (m for m in between if isinstance(m, BatchNorm2d)):
            replace[id(bn)] = _slice_bn(bn, keep)
        current = replace.get(id(consumer), consumer)
        sliced = _slice_conv(current, in_keep=keep) if isinstance(consumer, Conv2d) else _slice_linear_inputs(current, keep)
        replace[id(consumer)] = sliced
    for path, module in leaves:
        if id(module) in replace:
            parent, _, name = path.rpartition(".")
            model.get_submodule(parent)._modules[name] = replace[id(module)]
    return model
