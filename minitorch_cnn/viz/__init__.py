"""Seeing inside: autograd graphs, model summaries, receptive fields and CNN visualizations.

* ``draw_graph(tensor | trace(model, x))`` -- the autograd graph as a ``graphviz.Digraph``;
  ``render(graph, "g.svg")``; ``forward_graph(model, input_size)`` -- layers and shapes.
* ``summary(model, input_size)`` -- the torchsummary / Keras table, counts and measured memory.
* ``receptive_field(model, input_size)``, ``receptive_field_for_unit(rf, layer, (i, j))``,
  ``inverse_image(...)`` -- analytic and empirical receptive fields.
* ``feature_maps``, ``filters``, ``max_filter_response``, ``saliency``, ``GradCAM`` / ``gradcam``,
  ``occlusion_sensitivity`` -- arrays in, arrays out; ``viz.plotting`` turns them into PNGs
  (matplotlib, imported only when used).

Every tool leaves the model as it found it (train/eval mode, parameter ``.grad``, hooks, BatchNorm
statistics).
"""

from __future__ import annotations

from .feature_maps import feature_maps
from .filters import filters
from .gradcam import GradCAM, gradcam, overlay, upsample_bilinear
from .graph import GraphvizNotFoundError, draw_graph, forward_graph, render, retain_all_grads
from .max_response import REGULARISED, max_filter_response
from .occlusion import occlusion_sensitivity
from .receptive_field import ReceptiveField, inverse_image, receptive_field, receptive_field_for_unit
from .saliency import saliency
from .summary import Summary, summary
from .trace import Trace, trace

__all__ = [
    "draw_graph",
    "render",
    "forward_graph",
    "retain_all_grads",
    "GraphvizNotFoundError",
    "trace",
    "Trace",
    "summary",
    "Summary",
    "receptive_field",
    "receptive_field_for_unit",
    "inverse_image",
    "ReceptiveField",
    "feature_maps",
    "filters",
    "max_filter_response",
    "REGULARISED",
    "saliency",
    "GradCAM",
    "gradcam",
    "overlay",
    "upsample_bilinear",
    "occlusion_sensitivity",
]
