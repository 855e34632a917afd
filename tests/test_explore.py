"""``python -m minitorch_cnn.explore``: the exported numbers, the self-contained page, bad input, size and time."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import viz
from minitorch_cnn.explore import main, select_images
from minitorch_cnn.explore.export import decode, occlusion_all_classes
from minitorch_cnn.visualize import load_image, load_model


def page_data(path: Path) -> dict:
    text = Path(path).read_text(encoding="utf-8")
    m = re.search(r'<script type="application/json" id="explorer-data">(.*?)</script>', text, re.S)
    return json.loads(m.group(1).replace("<\\/", "</"))


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from minitorch_cnn import train

    out = tmp_path_factory.mktemp("run")
    assert train.main(["--epochs", "1", "--limit", "512", "--out", str(out), "--no-progress"]) == 0
    return out / "best.npz"


@pytest.fixture(scope="module")
def written(checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, float]:
    """The unit's CNN with 16 images (the default), timed."""
    import contextlib
    import io

    out = tmp_path_factory.mktemp("page") / "cnn.html"
    buf = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(buf):
        assert main(["--checkpoint", str(checkpoint), "--out", str(out)]) == 0
    return out, buf.getvalue(), time.perf_counter() - t0


@pytest.fixture(scope="module")
def subject(checkpoint: Path, written: tuple) -> tuple:
    model, cfg, ckpt = load_model(checkpoint)
    data = page_data(written[0])
    x = np.concatenate([load_image(cfg, ckpt, im["index"])[0].numpy() for im in data["images"]])
    return model, x, data


def test_size_and_time_of_the_units_cnn_with_16_images(written: tuple) -> None:
    path, printed, seconds = written
    size = path.stat().st_size
    m = re.search(r"wrote .*cnn\.html \(([\d.]+) MB, 16 images, (\d+) layers .*\) in ([\d.]+) s", printed)
    assert m, printed
    print(f"\nexplorer of the unit's CNN, 16 images: {size / 1e6:.2f} MB written in {float(m.group(3)):.1f} s "
          f"(the call took {seconds:.1f} s)")
    assert size < 15e6
    assert float(m.group(3)) < 30


def test_images_cover_the_classes(subject: tuple) -> None:
    _, _, data = subject
    assert len(data["images"]) == 16
    assert {im["label"] for im in data["images"]} == set(range(10))
    assert select_images(np.array([0, 0, 0, 1, 1, 2]), 3) == [0, 3, 5]


def test_layer_table_equals_summary_and_receptive_field(subject: tuple) -> None:
    model, x, data = subject
    summ = viz.summary(model, (1, 28, 28), mult_adds=True)
    rf = viz.receptive_field(model, (1, 28, 28))
    assert [r["name"] for r in data["layers"]] == [r["name"] for r in summ.rows]
    for row, s in zip(data["layers"], summ.rows):
        assert (row["output_shape"], row["params"], row["mult_adds"]) == (s["output_shape"], s["params"], s["mult_adds"])
        if row["name"] in rf:
            assert (row["rf"], row["jump"], row["start"]) == (rf[row["name"]]["rf"], rf[row["name"]]["jump"],
                                                              rf[row["name"]]["start"])
    for m in data["maps"]:
        h, w = m["shape"][1:]
        for i, j in ((0, 0), (h - 1, w - 1), (h // 2, w // 3)):
            (r0, r1), (c0, c1) = viz.receptive_field_for_unit(rf, m["name"], (i, j))
            assert m["rf_rows"][i] == [r0, r1] and m["rf_cols"][j] == [c0, c1]
            assert m["rf_rows_raw"][i][0] <= r0 and m["rf_rows_raw"][i][1] >= r1


def test_quantized_maps_reconstruct_and_top_patches_are_the_top(subject: tuple) -> None:
    model, x, data = subject
    assert [m["name"] for m in data["maps"]] == [f"features.{i}" for i in range(16)]
    for m in data["maps"]:
        maps = viz.feature_maps(model, m["name"], mt.tensor(x))  # (N, C, h, w)
        shown = maps[:, m["channels"]]
        got = m["lo"] + decode(m["q"]).astype(np.float64) * m["scale"]
        assert np.abs(got - shown).max() <= m["scale"] / 2 + 1e-6 * max(1.0, np.abs(shown).max())
        assert m["left_out"] == maps.shape[1] - len(m["channels"]) == 16 if maps.shape[1] == 32 else True
        for k, c in enumerate(m["channels"]):
            per_image = maps[:, c].reshape(len(x), -1).max(axis=1)
            top = m["top"][k]
            assert [t["image"] for t in top] == list(np.argsort(-per_image, kind="stable")[:4])
            for t in top:
                assert maps[t["image"], c, t["i"], t["j"]] == pytest.approx(per_image[t["image"]], rel=1e-6)
                assert t["value"] == pytest.approx(per_image[t["image"]], rel=1e-6)


def test_input_gradient_of_an_argmax_unit(subject: tuple) -> None:
    model, x, data = subject
    m = next(m for m in data["maps"] if m["name"] == "features.3")
    n, k = 2, 1
    i, j = m["argmax"][n][k]
    leaf = mt.tensor(x[n : n + 1]).requires_grad_(True)
    captured = []
    h = dict(model.named_modules())["features.3"].register_forward_hook(lambda mod, a, o: captured.append(o))
    with mt.enable_grad():
        model(leaf)
        captured[0][0, m["channels"][k], i, j].backward()
    h.remove()
    g = leaf.grad.numpy()[0].sum(axis=0)
    N = len(data["images"])
    r0, r1, c0, c1 = m["grads"]["boxes"][n][k]
    sizes = [(b[1] - b[0]) * (b[3] - b[2]) for kk in range(len(m["channels"])) for b in
             [m["grads"]["boxes"][nn][kk] for nn in range(N)]]
    idx = k * N + n
    off = sum(sizes[:idx])
    q = decode(m["grads"]["q"])[off : off + sizes[idx]].astype(np.float64).reshape(r1 - r0, c1 - c0)
    scale = m["grads"]["scales"][idx]
    assert np.abs((q - 128) * scale - g[r0:r1, c0:c1]).max() <= scale / 2 + 1e-7
    assert np.abs(g).sum() == pytest.approx(np.abs(g[r0:r1, c0:c1]).sum())  # nothing outside the field


def test_explanations_equal_the_framework(subject: tuple) -> None:
    model, x, data = subject
    ex = data["explain"]
    assert ex["classes"] == list(range(10)) and ex["gradcam_layer"] == "features.11"
    for ci in (0, 7):
        k = ex["classes"][ci]
        cam = viz.gradcam(model, "features.11", mt.tensor(x), k)
        assert np.array_equal(decode(ex["gradcam"][ci]), np.clip(np.rint(cam * 255), 0, 255).astype(np.uint8))
        sal = viz.saliency(model, mt.tensor(x), k)
        peak = sal.max(axis=(1, 2))
        assert np.allclose(ex["saliency_max"][ci], peak)
    patch, stride = ex["occlusion_patch"], ex["occlusion_stride"]
    both = occlusion_all_classes(model, x[:3], patch, stride)
    for k in (0, 4):
        ref = viz.occlusion_sensitivity(model, mt.tensor(x[:3]), k, patch_sizes=(patch,), stride=stride)[patch]
        assert np.allclose(both[:, k], ref.heatmap, atol=1e-6)


def test_the_page_is_self_contained(written: tuple) -> None:
    text = written[0].read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]*\bsrc\s*=", text, re.I)
    assert not re.search(r"<link\b", text, re.I)
    for attr in re.findall(r"""\b(?:src|href)\s*=\s*["']([^"']*)["']""", text, re.I):
        assert not attr.startswith(("http:", "https:", "//")), attr
    assert "//cdn" not in text and "@import" not in text and "url(http" not in text
    assert text.count("<script") == 2  # the data and the inline script
    assert 'id="graph"><svg' in text or "Graphviz" in text


def test_an_existing_file_is_kept_without_overwrite(written: tuple, checkpoint: Path, capsys) -> None:
    before = written[0].read_bytes()
    assert main(["--checkpoint", str(checkpoint), "--out", str(written[0])]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "--out" in err and "--overwrite" in err
    assert written[0].read_bytes() == before


def _bad_cases(tmp: Path, ckpt: Path) -> list[tuple[list[str], str, bool]]:
    """(argv, the flag the message names, whether finding it needs the file loaded)."""
    not_ckpt = tmp / "notes.npz"
    not_ckpt.write_text("hello")
    mlp = tmp / "mlp.npz"
    mt.save(mt.models.MLP().state_dict(), mlp)
    out = str(tmp / "x.html")
    return [
        (["--model", "resnet99", "--out", out], "--model", False),
        (["--checkpoint", str(not_ckpt), "--out", out], "--checkpoint", True),
        (["--checkpoint", str(mlp), "--out", out], "--checkpoint", True),
        (["--checkpoint", str(tmp / "missing.npz"), "--out", out], "--checkpoint", False),
        (["--model", "cnn", "--weights", str(mlp), "--out", out], "--weights", True),
        (["--checkpoint", str(ckpt), "--max-channels", "0", "--out", out], "--max-channels", False),
        (["--checkpoint", str(ckpt), "--max-layers", "0", "--out", out], "--max-layers", False),
        (["--checkpoint", str(ckpt), "--images", "0", "--out", out], "--images", False),
        (["--checkpoint", str(ckpt), "--out", str(tmp)], "--out", False),
        (["--checkpoint", str(ckpt), "--out", "/proc/explore-test/x.html"], "--out", False),
        (["--checkpoint", str(ckpt), "--out", str(tmp / "x.png")], "--out", False),
        (["--checkpoint", str(ckpt), "--weights", str(mlp), "--out", out], "--weights", False),
        (["--out", out], "--checkpoint", False),
    ]


def test_bad_input_is_one_line_and_exit_2_before_any_work(checkpoint: Path, tmp_path: Path, capsys,
                                                          monkeypatch) -> None:
    import minitorch_cnn.explore.command as command
    import minitorch_cnn.explore.export as export

    def no_work(*a, **k):
        raise AssertionError("work started despite bad input")

    monkeypatch.setattr(export, "export", no_work)  # a bad file is found when it is loaded, before the export
    real = command.write_explorer
    for argv, flag, needs_load in _bad_cases(tmp_path, checkpoint):
        monkeypatch.setattr(command, "write_explorer", real if needs_load else no_work)
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and err.startswith("minitorch_cnn.explore: error:"), err
        assert flag in err, (argv, err)
        assert not (tmp_path / "x.html").exists()


def test_a_zoo_model_with_a_small_budget(tmp_path: Path, capsys) -> None:
    out = tmp_path / "r18.html"
    assert main(["--model", "resnet18", "--images", "1", "--max-layers", "3", "--max-channels", "2",
                 "--max-classes", "2", "--no-graph", "--out", str(out)]) == 0
    data = page_data(out)
    assert data["meta"]["input_size"] == [3, 224, 224]
    assert [m["name"] for m in data["maps"]] == ["conv1", "bn1", "relu"]
    assert all(len(m["channels"]) == 2 and m["left_out"] == 62 for m in data["maps"])
    notes = " ".join(data["meta"]["notes"])
    assert "--max-layers 3" in notes and "--max-classes 2" in notes and "random weights" in notes
    assert len(data["explain"]["classes"]) == 2
    assert "--max-layers 3" in capsys.readouterr().out
