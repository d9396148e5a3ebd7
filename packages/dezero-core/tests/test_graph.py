"""Graph drawing: DOT text structure, PNG/SVG rendering with Graphviz, missing dot."""

from __future__ import annotations

import re

import numpy as np
import pytest

from dezero.core import Variable, get_dot_graph, plot_dot_graph
from dezero.core import graph as graph_mod


def _diamond():
    x = Variable(np.ones((2, 3), dtype=np.float32), name="x")
    a = x * 2.0
    a.name = "a"
    y = a * a + a  # a reached twice
    y.name = "y"
    return x, a, y


def test_dot_structure_each_node_once():
    x, a, y = _diamond()
    text = get_dot_graph(y)
    assert text.startswith("digraph g {") and text.rstrip().endswith("}")
    node_lines = [ln for ln in text.splitlines() if "[label=" in ln]
    ids = [ln.split()[0] for ln in node_lines]
    assert len(ids) == len(set(ids)), "a node was emitted twice"
    funcs = [ln for ln in node_lines if "shape=box" in ln]
    assert sorted(re.search(r'label="([^"]+)"', ln).group(1) for ln in funcs) == [
        "Add", "Mul", "MulScalar(2.0)"]
    var_line = next(ln for ln in node_lines if ln.startswith(str(id(x))))
    assert "x: (2, 3) float32" in var_line
    # Edges: x -> MulScalar (2.0 is held by the node), a -> Mul (twice: a * a) and -> Add.
    assert f"{id(x)} -> {id(x.creator) if x.creator else id(a.creator)}" in text
    assert text.count(f"{id(a)} -> ") == 3
    # Each Function points to its output (a node keeps no reference to a single output:
    # the edge comes from the walk), once.
    for v in (a, y):
        assert text.count(f"{id(v.creator)} -> {id(v)}\n") == 1
    assert text.count(" -> ") == 5 + 3  # input edges (a * a gives two), output edges


def test_dot_not_verbose():
    _, _, y = _diamond()
    text = get_dot_graph(y, verbose=False)
    assert "float32" not in text and 'label="x"' in text


def test_dot_rejects_non_variable():
    with pytest.raises(TypeError, match="get_dot_graph"):
        get_dot_graph(np.ones(2))


@pytest.mark.requires_system("dot")
def test_plot_png_and_svg(tmp_path):
    _, _, y = _diamond()
    png = tmp_path / "sub" / "g.png"
    assert plot_dot_graph(y, to_file=str(png)) == str(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = tmp_path / "g.svg"
    plot_dot_graph(y, to_file=str(svg))
    assert b"<svg" in svg.read_bytes()[:2000]
    # No temporary left behind: only the two pictures and the folder.
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["g.png", "g.svg", "sub"]


def test_plot_fails_clearly_without_dot(tmp_path, monkeypatch):
    monkeypatch.setattr(graph_mod.shutil, "which", lambda name: None)
    _, _, y = _diamond()
    with pytest.raises(RuntimeError, match="Graphviz"):
        plot_dot_graph(y, to_file=str(tmp_path / "g.png"))
    assert not (tmp_path / "g.png").exists()


def test_plot_rejects_unknown_extension(tmp_path):
    _, _, y = _diamond()
    with pytest.raises(ValueError, match=r"\.png, \.svg or \.pdf"):
        plot_dot_graph(y, to_file=str(tmp_path / "g.jpg"))


@pytest.mark.requires_system("dot")
def test_plot_pdf(tmp_path):
    _, _, y = _diamond()
    pdf = tmp_path / "g.pdf"
    plot_dot_graph(y, verbose=False, to_file=str(pdf))
    assert pdf.read_bytes()[:5] == b"%PDF-"
