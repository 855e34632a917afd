"""torchvision's shape on minitorch_cnn: ``datasets``, per-image ``transforms``, ``models`` (the zoo
with ``weights=``) and ``utils`` (``make_grid``, ``save_image``).

    from minitorch_cnn.vision import datasets, models, transforms as T
    train = datasets.FashionMNIST("data", train=True, transform=T.Compose([T.ToTensor(), T.Normalize((0.286,), (0.353,))]))
    net = models.resnet18(weights=None, num_classes=10, in_channels=1, small_input=True)

Pillow is an optional dependency (``pip install minitorch_cnn[vision]``) for PIL images,
``ImageFolder`` and ``save_image``; without it, MNIST items are uint8 arrays. For the in-memory
28x28 sets, ``minitorch_cnn.data``'s batch transforms are faster (see ``transforms``' docstring).
"""

from . import datasets, models, transforms, utils

__all__ = ["datasets", "models", "transforms", "utils"]
