"""The unit's Fashion-MNIST CNN and the MLP baseline it is compared with.

``FashionCNN`` (input ``(N, 1, 28, 28)``, output ``(N, 10)`` logits), exactly the unit's table::

    features                                   shape after
      0 Conv2d(1, 32, 3, padding=1)   320        (N, 32, 28, 28)
      1 ReLU
      2 BatchNorm2d(32)               64 (+64 running stats)
      3 Conv2d(32, 32, 3, padding=1)  9,248
      4 ReLU
      5 BatchNorm2d(32)               64 (+64)
      6 MaxPool2d(2)                             (N, 32, 14, 14)
      7 Dropout(0.25)
      8 Conv2d(32, 64, 3, padding=1)  18,496     (N, 64, 14, 14)
      9 ReLU
     10 BatchNorm2d(64)               128 (+128)
     11 Conv2d(64, 64, 3, padding=1)  36,928
     12 ReLU
     13 BatchNorm2d(64)               128 (+128)
     14 MaxPool2d(2)                             (N, 64, 7, 7)
     15 Dropout(0.25)
    classifier
      0 Flatten                                  (N, 3136)
      1 Linear(3136, 512)             1,606,144
      2 ReLU
      3 BatchNorm1d(512)              1,024 (+1,024)
      4 Dropout(0.5)
      5 Linear(512, 10)               5,130      (N, 10)

Trainable parameters 1,677,674; BatchNorm running means and variances 1,408; Keras's "total
params" count (both) 1,679,082. (BatchNorm comes *after* ReLU here, as in the unit.)

``MLP`` baseline: ``Flatten -> Linear(784, 512) -> ReLU -> Dropout(0.2) -> Linear(512, 256) -> ReLU
-> Dropout(0.2) -> Linear(256, 10)``: 401,920 + 131,328 + 2,570 = **535,818** parameters. It sees
the image as a vector of 784 numbers, without the notion of neighbouring pixels that a convolution
builds in.
"""

from __future__ import annotations

from collections import OrderedDict

from .. import nn
from ..tensors import Tensor

__all__ = ["FashionCNN", "MLP", "fashion_cnn", "mlp"]


class FashionCNN(nn.Module):
    """The unit's Fashion-MNIST CNN: two conv blocks (32 and 64 channels) and a 512-unit classifier."""

    def __init__(self, in_channels: int = 1, num_classes: int = 10, image_size: int = 28) -> None:
        super().__init__()
        if image_size % 4 != 0:
            raise ValueError(f"FashionCNN: image_size must be divisible by 4 (two 2x2 poolings), got {image_size}")
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 32, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.BatchNorm2d(32),
            nn.Conv2d(32, 32, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.BatchNorm2d(32),
            nn.MaxPool2d(2),
            nn.Dropout(0.25),
            nn.Conv2d(32, 64, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.BatchNorm2d(64),
            nn.Conv2d(64, 64, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.BatchNorm2d(64),
            nn.MaxPool2d(2),
            nn.Dropout(0.25),
        )
        flat = 64 * (image_size // 4) ** 2
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(flat, 512),
            nn.ReLU(),
            nn.BatchNorm1d(512),
            nn.Dropout(0.5),
            nn.Linear(512, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4:
            raise ValueError(
                f"FashionCNN expects images of shape (N, C, H, W), got {tuple(x.shape)}; "
                "add the channel axis with x.unsqueeze(1)"
            )
        return self.classifier(self.features(x))


class MLP(nn.Sequential):
    """The fully connected baseline: ``784 -> 512 -> 256 -> 10`` with ReLU and Dropout (535,818 parameters)."""

    def __init__(
        self,
        in_features: int = 784,
        hidden: tuple[int, ...] = (512, 256),
        num_classes: int = 10,
        dropout: float = 0.2,
    ) -> None:
        layers: list[tuple[str, nn.Module]] = [("flatten", nn.Flatten())]
        prev = in_features
        for i, h in enumerate(hidden):
            layers += [(f"fc{i + 1}", nn.Linear(prev, h)), (f"relu{i + 1}", nn.ReLU())]
            if dropout > 0:
                layers.append((f"dropout{i + 1}", nn.Dropout(dropout)))
            prev = h
        layers.append(("out", nn.Linear(prev, num_classes)))
        super().__init__(OrderedDict(layers))


def fashion_cnn(**kwargs: int) -> FashionCNN:
    return FashionCNN(**kwargs)


def mlp(**kwargs: object) -> MLP:
    return MLP(**kwargs)  # type: ignore[arg-type]
