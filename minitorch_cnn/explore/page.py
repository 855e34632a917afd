"""One self-contained HTML file: the page's CSS and JavaScript (package data) and the exported numbers inline.

Nothing is fetched when the page opens: no ``<script src>``, no stylesheet link, no font, no image
URL other than ``data:``; the autograd graph is inline SVG.
"""

from __future__ import annotations

import html
import json
import re
from importlib import resources
from typing import Any

__all__ = ["build_html", "graph_svg", "asset"]


def asset(name: str) -> str:
    """The text of ``minitorch_cnn/explore/<name>`` (``explorer.js`` / ``explorer.css``)."""
    return resources.files("minitorch_cnn.explore").joinpath(name).read_text(encoding="utf-8")


def graph_svg(model: Any, x1: Any) -> tuple[str, str]:
    """(inline SVG of ``draw_graph`` at module depth 2, or "", and a note for the page)."""
    import shutil

    from ..viz import draw_graph, trace

    if shutil.which("dot") is None:
        return "", "The autograd graph needs Graphviz's dot program (apt install graphviz); it was not installed."
    import minitorch_cnn as mt

    with mt.enable_grad():
        graph = draw_graph(trace(model, x1.detach().requires_grad_(True)), depth=2)
    svg = graph.pipe(format="svg").decode("utf-8")
    svg = svg[svg.index("<svg"):]  # drop the XML prolog and the DOCTYPE (it names a URL)
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    return svg, "The autograd graph of one forward pass (viz.draw_graph, depth 2), rendered by Graphviz."


def build_html(data: dict, graph: str, graph_note: str) -> str:
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    title = html.escape(data["meta"].get("title", "minitorch_cnn explorer"))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{title}</title>\n<style>\n{asset('explorer.css')}\n</style>\n</head>\n<body>\n"
        f"<div id=\"app\"></div>\n"
        f"<section id=\"graph-section\"><h2>Autograd graph</h2><p class=\"note\">{html.escape(graph_note)}</p>"
        f"<div id=\"graph\">{graph}</div></section>\n"
        f"<script type=\"application/json\" id=\"explorer-data\">{payload}</script>\n"
        f"<script>\n{asset('explorer.js')}\n</script>\n</body>\n</html>\n"
    )
