"""Reduced complexity: masks, pruning, pre-defined sparsity, quantization, binarization, export.

The pieces, one module each (``minitorch_cnn.compress.<module>``):

* ``masks``: fixed 0/1 masks on parameters, enforced in forward and on gradients;
* ``prune``: ``torch.nn.utils.prune``'s functions and an iterative prune-retrain schedule;
  ``shrink``: remove dead filters for a smaller dense model;
* ``predefined``: pre-defined sparse kernels and fully connected patterns;
* ``quantize`` / ``observers`` / ``fake_quant`` / ``qat`` / ``int8``: affine int8 quantization,
  calibration, quantization-aware training and integer inference;
* ``kmeans`` (weight sharing), ``inq`` (powers of two), ``binarize`` (BinaryConnect, BWN, XNOR);
* ``layers``: the weight/input transforms those methods attach to Conv2d / Linear;
* ``storage`` (``export`` / ``load``: compressed ``.npz``), ``reporting`` (``report``: the table),
  and the command line ``python -m minitorch_cnn.compress``.
"""

from __future__ import annotations

from . import binarize, inq, int8, kmeans, layers, masks, observers, predefined, prune, qat, quantize, storage
from .masks import apply_mask, get_mask, is_masked, load_mask_state_dict, mask_state_dict, remove_mask
from .predefined import predefined_sparse, predefined_sparse_
from .prune import (
    global_unstructured,
    is_pruned,
    iterative_prune,
    l1_unstructured,
    ln_structured,
    random_unstructured,
    remove,
    schedule_targets,
    sparsity,
)
from .reporting import print_report, report
from .shrink import prune_filters, shrink
from .storage import export, load

__all__ = [
    "masks", "prune", "predefined", "quantize", "observers", "qat", "int8", "kmeans", "inq", "binarize", "layers",
    "storage", "export", "load", "report", "print_report", "apply_mask", "get_mask",
    "is_masked", "remove_mask", "mask_state_dict", "load_mask_state_dict", "l1_unstructured", "random_unstructured",
    "ln_structured", "global_unstructured", "remove", "is_pruned", "iterative_prune", "schedule_targets", "sparsity", "prune_filters",
    "shrink", "predefined_sparse", "predefined_sparse_",
]
