"""minitorch_cnn.vision: per-image transforms and make_grid against values frozen from torchvision 0.28
(``freeze_oracle.py`` -> ``oracle/*.json``), data sets, zoo builders with ``weights=``, save_image."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn.data import DataLoader, Subset
from minitorch_cnn.data.idx import write_idx
from minitorch_cnn.tensors import Tensor
from minitorch_cnn.vision import datasets, models, utils
from minitorch_cnn.vision import transforms as T

ORACLE = Path(__file__).resolve().parent / "oracle"
TF = json.loads((ORACLE / "transforms.json").read_text())
GRID = json.loads((ORACLE / "make_grid.json").read_text())
X = np.asarray(TF["x"], dtype=np.float32)  # (3, 7, 9)
U8 = np.asarray(TF["u8"], dtype=np.uint8)  # (7, 9, 3)

try:
    from PIL import Image
except ImportError:  # pragma: no cover - Pillow is in the dev extra
    Image = None
needs_pil = pytest.mark.skipif(Image is None, reason="Pillow is not installed (pip install minitorch_cnn[vision])")

TENSOR_CASES = {
    "resize_4x5_aa": T.Resize((4, 5), antialias=True),
    "resize_4x5_noaa": T.Resize((4, 5), antialias=False),
    "resize_short5_aa": T.Resize(5),
    "resize_short3_noaa": T.Resize(3, antialias=False),
    "resize_10x13_aa": T.Resize((10, 13)),
    "resize_10x13_noaa": T.Resize((10, 13), antialias=False),
    "resize_short4_max5": T.Resize(4, max_size=5),
    "resize_nearest_5x4": T.Resize((5, 4), interpolation=T.InterpolationMode.NEAREST),
    "resize_nearest_12x20": T.Resize((12, 20), interpolation="nearest"),
    "centercrop_4": T.CenterCrop(4),
    "centercrop_3x6": T.CenterCrop((3, 6)),
    "centercrop_10": T.CenterCrop(10),
    "centercrop_6x12": T.CenterCrop((6, 12)),
    "pad_2_fill": T.Pad(2, fill=0.5),
    "pad_1_2_edge": T.Pad((1, 2), padding_mode="edge"),
    "pad_1230_reflect": T.Pad((1, 2, 3, 0), padding_mode="reflect"),
    "pad_2103_symmetric": T.Pad((2, 1, 0, 3), padding_mode="symmetric"),
    "gray_1": T.Grayscale(1),
    "gray_3": T.Grayscale(3),
    "normalize": T.Normalize((0.5, 0.4, 0.3), (0.2, 0.25, 0.5)),
    "hflip": T.RandomHorizontalFlip(p=1.0),
    "resized_crop_1_2_5_4_to_6x3": lambda im: T.resize(T.crop(im, 1, 2, 5, 4), (6, 3)),
    "resized_crop_noaa": lambda im: T.resize(T.crop(im, 0, 1, 6, 7), (3, 4), antialias=False),
}


@pytest.mark.parametrize("name", sorted(TENSOR_CASES))
def test_tensor_transform_equals_torchvision(name):
    out = TENSOR_CASES[name](Tensor(X.copy()))
    expected = np.asarray(TF["tensor"][name], dtype=np.float32)
    assert isinstance(out, Tensor) and out.dtype == np.float32 and out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, atol=2e-6)


PIL_CASES = {
    "resize_4x5": T.Resize((4, 5)),
    "resize_10x13": T.Resize((10, 13)),
    "resize_short5": T.Resize(5),
    "centercrop_4": T.CenterCrop(4),
    "pad_1230_reflect": T.Pad((1, 2, 3, 0), padding_mode="reflect"),
    "gray_1": T.Grayscale(1),
    "hflip": T.RandomHorizontalFlip(p=1.0),
}


@needs_pil
@pytest.mark.parametrize("name", sorted(PIL_CASES))
def test_pil_transform_equals_torchvision(name):
    out = PIL_CASES[name](Image.fromarray(U8))
    assert isinstance(out, Image.Image)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(TF["pil"][name], dtype=np.uint8))


@pytest.mark.parametrize("name", ["resize_4x5", "resize_10x13", "resize_short5", "centercrop_4",
                                  "pad_1230_reflect", "hflip"])
def test_uint8_array_takes_the_tensor_path_within_one_level(name):
    """An (H, W, C) uint8 array stays one; resized in float and rounded: at most 1 from Pillow's result."""
    out = PIL_CASES[name](U8.copy())
    expected = np.asarray(TF["pil"][name], dtype=np.int64)
    assert isinstance(out, np.ndarray) and out.dtype == np.uint8 and out.shape == expected.shape
    assert np.abs(out.astype(np.int64) - expected).max() <= 1


def test_to_tensor():
    t = T.ToTensor()(U8)
    assert isinstance(t, Tensor) and t.dtype == np.float32 and t.shape == (3, 7, 9)
    np.testing.assert_allclose(t.numpy(), np.asarray(TF["to_tensor_u8"]), atol=1e-7)
    gray = T.ToTensor()(U8[:, :, 0])
    assert gray.shape == (1, 7, 9) and float(gray.numpy().max()) <= 1.0
    f64 = T.ToTensor()(np.ones((2, 3, 1)))  # non-uint8 keeps values and dtype, as torchvision
    assert f64.dtype == np.float64 and f64.shape == (1, 2, 3) and float(f64.numpy()[0, 0, 0]) == 1.0
    with pytest.raises(TypeError, match="PIL image or a NumPy array"):
        T.ToTensor()(Tensor(X))


@needs_pil
def test_pil_to_tensor_and_back():
    pil = Image.fromarray(U8)
    t = T.PILToTensor()(pil)
    assert t.dtype == np.uint8 and t.shape == (3, 7, 9)
    np.testing.assert_array_equal(t.numpy(), U8.transpose(2, 0, 1))
    np.testing.assert_allclose(T.ToTensor()(pil).numpy(), np.asarray(TF["to_tensor_u8"]), atol=1e-7)
    back = T.ToPILImage()(T.PILToTensor()(pil))
    np.testing.assert_array_equal(np.asarray(back), U8)


def test_normalize_checks():
    with pytest.raises(TypeError, match="ToTensor"):
        T.Normalize((0.5,), (0.5,))(U8)
    with pytest.raises(ValueError, match="division by zero"):
        T.Normalize((0.5,), (0.0,))
    with pytest.raises(ValueError, match="one per channel"):
        T.Normalize((0.5, 0.5), (0.5, 0.5))(Tensor(X))


def _pipelines():
    return T.Compose([T.Resize(8), T.CenterCrop(6), T.ToTensor(), T.Normalize((0.5, 0.5, 0.5), (0.25, 0.25, 0.25))])


@pytest.mark.parametrize("kind", ["array", "pil"])
def test_compose_on_each_input_kind(kind):
    if kind == "pil" and Image is None:
        pytest.skip("Pillow is not installed (pip install minitorch_cnn[vision])")
    img = Image.fromarray(U8) if kind == "pil" else U8
    out = _pipelines()(img)
    assert isinstance(out, Tensor) and out.shape == (3, 6, 6) and out.dtype == np.float32
    reference = T.Compose([T.ToTensor(), T.Resize(8), T.CenterCrop(6)])(U8)  # the Tensor path
    np.testing.assert_allclose(out.numpy() * 0.25 + 0.5, reference.numpy(), atol=2.5 / 255)


def test_compose_on_tensor_and_lambda():
    pipeline = T.Compose([T.Pad(1), T.Grayscale(3), T.Lambda(lambda t: t * 2)])
    out = pipeline(Tensor(X))
    assert out.shape == (3, 9, 11)
    np.testing.assert_allclose(out.numpy()[0, 1:-1, 1:-1], 2 * np.asarray(TF["tensor"]["gray_1"])[0], atol=1e-6)
    assert "Pad" in repr(pipeline)
    with pytest.raises(TypeError, match="callable"):
        T.Compose([1])


@pytest.mark.parametrize("make", [
    lambda: T.RandomCrop(5, padding=2),
    lambda: T.RandomResizedCrop(4),
    lambda: T.RandomHorizontalFlip(),
    lambda: T.Compose([T.RandomResizedCrop((5, 6), scale=(0.3, 1.0)), T.RandomHorizontalFlip()]),
])
def test_random_transforms_follow_manual_seed(make):
    def run():
        mt.manual_seed(123)
        t = make()
        return [t(Tensor(X)).numpy() for _ in range(6)]

    a, b = run(), run()
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert len({x.tobytes() for x in a}) > 1  # it does draw something different per call


def test_random_crop_windows_and_pad_if_needed():
    mt.manual_seed(0)
    t = T.RandomCrop(7, padding=2)
    padded = T.Pad(2)(Tensor(X)).numpy()
    for _ in range(5):
        out = t(Tensor(X)).numpy()
        assert out.shape == (3, 7, 7)
        assert any(np.array_equal(out, padded[:, i:i + 7, j:j + 7]) for i in range(5) for j in range(7))
    big = T.RandomCrop((9, 12), pad_if_needed=True, fill=1.0)(Tensor(X))
    assert big.shape == (3, 9, 12)
    with pytest.raises(ValueError, match="larger than the input"):
        T.RandomCrop(10)(Tensor(X))


def test_random_resized_crop_is_crop_then_resize():
    gen = np.random.default_rng(5)
    t = T.RandomResizedCrop((4, 4), generator=np.random.default_rng(5))
    top, left, h, w = T.RandomResizedCrop.get_params(Tensor(X), t.scale, t.ratio, gen)
    assert 0 <= top and top + h <= 7 and 0 <= left and left + w <= 9
    np.testing.assert_allclose(t(Tensor(X)).numpy(), T.resize(T.crop(Tensor(X), top, left, h, w), (4, 4)).numpy())
    # the fallback (no try fits): the central crop clamped to the ratio range
    assert T.RandomResizedCrop.get_params(Tensor(np.zeros((1, 2, 40))), (0.99, 1.0), (1.0, 1.0)) == (0, 19, 2, 2)


def test_flip_probability_and_argument_checks():
    assert T.RandomHorizontalFlip(p=0.0)(Tensor(X)).numpy().tobytes() == X.tobytes()
    with pytest.raises(ValueError, match="probability"):
        T.RandomHorizontalFlip(p=2)
    with pytest.raises(ValueError, match="padding_mode"):
        T.Pad(1, padding_mode="wrap")
    with pytest.raises(ValueError, match="size"):
        T.Resize(0)
    with pytest.raises(ValueError, match="max_size"):
        T.Resize((3, 4), max_size=5)
    with pytest.raises(TypeError, match="PIL image"):
        T.CenterCrop(2)([1, 2, 3])


def _idx_files(folder: Path) -> np.ndarray:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (6, 28, 28), dtype=np.uint8)
    write_idx(folder / "train-images-idx3-ubyte", images)
    write_idx(folder / "train-labels-idx1-ubyte", (np.arange(6) % 10).astype(np.uint8))
    write_idx(folder / "t10k-images-idx3-ubyte", images[:3])
    write_idx(folder / "t10k-labels-idx1-ubyte", np.arange(3).astype(np.uint8))
    return images


@pytest.mark.parametrize("cls", [datasets.MNIST, datasets.FashionMNIST])
def test_mnist_items_are_single_images(tmp_path, cls):
    images = _idx_files(tmp_path)
    raw = cls(tmp_path, train=True)
    img, target = raw[4]
    assert target == 4 and isinstance(target, int) and len(raw) == 6
    if Image is not None:
        assert isinstance(img, Image.Image) and img.mode == "L" and img.size == (28, 28)
    np.testing.assert_array_equal(np.asarray(img), images[4])
    ds = cls(tmp_path, train=False, transform=T.ToTensor(), target_transform=lambda y: y + 100)
    x, y = ds[1]
    assert isinstance(x, Tensor) and x.dtype == np.float32 and x.shape == (1, 28, 28) and y == 101
    np.testing.assert_allclose(x.numpy()[0], images[1] / 255.0, rtol=1e-6)
    batch, labels = next(iter(DataLoader(ds, batch_size=3)))
    assert not hasattr(ds, "get_batch")
    sub_x, _ = next(iter(DataLoader(Subset(ds, [2, 0]), batch_size=2)))
    np.testing.assert_allclose(sub_x.numpy()[:, 0], images[[2, 0]] / 255.0, rtol=1e-6)
    assert batch.shape == (3, 1, 28, 28) and labels.numpy().tolist() == [100, 101, 102]
    with pytest.raises(FileNotFoundError, match="download=False"):
        cls(tmp_path / "empty", download=False)


def test_mnist_without_pillow_gives_arrays(tmp_path, monkeypatch):
    images = _idx_files(tmp_path)
    monkeypatch.setitem(__import__("sys").modules, "PIL", None)
    img, _ = datasets.MNIST(tmp_path)[2]
    assert isinstance(img, np.ndarray) and img.dtype == np.uint8 and img.shape == (28, 28)
    np.testing.assert_array_equal(img, images[2])
    with pytest.raises(ImportError, match=r"pip install minitorch_cnn\[vision\]"):
        datasets.ImageFolder(tmp_path)


@needs_pil
def test_image_folder(tmp_path):
    rng = np.random.default_rng(0)
    for cls, names in {"dog": ["b.png", "a.png"], "cat": ["x.jpg"], "ant": ["sub/z.png", "y.png"]}.items():
        for name in names:
            path = tmp_path / cls / name
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 256, (5, 6, 3), dtype=np.uint8)).save(path)
    (tmp_path / "dog" / "notes.txt").write_text("not an image")
    ds = datasets.ImageFolder(tmp_path, transform=T.Compose([T.Resize((4, 4)), T.ToTensor()]))
    assert ds.classes == ["ant", "cat", "dog"] and ds.class_to_idx == {"ant": 0, "cat": 1, "dog": 2}
    rel = [(str(Path(p).relative_to(tmp_path)), c) for p, c in ds.samples]
    assert rel == [("ant/y.png", 0), ("ant/sub/z.png", 0), ("cat/x.jpg", 1), ("dog/a.png", 2), ("dog/b.png", 2)]
    assert ds.targets == [0, 0, 1, 2, 2] and len(ds) == 5
    x, y = ds[3]
    assert isinstance(x, Tensor) and x.shape == (3, 4, 4) and y == 2
    raw, _ = datasets.ImageFolder(tmp_path)[0]
    assert isinstance(raw, Image.Image) and raw.mode == "RGB" and raw.size == (6, 5)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no valid file for the classes empty"):
        datasets.ImageFolder(tmp_path)
    assert len(datasets.ImageFolder(tmp_path, allow_empty=True).classes) == 4


@pytest.mark.parametrize("suffix", [".safetensors", ".npz"])
def test_zoo_builder_with_a_weights_file(tmp_path, suffix):
    mt.manual_seed(0)
    source = models.squeezenet1_0(weights=None, num_classes=5)
    path = tmp_path / f"w{suffix}"
    mt.save(source.state_dict(), path)
    mt.manual_seed(1)
    loaded = models.squeezenet1_0(weights=str(path), progress=False, num_classes=5)
    for (k, a), (k2, b) in zip(source.state_dict().items(), loaded.state_dict().items()):
        assert k == k2
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert type(models.get_model("squeezenet1_0", weights=path, num_classes=5)).__name__ == "SqueezeNet"
    with pytest.raises(Exception, match="classifier"):  # a 5-class file into a 1000-class model
        models.squeezenet1_0(weights=path)


def test_zoo_builders_signature_and_hub_weights_error(tmp_path):
    assert models.list_models() == sorted(mt.models.ZOO) and "resnet18" in models.list_models()
    model = models.get_model("squeezenet1_0", num_classes=3)
    assert model(mt.randn(1, 3, 64, 64)).shape == (1, 3)
    for weights in ("IMAGENET1K_V1", "DEFAULT", "ResNet18_Weights.IMAGENET1K_V1"):
        with pytest.raises(ValueError, match=r"(?s)never downloads.*convert_torchvision_weights\.py resnet18 --weights "
                                             r"(IMAGENET1K_V1|DEFAULT)"):
            models.resnet18(weights=weights)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        models.resnet18(weights=tmp_path / "missing.safetensors")
    with pytest.raises(ValueError, match="unknown model"):
        models.get_model("resnet1000")


@pytest.mark.parametrize("name", sorted(GRID["cases"]))
def test_make_grid_equals_torchvision(name):
    b1, b3 = Tensor(np.asarray(GRID["b1"], np.float32)), Tensor(np.asarray(GRID["b3"], np.float32))
    calls = {
        "b1_default": lambda: utils.make_grid(b1),
        "b1_nrow2_pad1_pv05": lambda: utils.make_grid(b1, nrow=2, padding=1, pad_value=0.5),
        "b1_nrow3_pad0": lambda: utils.make_grid(b1, nrow=3, padding=0),
        "b1_normalize": lambda: utils.make_grid(b1, nrow=4, normalize=True),
        "b1_normalize_range": lambda: utils.make_grid(b1, nrow=2, normalize=True, value_range=(0.0, 0.8)),
        "b1_scale_each": lambda: utils.make_grid(b1, nrow=2, normalize=True, scale_each=True),
        "b3_nrow2": lambda: utils.make_grid(b3, nrow=2, padding=3, pad_value=1.0),
        "b3_list": lambda: utils.make_grid([Tensor(a) for a in b3.data], nrow=1),
        "single_3d": lambda: utils.make_grid(Tensor(b1.data[0])),
        "single_2d": lambda: utils.make_grid(Tensor(b1.data[0, 0])),
        "single_4d_c3": lambda: utils.make_grid(Tensor(b3.data[:1])),
    }
    out = calls[name]()
    expected = np.asarray(GRID["cases"][name], dtype=np.float32)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-6)


@needs_pil
def test_save_image_writes_a_png_atomically(tmp_path):
    b3 = np.asarray(GRID["b3"], np.float32)
    path = tmp_path / "grid.png"
    utils.save_image(Tensor(b3), path, nrow=2, padding=3, pad_value=1.0)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["grid.png"]  # no temporary file left
    with Image.open(path) as im:
        pixels = np.asarray(im)
    expected = np.asarray(GRID["cases"]["b3_nrow2"], np.float32)
    np.testing.assert_array_equal(pixels, np.clip(expected * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0))
    import io
    buffer = io.BytesIO()
    utils.save_image(Tensor(b3[0]), buffer)
    assert buffer.getvalue()[:4] == b"\x89PNG"
