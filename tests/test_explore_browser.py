"""The explorer page in headless Chromium, network blocked: no console errors, and what it draws equals
the framework's numbers (receptive-field box, conv drill-down sum, Grad-CAM per class)."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import viz

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "images" / "explorer.png"

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
    pytest.skip(f"no Chromium at {CHROMIUM}", allow_module_level=True)


def page_data(path: Path) -> dict:
    text = Path(path).read_text(encoding="utf-8")
    m = re.search(r'<script type="application/json" id="explorer-data">(.*?)</script>', text, re.S)
    return json.loads(m.group(1).replace("<\\/", "</"))


@pytest.fixture(scope="module")
def explorer(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    from minitorch_cnn import train
    from minitorch_cnn.explore import main
    from minitorch_cnn.visualize import load_image, load_model

    run = tmp_path_factory.mktemp("run")
    assert train.main(["--epochs", "1", "--limit", "256", "--out", str(run), "--no-progress"]) == 0
    out = tmp_path_factory.mktemp("page") / "tiny.html"
    assert main(["--checkpoint", str(run / "best.npz"), "--images", "4", "--out", str(out)]) == 0
    model, cfg, ckpt = load_model(run / "best.npz")
    data = page_data(out)
    x = np.concatenate([load_image(cfg, ckpt, im["index"])[0].numpy() for im in data["images"]])
    return out, model, x, data


@pytest.fixture(scope="module")
def page(explorer: tuple):
    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        left: list[str] = []
        errors: list[str] = []

        def route(r):
            if r.request.url.startswith(("file:", "data:", "blob:")):
                return r.continue_()
            left.append(r.request.url)
            return r.abort()

        context.route("**/*", route)
        pg = context.new_page()
        pg.set_default_timeout(10_000)
        pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(explorer[0].as_uri())
        pg.wait_for_selector("body[data-ready='1']")
        pg.errors, pg.left = errors, left
        yield pg
        browser.close()


def click_unit(page, layer: str, k: int, i: int, j: int, hw: tuple[int, int]) -> None:
    cv = page.locator(f"canvas.fmap[data-layer='{layer}'][data-k='{k}']")
    box = cv.bounding_box()
    h, w = hw
    cv.click(position={"x": (j + 0.5) * box["width"] / w, "y": (i + 0.5) * box["height"] / h})


def test_loads_offline_without_errors(page) -> None:
    assert page.errors == [] and page.left == []
    assert page.locator("canvas.fmap").count() > 0
    assert page.locator("#layer-table tbody tr").count() > 10


def test_clicked_unit_draws_its_receptive_field(page, explorer: tuple) -> None:
    _, model, x, data = explorer
    rf = viz.receptive_field(model, (1, 28, 28))
    for layer, (i, j) in (("features.3", (0, 27)), ("features.8", (5, 6)), ("features.14", (0, 0))):
        m = next(m for m in data["maps"] if m["name"] == layer)
        click_unit(page, layer, 1, i, j, tuple(m["shape"][1:]))
        (r0, r1), (c0, c1) = viz.receptive_field_for_unit(rf, layer, (i, j))
        assert page.locator("#rf-box").get_attribute("data-rf") == f"{r0},{c0},{r1},{c1}"
        assert page.locator("#unit-body").get_attribute("data-unit") == f"{i},{j}"
    # a border unit: the dashed whole field reaches outside the image and the page says how much
    click_unit(page, "features.14", 0, 0, 0, (7, 7))
    raw = [int(v) for v in page.locator("#rf-raw").get_attribute("data-rf").split(",")]
    assert raw[0] < 0 and raw[1] < 0
    assert int(page.locator("#rf-text").get_attribute("data-outside")) > 0
    assert page.errors == []


def test_conv_drill_down_sum_equals_the_activation(page, explorer: tuple) -> None:
    _, model, x, data = explorer
    maps = viz.feature_maps(model, "features.3", mt.tensor(x[:1]))
    m = next(m for m in data["maps"] if m["name"] == "features.3")
    for k, (i, j) in ((0, (0, 0)), (2, (13, 27)), (3, (27, 5))):
        click_unit(page, "features.3", k, i, j, (28, 28))
        shown = float(page.locator("#drill-sum").get_attribute("data-sum"))
        assert shown == pytest.approx(float(maps[0, m["channels"][k], i, j]), abs=1e-4)
    assert page.locator("#drill table.cells td.pad").count() > 0  # the padding frame of a corner unit
    # the max pool's drill-down: its maximum is the map's value
    pool = viz.feature_maps(model, "features.6", mt.tensor(x[:1]))
    pm = next(m for m in data["maps"] if m["name"] == "features.6")
    click_unit(page, "features.6", 0, 3, 4, (14, 14))
    assert float(page.locator("#drill-sum").get_attribute("data-sum")) == pytest.approx(
        float(pool[0, pm["channels"][0], 3, 4]), abs=1e-5)
    assert page.errors == []


def test_gradcam_class_switch(page, explorer: tuple) -> None:
    _, model, x, data = explorer
    layer = data["explain"]["gradcam_layer"]
    seen = {}
    for ci in (1, 6):
        page.select_option("#class-select", str(ci))
        cv = page.locator("canvas#gradcam")
        k = int(cv.get_attribute("data-class"))
        cam = viz.gradcam(model, layer, mt.tensor(x[:1]), k)[0]
        codes = np.clip(np.rint(cam * 255), 0, 255).astype(np.uint8)
        assert int(cv.get_attribute("data-sum")) == int(codes.astype(np.int64).sum())
        assert cv.get_attribute("data-first") == ",".join(str(v) for v in codes.ravel()[:8])
        seen[k] = cv.get_attribute("data-sum")
    assert len(set(seen.values())) == 2  # the heat map changed with the class


def test_screenshot(page, tmp_path: Path) -> None:
    """The page renders to a PNG; README's copy (docs/images/explorer.png) is refreshed only when
    asked (``MINITORCH_CNN_UPDATE_SCREENSHOT=1``), so a test run never rewrites a tracked file."""
    from minitorch_cnn.data.fileio import atomic_write_bytes

    click_unit(page, "features.8", 0, 0, 0, (14, 14))
    page.evaluate("window.scrollTo(0, 0)")
    png = page.screenshot(full_page=False)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    target = SCREENSHOT if os.environ.get("MINITORCH_CNN_UPDATE_SCREENSHOT") == "1" else tmp_path / "explorer.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(target, png)
    assert target.stat().st_size < 400_000
    assert re.match(r"^$", "".join(page.errors))
