"""Module / Parameter: registration, naming, state_dict, hooks, modes, devices, repr."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import backend, nn


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.BatchNorm1d(3))
        self.head = nn.Linear(3, 2)
        self.scale = nn.Parameter(mt.ones(1))
        self.register_buffer("steps", mt.zeros(1))
        self.register_buffer("scratch", mt.zeros(2), persistent=False)

    def forward(self, x):
        return self.head(self.features(x)) * self.scale


def test_parameter_is_a_leaf_tensor_with_grad() -> None:
    p = nn.Parameter(mt.zeros(2, 3))
    assert isinstance(p, mt.Tensor) and p.requires_grad and p.is_leaf and p.grad_fn is None
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert not nn.Parameter(mt.zeros(1), requires_grad=False).requires_grad
    with pytest.raises(TypeError, match="Tensor or a backend array"):
        nn.Parameter([1.0, 2.0])


def test_registration_and_dotted_names() -> None:
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "features.0.weight", "features.0.bias", "features.2.weight", "features.2.bias",
                     "head.weight", "head.bias"]
    assert [n for n, _ in net.named_buffers()] == [
        "steps", "scratch", "features.2.running_mean", "features.2.running_var", "features.2.num_batches_tracked"
    ]
    assert [n for n, _ in net.named_modules()] == ["", "features", "features.0", "features.1", "features.2", "head"]
    assert [n for n, _ in net.named_children()] == ["features", "head"]
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]
    assert net.get_submodule("features.0") is net.features[0]
    assert net.get_parameter("head.bias") is net.head.bias
    # reassigning a plain value to a parameter name is refused, None is allowed
    with pytest.raises(TypeError, match="nn.Parameter or None"):
        net.scale = mt.ones(1)
    net.scale = None
    assert "scale" not in [n for n, _ in net.named_parameters()]
    del net.head
    assert "head" not in dict(net.named_children())


def test_shared_parameters_are_listed_once() -> None:
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, lin)
    assert len(list(seq.parameters())) == 2
    assert len(list(seq.modules())) == 2


def test_state_dict_round_trip_through_npz(tmp_path) -> None:
    mt.manual_seed(1)
    a = Net()
    a.features[2].running_mean._array[...] = np.array([0.1, 0.2, 0.3], dtype=np.float32)
    a.features[2].num_batches_tracked._array[...] = 7
    sd = a.state_dict()
    assert "scratch" not in sd and "features.2.num_batches_tracked" in sd
    assert len(sd) == 7 + 4  # 7 parameters + steps + 3 BatchNorm buffers
    np.savez(tmp_path / "ck.npz", **{k: v.detach().numpy() for k, v in sd.items()})
    mt.manual_seed(2)
    b = Net()
    with np.load(tmp_path / "ck.npz") as f:
        result = b.load_state_dict(dict(f))
    assert result.missing_keys == [] and result.unexpected_keys == []
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb
        np.testing.assert_array_equal(va.detach().numpy(), vb.detach().numpy())
    assert b.features[2].num_batches_tracked.dtype == np.int64
    # values are copied, not aliased
    a.head.weight._array[...] = 0
    assert np.abs(b.head.weight.detach().numpy()).sum() > 0


def test_load_state_dict_reports_every_problem() -> None:
    net = Net()
    sd = net.state_dict()
    del sd["head.bias"]
    sd["head.extra"] = mt.zeros(1)
    sd["features.0.weight"] = mt.zeros(5, 4)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(sd)
    msg = str(info.value)
    assert "Error(s) in loading state_dict for Net" in msg
    assert 'Missing key(s) in state_dict: "head.bias"' in msg
    assert 'Unexpected key(s) in state_dict: "head.extra"' in msg
    assert "size mismatch for features.0.weight: copying a param with shape (5, 4)" in msg
    assert "(3, 4)" in msg
    # strict=False still refuses wrong shapes but tolerates the rest
    sd["features.0.weight"] = np.zeros((3, 4), dtype=np.float32)
    res = net.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["head.bias"] and res.unexpected_keys == ["head.extra"]
    assert np.all(net.features[0].weight.detach().numpy() == 0)


def test_forward_hooks_fire_and_remove() -> None:
    lin = nn.Linear(3, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, inp: calls.append(("pre", inp[0].shape)))
    h2 = lin.register_forward_hook(lambda m, inp, out: calls.append(("post", out.shape)))
    lin(mt.randn(4, 3))
    assert calls == [("pre", (4, 3)), ("post", (4, 2))]
    h1.remove()
    h2.remove()
    lin(mt.randn(4, 3))
    assert len(calls) == 2
    # hooks may replace the input and the output
    lin.register_forward_pre_hook(lambda m, inp: (inp[0] * 0,))
    lin.register_forward_hook(lambda m, inp, out: out + 1)
    out = lin(mt.randn(4, 3))
    np.testing.assert_allclose(out.detach().numpy(), np.broadcast_to(lin.bias.detach().numpy() + 1, (4, 2)), rtol=1e-6)


def test_full_backward_hook_receives_right_gradients() -> None:
    mt.manual_seed(0)
    lin = nn.Linear(3, 2).double()
    seen = {}

    def hook(module, grad_input, grad_output):
        seen["gi"] = grad_input
        seen["go"] = grad_output

    handle = lin.register_full_backward_hook(hook)
    x = mt.randn(4, 3, dtype=mt.float64, requires_grad=True)
    v = mt.randn(4, 2, dtype=mt.float64)
    (lin(x) * v).sum().backward()
    # dL/dy = v ;  dL/dx = v W
    np.testing.assert_allclose(seen["go"][0].detach().numpy(), v.detach().numpy())
    np.testing.assert_allclose(seen["gi"][0].detach().numpy(), v.detach().numpy() @ lin.weight.detach().numpy())
    np.testing.assert_allclose(x.grad.detach().numpy(), v.detach().numpy() @ lin.weight.detach().numpy())
    handle.remove()
    seen.clear()
    (lin(x) * v).sum().backward()
    assert seen == {}


def test_full_backward_hook_input_without_grad_and_replacement() -> None:
    conv_like = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 1))
    got = []
    conv_like[0].register_full_backward_hook(lambda m, gi, go: got.append((gi, go[0].shape)))
    conv_like(mt.randn(5, 3)).sum().backward()  # the input needs no gradient
    assert got == [((None,), (5, 3))]
    # a hook returning grad_input replaces the gradient that flows on
    lin = nn.Linear(2, 2)
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0] * 0,))
    x = mt.randn(3, 2, requires_grad=True)
    lin(x).sum().backward()
    assert np.all(x.grad.detach().numpy() == 0)


def test_train_eval_requires_grad_zero_grad_apply() -> None:
    net = Net()
    assert net.training and net.features[2].training
    net.eval()
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    net.requires_grad_(True)
    net(mt.randn(5, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.detach().numpy() == 0) for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    visited = []
    net.apply(lambda m: visited.append(type(m).__name__))
    assert visited == ["Linear", "ReLU", "BatchNorm1d", "Sequential", "Linear", "Net"]


def test_to_device_and_dtype_in_place() -> None:
    net = Net()
    params_before = list(net.parameters())
    net.to("strict")
    assert list(net.parameters()) == params_before  # same Parameter objects
    assert all(p.device == "strict" for p in net.parameters())
    assert all(b.device == "strict" for b in net.buffers())
    out = net(mt.randn(5, 4, device="strict"))
    assert out.device == "strict"
    net.to("cpu").double()
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert net.features[2].num_batches_tracked.dtype == np.int64
    with pytest.raises(TypeError, match="floating point"):
        net.to(np.int32)


def test_repr_matches_pytorch_layout() -> None:
    model = nn.Sequential(OrderedDict(conv=nn.Sequential(nn.Linear(2, 3), nn.ReLU()), out=nn.Linear(3, 1, bias=False)))
    assert repr(model) == (
        "Sequential(\n"
        "  (conv): Sequential(\n"
        "    (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "    (1): ReLU()\n"
        "  )\n"
        "  (out): Linear(in_features=3, out_features=1, bias=False)\n"
        ")"
    )
    assert repr(nn.BatchNorm2d(8)) == "BatchNorm2d(8, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"
    assert repr(nn.Dropout(0.25)) == "Dropout(p=0.25, inplace=False)"


def test_containers() -> None:
    seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear)
    sub = seq[:2]
    assert isinstance(sub, nn.Sequential) and len(sub) == 2 and sub[0] is seq[0]
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear"]
    seq.append(nn.Sigmoid())
    assert [n for n, _ in seq.named_children()][-1] == "3"
    del seq[1]
    assert [n for n, _ in seq.named_children()] == ["0", "1", "2"]
    with pytest.raises(IndexError):
        seq[5]
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    ml.append(nn.Linear(2, 1))
    assert len(list(ml.parameters())) == 8 and len(ml[1:]) == 3
    md = nn.ModuleDict({"a": nn.Linear(1, 1), "b": nn.ReLU()})
    md["c"] = nn.Tanh()
    assert list(md.keys()) == ["a", "b", "c"] and "a" in md
    assert [n for n, _ in md.named_parameters()] == ["a.weight", "a.bias"]


def test_module_without_forward_and_early_assignment_errors() -> None:
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(1)

    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(mt.zeros(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()


def test_seeded_construction_is_reproducible() -> None:
    mt.manual_seed(3)
    a = nn.Linear(5, 4)
    mt.manual_seed(3)
    b = nn.Linear(5, 4)
    np.testing.assert_array_equal(a.weight.detach().numpy(), b.weight.detach().numpy())
    assert backend.device_of(a.weight._array) == "cpu"


def test_deepcopy_and_pickle_keep_parameters_independent() -> None:
    import copy
    import pickle

    net = Net()
    clone = copy.deepcopy(net)
    assert isinstance(clone.head.weight, nn.Parameter) and clone.head.weight is not net.head.weight
    clone.head.weight._array[...] = 0
    assert np.abs(net.head.weight.detach().numpy()).sum() > 0
    restored = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(restored.head.weight.detach().numpy(), net.head.weight.detach().numpy())
    assert restored.head.weight.requires_grad
