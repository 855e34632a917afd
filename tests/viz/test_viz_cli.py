"""python -m minitorch_cnn.visualize on a checkpoint written by python -m minitorch_cnn.train."""

from __future__ import annotations

import numpy as np
import pytest

from minitorch_cnn import train, visualize


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    args = ["--limit", "64", "--epochs", "1", "--batch-size", "32", "--out", str(out), "--no-progress"]
    assert train.main(args) == 0
    return out / "best.npz"


def test_every_visualization_from_a_trained_checkpoint(checkpoint, tmp_path, capsys):
    out = tmp_path / "viz"
    assert visualize.main(["--checkpoint", str(checkpoint), "--what", "all", "--out", str(out),
                           "--steps", "3", "--patch-sizes", "7", "14", "--index", "2"]) == 0
    assert "true class" in capsys.readouterr().out
    maps = np.load(out / "feature_maps_features.0.npy")
    assert maps.shape == (1, 32, 28, 28)
    assert np.load(out / "filters_features.0.npy").shape == (32, 1, 3, 3)
    assert np.load(out / "max_response_features.11_c0.npy").shape == (1, 28, 28)
    cam = np.load(out / "gradcam_features.11.npy")
    assert cam.shape == (28, 28) and 0 <= cam.min() and cam.max() <= 1
    assert np.load(out / "occlusion.npy").shape == (2, 28, 28)
    assert np.load(out / "saliency.npy").shape == (28, 28)
    pytest.importorskip("matplotlib")
    for name in ("feature_maps_features.0", "gradcam_features.11", "occlusion"):
        assert (out / f"{name}.png").read_bytes()[:4] == b"\x89PNG"


def test_layer_choice_and_errors(checkpoint, tmp_path, capsys):
    out = tmp_path / "viz"
    assert visualize.main(["--checkpoint", str(checkpoint), "--what", "gradcam", "--layer", "features.4",
                           "--target", "3", "--out", str(out)]) == 0
    assert np.load(out / "gradcam_features.4.npy").shape == (28, 28)
    assert visualize.main(["--checkpoint", str(checkpoint), "--what", "filters", "--layer", "nope",
                           "--out", str(out)]) == 2
    assert "not in the model" in capsys.readouterr().err
    assert visualize.main(["--checkpoint", str(tmp_path / "missing.npz"), "--what", "filters", "--out", str(out)]) == 2


def test_heat_map_titles_name_the_predicted_class_and_its_probability(checkpoint, tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib")
    from minitorch_cnn.viz import plotting

    titles = []
    real = plotting.plot_heatmap
    monkeypatch.setattr(plotting, "plot_heatmap", lambda *a, **k: titles.append(a[3]) or real(*a, **k))
    assert visualize.main(["--checkpoint", str(checkpoint), "--what", "gradcam", "saliency", "--out",
                           str(tmp_path), "--index", "1"]) == 0
    out = capsys.readouterr().out
    predicted = out.split("predicted class ")[1].split(" (p = ")[0].split(": ")[1]
    assert len(titles) == 2
    for t in titles:
        assert f"for the predicted class '{predicted}' (p = " in t and "true class '" in t


def test_a_missing_matplotlib_is_said_in_one_line_per_figure(checkpoint, tmp_path, capsys, monkeypatch):
    from minitorch_cnn.viz import plotting

    monkeypatch.setattr(plotting, "have_matplotlib", lambda: False)
    assert visualize.main(["--checkpoint", str(checkpoint), "--what", "filters", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "filters_features.0.png skipped: matplotlib is not installed" in out
    assert (tmp_path / "filters_features.0.npy").exists() and not list(tmp_path.glob("*.png"))
    run = tmp_path / "run"
    args = ["--limit", "32", "--epochs", "1", "--batch-size", "32", "--out", str(run), "--no-progress"]
    assert train.main(args) == 0
    assert "curves.png skipped: matplotlib is not installed" in capsys.readouterr().out
    assert (run / "metrics.csv").exists() and not (run / "curves.png").exists()
