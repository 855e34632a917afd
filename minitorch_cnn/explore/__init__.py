"""``python -m minitorch_cnn.explore``: an interactive, self-contained HTML page of a CNN's insides.

``export.export`` computes every number with the framework (``viz.summary``, ``viz.receptive_field``,
feature maps, input gradients, Grad-CAM, saliency, occlusion); ``page.build_html`` puts them, the
page's ``explorer.css`` and dependency-free ``explorer.js`` (package data) into one file that opens
from ``file://`` without network access. The JavaScript only displays (and, in the convolution
drill-down, multiplies the exported float32 window and kernel so that the reader sees the sum).
"""

from .command import build_parser, main, select_images, write_explorer

__all__ = ["main", "build_parser", "select_images", "write_explorer"]
