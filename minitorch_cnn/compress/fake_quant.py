"""``FakeQuantize``: an observer plus fake quantization, the building block of QAT."""

from __future__ import annotations

import numpy as np

from ..nn import Module
from ..tensors import Tensor
from .quantize import FakeQuantizeFunction

__all__ = ["FakeQuantize"]


class FakeQuantize(Module):
    """Observe ``x`` (when ``observer_enabled``), then return its fake-quantized copy.

    Buffers ``scale`` / ``zero_point`` hold the current quantization parameters;
    ``ch_axis`` is the observer's channel axis (None: per tensor).
    """

    def __init__(self, observer: Module, quant_min: int, quant_max: int) -> None:
        super().__init__()
        self.observer = observer
        self.quant_min, self.quant_max = quant_min, quant_max
        self.ch_axis = getattr(observer, "ch_axis", None)
        self.observer_enabled = True
        self.fake_quant_enabled = True
        self.register_buffer("scale", Tensor._from_array(np.array(1.0, dtype=np.float32)))
        self.register_buffer("zero_point", Tensor._from_array(np.array(0, dtype=np.int32)))

    def forward(self, x: Tensor) -> Tensor:
        if self.observer_enabled:
            self.observer(x.detach())
            self.scale._array, self.zero_point._array = self.observer.calculate_qparams()
        if not self.fake_quant_enabled:
            return x
        return FakeQuantizeFunction.apply(x, scale=self.scale._array.astype(x.dtype), zero_point=self.zero_point._array,
                                          quant_min=self.quant_min, quant_max=self.quant_max, axis=self.ch_axis)

    def extra_repr(self) -> str:
        return f"quant_min={self.quant_min}, quant_max={self.quant_max}, ch_axis={self.ch_axis}"
