"""Reduced complexity: masks, pruning, pre-defined sparsity, quantization, binarization, export.

Everything here applies to an ordinary model in place (or returns a copy where the shape changes,
as ``shrink`` does) and keeps PyTorch's names where PyTorch has the tool (``torch.nn.utils.prune``,
``torch.ao.quantization``).
"""

from __future__ import annotations

from . import masks, prune
from .masks import apply_mask, get_mask, is_masked, load_mask_state_dict, mask_state_dict, remove_mask
from .prune import (
    global_unstructured,
    is_pruned,
    iterative_prune,
    l1_unstructured,
    ln_structured,
    random_unstructured,
    remove,
    sparsity,
)
from .shrink import prune_filters, shrink

__all__ = [
    "masks", "prune", "apply_mask", "get_mask", "is_masked", "remove_mask", "mask_state_dict",
    "load_mask_state_dict", "l1_unstructured", "random_unstructured", "ln_structured", "global_unstructured",
    "remove", "is_pruned", "iterative_prune", "sparsity", "prune_filters", "shrink",
]
