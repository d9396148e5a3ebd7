"""Drawing the computational graph: DOT text, and pictures rendered by Graphviz."""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import Any

from dezero.core.files import atomic_file
from dezero.core.variable import Variable

__all__ = ["get_dot_graph", "plot_dot_graph"]


def _esc(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"')


def _dot_var(v: Variable, verbose: bool) -> str:
    label = v.name or ""
    if verbose and v.data is not None:
        if label:
            label += ": "
        label += f"{v.shape} {v.dtype}"
    return f'{id(v)} [label="{_esc(label)}", color=orange, style=filled]\n'


def _dot_func(f: Any) -> str:
    lines = [f'{id(f)} [label="{_esc(f.name)}", color=lightblue, style=filled, shape=box]\n']
    for x in f.inputs:
        lines.append(f"{id(x)} -> {id(f)}\n")
    return "".join(lines)


def get_dot_graph(output: Variable, verbose: bool = True) -> str:
    """DOT text of the graph that produced ``output``.

    Variables are ovals (name, plus shape and dtype when ``verbose``), Functions
    boxes; every node appears once however many paths reach it.
    """
    if not isinstance(output, Variable):
        raise TypeError(f"get_dot_graph: output must be a Variable, got {type(output).__name__}")
    txt = [_dot_var(output, verbose)]
    seen_vars = {id(output)}
    seen_funcs: set[int] = set()
    # Edges from a Function to its outputs, drawn where the walk meets an output (a node
    # with one output keeps no reference to it); for several, the live ones are listed.
    edges: set[tuple[int, int]] = set()
    if output.creator is not None:
        edges.add((id(output.creator), id(output)))
    stack = [output.creator] if output.creator is not None else []
    while stack:
        f = stack.pop()
        if id(f) in seen_funcs:
            continue
        seen_funcs.add(id(f))
        txt.append(_dot_func(f))
        for ref in f.outputs:
            y = ref()
            if y is not None:
                edges.add((id(f), id(y)))
        for x in f.inputs:
            if id(x) not in seen_vars:
                seen_vars.add(id(x))
                txt.append(_dot_var(x, verbose))
            if x.creator is not None:
                edges.add((id(x.creator), id(x)))
                if id(x.creator) not in seen_funcs:
                    stack.append(x.creator)
    txt.extend(f"{a} -> {b}\n" for a, b in sorted(edges))
    return "digraph g {\n" + "".join(txt) + "}"


def plot_dot_graph(output: Variable, verbose: bool = True, to_file: str = "graph.png") -> str:
    """Render the graph of ``output`` with Graphviz to ``to_file`` (.png, .svg or .pdf).

    Raises RuntimeError if Graphviz's ``dot`` program is not installed.
    Returns the path written.
    """
    ext = os.path.splitext(to_file)[1].lower().lstrip(".")
    if ext not in ("png", "svg", "pdf"):
        raise ValueError(
            f"plot_dot_graph: to_file must end in .png, .svg or .pdf, got {to_file!r}"
        )
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError(
            "plot_dot_graph: Graphviz's 'dot' program was not found on PATH; install "
            "Graphviz (Debian/Ubuntu: apt install graphviz; macOS: brew install graphviz; "
            "conda: conda install graphviz)"
        )
    text = get_dot_graph(output, verbose)
    proc = subprocess.run([dot, "-T" + ext], input=text.encode(), capture_output=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(
            f"plot_dot_graph: dot failed ({proc.returncode}): {proc.stderr.decode()[:500]}"
        )
    # dot writes to a pipe; the picture reaches to_file whole or not at all.
    with atomic_file(to_file) as f:
        f.write(proc.stdout)
    return to_file
