"""draw_graph / render / forward_graph: DOT structure asserted node by node, SVG parsed as XML."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET

import pytest

import minitorch_cnn as mt
from minitorch_cnn import nn
from minitorch_cnn.viz import (
    GraphvizNotFoundError,
    draw_graph,
    forward_graph,
    render,
    retain_all_grads,
    trace,
)
from minitorch_cnn.viz import graph as graph_module

NODE = re.compile(r'^\s*(\w+) \[label=(".*?"|\S+)(.*)\]$')
EDGE = re.compile(r"^\s*(\w+) -> (\w+)(.*)$")


def parse(g) -> tuple[dict[str, str], set[tuple[str, str]], dict[str, str]]:
    """(node id -> label, edges by label pairs, node id -> attribute text) from the DOT source."""
    labels, attrs, edges = {}, {}, set()
    for line in g.source.splitlines():
        m = NODE.match(line)
        if m:
            labels[m.group(1)] = m.group(2).strip('"')
            attrs[m.group(1)] = m.group(3)
            continue
        m = EDGE.match(line)
        if m:
            edges.add((m.group(1), m.group(2)))
    return labels, {(labels[a], labels[b]) for a, b in edges}, attrs


def test_micrograd_graph_structure_and_values():
    a = mt.tensor(2.0, requires_grad=True)
    b = mt.tensor(-3.0, requires_grad=True)
    c = a * b
    d = c + a
    retain_all_grads(d)
    d.backward()
    labels, edges, attrs = parse(draw_graph(d, params={"a": a, "b": b}, values=True, rankdir="LR"))
    assert sorted(labels.values()) == sorted([
        "MulBackward", "AddBackward",
        "a\\n() float32\\ndata 2.0000\\ngrad -2.0000",
        "b\\n() float32\\ndata -3.0000\\ngrad 2.0000",
        "() float32\\ndata -6.0000\\ngrad 1.0000",
        "output\\n() float32\\ndata -4.0000\\ngrad 1.0000",
    ])
    by = {v.split("\\n")[0]: v for v in labels.values()}
    assert edges == {
        (by["a"], "MulBackward"), (by["b"], "MulBackward"), ("MulBackward", by["() float32"]),
        (by["() float32"], "AddBackward"), (by["a"], "AddBackward"), ("AddBackward", by["output"]),
    }
    assert "rankdir=LR" in draw_graph(d, values=True, rankdir="LR").source


def small_model() -> nn.Module:
    mt.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(2 * 3 * 3, 2))


def test_model_graph_names_shapes_clusters_saved_and_grads():
    model = small_model()
    tr = trace(model, mt.randn(1, 1, 8, 8))
    loss = tr.output.sum()
    loss.backward(retain_graph=True)
    g = draw_graph(loss, params=model, trace=tr, show_saved=True, show_grads=True)
    labels, edges, attrs = parse(g)
    ops = sorted(v for v in labels.values() if v.endswith("Backward"))
    assert ops == ["Conv2dBackward", "LinearBackward", "MaxPool2dBackward", "ReLUBackward", "ReshapeBackward",
                   "SumBackward"]
    weight = next(v for v in labels.values() if v.startswith("0.weight"))
    assert weight.startswith("0.weight\\n(2, 1, 3, 3) float32\\ngrad (2, 1, 3, 3) |g|=")
    assert any(v == "input\\n(1, 1, 8, 8) float32" or v.startswith("input\\n(1, 1, 8, 8) float32\\ngrad")
               for v in labels.values())
    assert (weight, "Conv2dBackward") in edges and ("Conv2dBackward", "(1, 2, 6, 6) float32") in edges
    assert ("(1, 2, 6, 6) float32", "ReLUBackward") in edges
    for name in ("0 (Conv2d)", "1 (ReLU)", "2 (MaxPool2d)", "3 (Flatten)", "4 (Linear)"):
        assert f'label="{name}"' in g.source
    assert 'label="saved[1]"' in g.source  # conv's weight, linked to its tensor node (dashed edge)
    assert "darkolivegreen1" in attrs[next(k for k, v in labels.items() if v.startswith("output"))]


def test_depth_collapses_modules_into_boxes():
    model = nn.Sequential(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU()), nn.Sequential(nn.Flatten(), nn.Linear(72, 3)))
    g = draw_graph(trace(model, mt.randn(2, 1, 8, 8)), depth=1)
    labels, edges, _ = parse(g)
    assert not any(v.endswith("Backward") for v in labels.values())
    box0 = "0\\nSequential\\n(2, 2, 6, 6)\\n20 params"
    box1 = "1\\nSequential\\n(2, 3)\\n219 params"
    assert edges == {("input\\n(2, 1, 8, 8) float32", box0), (box0, "(2, 2, 6, 6) float32"),
                     ("(2, 2, 6, 6) float32", box1), (box1, "output\\n(2, 3) float32")}
    with pytest.raises(ValueError, match="trace"):
        draw_graph(model(mt.randn(1, 1, 8, 8)), depth=1)


def test_forward_graph_of_a_residual_model():
    from minitorch_cnn.models import build_model

    labels, edges, _ = parse(forward_graph(build_model("resnet"), (1, 28, 28), depth=1))
    names = {v.split("\\n")[0]: v for v in labels.values()}
    assert (names["stem"], names["stages"]) in edges and (names["fc"], "output") in edges
    leaf_labels, leaf_edges, _ = parse(forward_graph(build_model("resnet"), (1, 28, 28)))
    leaf = {v.split("\\n")[0]: v for v in leaf_labels.values()}
    # the residual add: the block's last ReLU is fed by the main path and the shortcut
    assert (leaf["stages.1.0.bn2"], leaf["stages.1.0.relu#2"]) in leaf_edges
    assert (leaf["stages.1.0.shortcut.1"], leaf["stages.1.0.relu#2"]) in leaf_edges
    assert leaf["stages.1.0.conv1"] == "stages.1.0.conv1\\nConv2d\\n(-1, 32, 14, 14)"


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs the Graphviz dot program")
def test_svg_renders_and_is_xml(tmp_path):
    model = small_model()
    g = draw_graph(trace(model, mt.randn(1, 1, 8, 8)))
    path = render(g, tmp_path / "graph.svg")
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    texts = {t.text for t in root.iter() if t.tag.endswith("text")}
    assert "Conv2dBackward" in texts and "0.weight" in texts
    assert render(g, tmp_path / "graph.png").read_bytes()[:4] == b"\x89PNG"


def test_missing_dot_fails_early_with_install_hint(tmp_path, monkeypatch):
    g = draw_graph(small_model()(mt.randn(1, 1, 8, 8)))
    monkeypatch.setattr(graph_module.shutil, "which", lambda name: None)
    with pytest.raises(GraphvizNotFoundError, match="apt-get install graphviz"):
        render(g, tmp_path / "g.svg")
    assert not (tmp_path / "g.svg").exists()
    assert render(g, tmp_path / "g.dot").read_text().startswith("digraph")  # DOT needs no Graphviz


def test_graph_cli_writes_dot_and_svg(tmp_path, capsys):
    from minitorch_cnn.graph import main

    assert main(["--model", "mlp", "--out", str(tmp_path / "mlp.dot"), "--show-saved", "--loss"]) == 0
    src = (tmp_path / "mlp.dot").read_text()
    assert "fc1.weight" in src and "label=CrossEntropyLossBackward" in src and src.count("label=LinearBackward") == 3
    if shutil.which("dot"):
        assert main(["--model", "cnn", "--out", str(tmp_path / "cnn.svg"), "--depth", "2"]) == 0
        ET.parse(tmp_path / "cnn.svg")
    assert main(["--model", "nope", "--out", str(tmp_path / "x.svg")]) == 2


def test_graph_cli_default_draws_one_box_per_layer(tmp_path):
    """README's example (no --depth) must teach: the CNN's 22 layers as boxes, not two halves."""
    from minitorch_cnn.graph import main

    assert main(["--model", "cnn", "--out", str(tmp_path / "cnn.dot")]) == 0
    src = (tmp_path / "cnn.dot").read_text()
    assert src.count("box3d") == 22 and "features.11" in src and "classifier.5" in src
    assert main(["--model", "cnn", "--out", str(tmp_path / "ops.dot"), "--depth", "0"]) == 0
    ops = (tmp_path / "ops.dot").read_text()
    assert "box3d" not in ops and "label=Conv2dBackward" in ops
    assert main(["--model", "cnn", "--out", str(tmp_path / "x.dot"), "--depth", "-1"]) == 2
