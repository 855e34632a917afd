"""PyTorch's ``torch.utils`` namespace: ``minitorch_cnn.utils.data`` (data sets, samplers, DataLoader)."""

from . import data

__all__ = ["data"]
