"""Docstrings are written for the MkDocs site (mkdocstrings, Google style), not for Sphinx.

A Sphinx role (``:class:`Variable```, ``:func:`~dezero.core.random.seed```) or a reST
literal block (``Example::``) shows up literally on the site. A reference is written as
mkdocstrings reads it, ``[`Variable`][dezero.core.Variable]`` (a link when the target is on
an API page; the strict docs build fails on one that is not), otherwise as plain code
``` `name` ```; an example is an ``Examples:`` section or a fenced code block.

Docstrings are read with ``ast`` (module, class and function docstrings), so code and
ordinary strings are not checked.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(ROOT.glob("packages/*/src/**/*.py"))


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


SPHINX_ROLE = re.compile(
    r":(?:py:)?(?:class|func|meth|mod|attr|data|exc|obj|const|ref|doc):`[^`]*`", re.S
)
# A reST literal block: a paragraph ending in "::" (``Example::``, ``... the Trainer::``).
LITERAL_BLOCK = re.compile(r"::[ \t]*$", re.M)
# A mkdocstrings cross-reference to a dezero object: [`text`][dezero.x.y].
CROSS_REF = re.compile(r"\]\[(dezero(?:\.\w+)+)\]")



def docstrings(source: str) -> list[tuple[int, str, str]]:
    """``(line, owner, text)`` of every module, class and function docstring in ``source``."""
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if not isinstance(
            node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
        ):
            continue
        text = ast.get_docstring(node, clean=False)
        if text is None:
            continue
        owner = getattr(node, "name", "<module>")
        found.append((node.body[0].lineno, owner, text))
    return found


def problems(source: str) -> list[str]:
    """Every Sphinx role and reST literal block in the docstrings of ``source``."""
    found = []
    for line, owner, text in docstrings(source):
        for m in SPHINX_ROLE.finditer(text):
            at = line + text.count("\n", 0, m.start())
            found.append(f"line {at} ({owner}): Sphinx role {m.group(0)!r}")
        for m in LITERAL_BLOCK.finditer(text):
            at = line + text.count("\n", 0, m.start())
            found.append(f"line {at} ({owner}): reST literal block '::'")
    return found


def test_scanner_reads_docstrings_only() -> None:
    source = '''"""Module: see :func:`f`."""
X = ":class:`NotADocstring`"

class A:
    """Uses :class:`~dezero.core.Variable`
    and :meth:`Backend.uniform
    <dezero.core.backend.Backend.uniform>`."""

    def m(self):
        """Example::

            m()
        """
        return ":mod:`in_code`"

async def g():
    """Plain [`f`][dezero.f] and `code`: nothing to report."""
'''
    assert problems(source) == [
        "line 1 (<module>): Sphinx role ':func:`f`'",
        "line 5 (A): Sphinx role ':class:`~dezero.core.Variable`'",
        "line 6 (A): Sphinx role ':meth:`Backend.uniform\\n    "
        "<dezero.core.backend.Backend.uniform>`'",
        "line 10 (m): reST literal block '::'",
    ]


# The allowed files are not collected here (rather than skipped).
@pytest.mark.parametrize("path", SOURCES, ids=_rel)
def test_no_sphinx_markup_in_docstrings(path: Path) -> None:
    found = problems(path.read_text(encoding="utf-8"))
    assert not found, (
        f"{_rel(path)}: write [`name`][dezero.full.path] (a documented object) or `name`, "
        f"and an Examples: section or a fenced code block:\n  " + "\n  ".join(found)
    )


def _resolves(identifier: str) -> bool:
    """Whether ``identifier`` (``dezero.a.b.C.m``) names an importable object."""
    parts = identifier.split(".")
    for cut in range(len(parts), 1, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            if not hasattr(obj, name):
                return False
            obj = getattr(obj, name)
        return True
    return False


def test_cross_reference_targets_exist() -> None:
    """Each ``[text][dezero...]`` target names a real object; whether it is rendered on an
    API page is checked by the strict docs build (``hatch run docs:build``)."""
    missing = []
    for path in SOURCES:
        for line, _, text in docstrings(path.read_text(encoding="utf-8")):
            for m in CROSS_REF.finditer(text):
                if not _resolves(m.group(1)):
                    at = line + text.count("\n", 0, m.start())
                    missing.append(f"{_rel(path)}:{at}: {m.group(1)}")
    assert not missing, "cross-references to nothing:\n  " + "\n  ".join(missing)
